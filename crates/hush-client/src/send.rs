//! Composing what we send: text messages, their sync copies, and the control messages
//! (read receipts, typing, unsend, request responses, disappearing-timer updates).
//!
//! Everything sent is sealed here (`Content` → padding → V1 encryption → Envelope →
//! WebSocketMessage) and queued in the outbox in one go; nothing here does network I/O.
//! The hash of each stored copy is computed locally (it is a function of the destination,
//! namespace and bytes), so a copy of our own that comes back from our swarm is recognised
//! as already handled, and a message can be unsent before the network ever answered.

use hush_proto::envelope::seal_1to1;
use hush_proto::message_hash::MessageHash;
use hush_proto::namespace::Namespace;
use hush_proto::protos::session::{
    Content, DataMessage, LokiProfile, MessageRequestResponse, ReceiptMessage, TypingMessage,
    UnsendRequest, content, data_message, receipt_message, typing_message,
};
use hush_proto::redact::Redacted;
use hush_proto::{AccountId, Timestamp};
use hush_sodium::SystemRng;
use serde_json::json;

use crate::client::{Inner, standard_account};
use crate::db::{
    ContactChange, Disappearing, Message, MessageStatus, NewMessage, NewOutbox, Outgoing,
    QueuedCopy, SendId,
};
use crate::events::Event;
use crate::{Error, Result, sync};

/// Messages live this long in a swarm (the public inbox's limit).
pub(crate) const MESSAGE_TTL_MS: u64 = 14 * 24 * 3600 * 1000;
/// Typing indicators are worthless after this.
const TYPING_TTL_MS: u64 = 20_000;
/// Longest text, in characters (Session's limit).
pub const MAX_TEXT_CHARS: usize = 2000;
/// Hashes in one `expire` or `delete` request.
const MAX_HASHES_PER_REQUEST: usize = 500;
/// How long the outbox keeps trying before a request fails.
pub(crate) const GIVE_UP_AFTER_MS: u64 = 6 * 3600 * 1000;

/// One copy to queue.
struct Copy<'a> {
    to: &'a AccountId,
    content: Content,
    sent_at: u64,
    ttl_ms: u64,
    message_id: Option<i64>,
}

/// A sealed copy, ready to queue.
struct Sealed {
    destination: String,
    data: Vec<u8>,
    hash: String,
    sent_at: u64,
    ttl_ms: u64,
}

impl Sealed {
    /// Its outbox request: given up after six hours, or when its lifetime ends if sooner.
    fn outbox(&self, message_id: Option<i64>, now: u64) -> NewOutbox<'_> {
        NewOutbox {
            message_id,
            action: "store",
            destination: &self.destination,
            namespace: 0,
            data: &self.data,
            ttl_ms: self.ttl_ms,
            timestamp: self.sent_at,
            give_up_at: (now + GIVE_UP_AFTER_MS).min(self.sent_at.saturating_add(self.ttl_ms)),
        }
    }
}

fn seal(
    inner: &Inner,
    to: &AccountId,
    content: Content,
    sent_at: u64,
    ttl_ms: u64,
) -> Result<Sealed> {
    let data =
        seal_1to1(&inner.identity, to, content, Timestamp::from_millis(sent_at), &mut SystemRng)?;
    let hash = MessageHash::compute(to, Namespace(0), &data).as_str().to_owned();
    Ok(Sealed { destination: to.to_string(), data, hash, sent_at, ttl_ms })
}

/// Seals and queues one stored copy; returns its hash.
fn queue(inner: &Inner, copy: Copy<'_>) -> Result<String> {
    let sealed = seal(inner, copy.to, copy.content, copy.sent_at, copy.ttl_ms)?;
    let now = inner.now();
    let (hash, destination) = (sealed.hash.clone(), sealed.destination.clone());
    inner.db.enqueue(&sealed.outbox(copy.message_id, now), now)?;
    if destination == inner.me {
        // Our own copy will come back when we poll: it is handled already.
        inner.db.mark_seen(&hash, now)?;
    }
    Ok(hash)
}

/// Queues `content` to `to` and, unless `to` is us, its sync copy (the same content with
/// `syncTarget`) to our own swarm, so our other devices see what we sent. Returns the
/// hashes of the two copies.
fn queue_with_sync(
    inner: &Inner,
    to: &AccountId,
    content: Content,
    sent_at: u64,
    ttl_ms: u64,
    message_id: Option<i64>,
) -> Result<(String, Option<String>)> {
    let me = *inner.identity.account_id();
    let hash = queue(inner, Copy { to, content: content.clone(), sent_at, ttl_ms, message_id })?;
    if *to == me {
        return Ok((hash, None));
    }
    let mut sync = content;
    if let Some(data) = sync.data_message.as_mut() {
        data.sync_target = Some(to.to_string());
    }
    let sync_hash =
        queue(inner, Copy { to: &me, content: sync, sent_at, ttl_ms, message_id: None })?;
    inner.outbox_wake.notify_one();
    Ok((hash, Some(sync_hash)))
}

