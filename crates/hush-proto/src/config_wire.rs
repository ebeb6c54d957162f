//! Config messages on the wire (session-protocol.md §9.5): zstd compression when it makes the
//! message smaller (as libsession does), prefix padding, encryption, multipart messages for
//! configs too large for one stored message, the protobuf wrapping user configs get for older
//! clients, and the way back — unwrap if wrapped, decrypt, strip the padding, decompress, and
//! reassemble parts.
//!
//! Multipart (§9.5 step 6): the padded message, if it does not fit in one stored message, is
//! cut into chunks; each part is `'m' ‖ bencode([H_32(padded message), index, count, chunk])`
//! (index and count as bencode integers, at most 255 parts), encrypted on its own and stored
//! raw. A receiver collects the parts of one hash, checks the hash of the reassembled bytes,
//! then strips the padding and decompresses as for a whole message.

use prost::Message;
use zeroize::Zeroizing;

use crate::account::Identity;
use crate::bencode::Bt;
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

/// Largest stored message (the storage server's limit).
pub const MAX_STORED: usize = crate::envelope::MAX_MESSAGE_SIZE;
/// Most parts of a multipart config message.
pub const MAX_PARTS: usize = 255;
/// Room a part's framing takes: `m`, the list, the hash, index, count and chunk length.
const PART_FRAMING: usize = 64;
/// Largest chunk of one part.
const PART_CHUNK: usize = MAX_STORED - OVERHEAD - PART_FRAMING;

/// `z ‖ zstd(serialized)` when that is smaller (libsession's rule), else `serialized`.
fn compress(serialized: &[u8]) -> Zeroizing<Vec<u8>> {
    let frame = Zeroizing::new(ruzstd::encoding::compress_to_vec(
        serialized,
        ruzstd::encoding::CompressionLevel::Fastest,
    ));
    if frame.len() + 1 < serialized.len() {
        let mut out = Zeroizing::new(Vec::with_capacity(frame.len() + 1));
        out.push(b'z');
        out.extend_from_slice(&frame);
        out
    } else {
        Zeroizing::new(serialized.to_vec())
    }
}

/// Compresses (when that helps), pads and encrypts a serialized config message; returns the
/// messages to store: one, or the parts of a multipart message when it is too large for one.
pub fn seal_config(serialized: &[u8], key_base: &[u8; 32], domain: &str) -> Result<Vec<Vec<u8>>> {
    let body = compress(serialized);
    let total = config_crypto::padded_size(body.len(), OVERHEAD);
    let mut padded = Zeroizing::new(vec![0u8; total - body.len()]);
    padded.extend_from_slice(&body);
    if padded.len() + OVERHEAD <= MAX_STORED {
        return Ok(vec![config_crypto::encrypt(&padded, key_base, domain)?]);
    }
    let count = padded.len().div_ceil(PART_CHUNK);
    if count > MAX_PARTS {
        return Err(Error::Bencode("a config message too large even for 255 parts"));
    }
    let hash = hush_sodium::hash::blake2b::<32>(&padded);
    padded
        .chunks(PART_CHUNK)
        .enumerate()
        .map(|(index, chunk)| {
            let list = Bt::List(vec![
                Bt::Bytes(hash.to_vec()),
                Bt::Int(i64::try_from(index).unwrap_or(0)),
                Bt::Int(i64::try_from(count).unwrap_or(0)),
                Bt::Bytes(chunk.to_vec()),
            ]);
            let mut part = Zeroizing::new(vec![b'm']);
            list.encode_into(&mut part);
            config_crypto::encrypt(&part, key_base, domain)
        })
        .collect()
}

/// One part of a multipart config message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// BLAKE2b-256 of the whole padded message: names the message the part belongs to.
    pub hash: [u8; 32],
    /// This part's place (from 0).
    pub index: u8,
    /// How many parts there are.
    pub count: u8,
    /// Its bytes.
    pub chunk: Zeroizing<Vec<u8>>,
}

impl Part {
    fn parse(body: &[u8]) -> Result<Self> {
        let bad = Error::Bencode("a malformed config message part");
        let Bt::List(items) = Bt::decode(body)? else { return Err(bad) };
        let [Bt::Bytes(hash), Bt::Int(index), Bt::Int(count), Bt::Bytes(chunk)] = items.as_slice()
        else {
            return Err(bad);
        };
        let (Ok(hash), Ok(index), Ok(count)) =
            (<[u8; 32]>::try_from(hash.as_slice()), u8::try_from(*index), u8::try_from(*count))
        else {
            return Err(bad);
        };
        if count < 2 || index >= count || chunk.is_empty() || chunk.len() > MAX_STORED {
            return Err(bad);
        }
        Ok(Self { hash, index, count, chunk: Zeroizing::new(chunk.clone()) })
    }
}

/// What a decrypted config message holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    /// A whole config message (bencoded, starting with `d`), decompressed if it came
    /// zstd-compressed (`z` prefix).
    Whole(Zeroizing<Vec<u8>>),
    /// One part of a multipart config message (`m` prefix): [`reassemble`] the parts.
    Part(Part),
}

/// Puts the parts of one multipart message back together: `Ok(None)` while parts are
/// missing; the whole config message once all are there (and their hash matches).
/// Parts of other messages and repeated parts are ignored.
pub fn reassemble<'a>(
    hash: &[u8; 32],
    parts: impl IntoIterator<Item = &'a Part>,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let mut slots: Vec<Option<&Part>> = Vec::new();
    for part in parts.into_iter().filter(|p| p.hash == *hash) {
        if slots.is_empty() {
            slots = vec![None; usize::from(part.count)];
        }
        if usize::from(part.count) != slots.len() {
            return Err(Error::Bencode("parts of one config message disagree on their count"));
        }
        slots[usize::from(part.index)].get_or_insert(part);
    }
    if slots.is_empty() || slots.iter().any(Option::is_none) {
        return Ok(None);
    }
    let mut padded = Zeroizing::new(Vec::new());
    for part in slots.into_iter().flatten() {
        padded.extend_from_slice(&part.chunk);
    }
    if hush_sodium::hash::blake2b::<32>(&padded) != *hash {
        return Err(Error::Bencode("reassembled config parts do not match their hash"));
    }
    match unpadded(&padded)? {
        Opened::Whole(whole) => Ok(Some(whole)),
        Opened::Part(_) => Err(Error::Bencode("a config message part inside parts")),
    }
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
    unpadded(&plain)
}

/// What padded plaintext holds: padding stripped, decompressed, or a part.
fn unpadded(plain: &[u8]) -> Result<Opened> {
    let start = plain.iter().position(|&b| b != 0).unwrap_or(plain.len());
    let body = &plain[start..];
    match body.first() {
        Some(b'd') => Ok(Opened::Whole(Zeroizing::new(body.to_vec()))),
        Some(b'z') => {
            let whole = decompress(&body[1..])?;
            if whole.first() != Some(&b'd') {
                return Err(Error::Bencode("a compressed config message holds no config"));
            }
            Ok(Opened::Whole(whole))
        }
        Some(b'm') => Ok(Opened::Part(Part::parse(&body[1..])?)),
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
