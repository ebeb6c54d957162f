//! Reading request parameters, with the reference server's error texts (see
//! docs/protocol/storage-rpc.md). Every failure is a 400 `invalid request: …`.

use crate::AccountId;
use crate::message_hash::MessageHash;
use crate::namespace::Namespace;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_sodium::ed25519::{Ed25519PublicKey, Ed25519Signature};
use serde_json::{Map, Value};

use super::Namespaces;

/// A parameter error: the text after `invalid request: `.
pub type ParamResult<T> = Result<T, String>;

/// Most hashes one request may name (each costs a lookup on the writer thread).
pub const MAX_HASHES: usize = 5_000;

/// Timestamps below this are taken for seconds and refused.
const MIN_MS: u64 = 1_000_000_000;

/// The `params` object of a request.
#[derive(Clone, Copy, Debug)]
pub struct Params<'a>(
    /// The object.
    pub &'a Map<String, Value>,
);

impl<'a> Params<'a> {
    /// A field, treating `null` as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// One of two alternative names (e.g. `last_hash` / `lastHash`), not both.
    pub fn get_either(&self, a: &str, b: &str) -> ParamResult<Option<&'a Value>> {
        match (self.get(a), self.get(b)) {
            (Some(_), Some(_)) => Err(format!("Cannot specify both '{a}' and '{b}'")),
            (x, y) => Ok(x.or(y)),
        }
    }

    /// A required field.
    pub fn required(&self, key: &str) -> ParamResult<&'a Value> {
        self.get(key).ok_or_else(|| format!("Required field '{key}' missing"))
    }

    /// An optional string.
    pub fn str(&self, key: &str) -> ParamResult<Option<&'a str>> {
        self.get(key).map(|v| v.as_str().ok_or_else(|| expected(key, "string"))).transpose()
    }

    /// An optional boolean.
    pub fn bool(&self, key: &str) -> ParamResult<Option<bool>> {
        self.get(key).map(|v| v.as_bool().ok_or_else(|| expected(key, "boolean"))).transpose()
    }

    /// An optional signed integer.
    pub fn i64(&self, key: &str) -> ParamResult<Option<i64>> {
        self.get(key).map(|v| v.as_i64().ok_or_else(|| expected(key, "integer"))).transpose()
    }

    /// An optional millisecond timestamp (an unsigned integer of at least 10⁹).
    pub fn timestamp(&self, key: &str) -> ParamResult<Option<u64>> {
        self.get(key).map(|v| timestamp_value(key, v)).transpose()
    }

    /// A required millisecond timestamp.
    pub fn required_timestamp(&self, key: &str) -> ParamResult<u64> {
        timestamp_value(key, self.required(key)?)
    }

    /// An optional unsigned integer given as a number or a numeric string (store's
    /// `timestamp` and `ttl`).
    pub fn u64_lenient(&self, key: &str) -> ParamResult<Option<u64>> {
        self.get(key)
            .map(|v| match v {
                Value::String(s) => s.parse::<u64>().map_err(|_| expected(key, "integer")),
                other => other.as_u64().ok_or_else(|| expected(key, "integer")),
            })
            .transpose()
    }

    /// The namespace (default 0).
    pub fn namespace(&self) -> ParamResult<Option<Namespace>> {
        self.get("namespace").map(namespace_value).transpose()
    }

    /// A namespace or `"all"` (default 0).
    pub fn namespaces(&self) -> ParamResult<Namespaces> {
        match self.get("namespace") {
            None => Ok(Namespaces::One(Namespace::DEFAULT)),
            Some(Value::String(s)) if s == "all" => Ok(Namespaces::All),
            Some(v @ Value::Number(_)) => Ok(Namespaces::One(namespace_value(v)?)),
            Some(_) => Err(expected("namespace", "integer or \"all\"")),
        }
    }

    /// The account (`pubkey`, alias `pubKey`).
    pub fn account(&self) -> ParamResult<AccountId> {
        let value = self
            .get_either("pubkey", "pubKey")?
            .ok_or_else(|| "Required field 'pubkey' missing".to_owned())?;
        let s = value.as_str().ok_or_else(|| expected("pubkey", "string"))?;
        if s.len() != 66 {
            return Err("Pubkey must be 66 hex digits (33 bytes) long".to_owned());
        }
        AccountId::parse(s).map_err(|e| format!("invalid pubkey: {e}"))
    }

    /// A string array, or a single string.
    pub fn strings(&self, key: &str) -> ParamResult<Option<Vec<&'a str>>> {
        let Some(v) = self.get(key) else { return Ok(None) };
        match v {
            Value::String(s) => Ok(Some(vec![s.as_str()])),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().ok_or_else(|| expected(key, "string array")))
                .collect::<ParamResult<Vec<_>>>()
                .map(Some),
            _ => Err(expected(key, "string array")),
        }
    }

    /// The `messages` list of hashes: non-empty, each a valid hash, at most
    /// [`MAX_HASHES`].
    pub fn hashes(&self) -> ParamResult<Vec<String>> {
        let list = self.strings("messages")?.ok_or("Required field 'messages' missing")?;
        if list.is_empty() {
            return Err("messages does not contain any message hashes".to_owned());
        }
        if list.len() > MAX_HASHES {
            return Err(format!("too many message hashes (at most {MAX_HASHES})"));
        }
        list.into_iter()
            .map(|h| {
                MessageHash::parse(h)
                    .map(|h| h.as_str().to_owned())
                    .map_err(|_| format!("invalid message hash: {}", truncate(h)))
            })
            .collect()
    }

    /// Authentication parameters (`signature`, `pubkey_ed25519`, `subaccount`,
    /// `subaccount_sig`).
    pub fn auth(&self, account: &AccountId) -> ParamResult<Auth> {
        let signature = self.str("signature")?.map(signature_value).transpose()?;
        let pubkey_ed25519 = match self.str("pubkey_ed25519")? {
            None => None,
            Some(_) if account.prefix() != crate::IdPrefix::Standard => {
                return Err("pubkey_ed25519 is only permitted for 05[...] pubkeys".to_owned());
            }
            Some(s) => {
                let mut key = [0u8; 32];
                if s.len() != 64 {
                    return Err(
                        "Invalid pubkey_ed25519: expected 64 hex char or 32 byte pubkey".to_owned()
                    );
                }
                hex::decode_to_slice(s, &mut key)
                    .map_err(|_| "invalid pubkey_ed25519: value is not hex".to_owned())?;
                Some(Ed25519PublicKey::from_bytes(key))
            }
        };
        let subaccount = match (signature.is_some(), self.str("subaccount")?) {
            (true, Some(token)) if !token.is_empty() => {
                let token = token_value(token).ok_or_else(|| {
                    "invalid subaccount: expected base64 or hex-encoded subaccount token".to_owned()
                })?;
                let sig = self.str("subaccount_sig")?.ok_or_else(|| {
                    "invalid subaccount: subaccount_sig is required when using subaccount"
                        .to_owned()
                })?;
                Some((token, signature_value(sig)?))
            }
            _ => None,
        };
        Ok(Auth { signature, pubkey_ed25519, subaccount })
    }
}

