//! The user config objects' fields (session-protocol.md §9.4), read from and written to config
//! [`Dict`]s the way libsession does: UserProfile (namespace 2), Contacts (namespace 3) and
//! ConvoInfoVolatile (namespace 4: read states of one-to-one conversations, groups, legacy
//! groups and community rooms). UserGroups (namespace 5) is in
//! [`crate::config_user_groups`].
//!
//! libsession's rules, kept here: flags are stored as 1 and left out when false; counters and
//! times only when positive (priority when non-zero); a nickname only when non-empty; a
//! picture only as a URL and 32-byte key together; a contact's name always (so its dict is
//! never pruned away). Note that the contacts' disappearing mode counts 1 = after send,
//! 2 = after read — the reverse of `Content.expirationType`.

use crate::account::{AccountId, IdPrefix};
use crate::config::{Dict, Scalar, Value};

/// Longest name kept, in bytes (libsession's `MAX_NAME_LENGTH`; cut at a character boundary).
pub const MAX_NAME_BYTES: usize = 100;

pub(crate) fn get_int(d: &Dict, k: &str) -> i64 {
    match d.get(k.as_bytes()) {
        Some(Value::Scalar(Scalar::Int(i))) => *i,
        _ => 0,
    }
}

pub(crate) fn get_str(d: &Dict, k: &str) -> Option<Vec<u8>> {
    match d.get(k.as_bytes()) {
        Some(Value::Scalar(Scalar::Str(s))) => Some(s.clone()),
        _ => None,
    }
}

pub(crate) fn get_text(d: &Dict, k: &str) -> String {
    get_str(d, k).map(|s| String::from_utf8_lossy(&s).into_owned()).unwrap_or_default()
}

pub(crate) fn put(d: &mut Dict, k: &str, v: Option<Value>) {
    match v {
        Some(v) => {
            d.insert(k.as_bytes().to_vec(), v);
        }
        None => {
            d.remove(k.as_bytes());
        }
    }
}

pub(crate) fn int_if(cond: bool, i: i64) -> Option<Value> {
    cond.then_some(Value::Scalar(Scalar::Int(i)))
}

pub(crate) fn text(s: &str) -> Value {
    let mut end = s.len().min(MAX_NAME_BYTES);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Value::Scalar(Scalar::Str(s.as_bytes()[..end].to_vec()))
}

/// A profile picture: where it is and the key that decrypts it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Picture {
    /// The download URL.
    pub url: String,
    /// The 32-byte key.
    pub key: Vec<u8>,
}

pub(crate) fn get_picture(d: &Dict) -> Option<Picture> {
    let url = get_str(d, "p")?;
    let key = get_str(d, "q")?;
    (!url.is_empty() && key.len() == 32)
        .then(|| Picture { url: String::from_utf8_lossy(&url).into_owned(), key })
}

pub(crate) fn put_picture(d: &mut Dict, pic: Option<&Picture>) {
    let valid = pic.filter(|p| !p.url.is_empty() && p.key.len() == 32);
    put(d, "p", valid.map(|p| Value::Scalar(Scalar::Str(p.url.as_bytes().to_vec()))));
    put(d, "q", valid.map(|p| Value::Scalar(Scalar::Str(p.key.clone()))));
}

/// The UserProfile object (namespace 2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserProfile {
    /// The display name (`n`).
    pub name: Option<String>,
    /// The profile picture (`p`, `q`).
    pub picture: Option<Picture>,
    /// Note to Self's priority (`+`; −1 hidden, > 0 pinned).
    pub nts_priority: i64,
    /// Note to Self's disappearing timer in seconds (`e`).
    pub nts_expiry: i64,
}

impl UserProfile {
    /// Reads the profile from config data.
    pub fn load(d: &Dict) -> Self {
        Self {
            name: get_str(d, "n").map(|n| String::from_utf8_lossy(&n).into_owned()),
            picture: get_picture(d),
            nts_priority: get_int(d, "+"),
            nts_expiry: get_int(d, "e").max(0),
        }
    }

    /// Writes the profile into config data.
    pub fn store(&self, d: &mut Dict) {
        put(d, "n", self.name.as_deref().filter(|n| !n.is_empty()).map(text));
        put_picture(d, self.picture.as_ref());
        put(d, "+", int_if(self.nts_priority != 0, self.nts_priority));
        put(d, "e", int_if(self.nts_expiry > 0, self.nts_expiry));
    }
}

