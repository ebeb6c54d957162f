//! Config messages on the wire (session-protocol.md §9.5): prefix padding and encryption of a
//! serialized config message, the protobuf wrapping user configs get for older clients, and
//! the way back — unwrap if wrapped, decrypt, strip the padding, decompress (zstd, as
//! libsession compresses whenever that is smaller), and tell whole messages from parts of a
//! multipart one. hush pushes uncompressed, which libsession reads as well.

use prost::Message;
use zeroize::Zeroizing;

use crate::account::Identity;
use crate::protos::session::{SharedConfigMessage, envelope, shared_config_message};
use crate::protos::{Content, Envelope};
use crate::{Error, Result, config_crypto, envelope as wire, message};

/// Encryption overhead (tag and nonce), the `overhead` of the padding rule.
const OVERHEAD: usize = 40;

/// Pads `serialized` with leading zeros to its padded size and encrypts it under `key_base`
/// (the account's Ed25519 seed for user configs) for `domain` (e.g. `"UserProfile"`).
/// Deterministic: the same config gives the same bytes (and message hash).
pub fn seal(serialized: &[u8], key_base: &[u8; 32], domain: &str) -> Result<Vec<u8>> {
    let total = config_crypto::padded_size(serialized.len(), OVERHEAD);
    let mut padded = Zeroizing::new(vec![0u8; total - serialized.len()]);
    padded.extend_from_slice(serialized);
    config_crypto::encrypt(&padded, key_base, domain)
}

/// What a decrypted config message holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    /// A whole config message (bencoded, starting with `d`), decompressed if it came
    /// zstd-compressed (`z` prefix).
    Whole(Zeroizing<Vec<u8>>),
    /// One part of a multipart config message (`m` prefix), still encoded. libsession does
    /// not read these yet either; they are skipped.
    Part(Zeroizing<Vec<u8>>),
}

/// Largest decompressed config message accepted (far above any real one; a bound against
/// decompression bombs).
pub const MAX_DECOMPRESSED: usize = 8 << 20;

/// Decompresses a zstd frame of at most [`MAX_DECOMPRESSED`] bytes.
fn decompress(frame: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    use std::io::Read;
    let decoder = ruzstd::decoding::StreamingDecoder::new(frame)
        .map_err(|_| Error::Bencode("a compressed config message is not a zstd frame"))?;
    let mut out = Zeroizing::new(Vec::new());
    decoder
        .take(MAX_DECOMPRESSED as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| Error::Bencode("a compressed config message is damaged"))?;
    if out.len() > MAX_DECOMPRESSED {
        return Err(Error::Bencode("a compressed config message is too large"));
    }
    Ok(out)
}

/// Decrypts a config message and strips its padding.
pub fn open(ciphertext: &[u8], key_base: &[u8; 32], domain: &str) -> Result<Opened> {
    let plain = config_crypto::decrypt(ciphertext, key_base, domain)?;
    let start = plain.iter().position(|&b| b != 0).unwrap_or(plain.len());
    let body = Zeroizing::new(plain[start..].to_vec());
    match body.first() {
        Some(b'd') => Ok(Opened::Whole(body)),
        Some(b'z') => {
            let whole = decompress(&body[1..])?;
            if whole.first() != Some(&b'd') {
                return Err(Error::Bencode("a compressed config message holds no config"));
            }
            Ok(Opened::Whole(whole))
        }
        Some(b'm') => Ok(Opened::Part(Zeroizing::new(body[1..].to_vec()))),
        _ => Err(Error::Bencode("a decrypted config message of an unknown kind")),
    }
}

/// The kinds of user config, as `SharedConfigMessage.kind` names them.
pub fn user_config_kind(namespace: i16) -> Option<shared_config_message::Kind> {
    use shared_config_message::Kind;
    match namespace {
        2 => Some(Kind::UserProfile),
        3 => Some(Kind::Contacts),
        4 => Some(Kind::ConvoInfoVolatile),
        5 => Some(Kind::UserGroups),
        _ => None,
    }
}

/// libsession's padding of the wrapped config: one 0x80 byte and no zeros (the config inside
/// is padded already).
fn pad80(content: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(content.len() + 1));
    out.extend_from_slice(content);
    out.push(0x80);
    out
}

/// Wraps an encrypted user config for storage, as libsession does for older clients:
/// `Content{sharedConfigMessage{kind, seqno, data}}` and a 0x80 byte, deterministically encrypted to
/// ourselves, in an `Envelope{SESSION_MESSAGE, timestamp 1}` and a `WebSocketMessage`.
pub fn wrap_user_config(
    identity: &Identity,
    kind: shared_config_message::Kind,
    seqno: i64,
    encrypted: &[u8],
) -> Result<Vec<u8>> {
    let content = Content {
        shared_config_message: Some(SharedConfigMessage {
            kind: kind as i32,
            seqno,
            data: encrypted.to_vec(),
        }),
        ..Content::default()
    };
    let padded = pad80(&content.encode_to_vec());
    let me = identity.x25519().public();
    let sealed = message::encrypt_deterministic(identity.ed25519(), me, &padded)?;
    let envelope = Envelope {
        r#type: envelope::Type::SessionMessage as i32,
        timestamp: 1,
        content: Some(sealed),
        ..Envelope::default()
    };
    Ok(wire::wrap(&envelope))
}

/// The encrypted config inside stored bytes: unwrapped if wrapped (by us or libsession),
/// else the bytes themselves (newer clients store configs raw).
pub fn unwrap_user_config(identity: &Identity, stored: &[u8]) -> Vec<u8> {
    let unwrapped = (|| -> Option<Vec<u8>> {
        let envelope = wire::unwrap(stored).ok()?;
        let opened = message::decrypt(identity.x25519(), envelope.content.as_deref()?).ok()?;
        if opened.sender != *identity.account_id() {
            return None;
        }
        let content = Content::decode(crate::padding::unpad(&opened.plaintext)).ok()?;
        Some(content.shared_config_message?.data)
    })();
    unwrapped.unwrap_or_else(|| stored.to_vec())
}