/// Queues a control message to `to` only.
fn queue_control(inner: &Inner, to: &AccountId, content: Content, ttl_ms: u64) -> Result<()> {
    let sent_at = inner.next_sent_at();
    queue(inner, Copy { to, content, sent_at, ttl_ms, message_id: None })?;
    inner.outbox_wake.notify_one();
    Ok(())
}

fn profile(inner: &Inner) -> Option<LokiProfile> {
    inner.display_name().map(|name| LokiProfile {
        display_name: Some(name),
        profile_picture: None,
        last_profile_update_seconds: None,
    })
}

/// `Content` carrying `data` and the conversation's disappearing setting (§4.4).
fn with_expiration(data: DataMessage, setting: Disappearing) -> Content {
    let (mode, secs) = setting.to_parts();
    let mut content = Content { data_message: Some(data), ..Content::default() };
    if setting != Disappearing::Off {
        content.expiration_type = Some(i32::try_from(mode).unwrap_or(0));
        content.expiration_timer = Some(u32::try_from(secs).unwrap_or(0));
    }
    content
}

/// How long a stored copy lives: 14 days, or the disappearing timer after sending.
fn ttl_for(setting: Disappearing) -> u64 {
    match setting {
        Disappearing::AfterSend(_) => setting.millis().clamp(10_000, MESSAGE_TTL_MS),
        _ => MESSAGE_TTL_MS,
    }
}

/// When a message leaves this device: outgoing messages count as read at once, so both
/// timers start when they are sent.
fn local_expiry(setting: Disappearing, sent_at: u64, outgoing: bool) -> Option<u64> {
    match setting {
        Disappearing::Off => None,
        Disappearing::AfterSend(_) => Some(sent_at + setting.millis()),
        Disappearing::AfterRead(_) if outgoing => Some(sent_at + setting.millis()),
        Disappearing::AfterRead(_) => None,
    }
}

/// Longest client-chosen send ID, in bytes.
pub const MAX_SEND_ID_BYTES: usize = 128;

/// How long send IDs are remembered.
pub(crate) const SEND_ID_MS: u64 = 30 * 24 * 3600 * 1000;

fn send_id<'a>(id: &'a str, to: &AccountId, body: &str) -> Result<SendId<'a>> {
    if id.is_empty() || id.len() > MAX_SEND_ID_BYTES || id.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "a send ID has 1 to {MAX_SEND_ID_BYTES} bytes and no control characters"
        )));
    }
    let mut h = hush_sodium::hash::Blake2b::<32>::new();
    h.update(to.to_string().as_bytes()).update(&[0]).update(body.as_bytes());
    Ok(SendId { id, fingerprint: h.finalize() })
}

/// What an earlier send with the same send ID did.
fn earlier(inner: &Inner, outcome: Outgoing) -> Result<Message> {
    match outcome {
        Outgoing::New(id) | Outgoing::Earlier(id) => inner.db.message(id)?.ok_or_else(|| {
            Error::NotFound(format!(
                "the message sent with this send ID (message {id}) has been deleted since; it \
                 is not sent again"
            ))
        }),
        Outgoing::Conflict => Err(Error::InvalidInput(
            "this send ID was used for another message (another recipient or text)".to_owned(),
        )),
    }
}