/// Disappearing messages of a contact, as the Contacts object records them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expiration {
    /// Off.
    #[default]
    None,
    /// Deleted this many seconds after sending (`e` = 1).
    AfterSend(i64),
    /// Deleted this many seconds after reading (`e` = 2).
    AfterRead(i64),
}

/// One contact (Contacts object, namespace 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactInfo {
    /// Their Account ID.
    pub account_id: AccountId,
    /// Their display name (`n`).
    pub name: String,
    /// Our nickname for them (`N`).
    pub nickname: String,
    /// Their picture.
    pub picture: Option<Picture>,
    /// We accept their messages (`a`).
    pub approved: bool,
    /// They accepted ours (`A`).
    pub approved_me: bool,
    /// Blocked (`b`).
    pub blocked: bool,
    /// Priority (`+`: −1 hidden, > 0 pinned).
    pub priority: i64,
    /// Notification mode (`@`: 0 default, 1 all, 2 disabled; 3 is read as 1).
    pub notifications: i64,
    /// Muted until (`!`, seconds).
    pub mute_until: i64,
    /// Disappearing messages (`e`, `E`).
    pub expiration: Expiration,
    /// When the contact was created (`j`, seconds).
    pub created: i64,
}

impl ContactInfo {
    /// A contact with nothing set.
    pub fn new(account_id: AccountId) -> Self {
        Self {
            account_id,
            name: String::new(),
            nickname: String::new(),
            picture: None,
            approved: false,
            approved_me: false,
            blocked: false,
            priority: 0,
            notifications: 0,
            mute_until: 0,
            expiration: Expiration::None,
            created: 0,
        }
    }

    fn load(account_id: AccountId, d: &Dict) -> Self {
        let notify = match get_int(d, "@") {
            3 => 1,
            n @ 0..=2 => n,
            _ => 0,
        };
        let secs = get_int(d, "E");
        let expiration = match (get_int(d, "e"), secs) {
            (_, s) if s <= 0 => Expiration::None,
            (1, s) => Expiration::AfterSend(s),
            (2, s) => Expiration::AfterRead(s),
            _ => Expiration::None,
        };
        Self {
            account_id,
            name: get_text(d, "n"),
            nickname: get_text(d, "N"),
            picture: get_picture(d),
            approved: get_int(d, "a") != 0,
            approved_me: get_int(d, "A") != 0,
            blocked: get_int(d, "b") != 0,
            priority: get_int(d, "+"),
            notifications: notify,
            mute_until: get_int(d, "!"),
            expiration,
            created: get_int(d, "j"),
        }
    }

    fn store(&self, d: &mut Dict) {
        d.insert(b"n".to_vec(), text(&self.name));
        put(d, "N", (!self.nickname.is_empty()).then(|| text(&self.nickname)));
        put_picture(d, self.picture.as_ref());
        put(d, "a", int_if(self.approved, 1));
        put(d, "A", int_if(self.approved_me, 1));
        put(d, "b", int_if(self.blocked, 1));
        put(d, "+", int_if(self.priority != 0, self.priority));
        let notify = if self.notifications == 3 { 1 } else { self.notifications };
        put(d, "@", int_if(notify > 0, notify));
        put(d, "!", int_if(self.mute_until > 0, self.mute_until));
        let (mode, secs) = match self.expiration {
            Expiration::AfterSend(s) if s > 0 => (1, s),
            Expiration::AfterRead(s) if s > 0 => (2, s),
            _ => (0, 0),
        };
        put(d, "e", int_if(mode > 0, mode));
        put(d, "E", int_if(mode > 0, secs));
        put(d, "j", int_if(self.created > 0, self.created));
    }
}

/// The contacts in Contacts config data (`c`, keyed by the 33-byte Account ID).
pub fn contacts(d: &Dict) -> Vec<ContactInfo> {
    let Some(Value::Dict(all)) = d.get(b"c".as_slice()) else { return Vec::new() };
    all.iter()
        .filter_map(|(k, v)| {
            let id = AccountId::from_slice(k).ok()?;
            let Value::Dict(fields) = v else { return None };
            Some(ContactInfo::load(id, fields))
        })
        .collect()
}

/// Sets (adds or replaces) a contact.
pub fn set_contact(d: &mut Dict, contact: &ContactInfo) {
    let all = d.entry(b"c".to_vec()).or_insert_with(|| Value::Dict(Dict::new()));
    if !matches!(all, Value::Dict(_)) {
        *all = Value::Dict(Dict::new());
    }
    if let Value::Dict(all) = all {
        let entry = all
            .entry(contact.account_id.as_bytes().to_vec())
            .or_insert_with(|| Value::Dict(Dict::new()));
        if !matches!(entry, Value::Dict(_)) {
            *entry = Value::Dict(Dict::new());
        }
        if let Value::Dict(fields) = entry {
            contact.store(fields);
        }
    }
}

