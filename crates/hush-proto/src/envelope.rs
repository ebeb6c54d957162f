//! From a `Content` to the bytes stored in a swarm, and back (session-protocol.md §3.1, §3.5).
//!
//! Sending: pad the serialized `Content`, V1-encrypt it to the recipient, put it in an
//! `Envelope{SESSION_MESSAGE}` and wrap that in a `WebSocketMessage{REQUEST}`. The storage
//! `store` call then carries these bytes base64-encoded. Receiving reverses every step and
//! checks that the signed timestamp inside matches the envelope.

use hush_sodium::Csprng;
use hush_sodium::ed25519::{self, Ed25519PublicKey};
use prost::Message;

use crate::account::{AccountId, Identity};
use crate::protos::session::envelope;
use crate::protos::websocket::web_socket_message;
use crate::protos::{Content, Envelope, WebSocketMessage, WebSocketRequestMessage};
use crate::{Error, Result, Timestamp, message, padding};

/// Largest stored message the storage server accepts (raw bytes, §5.6); nothing larger can
/// arrive from a swarm, so nothing larger is parsed.
pub const MAX_MESSAGE_SIZE: usize = 76_800;

/// `Envelope.sourceDevice` as libsession sets it.
const SOURCE_DEVICE: u32 = 1;

/// Serializes `envelope` inside a `WebSocketMessage{type: REQUEST, request{body}}`, with empty
/// verb and path and request id 0, as current libsession does.
pub fn wrap(envelope: &Envelope) -> Vec<u8> {
    WebSocketMessage {
        r#type: Some(web_socket_message::Type::Request as i32),
        request: Some(WebSocketRequestMessage {
            verb: Some(String::new()),
            path: Some(String::new()),
            body: Some(envelope.encode_to_vec()),
            request_id: Some(0),
            headers: Vec::new(),
        }),
        response: None,
    }
    .encode_to_vec()
}

/// Parses a `WebSocketMessage` and the `Envelope` in its request body. Only the body is read
/// (receivers ignore verb, path and id).
pub fn unwrap(data: &[u8]) -> Result<Envelope> {
    if data.len() > MAX_MESSAGE_SIZE {
        return Err(Error::TooLarge { what: "message", max: MAX_MESSAGE_SIZE, actual: data.len() });
    }
    let ws = WebSocketMessage::decode(data)
        .map_err(|source| Error::Protobuf { what: "WebSocketMessage", source })?;
    let body = ws
        .request
        .and_then(|r| r.body)
        .ok_or(Error::InvalidEnvelope("the WebSocket wrapper has no request body"))?;
    let envelope = Envelope::decode(body.as_slice())
        .map_err(|source| Error::Protobuf { what: "Envelope", source })?;
    if envelope::Type::try_from(envelope.r#type).is_err() {
        return Err(Error::InvalidEnvelope("unknown envelope type"));
    }
    Ok(envelope)
}

/// A random-looking `proSig`: a valid-looking `R = r·B` and a random scalar `s`, as libsession
/// sends when the sender has no Session Pro, so that Pro and non-Pro messages look alike.
fn decoy_pro_signature(rng: &mut impl Csprng) -> Result<Vec<u8>> {
    let r = ed25519::scalar_reduce(&rng.array::<64>());
    let big_r = ed25519::scalarmult_base_noclamp(&r)?;
    let s = ed25519::scalar_reduce(&rng.array::<64>());
    Ok([big_r.as_bytes().as_slice(), &s].concat())
}

/// Encrypts `content` from `sender` to the standard account `recipient`, sent at `sent_at`
/// (which becomes both `Envelope.timestamp` and the signed `Content.sigTimestamp`). Returns the
/// bytes to store in the recipient's swarm, namespace 0.
pub fn seal_1to1(
    sender: &Identity,
    recipient: &AccountId,
    mut content: Content,
    sent_at: Timestamp,
    rng: &mut impl Csprng,
) -> Result<Vec<u8>> {
    let recipient_key = recipient.x25519()?;
    content.sig_timestamp = Some(sent_at.as_millis());
    let padded = zeroize::Zeroizing::new(padding::pad(&content.encode_to_vec()));
    let ciphertext = message::encrypt(sender.ed25519(), &recipient_key, &padded, rng)?;
    let envelope = Envelope {
        r#type: envelope::Type::SessionMessage as i32,
        source: None,
        timestamp: sent_at.as_millis(),
        source_device: Some(SOURCE_DEVICE),
        content: Some(ciphertext),
        server_timestamp: None,
        pro_sig: Some(decoy_pro_signature(rng)?),
    };
    Ok(wrap(&envelope))
}

/// A received 1:1 message after decryption and verification. `Debug` does not show the
/// content.
#[derive(Clone, PartialEq)]
pub struct Received {
    /// The sender's Account ID (from the verified signing key).
    pub sender: AccountId,
    /// The sender's Ed25519 key.
    pub sender_ed25519: Ed25519PublicKey,
    /// When the sender says it sent the message: `Envelope.timestamp`.
    pub sent_at: Timestamp,
    /// Whether `sent_at` is covered by the sender's signature (`Content.sigTimestamp` was set,
    /// and equal). Current clients always sign it; messages from older clients may not.
    pub sent_at_signed: bool,
    /// The message.
    pub content: Content,
}

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Received")
            .field("sender", &self.sender)
            .field("sent_at", &self.sent_at)
            .field("sent_at_signed", &self.sent_at_signed)
            .finish_non_exhaustive()
    }
}

/// Opens stored bytes addressed to `recipient`: unwraps, decrypts, verifies the sender,
/// unpads, parses `Content`, and rejects a signed timestamp that differs from the envelope's.
pub fn open_1to1(recipient: &Identity, data: &[u8]) -> Result<Received> {
    let envelope = unwrap(data)?;
    if envelope.r#type != envelope::Type::SessionMessage as i32 {
        return Err(Error::InvalidEnvelope("not a 1:1 message"));
    }
    let ciphertext =
        envelope.content.as_deref().ok_or(Error::InvalidEnvelope("the envelope has no content"))?;
    let opened = message::decrypt(recipient.x25519(), ciphertext)?;
    let content = Content::decode(padding::unpad(&opened.plaintext))
        .map_err(|source| Error::Protobuf { what: "Content", source })?;
    if content.sig_timestamp.is_some_and(|t| t != envelope.timestamp) {
        return Err(Error::TimestampMismatch);
    }
    Ok(Received {
        sender: opened.sender,
        sender_ed25519: opened.sender_ed25519,
        sent_at: Timestamp::from_millis(envelope.timestamp),
        sent_at_signed: content.sig_timestamp.is_some(),
        content,
    })
}
