//! libsession config messages (session-protocol.md §9.2): the data model of a config object
//! and its outer message — seqno (`#`), data (`&`), lagged diffs (`<`) and this message's
//! diff (`=`) — with the message hash that names it (unkeyed BLAKE2b-256 of the encoding).
//!
//! Values are integers, byte strings, sets (of integers and strings; integers first, then
//! strings bytewise — the order of [`Scalar`]) and dicts. Empty sets and dicts are pruned
//! before encoding, as libsession does. A diff records, per key: `""` assigned, `"-"`
//! removed, a nested dict of changes, or `[added, removed]` for sets.
//!
//! [`merge`] reconciles concurrent messages (§9.3) the way libsession does; its results match
//! libsession's own tests byte for byte (`tests/proto/config.rs`).

use std::collections::{BTreeMap, BTreeSet};

use crate::bencode::Bt;
use crate::{Error, Result};

/// How many earlier diffs a message carries (libsession's lag window).
pub const LAG: i64 = 5;

/// A set element or a plain value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scalar {
    /// An integer (sorts before every string).
    Int(i64),
    /// A byte string.
    Str(Vec<u8>),
}

impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<&str> for Scalar {
    fn from(v: &str) -> Self {
        Self::Str(v.as_bytes().to_vec())
    }
}

/// A config value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// An integer or string.
    Scalar(Scalar),
    /// A set.
    Set(BTreeSet<Scalar>),
    /// A nested dict.
    Dict(Dict),
}

/// A config dict.
pub type Dict = BTreeMap<Vec<u8>, Value>;

fn scalar_bt(s: &Scalar) -> Bt {
    match s {
        Scalar::Int(i) => Bt::Int(*i),
        Scalar::Str(b) => Bt::Bytes(b.clone()),
    }
}

fn list_of(set: &BTreeSet<Scalar>) -> Bt {
    Bt::List(set.iter().map(scalar_bt).collect())
}

/// The encoding of a dict, with empty sets and dicts pruned.
pub fn dict_bt(dict: &Dict) -> Bt {
    let mut out = BTreeMap::new();
    for (k, v) in dict {
        let bt = match v {
            Value::Scalar(s) => scalar_bt(s),
            Value::Set(set) if set.is_empty() => continue,
            Value::Set(set) => list_of(set),
            Value::Dict(d) => match dict_bt(d) {
                Bt::Dict(inner) if inner.is_empty() => continue,
                other => other,
            },
        };
        out.insert(k.clone(), bt);
    }
    Bt::Dict(out)
}

/// Reads a data dict.
pub fn dict_from_bt(bt: &Bt) -> Result<Dict> {
    let Bt::Dict(entries) = bt else { return Err(Error::Bencode("config data is not a dict")) };
    let mut out = Dict::new();
    for (k, v) in entries {
        let value = match v {
            Bt::Int(i) => Value::Scalar(Scalar::Int(*i)),
            Bt::Bytes(b) => Value::Scalar(Scalar::Str(b.clone())),
            Bt::Dict(_) => Value::Dict(dict_from_bt(v)?),
            Bt::List(items) => {
                let mut set = BTreeSet::new();
                for item in items {
                    let s = match item {
                        Bt::Int(i) => Scalar::Int(*i),
                        Bt::Bytes(b) => Scalar::Str(b.clone()),
                        _ => return Err(Error::Bencode("a config set holds a list or dict")),
                    };
                    if set.last().is_some_and(|last| *last >= s) {
                        return Err(Error::Bencode("a config set is not sorted or has repeats"));
                    }
                    set.insert(s);
                }
                Value::Set(set)
            }
        };
        out.insert(k.clone(), value);
    }
    Ok(out)
}

/// The diff of a value that is new.
fn added(v: &Value) -> Option<Bt> {
    match v {
        Value::Scalar(_) => Some(Bt::str("")),
        Value::Set(s) if s.is_empty() => None,
        Value::Set(s) => Some(Bt::List(vec![list_of(s), Bt::List(Vec::new())])),
        Value::Dict(d) => {
            let inner = diff(&Dict::new(), d);
            (!inner.is_empty()).then_some(Bt::Dict(inner))
        }
    }
}

/// The diff of a value that is gone: scalars `"-"`, sets all their elements removed, dicts
/// every leaf removed (as libsession records it).
fn removed(v: &Value) -> Option<Bt> {
    match v {
        Value::Scalar(_) => Some(Bt::str("-")),
        Value::Set(s) if s.is_empty() => None,
        Value::Set(s) => Some(Bt::List(vec![Bt::List(Vec::new()), list_of(s)])),
        Value::Dict(d) => {
            let inner = diff(d, &Dict::new());
            (!inner.is_empty()).then_some(Bt::Dict(inner))
        }
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Scalar(_) => false,
        Value::Set(s) => s.is_empty(),
        Value::Dict(d) => d.values().all(is_empty),
    }
}

