//! The UserGroups config object (namespace 5, session-protocol.md §9.4): the groups, legacy
//! groups and community rooms an account is in, read from and written to config [`Dict`]s by
//! libsession's rules (`src/config/user_groups.cpp`):
//!
//! - groups (`g`), keyed by the 33-byte group ID (03 ‖ Ed25519 key): `n` name (≤ 100 bytes,
//!   only when non-empty), `r` removed status (> 0), `K` the admin's 32-byte seed — or an
//!   empty string for members, who keep their 100-byte `s` authentication data instead;
//! - communities (`o`), keyed by canonical base URL: `#` the server's 32-byte key, `R` rooms
//!   by lowercase token, each with `n` the token as written;
//! - legacy groups (`C`), keyed by the 33-byte 05 ID: `n` (always), `k`/`K` the encryption
//!   key pair (both or neither), `m` members and `a` admins (sets of 33-byte IDs), `E` the
//!   disappearing timer;
//! - on every entry: `+` priority (non-zero), `j` joined at (s, > 0), `@` notifications
//!   (1 all, 2 disabled, 3 mentions only), `!` muted until (s, > 0), `i` invited (1).
//!
//! Where libsession cuts a name at 100 bytes (possibly inside a UTF-8 character), hush cuts
//! at the last character boundary within 100 bytes.

use std::collections::{BTreeMap, BTreeSet};

use hush_sodium::Secret;
use hush_sodium::ed25519::Ed25519KeyPair;

use crate::account::{AccountId, IdPrefix};
use crate::config::{Dict, Scalar, Value};
use crate::config_objects::{get_int, get_str, get_text, int_if, put, text};
use crate::{Error, Result};

/// What every entry carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Common {
    /// −1 hidden, 0 normal, > 0 pinned (`+`).
    pub priority: i64,
    /// When joined, seconds (`j`).
    pub joined_at: i64,
    /// 0 default, 1 all, 2 disabled, 3 mentions only (`@`).
    pub notifications: i64,
    /// Muted until, seconds (`!`).
    pub mute_until: i64,
    /// Invited, not joined yet (`i`).
    pub invited: bool,
}

impl Common {
    fn load(d: &Dict) -> Self {
        Self {
            priority: get_int(d, "+"),
            joined_at: get_int(d, "j").max(0),
            notifications: match get_int(d, "@") {
                n @ 0..=3 => n,
                _ => 0,
            },
            mute_until: get_int(d, "!"),
            invited: get_int(d, "i") != 0,
        }
    }

    fn store(&self, d: &mut Dict) {
        put(d, "+", int_if(self.priority != 0, self.priority));
        put(d, "j", int_if(self.joined_at > 0, self.joined_at));
        put(d, "@", int_if(self.notifications > 0, self.notifications));
        put(d, "!", int_if(self.mute_until > 0, self.mute_until));
        put(d, "i", int_if(self.invited, 1));
    }
}

/// Length of a member's authentication data.
pub const AUTH_DATA_LEN: usize = 100;

/// A group (v2).
#[derive(Clone, Debug)]
pub struct GroupInfo {
    /// The group's ID (03 ‖ Ed25519 public key).
    pub id: AccountId,
    /// Its name.
    pub name: String,
    /// The group's Ed25519 seed, for admins.
    pub admin_seed: Option<Secret<32>>,
    /// A member's authentication data (100 bytes; kept only when there is no seed).
    pub auth_data: Option<Vec<u8>>,
    /// 0 in the group, 1 kicked, 2 the group was destroyed (`r`).
    pub removed: i64,
    /// Priority, notifications, mute, joined, invited.
    pub common: Common,
}

impl GroupInfo {
    /// A group with nothing set.
    pub fn new(id: AccountId) -> Self {
        Self {
            id,
            name: String::new(),
            admin_seed: None,
            auth_data: None,
            removed: 0,
            common: Common::default(),
        }
    }

