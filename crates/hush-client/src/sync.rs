//! Config sync (session-protocol.md §9): the account's settings, contacts and read positions
//! as libsession config objects in our own swarm, so every device of the account — and a
//! device restored from the recovery password — shows the same.
//!
//! The database stays what UIs read. After a local change of something that syncs,
//! [`changed`] builds the object's data from the database on top of the config message we
//! hold (fields we do not model, written by other clients, are kept), and if the data
//! changed, pushes the next message (seqno + 1, with the lagged diffs): compressed, padded,
//! encrypted, split into parts when large, stored in the object's namespace for 30 days, with
//! the copies it supersedes deleted after it is stored (the outbox keeps that order).
//!
//! Config messages that arrive (the poller reads namespaces 2–5 with the inbox) are merged
//! with the one we hold by libsession's rules ([`hush_proto::config::merge`]); the result is
//! written to the database, and pushed when it is a merge of concurrent changes — so two
//! devices that changed the same object while offline converge on the same data.

use std::collections::{BTreeMap, BTreeSet};

use hush_proto::config::{ConfigMessage, Dict, Merged, ReceivedConfig, merge};
use hush_proto::config_objects::{
    self as objects, ContactInfo, Expiration, ReadState, UserProfile,
};
use hush_proto::config_wire::{self, Opened, Part};
use hush_proto::message_hash::MessageHash;
use hush_proto::namespace::Namespace;
use hush_proto::{AccountId, IdPrefix};
use zeroize::Zeroizing;

use crate::client::Inner;
use crate::db::{ConfigState, Disappearing, NewOutbox, ReadPosition, SyncedContact};
use crate::events::Event;
use crate::send::{self, GIVE_UP_AFTER_MS};
use crate::{Error, Result};

/// How long config messages live in the swarm (refreshed while the account is used).
pub(crate) const CONFIG_TTL_MS: u64 = 30 * 24 * 3600 * 1000;
/// Parts of a multipart config whose other parts never came are dropped after this.
const PART_PATIENCE_MS: u64 = 31 * 24 * 3600 * 1000;

/// The user config objects, by namespace.
pub(crate) const USER_PROFILE: i16 = 2;
pub(crate) const CONTACTS: i16 = 3;
pub(crate) const CONVO_INFO: i16 = 4;
pub(crate) const USER_GROUPS: i16 = 5;
/// Every config namespace we read.
pub(crate) const NAMESPACES: [i16; 4] = [USER_PROFILE, CONTACTS, CONVO_INFO, USER_GROUPS];

/// The encryption domain of a config namespace.
fn domain(namespace: i16) -> Result<&'static str> {
    match namespace {
        USER_PROFILE => Ok("UserProfile"),
        CONTACTS => Ok("Contacts"),
        CONVO_INFO => Ok("ConvoInfoVolatile"),
        USER_GROUPS => Ok("UserGroups"),
        _ => Err(Error::InvalidInput(format!("{namespace} is no config namespace"))),
    }
}

/// The config message we hold for a namespace, ready for the next change.
fn next_message(state: &ConfigState) -> ConfigMessage {
    match state.message.as_deref().map(ReceivedConfig::parse) {
        Some(Ok(held)) => held.into_next(),
        _ => {
            let mut first = ConfigMessage::new();
            first.set_seqno(1);
            first
        }
    }
}

/// Something `namespace` syncs changed in the database: push the object if its data changed.
pub(crate) fn changed(inner: &Inner, namespace: i16) -> Result<()> {
    let _guard = inner.config_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let state = inner.db.config_state(namespace)?;
    let mut next = next_message(&state);
    let before = next.data().clone();
    project(inner, namespace, next.data_mut())?;
    if *next.data() == before {
        return Ok(());
    }
    push(inner, namespace, next.seqno(), &next.serialize(), state)
}

/// Set once a device has caught up with its swarm's configs and pushed what they lacked.
const RECONCILED: &str = "configs_reconciled";

/// Whether [`reconcile_once`] ran on this device.
pub(crate) fn reconciled(inner: &Inner) -> bool {
    inner.db.setting(RECONCILED).ok().flatten().is_some()
}