/// Authentication parameters of a request.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    /// The request signature.
    pub signature: Option<Ed25519Signature>,
    /// For 05 accounts: the Ed25519 key behind the Account ID.
    pub pubkey_ed25519: Option<Ed25519PublicKey>,
    /// A subaccount token and the main key's signature of it.
    pub subaccount: Option<([u8; 36], Ed25519Signature)>,
}

impl Auth {
    /// Whether any authentication field was given.
    pub fn present(&self) -> bool {
        self.signature.is_some() || self.pubkey_ed25519.is_some()
    }
}

fn expected(key: &str, what: &str) -> String {
    format!("Invalid value given for '{key}': expected {what}")
}

/// At most 64 characters of untrusted input in an error message.
fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

fn timestamp_value(key: &str, v: &Value) -> ParamResult<u64> {
    let t = v.as_u64().ok_or_else(|| expected(key, "integer"))?;
    if t < MIN_MS {
        return Err(format!("Invalid timestamp for '{key}': timestamp must be in milliseconds"));
    }
    Ok(t)
}

fn namespace_value(v: &Value) -> ParamResult<Namespace> {
    let n = v.as_i64().ok_or_else(|| expected("namespace", "16-bit integer"))?;
    i16::try_from(n)
        .map(Namespace)
        .map_err(|_| "Invalid value given for 'namespace': value out of range".to_owned())
}

/// A base64 Ed25519 signature: 86 characters, or 88 ending in `==`.
pub fn signature_value(s: &str) -> ParamResult<Ed25519Signature> {
    let bad = || "invalid signature: expected base64 encoded Ed25519 signature".to_owned();
    let body = match s.len() {
        86 => s,
        88 if s.ends_with("==") => &s[..86],
        _ => return Err(bad()),
    };
    let mut out = [0u8; 66];
    match base64::engine::general_purpose::STANDARD_NO_PAD.decode_slice(body, &mut out) {
        Ok(64) => Ok(Ed25519Signature::from_bytes(out[..64].try_into().expect("64 bytes"))),
        _ => Err(bad()),
    }
}

/// A subaccount token: 48 base64 characters or 72 hex characters (36 bytes).
pub fn token_value(s: &str) -> Option<[u8; 36]> {
    let mut out = [0u8; 36];
    match s.len() {
        72 => hex::decode_to_slice(s, &mut out).ok().map(|()| out),
        48 => {
            let mut buf = [0u8; 38];
            match STANDARD.decode_slice(s, &mut buf) {
                Ok(36) => {
                    out.copy_from_slice(&buf[..36]);
                    Some(out)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Parses base64 message data, bounded before decoding.
pub fn data_value(v: &Value, max_bytes: usize) -> ParamResult<Vec<u8>> {
    let s = v.as_str().ok_or_else(|| expected("data", "string"))?;
    if s.len() > max_bytes.div_ceil(3) * 4 {
        return Err(format!("Message body exceeds maximum allowed length of {max_bytes} bytes"));
    }
    let data =
        STANDARD.decode(s).map_err(|_| "Invalid 'data' value: not base64 encoded".to_owned())?;
    if data.len() > max_bytes {
        return Err(format!("Message body exceeds maximum allowed length of {max_bytes} bytes"));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_86_or_88_base64_chars() {
        let sig = STANDARD.encode([7u8; 64]);
        assert_eq!(sig.len(), 88);
        assert!(signature_value(&sig).is_ok());
        assert!(signature_value(&sig[..86]).is_ok());
        assert!(signature_value(&sig[..85]).is_err());
        assert!(signature_value(&format!("{}!!", &sig[..86])).is_err());
    }

    #[test]
    fn tokens_are_hex_or_base64() {
        let raw = [9u8; 36];
        assert_eq!(token_value(&hex::encode(raw)), Some(raw));
        assert_eq!(token_value(&STANDARD.encode(raw)), Some(raw));
        assert_eq!(token_value("abc"), None);
    }

    #[test]
    fn data_is_bounded_before_decoding() {
        let big = Value::String("A".repeat(200_000));
        assert!(data_value(&big, 76_800).unwrap_err().contains("76800"));
        let ok = Value::String(STANDARD.encode(vec![1u8; 76_800]));
        assert_eq!(data_value(&ok, 76_800).unwrap().len(), 76_800);
        assert!(data_value(&Value::String("***".into()), 10).is_err());
    }
}
