//! Onion requests (session-protocol.md §6.2–6.4): the per-hop encryption, building a request
//! wrapped once per hop, peeling one layer at a node, and the encrypted final response.
//!
//! A layer is `u32le(N) ‖ N bytes of ciphertext ‖ JSON`. The JSON of the outermost layer
//! carries the client's ephemeral X25519 key and the encryption type; each decrypted layer is
//! again `u32le(N) ‖ blob ‖ JSON`, whose JSON says whether this node is the destination
//! (`"headers"`), must proxy to an HTTP server (`"host"`), or must relay `blob` to the node
//! named by `"destination"`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_sodium::aead::{self, AeadKey};
use hush_sodium::ed25519::Ed25519PublicKey;
use hush_sodium::hash::{Blake2b, hmac_sha256};
use hush_sodium::x25519::{SharedSecret, X25519KeyPair, X25519PublicKey};
use hush_sodium::{Csprng, Secret};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// A node refuses to relay a request that has already taken this many hops (loop protection,
/// as oxenss); [`route`] enforces it.
pub const MAX_HOPS: u32 = 15;

/// How a hop's payload is encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EncType {
    /// AES-256-GCM; key = HMAC-SHA256(key = "LOKI", X25519 shared secret). Session desktop's
    /// default, and what a layer without `enc_type` means.
    AesGcm,
    /// XChaCha20-Poly1305; key = BLAKE2b-32(shared secret ‖ client key ‖ node key).
    XChaCha20,
}

impl EncType {
    /// The name written into layer JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AesGcm => "aes-gcm",
            Self::XChaCha20 => "xchacha20",
        }
    }

    /// Parses the names nodes accept. AES-CBC, which old servers also accept, is refused.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "aes-gcm" | "gcm" => Ok(Self::AesGcm),
            "xchacha20" | "xchacha20-poly1305" => Ok(Self::XChaCha20),
            other => Err(Error::UnsupportedEncType(other.chars().take(32).collect())),
        }
    }

    fn nonce_len(self) -> usize {
        match self {
            Self::AesGcm => aead::AES256GCM_NONCE_LEN,
            Self::XChaCha20 => aead::XCHACHA20_NONCE_LEN,
        }
    }
}

/// The symmetric key shared by a client's ephemeral key and one node, for the request layer
/// and for the response that comes back through the same hop.
#[derive(Clone, Debug)]
pub struct HopCipher {
    enc: EncType,
    key: AeadKey,
}

impl HopCipher {
    /// The client side: own ephemeral keypair, the node's X25519 key.
    pub fn for_client(
        enc: EncType,
        ephemeral: &X25519KeyPair,
        node: &X25519PublicKey,
    ) -> Result<Self> {
        let shared = ephemeral.diffie_hellman(node)?;
        Self::derive(enc, &shared, ephemeral.public(), node)
    }

    /// The node side: own keypair, the client's ephemeral key from the layer JSON.
    pub fn for_node(
        enc: EncType,
        node: &X25519KeyPair,
        client_ephemeral: &X25519PublicKey,
    ) -> Result<Self> {
        let shared = node.diffie_hellman(client_ephemeral)?;
        Self::derive(enc, &shared, client_ephemeral, node.public())
    }

    fn derive(
        enc: EncType,
        shared: &SharedSecret,
        client: &X25519PublicKey,
        node: &X25519PublicKey,
    ) -> Result<Self> {
        let key = match enc {
            EncType::AesGcm => Secret::from_array(hmac_sha256(b"LOKI", shared.expose())),
            EncType::XChaCha20 => {
                let mut h = Blake2b::<32>::new();
                h.update(shared.expose()).update(client.as_bytes()).update(node.as_bytes());
                Secret::from_array(h.finalize())
            }
        };
        Ok(Self { enc, key: AeadKey::from_secret(key) })
    }

    /// The encryption type.
    pub fn enc_type(&self) -> EncType {
        self.enc
    }