/// Once a device has read everything its swarm holds (its first complete poll), pushes each
/// object whose data on this device differs from the config message it holds: a new
/// account's display name (set before it ever connected), or changes made offline on a
/// profile restored without fetching. Later changes push themselves ([`changed`]).
pub(crate) fn reconcile_once(inner: &Inner) -> Result<()> {
    if reconciled(inner) {
        return Ok(());
    }
    // A config that arrived in parts, some still missing, is not known yet: wait for it
    // rather than push on top of an older message.
    for namespace in NAMESPACES {
        if !inner.db.config_parts(namespace)?.is_empty() {
            return Ok(());
        }
    }
    for namespace in NAMESPACES {
        changed(inner, namespace)?;
    }
    inner.db.set_setting(RECONCILED, "1")
}

/// Pushes a serialized config message: queues its stores, then the deletion of the copies it
/// supersedes, and records it as the message we hold. A message that fits in one stored
/// message goes in the protobuf wrapping older clients read, as the newest libsession still
/// does; parts of a larger one go raw.
fn push(
    inner: &Inner,
    namespace: i16,
    seqno: i64,
    serialized: &[u8],
    mut state: ConfigState,
) -> Result<()> {
    let mut parts =
        config_wire::seal_config(serialized, inner.config_key.expose(), domain(namespace)?)?;
    if let ([only], Some(kind)) = (parts.as_slice(), config_wire::user_config_kind(namespace)) {
        let wrapped = config_wire::wrap_user_config(&inner.identity, kind, seqno, only)?;
        if wrapped.len() <= config_wire::MAX_STORED {
            parts = vec![wrapped];
        }
    }
    let me = *inner.identity.account_id();
    let now = inner.now();
    let mut hashes = Vec::with_capacity(parts.len());
    for part in &parts {
        let hash = MessageHash::compute(&me, Namespace(namespace), part).as_str().to_owned();
        inner.db.enqueue(
            &NewOutbox {
                message_id: None,
                action: "store",
                destination: &inner.me,
                namespace,
                data: part,
                ttl_ms: CONFIG_TTL_MS,
                timestamp: now,
                give_up_at: now + GIVE_UP_AFTER_MS,
            },
            now,
        )?;
        // Our own copy comes back when we poll: it is handled already.
        inner.db.mark_seen(&hash, now)?;
        hashes.push(hash);
    }
    let mut gone = std::mem::take(&mut state.obsolete);
    gone.append(&mut state.current);
    gone.retain(|h| !hashes.contains(h));
    gone.sort();
    gone.dedup();
    send::delete_own(inner, gone)?;
    state.message = Some(serialized.to_vec());
    state.current = hashes;
    inner.db.set_config_state(namespace, &state)?;
    inner.outbox_wake.notify_one();
    Ok(())
}

/// How often the copies of our config messages get their 30 days again.
const BUMP_EVERY_MS: u64 = 24 * 3600 * 1000;
const BUMPED_AT: &str = "config_bumped_at";

/// Gives the copies of our current config messages 30 more days in the swarm (an `expire`
/// that sets the expiry), once a day while the client polls: configs of a used account
/// never expire, those of an abandoned one go after 30 days.
pub(crate) fn bump_expiry_if_due(inner: &Inner) -> Result<()> {
    let now = inner.now();
    let last: u64 = inner.db.setting(BUMPED_AT)?.and_then(|t| t.parse().ok()).unwrap_or(0);
    if now.saturating_sub(last) < BUMP_EVERY_MS && last <= now {
        return Ok(());
    }
    let mut hashes = Vec::new();
    for ns in NAMESPACES {
        hashes.extend(inner.db.config_state(ns)?.current);
    }
    if !hashes.is_empty() {
        let expiry = now + CONFIG_TTL_MS;
        let request = serde_json::json!({ "messages": hashes, "expiry": expiry, "shorten": false });
        send::queue_own_request(inner, "expire", &request, now + GIVE_UP_AFTER_MS)?;
    }
    inner.db.set_setting(BUMPED_AT, &now.to_string())
}

/// A config message found in our swarm, opened: its data and the swarm hashes of its copy.
struct Incoming {
    serialized: Zeroizing<Vec<u8>>,
    hashes: Vec<String>,
}