    fn load(id: AccountId, d: &Dict) -> Self {
        // A seed counts only if it is the key of this group.
        let admin_seed = get_str(d, "K")
            .and_then(|k| Secret::<32>::from_slice("group seed", &k).ok())
            .filter(|seed| Ed25519KeyPair::from_seed(seed).public().as_bytes() == id.key_bytes());
        Self {
            id,
            name: get_text(d, "n"),
            admin_seed,
            auth_data: get_str(d, "s").filter(|s| s.len() == AUTH_DATA_LEN),
            removed: get_int(d, "r"),
            common: Common::load(d),
        }
    }

    fn store(&self, d: &mut Dict) {
        put(d, "n", (!self.name.is_empty()).then(|| text(&self.name)));
        put(d, "r", int_if(self.removed > 0, self.removed));
        let seed = self.admin_seed.as_ref().filter(|seed| {
            Ed25519KeyPair::from_seed(seed).public().as_bytes() == self.id.key_bytes()
        });
        match seed {
            Some(seed) => {
                d.insert(b"K".to_vec(), Value::Scalar(Scalar::Str(seed.expose().to_vec())));
            }
            None => {
                d.insert(b"K".to_vec(), Value::Scalar(Scalar::Str(Vec::new())));
                let auth = self.auth_data.as_ref().filter(|a| a.len() == AUTH_DATA_LEN);
                put(d, "s", auth.map(|a| Value::Scalar(Scalar::Str(a.clone()))));
            }
        }
        self.common.store(d);
    }
}

/// A community room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommunityInfo {
    /// The server's canonical base URL.
    pub base_url: String,
    /// The room token as written (its lowercase form is the key).
    pub room: String,
    /// The server's public key.
    pub pubkey: [u8; 32],
    /// Priority, notifications, mute, joined, invited.
    pub common: Common,
}

/// A legacy closed group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyGroupInfo {
    /// Its ID (05 ‖ X25519 key).
    pub id: AccountId,
    /// Its name.
    pub name: String,
    /// The group's encryption key pair (public, secret), 32 bytes each.
    pub encryption: Option<([u8; 32], Vec<u8>)>,
    /// Members, with whether each is an admin.
    pub members: BTreeMap<AccountId, bool>,
    /// Disappearing-messages timer, seconds (`E`).
    pub disappearing_timer: i64,
    /// Priority, notifications, mute, joined, invited.
    pub common: Common,
}

impl LegacyGroupInfo {
    /// A legacy group with nothing set.
    pub fn new(id: AccountId) -> Self {
        Self {
            id,
            name: String::new(),
            encryption: None,
            members: BTreeMap::new(),
            disappearing_timer: 0,
            common: Common::default(),
        }
    }

    fn load(id: AccountId, d: &Dict) -> Self {
        let encryption = match (get_str(d, "k"), get_str(d, "K")) {
            (Some(k), Some(sk)) if k.len() == 32 && sk.len() == 32 => {
                <[u8; 32]>::try_from(k.as_slice()).ok().map(|k| (k, sk))
            }
            _ => None,
        };
        let mut members = BTreeMap::new();
        for (key, admin) in [("m", false), ("a", true)] {
            if let Some(Value::Set(ids)) = d.get(key.as_bytes()) {
                for item in ids {
                    if let Scalar::Str(raw) = item
                        && let Ok(member) = AccountId::from_slice(raw)
                        && member.prefix() == IdPrefix::Standard
                    {
                        // Listed as both: a member (libsession reads `m` first).
                        members.entry(member).or_insert(admin);
                    }
                }
            }
        }
        Self {
            id,
            name: get_text(d, "n"),
            encryption,
            members,
            disappearing_timer: get_int(d, "E").max(0),
            common: Common::load(d),
        }
    }

