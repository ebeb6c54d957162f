//! Receiving: a long-poll on our own swarm, and what each stored message means.
//!
//! The poller sends `retrieve` with a `wait` (a hush extension, docs/protocol/storage-rpc.md):
//! the member holds the request open until a message arrives for us or the wait ends, so a
//! message shows up within milliseconds of being stored and an idle client sends one small
//! request every few seconds. It keeps to one member while that member answers (so
//! `last_hash`, kept per member, stays meaningful), and moves to another on failure — also
//! when the member hangs: a poll gives up at its wait + 5 s. At a member it has no place at
//! yet it first lists the inbox (`hashes_only`, a hush extension) and downloads only from
//! the first message it has not seen. Polls that failed or had to move are counted in
//! [`crate::Client::stats`].
//!
//! Every stored message is handled exactly once: its hash is recorded after handling, and a
//! copy seen again (from another member, or after a crash before the record) is skipped —
//! a message with the same author and send time is stored only once either way. Messages
//! that cannot be decrypted or verified, from blocked accounts, or malformed, are dropped and
//! counted by reason ([`crate::Client::stats`]).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_proto::envelope::{Received, open_1to1};
use hush_proto::message_hash::MessageHash;
use hush_proto::namespace::Namespace;
use hush_proto::protos::session::{content, data_message, receipt_message, typing_message};
use hush_proto::registry::Node;
use hush_proto::{AccountId, IdPrefix};
use serde_json::json;
use tokio::sync::watch;

use crate::client::Inner;
use crate::db::{ContactChange, Disappearing, MessageStatus, NewMessage};
use crate::events::Event;
use crate::{Error, Result};
use crate::{send, sync};

/// Largest stored message we accept (the node's own limit, base64).
const MAX_DATA_B64: usize = 76_800 * 4 / 3 + 4;
/// Poll interval at members that answer without waiting.
const UNHELD_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How long handled hashes are remembered (beyond the longest TTL).
const SEEN_FOR_MS: u64 = 31 * 24 * 3600 * 1000;