/// Handles the stored messages a poll found in a config namespace: `(hash, bytes)` whose
/// hashes were checked. Returns how many were config messages we had not seen.
pub(crate) fn receive(
    inner: &Inner,
    namespace: i16,
    stored: &[(String, Vec<u8>)],
) -> Result<usize> {
    let domain = domain(namespace)?;
    let key = inner.config_key.expose();
    let now = inner.now();
    let mut incoming = Vec::new();
    let mut completed_parts: BTreeSet<[u8; 32]> = BTreeSet::new();
    for (hash, bytes) in stored {
        if inner.db.seen(hash)? {
            inner.count(|s| s.duplicates += 1);
            continue;
        }
        let raw = config_wire::unwrap_user_config(&inner.identity, bytes);
        match config_wire::open(&raw, key, domain) {
            Ok(Opened::Whole(serialized)) => {
                incoming.push(Incoming { serialized, hashes: vec![hash.clone()] });
            }
            Ok(Opened::Part(part)) => {
                inner.db.save_config_part(hash, namespace, &raw, now)?;
                completed_parts.insert(part.hash);
            }
            Err(_) => inner.count_drop("undecryptable_config"),
        }
        inner.db.mark_seen(hash, now)?;
    }
    if !completed_parts.is_empty() {
        incoming.extend(reassemble(inner, namespace, &completed_parts)?);
    }
    if incoming.is_empty() {
        return Ok(0);
    }
    inner.count(|s| s.configs += incoming.len() as u64);
    let count = incoming.len();
    let _guard = inner.config_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    adopt(inner, namespace, incoming)?;
    Ok(count)
}

/// Whole messages from the parts kept for `wanted` multipart messages that are complete now.
fn reassemble(inner: &Inner, namespace: i16, wanted: &BTreeSet<[u8; 32]>) -> Result<Vec<Incoming>> {
    let key = inner.config_key.expose();
    let domain = domain(namespace)?;
    let mut parts: Vec<(String, Part)> = Vec::new();
    for (hash, raw) in inner.db.config_parts(namespace)? {
        if let Ok(Opened::Part(part)) = config_wire::open(&raw, key, domain) {
            parts.push((hash, part));
        }
    }
    let mut out = Vec::new();
    let mut used = Vec::new();
    for message in wanted {
        let of_message: Vec<&(String, Part)> =
            parts.iter().filter(|(_, p)| p.hash == *message).collect();
        match config_wire::reassemble(message, of_message.iter().map(|(_, p)| p)) {
            Ok(Some(serialized)) => {
                let hashes: Vec<String> = of_message.iter().map(|(h, _)| h.clone()).collect();
                used.extend(hashes.iter().cloned());
                out.push(Incoming { serialized, hashes });
            }
            Ok(None) => {}
            Err(_) => {
                inner.count_drop("bad_config_parts");
                used.extend(of_message.iter().map(|(h, _)| h.clone()));
            }
        }
    }
    inner.db.drop_config_parts(&used, inner.now().saturating_sub(PART_PATIENCE_MS))?;
    Ok(out)
}

/// Merges what arrived with the message we hold, writes the result to the database, and
/// pushes it if it is a merge of concurrent changes.
fn adopt(inner: &Inner, namespace: i16, incoming: Vec<Incoming>) -> Result<()> {
    let mut state = inner.db.config_state(namespace)?;
    let mut candidates: Vec<&[u8]> = Vec::with_capacity(incoming.len() + 1);
    if let Some(held) = state.message.as_deref() {
        candidates.push(held);
    }
    candidates.extend(incoming.iter().map(|m| m.serialized.as_slice()));
    let Ok(merged) = merge(&candidates) else {
        inner.count_drop("invalid_config");
        return Ok(());
    };
    let previous = state
        .message
        .as_deref()
        .and_then(|m| ReceivedConfig::parse(m).ok())
        .map(|m| m.data)
        .unwrap_or_default();
    let mut arrived: Vec<String> = incoming.iter().flat_map(|m| m.hashes.iter().cloned()).collect();
    match merged {
        Merged::Single(kept) => {
            let held_hash = state.message.as_deref().map(hush_sodium::hash::blake2b::<32>);
            if Some(kept.hash) == held_hash {
                // What we hold includes everything that came: those copies are obsolete
                // (unless one is our own current copy, seen again).
                arrived.retain(|h| !state.current.contains(h));
                state.obsolete.append(&mut arrived);
                return inner.db.set_config_state(namespace, &state);
            }
            apply(inner, namespace, &kept.data, &previous)?;
            let copy: Vec<String> = incoming
                .iter()
                .find(|m| hush_sodium::hash::blake2b::<32>(&m.serialized) == kept.hash)
                .map(|m| m.hashes.clone())
                .unwrap_or_default();
            state.obsolete.append(&mut state.current);
            state.obsolete.extend(arrived.into_iter().filter(|h| !copy.contains(h)));
            state.current = copy;
            state.message = Some(kept.raw);
            inner.db.set_config_state(namespace, &state)
        }
        Merged::Merged(message) => {
            apply(inner, namespace, message.data(), &previous)?;
            state.obsolete.append(&mut arrived);
            push(inner, namespace, message.seqno(), &message.serialize(), state)
        }
    }
}