    fn store(&self, d: &mut Dict) {
        d.insert(b"n".to_vec(), text(&self.name));
        let pair = self.encryption.as_ref().filter(|(_, sk)| sk.len() == 32);
        put(d, "k", pair.map(|(k, _)| Value::Scalar(Scalar::Str(k.to_vec()))));
        put(d, "K", pair.map(|(_, sk)| Value::Scalar(Scalar::Str(sk.clone()))));
        for (key, admins) in [("m", false), ("a", true)] {
            let set: BTreeSet<Scalar> = self
                .members
                .iter()
                .filter(|(_, a)| **a == admins)
                .map(|(id, _)| Scalar::Str(id.as_bytes().to_vec()))
                .collect();
            put(d, key, (!set.is_empty()).then_some(Value::Set(set)));
        }
        put(d, "E", int_if(self.disappearing_timer > 0, self.disappearing_timer));
        self.common.store(d);
    }
}

/// Everything in UserGroups data, in libsession's order (groups, communities, legacy groups).
#[derive(Clone, Debug, Default)]
pub struct UserGroups {
    /// Groups (v2).
    pub groups: Vec<GroupInfo>,
    /// Community rooms.
    pub communities: Vec<CommunityInfo>,
    /// Legacy groups.
    pub legacy_groups: Vec<LegacyGroupInfo>,
}