/// Sends a text message, once per `client_id`: with an ID an earlier send used for the same
/// recipient and text, returns that message as it stands instead of sending again.
pub(crate) fn send_text(
    inner: &Inner,
    to: &AccountId,
    body: &str,
    client_id: Option<&str>,
) -> Result<Message> {
    standard_account(to)?;
    let send_id = client_id.map(|id| send_id(id, to, body)).transpose()?;
    if let Some(send_id) = &send_id
        && let Some(outcome) = inner.db.send_id(send_id)?
    {
        return earlier(inner, outcome);
    }
    if body.trim().is_empty() {
        return Err(Error::InvalidInput("the message is empty".to_owned()));
    }
    let chars = body.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(Error::InvalidInput(format!(
            "the message has {chars} characters; at most {MAX_TEXT_CHARS} fit in one"
        )));
    }
    let conversation = to.to_string();
    let note_to_self = conversation == inner.me;
    if !note_to_self {
        if let Some(contact) = inner.db.contact(&conversation)?
            && contact.blocked
        {
            return Err(Error::InvalidInput(format!(
                "{} is blocked: unblock them to write to them",
                Redacted(&conversation)
            )));
        }
        if inner.db.conversation(&conversation)?.is_some_and(|c| c.is_request) {
            // Answering a request accepts it.
            accept_request(inner, to)?;
        }
    }
    let now = inner.now();
    let sent_at = inner.next_sent_at();
    let setting = inner.db.disappearing(&conversation)?;
    inner.db.ensure_conversation(&conversation, now, false)?;
    if !note_to_self && !inner.db.contact(&conversation)?.is_some_and(|c| c.approved) {
        // Writing to someone approves them.
        inner.db.update_contact(&conversation, ContactChange::Approved(true), now)?;
        sync::changed(inner, sync::CONTACTS)?;
    }
    let data = DataMessage {
        body: Some(body.to_owned()),
        profile: profile(inner),
        ..DataMessage::default()
    };
    let content = with_expiration(data, setting);
    let ttl = ttl_for(setting);
    let mut copies = vec![seal(inner, to, content.clone(), sent_at, ttl)?];
    if !note_to_self {
        let mut sync = content;
        if let Some(data) = sync.data_message.as_mut() {
            data.sync_target = Some(conversation.clone());
        }
        copies.push(seal(inner, inner.identity.account_id(), sync, sent_at, ttl)?);
    }
    let queued: Vec<QueuedCopy<'_>> = copies
        .iter()
        .enumerate()
        .map(|(i, c)| QueuedCopy {
            outbox: c.outbox(None, now),
            hash: &c.hash,
            main: i == 0,
            own: c.destination == inner.me,
        })
        .collect();
    let id = inner.db.insert_outgoing(
        &NewMessage {
            conversation: &conversation,
            outgoing: true,
            author: &inner.me,
            body,
            sent_at,
            received_at: now,
            status: MessageStatus::Sending,
            hash: None,
            disappearing: setting,
            expires_at: local_expiry(setting, sent_at, true),
            synced: false,
        },
        &queued,
        send_id.as_ref(),
        now,
    )?;
    let id = match id {
        Outgoing::New(id) => id,
        other => return earlier(inner, other),
    };
    inner.outbox_wake.notify_one();
    inner.expiry_wake.notify_one();
    let message = inner.db.message(id)?.ok_or_else(|| Error::NotFound("message".to_owned()))?;
    inner.emit(Event::Message { message: message.clone() });
    Ok(message)
}

pub(crate) fn accept_request(inner: &Inner, from: &AccountId) -> Result<()> {
    standard_account(from)?;
    let key = from.to_string();
    let now = inner.now();
    inner.db.update_contact(&key, ContactChange::Approved(true), now)?;
    inner.db.update_contact(&key, ContactChange::Blocked(false), now)?;
    inner.db.ensure_conversation(&key, now, false)?;
    inner.db.set_request(&key, false)?;
    sync::changed(inner, sync::CONTACTS)?;
    let response =
        MessageRequestResponse { is_approved: true, profile_key: None, profile: profile(inner) };
    queue_control(
        inner,
        from,
        Content { message_request_response: Some(response), ..Content::default() },
        MESSAGE_TTL_MS,
    )?;
    if let Some(contact) = inner.db.contact(&key)? {
        inner.emit(Event::Contact { contact });
    }
    Ok(())
}

pub(crate) fn typing(inner: &Inner, to: &AccountId, started: bool) -> Result<()> {
    standard_account(to)?;
    // Only people we talk to learn when we type.
    if !inner.db.contact(&to.to_string())?.is_some_and(|c| c.approved && !c.blocked) {
        return Ok(());
    }
    let action =
        if started { typing_message::Action::Started } else { typing_message::Action::Stopped };
    let content = Content {
        typing_message: Some(TypingMessage { timestamp: inner.now(), action: action as i32 }),
        ..Content::default()
    };
    queue_control(inner, to, content, TYPING_TTL_MS)
}

pub(crate) fn set_disappearing(
    inner: &Inner,
    conversation: &AccountId,
    setting: Disappearing,
) -> Result<()> {
    standard_account(conversation)?;
    if let Disappearing::AfterRead(s) | Disappearing::AfterSend(s) = setting
        && !(1..=14 * 24 * 3600).contains(&s)
    {
        return Err(Error::InvalidInput("a timer is between 1 second and 14 days".to_owned()));
    }
    let key = conversation.to_string();
    let now = inner.now();
    inner.db.set_disappearing(&key, setting, now)?;
    sync::changed(inner, if key == inner.me { sync::USER_PROFILE } else { sync::CONTACTS })?;
    let data = DataMessage {
        flags: Some(data_message::Flags::ExpirationTimerUpdate as u32),
        profile: profile(inner),
        ..DataMessage::default()
    };
    let mut content = with_expiration(data, setting);
    if setting == Disappearing::Off {
        // "Off" is said explicitly.
        content.expiration_type = Some(content::ExpirationType::Unknown as i32);
        content.expiration_timer = Some(0);
    }
    let sent_at = inner.next_sent_at();
    queue_with_sync(inner, conversation, content, sent_at, MESSAGE_TTL_MS, None)?;
    inner.emit(Event::Disappearing { conversation: key, setting });
    Ok(())
}