    /// `nonce ‖ ciphertext ‖ tag` with a random nonce (12 bytes for AES-GCM, 24 for XChaCha20).
    pub fn encrypt(&self, plaintext: &[u8], rng: &mut impl Csprng) -> Result<Vec<u8>> {
        match self.enc {
            EncType::AesGcm => {
                let nonce: [u8; 12] = rng.array();
                let ct = aead::aes256gcm_encrypt(&self.key, &nonce, plaintext, &[])?;
                Ok([&nonce[..], &ct].concat())
            }
            EncType::XChaCha20 => {
                let nonce: [u8; 24] = rng.array();
                let ct = aead::xchacha20poly1305_encrypt(&self.key, &nonce, plaintext, &[]);
                Ok([&nonce[..], &ct].concat())
            }
        }
    }

    /// Opens `nonce ‖ ciphertext ‖ tag`.
    pub fn decrypt(&self, data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let nonce_len = self.enc.nonce_len();
        if data.len() < nonce_len + aead::TAG_LEN {
            return Err(Error::DecryptionFailed);
        }
        let (nonce, ct) = data.split_at(nonce_len);
        let plaintext = match self.enc {
            EncType::AesGcm => {
                aead::aes256gcm_decrypt(&self.key, nonce.try_into().expect("split at 12"), ct, &[])
            }
            EncType::XChaCha20 => aead::xchacha20poly1305_decrypt(
                &self.key,
                nonce.try_into().expect("split at 24"),
                ct,
                &[],
            ),
        };
        match plaintext {
            Ok(p) => Ok(Zeroizing::new(p)),
            Err(hush_sodium::Error::AesGcmUnavailable) => {
                Err(Error::Crypto(hush_sodium::Error::AesGcmUnavailable))
            }
            Err(_) => Err(Error::DecryptionFailed),
        }
    }
}

/// `u32le(len(blob)) ‖ blob ‖ json`.
pub fn encode_layer(blob: &[u8], json: &[u8]) -> Result<Vec<u8>> {
    let len = u32::try_from(blob.len()).map_err(|_| Error::TooLarge {
        what: "onion layer",
        max: u32::MAX as usize,
        actual: blob.len(),
    })?;
    let mut out = Vec::with_capacity(4 + blob.len() + json.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(blob);
    out.extend_from_slice(json);
    Ok(out)
}

/// Splits a layer into `(blob, json)`, checking the length prefix against the input.
pub fn split_layer(data: &[u8]) -> Result<(&[u8], &[u8])> {
    let (len, rest) =
        data.split_first_chunk::<4>().ok_or(Error::OnionLayer("shorter than its length prefix"))?;
    let len = usize::try_from(u32::from_le_bytes(*len))
        .map_err(|_| Error::OnionLayer("length prefix does not fit in memory"))?;
    if len > rest.len() {
        return Err(Error::OnionLayer("length prefix exceeds the data"));
    }
    Ok(rest.split_at(len))
}

/// A node in an onion path or the destination: its Ed25519 identity and X25519 key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnionNode {
    /// The node's Ed25519 key, which names it in `"destination"`.
    pub ed25519: Ed25519PublicKey,
    /// The node's X25519 key, used to encrypt to it.
    pub x25519: X25519PublicKey,
}

/// The JSON of a layer as the client writes it (field order as Session clients).
#[derive(Serialize)]
struct RoutingOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<String>,
    ephemeral_key: String,
    enc_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hop_no: Option<u32>,
}

/// The JSON of a layer as a node reads it. Unknown fields are ignored.
#[derive(Deserialize, Default)]
struct RoutingIn {
    ephemeral_key: Option<String>,
    enc_type: Option<String>,
    destination: Option<String>,
    /// Present (with any value, even `null`) when this node is the destination.
    #[serde(default, deserialize_with = "present")]
    headers: bool,
    host: Option<String>,
    target: Option<String>,
    port: Option<u16>,
    protocol: Option<String>,
    json: Option<bool>,
    base64: Option<bool>,
    hop_no: Option<u32>,
}

/// Deserializes any value as `true`: with `#[serde(default)]`, the field says whether the
/// key was present at all.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

impl RoutingIn {
    fn parse(json: &[u8]) -> Result<Self> {
        serde_json::from_slice(json)
            .map_err(|_| Error::OnionLayer("routing info is not valid JSON"))
    }