/// The background task: poll, handle, repeat.
pub(crate) async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let mut member: Option<Node> = None;
    let mut failures = 0u32;
    let mut last_cleanup = 0u64;
    loop {
        let wait = inner.poll_wait;
        let began = tokio::time::Instant::now();
        let poll = poll_once(&inner, Some(wait), &mut member);
        let result = tokio::select! {
            _ = stop.changed() => return,
            r = poll => r,
        };
        if let Ok(polled) = &result {
            if let Some(why) = &polled.moved {
                // The poll was answered, but only after giving up on members that failed or
                // hung (each counts as a failed poll: it cost time).
                inner.count(|s| {
                    s.poll_failures += polled.members_failed;
                    s.last_poll_error = Some(why.clone());
                });
            } else {
                inner.count(|s| s.last_poll_error = None);
            }
            if failures > 0 {
                // Back in touch: whatever waits in the outbox need not wait out its backoff.
                failures = 0;
                if let Err(e) = inner.db.outbox_retry_now() {
                    tracing::warn!(error = %e, "rescheduling the outbox failed");
                }
                inner.outbox_wake.notify_one();
            }
        }
        match result {
            Ok(Polled { messages: 0, .. }) if began.elapsed() < wait / 2 => {
                // Nothing, at once: the member does not hold requests (an oxenss node, or a
                // hush node with too many waiting). Poll at a steady pace instead.
                tokio::select! {
                    _ = stop.changed() => return,
                    () = tokio::time::sleep(UNHELD_POLL_INTERVAL.min(wait)) => {}
                }
            }
            Ok(_) => {}
            Err(e) => {
                failures += 1;
                inner.count(|s| {
                    s.poll_failures += 1;
                    s.last_poll_error = Some(e.to_string());
                });
                member = None;
                tracing::debug!(error = %e, "poll failed");
                let pause = Duration::from_millis((250u64 << failures.min(6)).min(15_000));
                tokio::select! {
                    _ = stop.changed() => return,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
        if failures == 0
            && let Err(e) = sync::bump_expiry_if_due(&inner)
        {
            tracing::warn!(error = %e, "queueing the refresh of our config messages failed");
        }
        let now = inner.now();
        if now.saturating_sub(last_cleanup) > 3600 * 1000 {
            last_cleanup = now;
            let _ = inner.db.forget_seen(now.saturating_sub(SEEN_FOR_MS));
            let _ = inner.db.forget_send_ids(now.saturating_sub(send::SEND_ID_MS));
        }
    }
}

/// Polls without waiting until the swarm has nothing new for us.
pub(crate) async fn poll_until_empty(inner: &Inner, mut after_round: impl FnMut()) -> Result<()> {
    let mut member = None;
    for _ in 0..10_000 {
        let polled = poll_once(inner, None, &mut member).await?;
        after_round();
        if !polled.more {
            return Ok(());
        }
    }
    Ok(())
}

/// What one poll brought.
struct Polled {
    /// Stored messages returned.
    messages: usize,
    /// The member has more.
    more: bool,
    /// Members given up on before one answered, and why the last was.
    members_failed: u64,
    moved: Option<String>,
}

/// How much longer than its wait a poll may take (the path's round trips, the member's
/// work) before the member counts as hung and the poll moves to another.
const POLL_MARGIN: Duration = Duration::from_secs(5);

/// What each poll reads: the config namespaces, then the inbox (so a restore learns read
/// positions and contacts before the messages they cover; either order gives the same result).
const POLLED: [i16; 5] =
    [sync::USER_PROFILE, sync::CONTACTS, sync::CONVO_INFO, sync::USER_GROUPS, 0];

/// One batch of `retrieve`s over [`POLLED`] (waiting up to `wait` at the member for anything
/// new in any of them); handles what it returns.
async fn poll_once(
    inner: &Inner,
    wait: Option<Duration>,
    member: &mut Option<Node>,
) -> Result<Polled> {
    let net = inner.net()?;
    let me = *inner.identity.account_id();
    let ed = inner.identity.ed25519();
    let ed_hex = hex::encode(ed.public().as_bytes());
    let wait_ms = wait.map(|w| u64::try_from(w.as_millis()).unwrap_or(u64::MAX));
    // Polled elsewhere before: a member we have no place at lists its inbox first (hashes
    // only), so that only what we have not seen is downloaded.
    let polled_inbox_before = inner.db.any_last_hash(0)?;
    let params = |now: u64, node: &Node| {
        let node_key = hex::encode(node.ed25519.as_bytes());
        let requests: Vec<serde_json::Value> = POLLED
            .iter()
            .map(|&ns| {
                let message = format!("retrieve{}{now}", Namespace(ns).signature_part());
                let signature = STANDARD.encode(ed.sign(message.as_bytes()).as_bytes());
                let last_hash = inner.db.last_hash(&node_key, ns).ok().flatten();
                let mut p = json!({
                    "pubkey": inner.me,
                    "pubkey_ed25519": ed_hex,
                    "timestamp": now,
                    "signature": signature,
                    "last_hash": last_hash.clone().unwrap_or_default(),
                });
                if ns != 0 {
                    p["namespace"] = json!(ns);
                } else if last_hash.is_none() && polled_inbox_before {
                    p["hashes_only"] = json!(true);
                }
                json!({"method": "retrieve", "params": p})
            })
            .collect();
        let mut batch = json!({ "requests": requests });
        if let Some(w) = wait_ms {
            batch["wait"] = json!(w);
        }
        batch
    };
    let timeout = match wait {
        Some(wait) => wait + POLL_MARGIN,
        None => crate::net::REQUEST_TIMEOUT,
    };
    let mut moved = crate::net::Moved::default();
    let (node, body) =
        net.account_rpc_moving(&me, member.as_ref(), "batch", params, timeout, &mut moved).await?;
    let (members_failed, why) = (moved.members, moved.why);
    let node_key = hex::encode(node.ed25519.as_bytes());
    *member = Some(node);
    let answered_at = inner.now();
    inner.count(|s| {
        s.polls += 1;
        s.last_poll_at = Some(answered_at);
        s.polled_member = Some(node_key.clone());
    });
    let results = body["results"].as_array().cloned().unwrap_or_default();
    // Every namespace answered: only then is "nothing more" a complete view of the swarm.
    let complete = results.len() == POLLED.len() && results.iter().all(|r| r["code"] == 200);
    let mut polled = Polled {
        messages: 0,
        more: false,
        members_failed,
        moved: (members_failed > 0).then(|| why.unwrap_or_default()),
    };
    for (&ns, result) in POLLED.iter().zip(&results) {
        let messages = result["body"]["messages"].as_array().cloned().unwrap_or_default();
        polled.messages += messages.len();
        polled.more |= result["body"]["more"].as_bool().unwrap_or(false) && !messages.is_empty();
        if ns == 0 && messages.first().is_some_and(|m| m.get("data").is_none()) {
            // A listing: our place at this member is after the messages we have seen.
            listed(inner, &node_key, &messages)?;
            polled.more = true;
        } else if ns == 0 {
            for m in &messages {
                let (Some(hash), Some(data)) = (m["hash"].as_str(), m["data"].as_str()) else {
                    inner.count_drop("invalid");
                    continue;
                };
                handle_stored(inner, hash, data)?;
                inner.db.set_last_hash(&node_key, 0, hash)?;
            }
        } else {
            let stored: Vec<(String, Vec<u8>)> =
                messages.iter().filter_map(|m| checked(inner, ns, m)).collect();
            sync::receive(inner, ns, &stored)?;
            if let Some(last) = messages.last().and_then(|m| m["hash"].as_str()) {
                inner.db.set_last_hash(&node_key, ns, last)?;
            }
        }
    }
    if complete && !polled.more {
        // Caught up with the swarm: what this device holds that its configs do not say yet
        // (a new account's display name) goes out, once. A failure here must not fail the
        // poll (its messages are handled); the next complete poll tries again.
        if let Err(e) = sync::reconcile_once(inner) {
            tracing::warn!(error = %e, "pushing this device's config changes failed");
        }
    }
    Ok(polled)
}

/// Finds our place in a member's inbox from its listing (hashes without data): after the
/// longest run of messages, from the start, that were handled already. The next poll
/// downloads from there; a member whose first message is new to us is read from the start.
/// (Without this, every switch to another member downloaded the whole inbox again.)
fn listed(inner: &Inner, node_key: &str, messages: &[serde_json::Value]) -> Result<()> {
    let mut place: Option<&str> = None;
    for m in messages {
        match m["hash"].as_str() {
            Some(hash) if inner.db.seen(hash)? => place = Some(hash),
            _ => {
                // Something new: download from just before it.
                inner.db.set_last_hash(node_key, 0, place.unwrap_or(""))?;
                return Ok(());
            }
        }
    }
    // All seen (a listing holds thousands): from here on, only what is new.
    inner.db.set_last_hash(node_key, 0, place.unwrap_or(""))?;
    Ok(())
}

/// A stored config message's hash and bytes, if its hash is what its bytes say.
fn checked(inner: &Inner, namespace: i16, m: &serde_json::Value) -> Option<(String, Vec<u8>)> {
    let me = *inner.identity.account_id();
    let (Some(hash), Some(data)) = (m["hash"].as_str(), m["data"].as_str()) else {
        inner.count_drop("invalid");
        return None;
    };
    let bytes = (data.len() <= MAX_DATA_B64).then(|| STANDARD.decode(data).ok()).flatten();
    match bytes {
        Some(bytes) if MessageHash::compute(&me, Namespace(namespace), &bytes).as_str() == hash => {
            Some((hash.to_owned(), bytes))
        }
        Some(_) => {
            inner.count_drop("wrong_hash");
            None
        }
        None => {
            inner.count_drop("invalid");
            None
        }
    }
}

/// Handles one stored message (base64 `data`) exactly once.
fn handle_stored(inner: &Inner, hash: &str, data: &str) -> Result<()> {
    if inner.db.seen(hash)? {
        inner.count(|s| s.duplicates += 1);
        return Ok(());
    }
    let me = *inner.identity.account_id();
    let outcome = if data.len() > MAX_DATA_B64 {
        Err("oversized")
    } else {
        match STANDARD.decode(data) {
            Err(_) => Err("invalid"),
            // The hash is ours to compute: a node cannot replay old bytes under a new name.
            Ok(bytes) if MessageHash::compute(&me, Namespace(0), &bytes).as_str() != hash => {
                Err("wrong_hash")
            }
            Ok(bytes) => match open_1to1(&inner.identity, &bytes) {
                Err(_) => Err("undecryptable"),
                Ok(received) => handle(inner, hash, received),
            },
        }
    };
    match outcome {
        Ok(()) => inner.count(|s| s.received += 1),
        // Not recorded as handled: the next poll tries again.
        Err("storage") => return Err(Error::Network("the local database failed".to_owned())),
        Err(reason) => inner.count_drop(reason),
    }
    inner.db.mark_seen(hash, inner.now())?;
    Ok(())
}

type Handled = std::result::Result<(), &'static str>;

/// Longest a stored message lives (config namespaces: 30 days), plus slack.
const OLDEST_MS: u64 = 31 * 24 * 3600 * 1000;
/// How far ahead of our clock a sender's may be.
const AHEAD_MS: u64 = 24 * 3600 * 1000;

/// Whether a sender-given time is one we accept.
fn plausible(t: u64, now: u64) -> bool {
    t >= now.saturating_sub(OLDEST_MS) && t <= now.saturating_add(AHEAD_MS)
}

/// What a verified message means.
fn handle(inner: &Inner, hash: &str, received: Received) -> Handled {
    let sender = received.sender;
    if sender.prefix() != IdPrefix::Standard {
        return Err("invalid");
    }
    let from = sender.to_string();
    let from_me = from == inner.me;
    if !from_me && inner.db.contact(&from).ok().flatten().is_some_and(|c| c.blocked) {
        return Err("blocked");
    }
    let content = received.content;
    let sent_at = received.sent_at.as_millis();
    // Times come from the sender: only plausible ones (no further back than a stored
    // message can live, at most a day ahead) are used for anything.
    let now = inner.now();
    if !plausible(sent_at, now) {
        return Err("bad_time");
    }
    let setting = Disappearing::from_parts(
        i64::from(content.expiration_type.unwrap_or(0)),
        i64::from(content.expiration_timer.unwrap_or(0)),
    );
    if let Some(data) = content.data_message.clone() {
        if from_me {
            from_own_device(inner, hash, data, sent_at, setting, &content)
        } else {
            data_message(inner, hash, &from, data, sent_at, setting, &content)
        }
    } else if let Some(receipt) = content.receipt_message.clone() {
        if from_me || receipt.r#type != receipt_message::Type::Read as i32 {
            return Ok(());
        }
        if !inner.read_receipts_enabled() {
            return Ok(());
        }
        let times: Vec<u64> =
            receipt.timestamp.iter().copied().filter(|t| plausible(*t, now)).take(1000).collect();
        let changed = inner.db.mark_read_by_peer(&from, &times).map_err(db_err)?;
        for id in changed {
            inner.emit(Event::Status {
                id,
                conversation: from.clone(),
                status: MessageStatus::Read,
                error: None,
            });
        }
        Ok(())
    } else if let Some(typing) = content.typing_message {
        if !from_me && inner.typing_enabled() {
            let started = typing.action == typing_message::Action::Started as i32;
            inner.emit(Event::Typing { from, started });
        }
        Ok(())
    } else if let Some(unsend) = content.unsend_request {
        // Only the author may unsend.
        if unsend.author != from {
            return Err("invalid");
        }
        if !plausible(unsend.timestamp, now) {
            return Err("bad_time");
        }
        let Some(message) = inner.db.message_by(&from, unsend.timestamp).map_err(db_err)? else {
            return Ok(());
        };
        inner.db.delete_message(message.id).map_err(db_err)?;
        let mut own: Vec<String> = Vec::new();
        if from_me {
            own.extend(inner.db.sync_hash(message.id).ok().flatten());
        } else {
            own.extend(message.hash.clone());
        }
        send::delete_own(inner, own).map_err(db_err)?;
        inner.emit(Event::Deleted {
            id: message.id,
            conversation: message.conversation,
            reason: "unsent",
        });
        Ok(())
    } else if let Some(response) = content.message_request_response {
        if from_me {
            return Ok(());
        }
        let now = inner.now();
        inner
            .db
            .update_contact(&from, ContactChange::ApprovedMe(response.is_approved), now)
            .map_err(db_err)?;
        sync::changed(inner, sync::CONTACTS).map_err(db_err)?;
        if let Some(name) = response.profile.and_then(|p| p.display_name) {
            learn_name(inner, &from, &name);
        }
        if let Some(contact) = inner.db.contact(&from).map_err(db_err)? {
            inner.emit(Event::Contact { contact });
        }
        Ok(())
    } else {
        Err("unsupported")
    }
}

fn db_err(e: Error) -> &'static str {
    tracing::warn!(error = %e, "storing a received message failed");
    "storage"
}