/// Removes a contact; returns whether there was one.
pub fn remove_contact(d: &mut Dict, account_id: &AccountId) -> bool {
    match d.get_mut(b"c".as_slice()) {
        Some(Value::Dict(all)) => all.remove(account_id.as_bytes().as_slice()).is_some(),
        _ => false,
    }
}

/// ConvoInfoVolatile (namespace 4), one-to-one conversations: read position and unread flag
/// per conversation (`1`, keyed by the 33-byte Account ID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadState {
    /// The other account.
    pub account_id: AccountId,
    /// Up to when messages were read (ms; `r`).
    pub last_read: i64,
    /// Marked unread by hand (`u`).
    pub unread: bool,
}

/// A section of ConvoInfoVolatile keyed by 33-byte IDs: one-to-one conversations (`1`,
/// 05 IDs), groups (`g`, 03 IDs) and legacy groups (`C`, 05 IDs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadSection {
    /// One-to-one conversations.
    OneToOne,
    /// Groups (v2).
    Group,
    /// Legacy closed groups.
    LegacyGroup,
}

impl ReadSection {
    fn key(self) -> &'static [u8] {
        match self {
            Self::OneToOne => b"1",
            Self::Group => b"g",
            Self::LegacyGroup => b"C",
        }
    }

    fn prefix(self) -> IdPrefix {
        match self {
            Self::Group => IdPrefix::Group,
            Self::OneToOne | Self::LegacyGroup => IdPrefix::Standard,
        }
    }
}

fn read_state_of(f: &Dict) -> (i64, bool) {
    (get_int(f, "r"), get_int(f, "u") != 0)
}

/// The one-to-one read states in ConvoInfoVolatile data.
pub fn read_states(d: &Dict) -> Vec<ReadState> {
    section_read_states(d, ReadSection::OneToOne)
}

/// The read states of one section (entries whose key is not a 33-byte ID of the section's
/// kind are skipped, as libsession's iterator does).
pub fn section_read_states(d: &Dict, section: ReadSection) -> Vec<ReadState> {
    let Some(Value::Dict(all)) = d.get(section.key()) else { return Vec::new() };
    all.iter()
        .filter_map(|(k, v)| {
            let account_id = AccountId::from_slice(k).ok()?;
            if account_id.prefix() != section.prefix() {
                return None;
            }
            let Value::Dict(f) = v else { return None };
            let (last_read, unread) = read_state_of(f);
            Some(ReadState { account_id, last_read, unread })
        })
        .collect()
}

/// A dict inside `d` at `key`, created (or replacing a non-dict) if needed.
fn sub_dict<'a>(d: &'a mut Dict, key: &[u8]) -> &'a mut Dict {
    let entry = d.entry(key.to_vec()).or_insert_with(|| Value::Dict(Dict::new()));
    if !matches!(entry, Value::Dict(_)) {
        *entry = Value::Dict(Dict::new());
    }
    match entry {
        Value::Dict(inner) => inner,
        _ => unreachable!("just made a dict"),
    }
}

/// libsession's `set_base`: an older read time than the stored one is kept as given (a
/// deliberate reset), a newer one only if within [`READ_STATE_PRUNE_LOW_MS`] of `now`.
fn set_read_fields(f: &mut Dict, last_read: i64, unread: bool, now: i64) {
    let current = match f.get(b"r".as_slice()) {
        Some(Value::Scalar(Scalar::Int(r))) => Some(*r),
        _ => None,
    };
    if current.is_some_and(|r| last_read < r)
        || last_read > now.saturating_sub(READ_STATE_PRUNE_LOW_MS)
    {
        f.insert(b"r".to_vec(), Value::Scalar(Scalar::Int(last_read)));
    }
    put(f, "u", int_if(unread, 1));
}

/// Records a one-to-one conversation's read state as libsession does at `now` (ms), then
/// prunes stale entries ([`prune_read_states`]).
pub fn set_read_state(d: &mut Dict, state: &ReadState, now: i64) {
    set_section_read_state(d, ReadSection::OneToOne, state, now);
}

/// Records a read state in `section` (the ID must be of the section's kind), then prunes.
pub fn set_section_read_state(d: &mut Dict, section: ReadSection, state: &ReadState, now: i64) {
    if state.account_id.prefix() != section.prefix() {
        return;
    }
    let f = sub_dict(sub_dict(d, section.key()), state.account_id.as_bytes());
    set_read_fields(f, state.last_read, state.unread, now);
    prune_read_states(d, now);
}