    fn enc_type(&self) -> Result<EncType> {
        self.enc_type.as_deref().map_or(Ok(EncType::AesGcm), EncType::parse)
    }
}

fn parse_hex_key(hex_str: Option<&str>, what: &'static str) -> Result<[u8; 32]> {
    let s = hex_str.ok_or(Error::OnionLayer(what))?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| Error::OnionLayer(what))?;
    Ok(out)
}

/// A built onion request: the bytes to POST to the first node's `/onion_req/v2`, and the
/// cipher that opens the destination's response.
#[derive(Debug)]
pub struct OnionRequest {
    /// The outermost layer.
    pub payload: Vec<u8>,
    /// Decrypts the final response ([`decode_final_response`]).
    pub response_cipher: HopCipher,
}

/// Builds a request to `destination`'s storage RPC, relayed through `path` (first element =
/// the guard the client connects to; may be empty to talk to the destination directly).
/// `request` is the RPC JSON `{"method": …, "params": …}`.
pub fn build_request(
    path: &[OnionNode],
    destination: &OnionNode,
    request: &[u8],
    enc: EncType,
    rng: &mut impl Csprng,
) -> Result<OnionRequest> {
    let routing_json = |destination: Option<&Ed25519PublicKey>, eph: &X25519PublicKey| {
        serde_json::to_vec(&RoutingOut {
            destination: destination.map(|d| hex::encode(d.as_bytes())),
            ephemeral_key: hex::encode(eph.as_bytes()),
            enc_type: enc.as_str(),
            hop_no: None,
        })
        .expect("invariant: serializing plain strings cannot fail")
    };

    // The destination's payload: the RPC request, marked final by "headers".
    let inner = Zeroizing::new(encode_layer(request, br#"{"headers":""}"#)?);
    let ephemeral = X25519KeyPair::generate(rng);
    let response_cipher = HopCipher::for_client(enc, &ephemeral, &destination.x25519)?;
    let mut blob = response_cipher.encrypt(&inner, rng)?;
    let mut next = (destination.ed25519, *ephemeral.public());

    for hop in path.iter().rev() {
        let data = encode_layer(&blob, &routing_json(Some(&next.0), &next.1))?;
        let ephemeral = X25519KeyPair::generate(rng);
        blob = HopCipher::for_client(enc, &ephemeral, &hop.x25519)?.encrypt(&data, rng)?;
        next = (hop.ed25519, *ephemeral.public());
    }
    let payload = encode_layer(&blob, &routing_json(None, &next.1))?;
    Ok(OnionRequest { payload, response_cipher })
}

/// One layer decrypted at a node. `Debug` shows the payload's length only.
pub struct DecryptedLayer {
    /// The cipher shared with the client's ephemeral key (encrypts the response at the
    /// destination).
    pub cipher: HopCipher,
    /// The decrypted payload.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// How many hops the request has already taken (the layer's `hop_no`, 0 if absent).
    pub hop_no: u32,
}

impl std::fmt::Debug for DecryptedLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptedLayer")
            .field("enc_type", &self.cipher.enc_type())
            .field("plaintext_len", &self.plaintext.len())
            .field("hop_no", &self.hop_no)
            .finish()
    }
}

/// Decrypts an incoming layer `u32le(N) ‖ ciphertext ‖ {"ephemeral_key", "enc_type"}` with the
/// node's X25519 keypair.
pub fn decrypt_layer(layer: &[u8], node: &X25519KeyPair) -> Result<DecryptedLayer> {
    let (ciphertext, json) = split_layer(layer)?;
    let info = RoutingIn::parse(json)?;
    let enc = info.enc_type()?;
    let client = X25519PublicKey::from_bytes(parse_hex_key(
        info.ephemeral_key.as_deref(),
        "missing or invalid ephemeral_key",
    )?);
    let cipher = HopCipher::for_node(enc, node, &client)?;
    let plaintext = cipher.decrypt(ciphertext)?;
    Ok(DecryptedLayer { cipher, plaintext, hop_no: info.hop_no.unwrap_or(0) })
}