fn learn_name(inner: &Inner, from: &str, name: &str) {
    if let Ok(name) = crate::profile::validate_display_name(name) {
        let current = inner.db.contact(from).ok().flatten().and_then(|c| c.display_name);
        if current.as_deref() != Some(name.as_str()) {
            let _ =
                inner.db.update_contact(from, ContactChange::DisplayName(Some(&name)), inner.now());
            if let Err(e) = sync::changed(inner, sync::CONTACTS) {
                tracing::warn!(error = %e, "syncing a contact's new name failed");
            }
        }
    }
}

/// A data message from someone else.
fn data_message(
    inner: &Inner,
    hash: &str,
    from: &str,
    data: hush_proto::protos::session::DataMessage,
    sent_at: u64,
    setting: Disappearing,
    content: &hush_proto::protos::session::Content,
) -> Handled {
    let now = inner.now();
    if let Some(name) = data.profile.as_ref().and_then(|p| p.display_name.as_deref()) {
        learn_name(inner, from, name);
    }
    let approved = inner.db.contact(from).map_err(db_err)?.is_some_and(|c| c.approved);
    if data.flags.unwrap_or(0) & data_message::Flags::ExpirationTimerUpdate as u32 != 0 {
        // From someone not approved, it lands with their request, not as a conversation.
        inner.db.ensure_conversation(from, now, !approved).map_err(db_err)?;
        return timer_update(inner, from, content, now);
    }
    let Some(body) = data.body.filter(|b| !b.is_empty()) else {
        return Err("empty");
    };
    if body.chars().count() > send::MAX_TEXT_CHARS * 5 {
        return Err("oversized");
    }
    let expires_at = match setting {
        Disappearing::AfterSend(_) => Some(sent_at.saturating_add(setting.millis())),
        _ => None,
    };
    if expires_at.is_some_and(|t| t <= now) {
        return Err("expired");
    }
    let created = inner.db.ensure_conversation(from, now, !approved).map_err(db_err)?;
    let id = inner
        .db
        .insert_message(&NewMessage {
            conversation: from,
            outgoing: false,
            author: from,
            body: &body,
            sent_at,
            received_at: now,
            status: MessageStatus::Received,
            hash: Some(hash),
            disappearing: setting,
            expires_at,
            synced: false,
        })
        .map_err(db_err)?;
    let Some(id) = id else {
        inner.count(|s| s.duplicates += 1);
        return Ok(());
    };
    if created && !approved {
        inner.emit(Event::Request { from: from.to_owned() });
    }
    if let Some(message) = inner.db.message(id).map_err(db_err)? {
        inner.emit(Event::Message { message });
    }
    if expires_at.is_some() {
        inner.expiry_wake.notify_one();
    }
    Ok(())
}