// ----- database → config data -----

fn project(inner: &Inner, namespace: i16, data: &mut Dict) -> Result<()> {
    match namespace {
        USER_PROFILE => project_profile(inner, data),
        CONTACTS => project_contacts(inner, data),
        CONVO_INFO => project_read_positions(inner, data),
        _ => Ok(()),
    }
}

const NTS_PRIORITY: &str = "note_to_self_priority";

fn project_profile(inner: &Inner, data: &mut Dict) -> Result<()> {
    let mut profile = UserProfile::load(data);
    profile.name = inner.display_name();
    profile.nts_priority =
        inner.db.setting(NTS_PRIORITY)?.and_then(|p| p.parse().ok()).unwrap_or(0);
    profile.nts_expiry = match inner.db.disappearing(&inner.me)? {
        Disappearing::Off => 0,
        Disappearing::AfterRead(s) | Disappearing::AfterSend(s) => i64::from(s),
    };
    profile.store(data);
    Ok(())
}

fn standard(id: &str) -> Option<AccountId> {
    id.parse::<AccountId>().ok().filter(|id| id.prefix() == IdPrefix::Standard)
}

fn project_contacts(inner: &Inner, data: &mut Dict) -> Result<()> {
    let mut existing: BTreeMap<AccountId, ContactInfo> =
        objects::contacts(data).into_iter().map(|c| (c.account_id, c)).collect();
    let now_s = i64::try_from(inner.now() / 1000).unwrap_or(0);
    for k in inner.db.synced_contacts()? {
        let Some(id) = standard(&k.account_id) else { continue };
        if k.account_id == inner.me {
            continue;
        }
        let mut c = existing.remove(&id).unwrap_or_else(|| {
            let mut c = ContactInfo::new(id);
            c.created = now_s;
            c
        });
        c.name = k.display_name.unwrap_or_default();
        c.nickname = k.nickname.unwrap_or_default();
        c.approved = k.approved;
        c.approved_me = k.approved_me;
        c.blocked = k.blocked;
        c.priority = k.priority;
        c.notifications = k.notify;
        c.mute_until = k.mute_until;
        c.expiration = match k.disappearing {
            Disappearing::Off => Expiration::None,
            Disappearing::AfterSend(s) => Expiration::AfterSend(i64::from(s)),
            Disappearing::AfterRead(s) => Expiration::AfterRead(i64::from(s)),
        };
        objects::set_contact(data, &c);
    }
    // Left over: contacts forgotten here.
    for id in existing.keys() {
        objects::remove_contact(data, id);
    }
    Ok(())
}

fn project_read_positions(inner: &Inner, data: &mut Dict) -> Result<()> {
    let now = i64::try_from(inner.now()).unwrap_or(i64::MAX);
    let mut known: BTreeSet<AccountId> =
        objects::read_states(data).into_iter().map(|s| s.account_id).collect();
    for p in inner.db.read_positions()? {
        let Some(account_id) = standard(&p.conversation) else { continue };
        known.remove(&account_id);
        let state = ReadState {
            account_id,
            last_read: i64::try_from(p.last_read).unwrap_or(i64::MAX),
            unread: p.marked_unread,
        };
        objects::set_read_state(data, &state, now);
    }
    // Left over: conversations deleted here.
    if let Some(hush_proto::config::Value::Dict(all)) = data.get_mut(b"1".as_slice()) {
        for id in known {
            all.remove(id.as_bytes().as_slice());
        }
        if all.is_empty() {
            data.remove(b"1".as_slice());
        }
    }
    Ok(())
}

// ----- config data → database -----

fn apply(inner: &Inner, namespace: i16, data: &Dict, previous: &Dict) -> Result<()> {
    match namespace {
        USER_PROFILE => apply_profile(inner, data),
        CONTACTS => apply_contacts(inner, data, previous),
        CONVO_INFO => apply_read_positions(inner, data),
        _ => Ok(()),
    }
}