/// What a node must do with a decrypted layer.
#[derive(Debug, PartialEq, Eq)]
pub enum NextHop {
    /// Relay `layer` (re-encoded for the next node, `hop_no` incremented) to the node with
    /// Ed25519 key `destination`.
    Relay {
        /// The next node.
        destination: Ed25519PublicKey,
        /// The layer to POST to its `/onion_req/v2`.
        layer: Vec<u8>,
    },
    /// This node is the destination: run `request` (RPC JSON) and encrypt the response.
    Final {
        /// The storage RPC request JSON.
        request: Vec<u8>,
        /// Embed the response body as JSON rather than a string.
        json: bool,
        /// Base64 the encrypted response (the default).
        base64: bool,
    },
    /// Proxy to an HTTP(S) server (not yet supported by hush nodes).
    Proxy {
        /// Host name or address.
        host: String,
        /// Path, e.g. `/oxen/v4/lsrpc`.
        target: String,
        /// Port (443 by default).
        port: u16,
        /// `https` (default) or `http`.
        protocol: String,
    },
}

/// Interprets a decrypted layer (`u32le(N) ‖ blob ‖ JSON`) that arrived after `hop_no` hops.
pub fn route(plaintext: &[u8], hop_no: u32) -> Result<NextHop> {
    let (blob, json) = split_layer(plaintext)?;
    let info = RoutingIn::parse(json)?;
    if info.headers {
        return Ok(NextHop::Final {
            request: blob.to_vec(),
            json: info.json.unwrap_or(false),
            base64: info.base64.unwrap_or(true),
        });
    }
    if let Some(host) = info.host {
        return proxy_target(host, info.target, info.port, info.protocol);
    }
    if hop_no >= MAX_HOPS {
        return Err(Error::OnionLayer("too many hops"));
    }
    let destination = Ed25519PublicKey::from_bytes(parse_hex_key(
        info.destination.as_deref(),
        "missing or invalid destination",
    )?);
    let enc = info.enc_type()?;
    let ephemeral =
        parse_hex_key(info.ephemeral_key.as_deref(), "missing or invalid ephemeral_key")?;
    let next_json = serde_json::to_vec(&RoutingOut {
        destination: None,
        ephemeral_key: hex::encode(ephemeral),
        enc_type: enc.as_str(),
        hop_no: Some(hop_no.saturating_add(1)),
    })
    .expect("invariant: serializing plain strings cannot fail");
    Ok(NextHop::Relay { destination, layer: encode_layer(blob, &next_json)? })
}

/// Validates a proxy destination as storage servers do (§6.2): a plain host name or address,
/// `http` or `https`, and a target path under `/loki/` or `/oxen/` ending in `/lsrpc`.
fn proxy_target(
    host: String,
    target: Option<String>,
    port: Option<u16>,
    protocol: Option<String>,
) -> Result<NextHop> {
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if !host_ok {
        return Err(Error::OnionLayer("invalid proxy host"));
    }
    let target = target.ok_or(Error::OnionLayer("proxy request without a target"))?;
    let target_ok = (target.starts_with("/loki/") || target.starts_with("/oxen/"))
        && target.ends_with("/lsrpc")
        && !target.contains('?');
    if !target_ok {
        return Err(Error::OnionLayer("invalid proxy target"));
    }
    let protocol = protocol.unwrap_or_else(|| "https".to_owned());
    if protocol != "https" && protocol != "http" {
        return Err(Error::OnionLayer("invalid proxy protocol"));
    }
    Ok(NextHop::Proxy { host, target, port: port.unwrap_or(443), protocol })
}

/// The destination's response body (`json: false`, `base64: true`):
/// `base64(Enc({"status": status, "body": body}))`.
pub fn encode_final_response(
    cipher: &HopCipher,
    status: u16,
    body: &str,
    rng: &mut impl Csprng,
) -> Result<String> {
    let json = serde_json::to_vec(&serde_json::json!({ "status": status, "body": body }))
        .expect("invariant: serializing a status and a string cannot fail");
    Ok(STANDARD.encode(cipher.encrypt(&json, rng)?))
}