/// Removes a conversation's read state; returns whether there was one.
pub fn remove_read_state(d: &mut Dict, section: ReadSection, id: &AccountId) -> bool {
    let Some(Value::Dict(all)) = d.get_mut(section.key()) else { return false };
    let removed = all.remove(id.as_bytes().as_slice()).is_some();
    if all.is_empty() {
        d.remove(section.key());
    }
    removed
}

/// The read state of a community room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommunityReadState {
    /// The server's canonical base URL.
    pub base_url: String,
    /// The room token, lowercase.
    pub room: String,
    /// The server's 32-byte public key.
    pub pubkey: [u8; 32],
    /// Up to when messages were read (ms).
    pub last_read: i64,
    /// Marked unread by hand.
    pub unread: bool,
}

/// The community read states (`o`: base URL → `#` pubkey, `R` rooms → `r`, `u`).
pub fn community_read_states(d: &Dict) -> Vec<CommunityReadState> {
    let Some(Value::Dict(servers)) = d.get(b"o".as_slice()) else { return Vec::new() };
    let mut out = Vec::new();
    for (base, server) in servers {
        let Value::Dict(server) = server else { continue };
        let Some(pubkey) = get_str(server, "#").and_then(|k| <[u8; 32]>::try_from(k).ok()) else {
            continue;
        };
        let Some(Value::Dict(rooms)) = server.get(b"R".as_slice()) else { continue };
        for (room, fields) in rooms {
            let Value::Dict(f) = fields else { continue };
            let (last_read, unread) = read_state_of(f);
            out.push(CommunityReadState {
                base_url: String::from_utf8_lossy(base).into_owned(),
                room: String::from_utf8_lossy(room).into_owned(),
                pubkey,
                last_read,
                unread,
            });
        }
    }
    out
}

/// Records a community room's read state (URL and room canonicalised; an invalid one is
/// refused), then prunes.
pub fn set_community_read_state(
    d: &mut Dict,
    state: &CommunityReadState,
    now: i64,
) -> crate::Result<()> {
    let base = crate::config_user_groups::canonical_url(&state.base_url)?;
    let room = crate::config_user_groups::canonical_room(&state.room)?;
    let server = sub_dict(sub_dict(d, b"o"), base.as_bytes());
    server.insert(b"#".to_vec(), Value::Scalar(Scalar::Str(state.pubkey.to_vec())));
    let f = sub_dict(sub_dict(server, b"R"), room.as_bytes());
    set_read_fields(f, state.last_read, state.unread, now);
    prune_read_states(d, now);
    Ok(())
}

/// Conversations not read for this long are not added (libsession's `PRUNE_LOW`).
pub const READ_STATE_PRUNE_LOW_MS: i64 = 30 * 24 * 3600 * 1000;
/// … and are removed after this long unless marked unread (`PRUNE_HIGH`); group (v2) entries
/// are never pruned.
pub const READ_STATE_PRUNE_HIGH_MS: i64 = 45 * 24 * 3600 * 1000;

/// libsession's `prune_stale`: removes one-to-one, legacy-group and community entries read
/// before `now` − [`READ_STATE_PRUNE_HIGH_MS`] and not marked unread (and what becomes
/// empty).
pub fn prune_read_states(d: &mut Dict, now: i64) {
    let cutoff = now.saturating_sub(READ_STATE_PRUNE_HIGH_MS);
    let stale = |v: &Value| match v {
        Value::Dict(f) => {
            let (r, u) = read_state_of(f);
            !u && r < cutoff
        }
        _ => true,
    };
    for section in [ReadSection::OneToOne, ReadSection::LegacyGroup] {
        if let Some(Value::Dict(all)) = d.get_mut(section.key()) {
            all.retain(|_, v| !stale(v));
        }
    }
    if let Some(Value::Dict(servers)) = d.get_mut(b"o".as_slice()) {
        // A server whose last room goes is erased, pubkey and all (libsession's
        // `erase_community`).
        servers.retain(|_, server| {
            let Value::Dict(server) = server else { return false };
            let Some(Value::Dict(rooms)) = server.get_mut(b"R".as_slice()) else { return true };
            let before = rooms.len();
            rooms.retain(|_, v| !stale(v));
            !(rooms.is_empty() && before > 0)
        });
    }
    for key in [b"1".as_slice(), b"C", b"o"] {
        if matches!(d.get(key), Some(Value::Dict(all)) if all.is_empty()) {
            d.remove(key);
        }
    }
}