/// A name from another device, if it is one we would accept locally.
fn clean_name(name: &str) -> Option<String> {
    crate::profile::validate_display_name(name).ok()
}

fn apply_profile(inner: &Inner, data: &Dict) -> Result<()> {
    let profile = UserProfile::load(data);
    if let Some(name) = profile.name.as_deref().and_then(clean_name)
        && inner.display_name().as_deref() != Some(name.as_str())
    {
        inner.store_display_name(Some(name.clone()))?;
        inner.emit(Event::Profile { display_name: Some(name) });
    }
    inner.db.set_setting(NTS_PRIORITY, &profile.nts_priority.to_string())?;
    let setting = u32::try_from(profile.nts_expiry)
        .ok()
        .filter(|s| *s > 0)
        .map_or(Disappearing::Off, Disappearing::AfterSend);
    if inner.db.disappearing(&inner.me)? != setting {
        inner.db.set_disappearing(&inner.me, setting, inner.now())?;
        inner.emit(Event::Disappearing { conversation: inner.me.clone(), setting });
    }
    Ok(())
}

fn apply_contacts(inner: &Inner, data: &Dict, previous: &Dict) -> Result<()> {
    let now = inner.now();
    let current: BTreeMap<String, SyncedContact> =
        inner.db.synced_contacts()?.into_iter().map(|k| (k.account_id.clone(), k)).collect();
    let mut present = BTreeSet::new();
    for c in objects::contacts(data) {
        if c.account_id.prefix() != IdPrefix::Standard {
            continue;
        }
        let key = c.account_id.to_string();
        if key == inner.me {
            continue;
        }
        present.insert(key.clone());
        let to_u32 = |s: i64| u32::try_from(s).unwrap_or(0);
        let contact = SyncedContact {
            account_id: key.clone(),
            display_name: clean_name(&c.name),
            nickname: clean_name(&c.nickname),
            approved: c.approved,
            approved_me: c.approved_me,
            blocked: c.blocked,
            priority: c.priority,
            notify: c.notifications,
            mute_until: c.mute_until,
            disappearing: match c.expiration {
                Expiration::None => Disappearing::Off,
                Expiration::AfterSend(s) => Disappearing::from_parts(2, i64::from(to_u32(s))),
                Expiration::AfterRead(s) => Disappearing::from_parts(1, i64::from(to_u32(s))),
            },
        };
        let before = current.get(&key);
        let same = before.is_some_and(|b| {
            SyncedContact {
                display_name: contact.display_name.clone().or_else(|| b.display_name.clone()),
                ..contact.clone()
            } == *b
        });
        if same {
            continue;
        }
        inner.db.put_synced_contact(&contact, now)?;
        if before.is_none_or(|b| b.disappearing != contact.disappearing) {
            inner.emit(Event::Disappearing {
                conversation: key.clone(),
                setting: contact.disappearing,
            });
        }
        if let Some(contact) = inner.db.contact(&key)? {
            inner.emit(Event::Contact { contact });
        }
    }
    // Removed on another device: contacts the previous data had and this one has not.
    for gone in objects::contacts(previous) {
        let key = gone.account_id.to_string();
        if !present.contains(&key) && inner.db.remove_contact(&key)? {
            if inner.db.conversation(&key)?.is_some() {
                inner.db.set_request(&key, true)?;
            }
            inner.emit(Event::ContactRemoved { account_id: key });
        }
    }
    Ok(())
}

fn apply_read_positions(inner: &Inner, data: &Dict) -> Result<()> {
    let now = inner.now();
    let current: BTreeMap<String, ReadPosition> =
        inner.db.read_positions()?.into_iter().map(|p| (p.conversation.clone(), p)).collect();
    for s in objects::read_states(data) {
        if s.account_id.prefix() != IdPrefix::Standard {
            continue;
        }
        let conversation = s.account_id.to_string();
        let position = ReadPosition {
            conversation: conversation.clone(),
            last_read: u64::try_from(s.last_read).unwrap_or(0),
            marked_unread: s.unread,
        };
        if current.get(&conversation) == Some(&position) {
            continue;
        }
        let approved = conversation == inner.me
            || inner.db.contact(&conversation)?.is_some_and(|c| c.approved);
        inner.db.put_read_position(&position, approved, now)?;
        inner.emit(Event::Read { conversation, last_read: position.last_read });
    }
    inner.expiry_wake.notify_one();
    Ok(())
}