pub(crate) fn mark_read(inner: &Inner, conversation: &AccountId) -> Result<usize> {
    let key = conversation.to_string();
    let now = inner.now();
    let was_marked_unread = inner.db.conversation(&key)?.is_some_and(|c| c.marked_unread);
    let read = inner.db.mark_read(&key, now)?;
    if read.is_empty() {
        if was_marked_unread {
            sync::changed(inner, sync::CONVO_INFO)?;
        }
        return Ok(0);
    }
    sync::changed(inner, sync::CONVO_INFO)?;
    let approved = inner.db.contact(&key)?.is_some_and(|c| c.approved && !c.blocked);
    if inner.read_receipts_enabled() && approved && key != inner.me {
        let receipt = ReceiptMessage {
            r#type: receipt_message::Type::Read as i32,
            timestamp: read.iter().map(|m| m.sent_at).collect(),
        };
        queue_control(
            inner,
            conversation,
            Content { receipt_message: Some(receipt), ..Content::default() },
            MESSAGE_TTL_MS,
        )?;
    }
    // After-read timers start now: shorten our stored copies to match.
    let mut by_expiry: std::collections::BTreeMap<u64, Vec<String>> =
        std::collections::BTreeMap::new();
    for m in &read {
        if let (Disappearing::AfterRead(_), Some(hash)) = (m.disappearing, &m.hash) {
            by_expiry.entry(now + m.disappearing.millis()).or_default().push(hash.clone());
        }
    }
    for (expiry, all) in by_expiry {
        for hashes in all.chunks(MAX_HASHES_PER_REQUEST) {
            let request = json!({ "messages": hashes, "expiry": expiry });
            queue_own_request(inner, "expire", &request, expiry)?;
        }
    }
    inner.expiry_wake.notify_one();
    Ok(read.len())
}

pub(crate) fn unsend(inner: &Inner, message: &Message) -> Result<()> {
    if !message.outgoing {
        return Err(Error::InvalidInput("only messages you sent can be unsent".to_owned()));
    }
    let to: AccountId = message.conversation.parse()?;
    // Requests not yet made are dropped; the recipient is asked to delete it anyway (a
    // store may be in flight).
    inner.db.outbox_cancel(message.id)?;
    let request = UnsendRequest { timestamp: message.sent_at, author: inner.me.clone() };
    let content = Content { unsend_request: Some(request), ..Content::default() };
    if to.to_string() != inner.me {
        queue_control(inner, &to, content.clone(), MESSAGE_TTL_MS)?;
    }
    // Our other devices delete it too.
    let me = *inner.identity.account_id();
    queue_control(inner, &me, content, MESSAGE_TTL_MS)?;
    // The copies we can delete: those in our own swarm.
    let own: Vec<String> = if to == me {
        message.hash.iter().cloned().collect()
    } else {
        inner.db.sync_hash(message.id)?.into_iter().collect()
    };
    delete_own(inner, own)?;
    inner.db.delete_message(message.id)?;
    inner.outbox_wake.notify_one();
    inner.emit(Event::Deleted {
        id: message.id,
        conversation: message.conversation.clone(),
        reason: "unsent",
    });
    Ok(())
}

/// Queues the deletion of copies in our own swarm (after an unsend, ours or received).
pub(crate) fn delete_own(inner: &Inner, hashes: Vec<String>) -> Result<()> {
    if hashes.is_empty() {
        return Ok(());
    }
    let give_up_at = inner.now() + GIVE_UP_AFTER_MS;
    for chunk in hashes.chunks(MAX_HASHES_PER_REQUEST) {
        queue_own_request(inner, "delete", &json!({ "messages": chunk }), give_up_at)?;
    }
    Ok(())
}

/// Queues a request about messages in our own swarm (`delete`, `expire`; `request` is what
/// the outbox turns into its parameters), tried until `give_up_at`.
pub(crate) fn queue_own_request(
    inner: &Inner,
    action: &str,
    request: &serde_json::Value,
    give_up_at: u64,
) -> Result<()> {
    let now = inner.now();
    let data = request.to_string();
    inner.db.enqueue(
        &NewOutbox {
            message_id: None,
            action,
            destination: &inner.me,
            namespace: 0,
            data: data.as_bytes(),
            ttl_ms: 0,
            timestamp: now,
            give_up_at,
        },
        now,
    )?;
    inner.outbox_wake.notify_one();
    Ok(())
}