/// A decrypted final response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalResponse {
    /// The inner RPC status code.
    pub status: u16,
    /// The RPC response body (JSON text).
    pub body: String,
}

/// Decrypts the destination's response: base64 text or raw bytes, optionally wrapped as
/// `{"result": "<base64>"}`; the JSON inside has `status` (or `status_code`) and `body` (a
/// string, or embedded JSON).
pub fn decode_final_response(cipher: &HopCipher, response: &[u8]) -> Result<FinalResponse> {
    #[derive(Deserialize)]
    struct Wrapped {
        result: String,
    }
    #[derive(Deserialize)]
    struct Inner {
        status: Option<u16>,
        status_code: Option<u16>,
        body: Option<serde_json::Value>,
    }

    let text = std::str::from_utf8(response).ok().map(str::trim);
    let wrapped = serde_json::from_slice::<Wrapped>(response).ok().map(|w| w.result);
    let decoded = wrapped.as_deref().or(text).and_then(|t| STANDARD.decode(t).ok());
    let plaintext = cipher.decrypt(decoded.as_deref().unwrap_or(response))?;
    let inner: Inner = serde_json::from_slice(&plaintext)
        .map_err(|_| Error::OnionLayer("the response is not valid JSON"))?;
    let status = inner
        .status
        .or(inner.status_code)
        .ok_or(Error::OnionLayer("the response has no status"))?;
    let body = match inner.body {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
    };
    Ok(FinalResponse { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(json: &str) -> Vec<u8> {
        encode_layer(b"blob", json.as_bytes()).unwrap()
    }

    const KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";

    #[test]
    fn any_headers_value_marks_the_destination() {
        for headers in [r#""""#, "{}", "null", "0"] {
            let next = route(&layer(&format!(r#"{{"headers":{headers}}}"#)), 0).unwrap();
            assert!(matches!(next, NextHop::Final { json: false, base64: true, .. }), "{headers}");
        }
        let next = route(&layer(r#"{"headers":{},"json":true,"base64":false}"#), 0).unwrap();
        assert!(matches!(next, NextHop::Final { json: true, base64: false, .. }));
    }

    #[test]
    fn relays_stop_at_the_hop_limit() {
        let json =
            format!(r#"{{"destination":"{KEY}","ephemeral_key":"{KEY}","enc_type":"xchacha20"}}"#);
        let NextHop::Relay { layer: next, .. } = route(&layer(&json), MAX_HOPS - 1).unwrap() else {
            panic!("expected a relay");
        };
        let (_, next_json) = split_layer(&next).unwrap();
        let info = RoutingIn::parse(next_json).unwrap();
        assert_eq!(info.hop_no, Some(MAX_HOPS));
        assert!(matches!(route(&layer(&json), MAX_HOPS), Err(Error::OnionLayer("too many hops"))));
    }

    #[test]
    fn proxy_targets_are_validated() {
        let ok = r#"{"host":"example.org","target":"/oxen/v4/lsrpc"}"#;
        assert_eq!(
            route(&layer(ok), 0).unwrap(),
            NextHop::Proxy {
                host: "example.org".into(),
                target: "/oxen/v4/lsrpc".into(),
                port: 443,
                protocol: "https".into()
            }
        );
        for bad in [
            r#"{"host":"example.org","target":"/admin"}"#,
            r#"{"host":"example.org","target":"/oxen/v4/lsrpc?x=1"}"#,
            r#"{"host":"example.org"}"#,
            r#"{"host":"exa mple/x","target":"/oxen/v4/lsrpc"}"#,
            r#"{"host":"example.org","target":"/loki/v3/lsrpc","protocol":"file"}"#,
        ] {
            assert!(route(&layer(bad), 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn enc_type_names() {
        assert_eq!(EncType::parse("gcm").unwrap(), EncType::AesGcm);
        assert_eq!(EncType::parse("xchacha20-poly1305").unwrap(), EncType::XChaCha20);
        assert!(EncType::parse("aes-cbc").is_err());
        // A layer without enc_type means AES-GCM.
        assert_eq!(RoutingIn::parse(b"{}").unwrap().enc_type().unwrap(), EncType::AesGcm);
    }
}