/// The changes from `old` to `new`, as a message's `=` diff.
pub fn diff(old: &Dict, new: &Dict) -> BTreeMap<Vec<u8>, Bt> {
    let mut out = BTreeMap::new();
    let keys: BTreeSet<&Vec<u8>> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let before = old.get(key).filter(|v| !is_empty(v));
        let after = new.get(key).filter(|v| !is_empty(v));
        let change = match (before, after) {
            (None, None) => None,
            (Some(v), None) => removed(v),
            (None, Some(v)) => added(v),
            (Some(Value::Scalar(a)), Some(Value::Scalar(b))) => (a != b).then(|| Bt::str("")),
            (Some(Value::Set(a)), Some(Value::Set(b))) => {
                let plus: BTreeSet<Scalar> = b.difference(a).cloned().collect();
                let minus: BTreeSet<Scalar> = a.difference(b).cloned().collect();
                (!plus.is_empty() || !minus.is_empty())
                    .then(|| Bt::List(vec![list_of(&plus), list_of(&minus)]))
            }
            (Some(Value::Dict(a)), Some(Value::Dict(b))) => {
                let inner = diff(a, b);
                (!inner.is_empty()).then_some(Bt::Dict(inner))
            }
            // The type changed: the new value, as if assigned fresh.
            (Some(_), Some(v)) => added(v),
        };
        if let Some(c) = change {
            out.insert(key.clone(), c);
        }
    }
    out
}

/// A lagged diff: the seqno and hash of an earlier message, and its diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lagged {
    /// Its seqno.
    pub seqno: i64,
    /// Its hash.
    pub hash: [u8; 32],
    /// Its diff.
    pub diff: Bt,
}

/// A config message being built: data changed since the last [`ConfigMessage::increment`]
/// shows in its diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigMessage {
    seqno: i64,
    data: Dict,
    /// The data as of the previous message (the base of this one's diff).
    base: Dict,
    lagged: Vec<Lagged>,
}

impl ConfigMessage {
    /// An empty message at `seqno` 0.
    pub fn new() -> Self {
        Self { seqno: 0, data: Dict::new(), base: Dict::new(), lagged: Vec::new() }
    }

    /// The sequence number.
    pub fn seqno(&self) -> i64 {
        self.seqno
    }

    /// Sets the sequence number.
    pub fn set_seqno(&mut self, seqno: i64) {
        self.seqno = seqno;
    }

    /// The data.
    pub fn data(&self) -> &Dict {
        &self.data
    }

    /// The data, to change.
    pub fn data_mut(&mut self) -> &mut Dict {
        &mut self.data
    }

    /// This message's diff (`=`).
    pub fn diff(&self) -> Bt {
        Bt::Dict(diff(&self.base, &self.data))
    }

    /// The encoding: `d 1:# seqno 1:& data 1:< lagged 1:= diff e`.
    pub fn serialize(&self) -> Vec<u8> {
        let mut lagged: Vec<Lagged> = self
            .lagged
            .iter()
            .filter(|l| l.seqno > self.seqno - LAG && l.seqno < self.seqno)
            .cloned()
            .collect();
        lagged.sort_by_key(|l| (l.seqno, l.hash));
        let outer = BTreeMap::from([
            (b"#".to_vec(), Bt::Int(self.seqno)),
            (b"&".to_vec(), dict_bt(&self.data)),
            (
                b"<".to_vec(),
                Bt::List(
                    lagged
                        .into_iter()
                        .map(|l| {
                            Bt::List(vec![Bt::Int(l.seqno), Bt::Bytes(l.hash.to_vec()), l.diff])
                        })
                        .collect(),
                ),
            ),
            (b"=".to_vec(), self.diff()),
        ]);
        Bt::Dict(outer).encode()
    }

    /// The message's hash: BLAKE2b-256 of its encoding.
    pub fn hash(&self) -> [u8; 32] {
        hush_sodium::hash::blake2b::<32>(&self.serialize())
    }

    /// The next message: seqno + 1, the same data, this message's diff added to the lagged
    /// diffs, and lagged diffs older than the lag window dropped.
    pub fn increment(&self) -> Self {
        let seqno = self.seqno.saturating_add(1);
        let mut lagged: Vec<Lagged> =
            self.lagged.iter().filter(|l| l.seqno > seqno - LAG).cloned().collect();
        lagged.push(Lagged { seqno: self.seqno, hash: self.hash(), diff: self.diff() });
        lagged.retain(|l| l.seqno > seqno - LAG);
        Self { seqno, data: self.data.clone(), base: self.data.clone(), lagged }
    }
}