fn entries(d: &Dict, section: &[u8]) -> Vec<(Vec<u8>, Dict)> {
    match d.get(section) {
        Some(Value::Dict(all)) => all
            .iter()
            .filter_map(|(k, v)| match v {
                Value::Dict(f) => Some((k.clone(), f.clone())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn id_with(key: &[u8], prefix: IdPrefix) -> Option<AccountId> {
    AccountId::from_slice(key).ok().filter(|id| id.prefix() == prefix)
}

/// Reads UserGroups data (entries with malformed keys are skipped).
pub fn load(d: &Dict) -> UserGroups {
    let groups = entries(d, b"g")
        .into_iter()
        .filter_map(|(k, f)| Some(GroupInfo::load(id_with(&k, IdPrefix::Group)?, &f)))
        .collect();
    let mut communities = Vec::new();
    for (base, server) in entries(d, b"o") {
        let Some(pubkey) = get_str(&server, "#").and_then(|k| <[u8; 32]>::try_from(k).ok()) else {
            continue;
        };
        for (token, f) in entries(&server, b"R") {
            let written = get_text(&f, "n");
            let room = if written.is_empty() {
                String::from_utf8_lossy(&token).into_owned()
            } else {
                written
            };
            communities.push(CommunityInfo {
                base_url: String::from_utf8_lossy(&base).into_owned(),
                room,
                pubkey,
                common: Common::load(&f),
            });
        }
    }
    let legacy_groups = entries(d, b"C")
        .into_iter()
        .filter_map(|(k, f)| Some(LegacyGroupInfo::load(id_with(&k, IdPrefix::Standard)?, &f)))
        .collect();
    UserGroups { groups, communities, legacy_groups }
}

/// The entry at `section` / `key`, created (or replacing a non-dict) if needed.
fn entry<'a>(d: &'a mut Dict, path: &[&[u8]]) -> &'a mut Dict {
    let mut at = d;
    for key in path {
        let slot = at.entry(key.to_vec()).or_insert_with(|| Value::Dict(Dict::new()));
        if !matches!(slot, Value::Dict(_)) {
            *slot = Value::Dict(Dict::new());
        }
        at = match slot {
            Value::Dict(inner) => inner,
            _ => unreachable!("just made a dict"),
        };
    }
    at
}

/// Sets (adds or replaces) a group; its ID must be a group ID (03).
pub fn set_group(d: &mut Dict, group: &GroupInfo) -> Result<()> {
    if group.id.prefix() != IdPrefix::Group {
        return Err(Error::Bencode("a group ID starts with 03"));
    }
    group.store(entry(d, &[b"g", group.id.as_bytes()]));
    Ok(())
}

/// Sets (adds or replaces) a community room: URL and room canonicalised, invalid ones refused.
pub fn set_community(d: &mut Dict, community: &CommunityInfo) -> Result<()> {
    let base = canonical_url(&community.base_url)?;
    let token = canonical_room(&community.room)?;
    let server = entry(d, &[b"o", base.as_bytes()]);
    server.insert(b"#".to_vec(), Value::Scalar(Scalar::Str(community.pubkey.to_vec())));
    let room = entry(server, &[b"R", token.as_bytes()]);
    room.insert(b"n".to_vec(), Value::Scalar(Scalar::Str(community.room.as_bytes().to_vec())));
    community.common.store(room);
    Ok(())
}

/// Sets (adds or replaces) a legacy group; its ID must be a 05 ID.
pub fn set_legacy_group(d: &mut Dict, group: &LegacyGroupInfo) -> Result<()> {
    if group.id.prefix() != IdPrefix::Standard {
        return Err(Error::Bencode("a legacy group ID starts with 05"));
    }
    group.store(entry(d, &[b"C", group.id.as_bytes()]));
    Ok(())
}

/// Removes a group or legacy group; returns whether there was one.
pub fn remove_group(d: &mut Dict, id: &AccountId) -> bool {
    let section: &[u8] = if id.prefix() == IdPrefix::Group { b"g" } else { b"C" };
    let Some(Value::Dict(all)) = d.get_mut(section) else { return false };
    let removed = all.remove(id.as_bytes().as_slice()).is_some();
    if all.is_empty() {
        d.remove(section);
    }
    removed
}

/// Removes a community room (and the server, with its key, when it was the last room).
pub fn remove_community(d: &mut Dict, base_url: &str, room: &str) -> Result<bool> {
    let (base, token) = (canonical_url(base_url)?, canonical_room(room)?);
    let Some(Value::Dict(servers)) = d.get_mut(b"o".as_slice()) else { return Ok(false) };
    let Some(Value::Dict(server)) = servers.get_mut(base.as_bytes()) else { return Ok(false) };
    let removed = match server.get_mut(b"R".as_slice()) {
        Some(Value::Dict(rooms)) => rooms.remove(token.as_bytes()).is_some(),
        _ => false,
    };
    if !matches!(server.get(b"R".as_slice()), Some(Value::Dict(r)) if !r.is_empty()) {
        servers.remove(base.as_bytes());
    }
    if servers.is_empty() {
        d.remove(b"o".as_slice());
    }
    Ok(removed)
}

/// A community base URL in libsession's canonical form: `http://` or `https://`, the host in
/// lowercase, the port only when not the scheme's default, no path.
pub fn canonical_url(url: &str) -> Result<String> {
    let bad = |why: &'static str| Error::Bencode(why);
    let lower = url.to_ascii_lowercase();
    let (scheme, rest, default_port) = if let Some(rest) = lower.strip_prefix("https://") {
        ("https://", rest, 443)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        ("http://", rest, 80)
    } else {
        return Err(bad("a community URL starts with http:// or https://"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = match rest.split_once(':') {
        Some((host, port)) => {
            let port: u16 = port.parse().map_err(|_| bad("a community URL has a bad port"))?;
            (host, Some(port))
        }
        None => (rest, None),
    };
    let chars_ok = host
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !chars_ok
        || host.len() < 4
        || !host.contains('.')
        || host.ends_with('.')
        || host.starts_with('.')
        || host.contains("..")
    {
        return Err(bad("a community URL has a bad host"));
    }
    Ok(match port {
        Some(p) if p != default_port => format!("{scheme}{host}:{p}"),
        _ => format!("{scheme}{host}"),
    })
}

/// A room token in canonical form: lowercase, 1 to 64 of `-0-9_a-z`.
pub fn canonical_room(room: &str) -> Result<String> {
    let lower = room.to_ascii_lowercase();
    let ok = (1..=64).contains(&lower.len())
        && lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok { Ok(lower) } else { Err(Error::Bencode("a community room token is malformed")) }
}