/// A disappearing-messages change from the other side (or our other device).
fn timer_update(
    inner: &Inner,
    conversation: &str,
    content: &hush_proto::protos::session::Content,
    now: u64,
) -> Handled {
    let mode = content.expiration_type.unwrap_or(content::ExpirationType::Unknown as i32);
    let setting =
        Disappearing::from_parts(i64::from(mode), i64::from(content.expiration_timer.unwrap_or(0)));
    if inner.db.disappearing(conversation).map_err(db_err)? != setting {
        inner.db.set_disappearing(conversation, setting, now).map_err(db_err)?;
        let object = if conversation == inner.me { sync::USER_PROFILE } else { sync::CONTACTS };
        sync::changed(inner, object).map_err(db_err)?;
    }
    inner.emit(Event::Disappearing { conversation: conversation.to_owned(), setting });
    Ok(())
}

/// A message we sent from another device (its sync copy), or a Note to Self.
fn from_own_device(
    inner: &Inner,
    hash: &str,
    data: hush_proto::protos::session::DataMessage,
    sent_at: u64,
    setting: Disappearing,
    content: &hush_proto::protos::session::Content,
) -> Handled {
    let now = inner.now();
    let conversation = match data.sync_target.as_deref() {
        None | Some("") => inner.me.clone(),
        Some(target) => match target.parse::<AccountId>() {
            Ok(id) if id.prefix() == IdPrefix::Standard => id.to_string(),
            _ => return Err("invalid"),
        },
    };
    if data.flags.unwrap_or(0) & data_message::Flags::ExpirationTimerUpdate as u32 != 0 {
        return timer_update(inner, &conversation, content, now);
    }
    let Some(body) = data.body.filter(|b| !b.is_empty()) else {
        return Err("empty");
    };
    let expires_at = match setting {
        Disappearing::Off => None,
        _ => Some(sent_at.saturating_add(setting.millis())),
    };
    if expires_at.is_some_and(|t| t <= now) {
        return Err("expired");
    }
    inner.db.ensure_conversation(&conversation, now, false).map_err(db_err)?;
    if conversation != inner.me
        && !inner.db.contact(&conversation).map_err(db_err)?.is_some_and(|c| c.approved)
    {
        inner
            .db
            .update_contact(&conversation, ContactChange::Approved(true), now)
            .map_err(db_err)?;
        sync::changed(inner, sync::CONTACTS).map_err(db_err)?;
    }
    let id = inner
        .db
        .insert_message(&NewMessage {
            conversation: &conversation,
            outgoing: true,
            author: &inner.me,
            body: &body,
            sent_at,
            received_at: now,
            status: MessageStatus::Sent,
            // The copy this device knows is the one in our own swarm.
            hash: Some(hash),
            disappearing: setting,
            expires_at,
            synced: true,
        })
        .map_err(db_err)?;
    let Some(id) = id else {
        inner.count(|s| s.duplicates += 1);
        return Ok(());
    };
    // The copy in our swarm is the one this device can delete.
    let _ = inner.db.set_sync_hash(id, hash);
    if let Some(message) = inner.db.message(id).map_err(db_err)? {
        inner.emit(Event::Message { message });
    }
    if expires_at.is_some() {
        inner.expiry_wake.notify_one();
    }
    Ok(())
}