impl Default for ConfigMessage {
    fn default() -> Self {
        Self::new()
    }
}

/// A config message as received: what it says, unchanged, and its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedConfig {
    /// Its sequence number.
    pub seqno: i64,
    /// Its data.
    pub data: Dict,
    /// The earlier diffs it carries.
    pub lagged: Vec<Lagged>,
    /// Its own diff.
    pub diff: Bt,
    /// BLAKE2b-256 of the message as received.
    pub hash: [u8; 32],
    /// The message as received.
    pub raw: Vec<u8>,
}

impl ReceivedConfig {
    /// Reads a config message. Messages with a key sorting before `#` are from an
    /// incompatible future version and refused; signed messages (group configs, `~`) are not
    /// read yet.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let Bt::Dict(outer) = Bt::decode(bytes)? else {
            return Err(Error::Bencode("a config message is not a dict"));
        };
        if outer.keys().next().is_some_and(|k| k.as_slice() < b"#".as_slice()) {
            return Err(Error::Bencode("a config message from an incompatible version"));
        }
        if outer.contains_key(b"~".as_slice()) {
            return Err(Error::Bencode("signed config messages are not supported yet"));
        }
        let seqno = match outer.get(b"#".as_slice()) {
            Some(Bt::Int(s)) if *s >= 0 => *s,
            _ => return Err(Error::Bencode("a config message without a valid seqno")),
        };
        let data = match outer.get(b"&".as_slice()) {
            Some(d) => dict_from_bt(d)?,
            None => Dict::new(),
        };
        let mut lagged = Vec::new();
        if let Some(l) = outer.get(b"<".as_slice()) {
            let Bt::List(items) = l else {
                return Err(Error::Bencode("lagged diffs are not a list"));
            };
            for item in items {
                match item {
                    Bt::List(parts) => match parts.as_slice() {
                        [Bt::Int(s), Bt::Bytes(h), d @ Bt::Dict(_)] if h.len() == 32 => {
                            if *s >= seqno {
                                return Err(Error::Bencode("a lagged diff is not older"));
                            }
                            let mut hash = [0u8; 32];
                            hash.copy_from_slice(h);
                            if lagged
                                .last()
                                .is_some_and(|l: &Lagged| (l.seqno, l.hash) >= (*s, hash))
                            {
                                return Err(Error::Bencode("lagged diffs out of order"));
                            }
                            // Too old to matter: dropped, as libsession does.
                            if *s > seqno - LAG {
                                lagged.push(Lagged { seqno: *s, hash, diff: d.clone() });
                            }
                        }
                        _ => return Err(Error::Bencode("a malformed lagged diff")),
                    },
                    _ => return Err(Error::Bencode("a malformed lagged diff")),
                }
            }
        }
        let diff = match outer.get(b"=".as_slice()) {
            Some(d @ Bt::Dict(_)) => d.clone(),
            None => Bt::Dict(BTreeMap::new()),
            Some(_) => return Err(Error::Bencode("a config diff is not a dict")),
        };
        Ok(Self {
            seqno,
            data,
            lagged,
            diff,
            hash: hush_sodium::hash::blake2b::<32>(bytes),
            raw: bytes.to_vec(),
        })
    }

    /// The message that follows this one (to change the config after receiving it): seqno
    /// + 1, the same data, and this message's diff among the lagged ones.
    pub fn into_next(self) -> ConfigMessage {
        let seqno = self.seqno.saturating_add(1);
        let mut lagged: Vec<Lagged> =
            self.lagged.into_iter().filter(|l| l.seqno > seqno - LAG).collect();
        lagged.push(Lagged { seqno: self.seqno, hash: self.hash, diff: self.diff });
        lagged.retain(|l| l.seqno > seqno - LAG);
        ConfigMessage { seqno, base: self.data.clone(), data: self.data, lagged }
    }
}

/// Applies `diff` to `data`, taking values from `source` (the data of the message the diff
/// belongs to), as libsession does: a value whose type no longer matches the diff is removed
/// (a later diff sets it again); empty sets and dicts are pruned afterwards.
fn apply_diff(data: &mut Dict, diff: &BTreeMap<Vec<u8>, Bt>, source: &Dict) -> Result<()> {
    for (key, change) in diff {
        let from = source.get(key);
        match (change, from) {
            (Bt::Bytes(b), Some(Value::Scalar(v))) => match b.as_slice() {
                b"-" => {
                    data.remove(key);
                }
                b"" => {
                    data.insert(key.clone(), Value::Scalar(v.clone()));
                }
                _ => return Err(Error::Bencode("a config diff value is neither '' nor '-'")),
            },
            (Bt::Dict(inner), Some(Value::Dict(src))) => {
                let entry = data.entry(key.clone()).or_insert_with(|| Value::Dict(Dict::new()));
                if !matches!(entry, Value::Dict(_)) {
                    *entry = Value::Dict(Dict::new());
                }
                if let Value::Dict(sub) = entry {
                    apply_diff(sub, inner, src)?;
                }
            }
            (Bt::List(parts), Some(Value::Set(_))) => {
                let [Bt::List(plus), Bt::List(minus)] = parts.as_slice() else {
                    return Err(Error::Bencode("a set diff is not [added, removed]"));
                };
                let entry = data.entry(key.clone()).or_insert_with(|| Value::Set(BTreeSet::new()));
                if !matches!(entry, Value::Set(_)) {
                    *entry = Value::Set(BTreeSet::new());
                }
                if let Value::Set(set) = entry {
                    for (items, add) in [(plus, true), (minus, false)] {
                        for item in items {
                            let scalar = match item {
                                Bt::Int(i) => Scalar::Int(*i),
                                Bt::Bytes(b) => Scalar::Str(b.clone()),
                                _ => return Err(Error::Bencode("a set diff holds a list or dict")),
                            };
                            if add {
                                set.insert(scalar);
                            } else {
                                set.remove(&scalar);
                            }
                        }
                    }
                }
            }
            // Gone from the source, or of another type there: a later diff removes or
            // retypes it, so it goes now.
            _ => {
                data.remove(key);
            }
        }
    }
    Ok(())
}

fn prune(dict: &mut Dict) {
    for value in dict.values_mut() {
        if let Value::Dict(d) = value {
            prune(d);
        }
    }
    dict.retain(|_, v| !is_empty(v));
}

/// Several config messages of one object, reconciled (session-protocol.md §9.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merged {
    /// One message includes all the others (or is the only one): it stands as received.
    Single(ReceivedConfig),
    /// Concurrent messages, merged into a new one (seqno one above the highest) that should
    /// be pushed.
    Merged(ConfigMessage),
}

impl Merged {
    /// The resulting seqno.
    pub fn seqno(&self) -> i64 {
        match self {
            Self::Single(r) => r.seqno,
            Self::Merged(m) => m.seqno(),
        }
    }

    /// The resulting data.
    pub fn data(&self) -> &Dict {
        match self {
            Self::Single(r) => &r.data,
            Self::Merged(m) => m.data(),
        }
    }

    /// The resulting message's encoding.
    pub fn serialize(&self) -> Vec<u8> {
        match self {
            Self::Single(r) => r.raw.clone(),
            Self::Merged(m) => m.serialize(),
        }
    }
}

/// Reconciles config messages of one object (unreadable ones are skipped), as libsession:
/// messages included in another's lagged diffs, duplicates, and messages `LAG` or more behind
/// the newest are dropped; if more than one remains, the data of the highest (seqno, hash) is
/// taken and every remaining diff — current and lagged — is replayed in (seqno, hash) order.
pub fn merge(messages: &[impl AsRef<[u8]>]) -> Result<Merged> {
    let configs: Vec<ReceivedConfig> =
        messages.iter().filter_map(|m| ReceivedConfig::parse(m.as_ref()).ok()).collect();
    let max = configs
        .iter()
        .map(|c| c.seqno)
        .max()
        .ok_or(Error::Bencode("no readable config message"))?;
    let mut keep = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        let included = configs.iter().enumerate().any(|(j, o)| {
            j != i
                && (o.lagged.iter().any(|l| (l.seqno, l.hash) == (c.seqno, c.hash))
                    || (j < i && (o.seqno, o.hash) == (c.seqno, c.hash)))
        });
        if !included && c.seqno.saturating_add(LAG) > max {
            keep.push(c);
        }
    }
    if keep.len() == 1 {
        return Ok(Merged::Single(keep[0].clone()));
    }
    keep.sort_by_key(|c| std::cmp::Reverse((c.seqno, c.hash)));
    let mut data = keep[0].data.clone();
    let mut replay: BTreeMap<(i64, [u8; 32]), (&Dict, &Bt)> = BTreeMap::new();
    for c in &keep {
        replay.entry((c.seqno, c.hash)).or_insert((&c.data, &c.diff));
        for l in &c.lagged {
            replay.entry((l.seqno, l.hash)).or_insert((&c.data, &l.diff));
        }
    }
    let mut lagged = Vec::with_capacity(replay.len());
    for ((seqno, hash), (source, diff)) in replay {
        let Bt::Dict(changes) = diff else {
            return Err(Error::Bencode("a config diff is not a dict"));
        };
        apply_diff(&mut data, changes, source)?;
        lagged.push(Lagged { seqno, hash, diff: diff.clone() });
    }
    prune(&mut data);
    let seqno = max.saturating_add(1);
    Ok(Merged::Merged(ConfigMessage { seqno, base: data.clone(), data, lagged }))
}
