//! Node-to-node HTTPS: a client for relaying onion requests and for signed swarm requests
//! (replication, catch-up, hand-off), and the check a node applies to signed requests it
//! receives.
//!
//! A signed request carries three headers: `X-Hush-Node` (the sender's Ed25519 key, hex),
//! `X-Hush-Timestamp` (ms) and `X-Hush-Signature` (base64 Ed25519 over
//! `"hush-peer-v1\n" ‖ receiver key (hex) ‖ "\n" ‖ path ‖ "\n" ‖ timestamp ‖ "\n" ‖ body`),
//! so it is good for one receiver only. The receiver accepts it from a node of its current
//! registry (hand-offs also from one an earlier registry listed), within ±60 s of its clock.
//!
//! The answer is signed too (`X-Hush-Signature` over `"hush-peer-answer-v1\n" ‖ the
//! request's signature ‖ "\n" ‖ status ‖ "\n" ‖ body`), and the sender drops an answer that
//! does not verify with the key it meant to reach. Node certificates are self-signed, so this
//! is what keeps someone on the path from forging summaries, messages, tombstones or hand-off
//! confirmations.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::HeaderMap;
use hush_sodium::ed25519::{Ed25519KeyPair, Ed25519PublicKey, Ed25519Signature};

use crate::network::NodeRecord;

const NODE_HEADER: &str = "x-hush-node";
const TIME_HEADER: &str = "x-hush-timestamp";
const SIG_HEADER: &str = "x-hush-signature";
const RELAY_HEADER: &str = "x-hush-relay";
const CONTEXT: &[u8] = b"hush-peer-v1\n";
const ANSWER_CONTEXT: &[u8] = b"hush-peer-answer-v1\n";
/// How far a peer's clock may be from ours.
const CLOCK_WINDOW_MS: u64 = 60_000;
/// Largest answer accepted from another node: a maximal retrieve (7.8 MB of data, base64
/// inside JSON, encrypted, base64 again) stays well under it.
pub(crate) const MAX_PEER_RESPONSE: usize = 24 << 20;

fn signed_bytes(receiver: &Ed25519PublicKey, path: &str, timestamp: u64, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CONTEXT.len() + 65 + path.len() + 24 + body.len());
    m.extend_from_slice(CONTEXT);
    m.extend_from_slice(hex::encode(receiver.as_bytes()).as_bytes());
    m.push(b'\n');
    m.extend_from_slice(path.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(timestamp.to_string().as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m
}

fn answer_bytes(request_sig: &str, status: u16, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(ANSWER_CONTEXT.len() + request_sig.len() + 8 + body.len());
    m.extend_from_slice(ANSWER_CONTEXT);
    m.extend_from_slice(request_sig.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(status.to_string().as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m
}

/// The `X-Hush-Signature` of an answer to a signed request (whose signature header was
/// `request_sig`).
pub(crate) fn sign_answer(
    keys: &Ed25519KeyPair,
    request_sig: &str,
    status: u16,
    body: &[u8],
) -> String {
    STANDARD.encode(keys.sign(&answer_bytes(request_sig, status, body)).as_bytes())
}

/// The header carrying signatures, of requests and of answers.
pub(crate) const SIGNATURE_HEADER: &str = SIG_HEADER;

/// Why a peer request failed.
#[derive(Debug)]
pub(crate) enum PeerError {
    /// No answer in time.
    Timeout,
    /// Could not connect, or the connection broke.
    Unreachable,
    /// The answer was too large or unreadable.
    BadResponse,
    /// This node is cut off from its peers (a test fault).
    Partitioned,
}

/// HTTPS client for other nodes. Node certificates are self-signed; what authenticates a node
/// is its Ed25519 key (signed requests) or the onion layer only it can open.
#[derive(Clone, Debug)]
pub(crate) struct PeerClient {
    http: reqwest::Client,
    partitioned: Arc<AtomicBool>,
    /// This node's keys and registry address, for relay credentials.
    identity: Option<(Arc<crate::identity::NodeIdentity>, std::net::IpAddr)>,
}

impl PeerClient {
    /// A client that gives up after `timeout`, connecting from `local` when given (this
    /// node's registry address, so that other nodes know the connection for a node's and do
    /// not count it against a client address's limits). `identity` (this node's keys and
    /// address) lets relayed requests to a node on the same address carry a
    /// [relay credential](relay_credential).
    pub(crate) fn new(
        timeout: Duration,
        partitioned: Arc<AtomicBool>,
        local: Option<std::net::IpAddr>,
        identity: Option<(Arc<crate::identity::NodeIdentity>, std::net::IpAddr)>,
    ) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60));
        if let Some(ip) = local {
            builder = builder.local_address(ip);
        }
        Ok(Self { http: builder.build()?, partitioned, identity })
    }

    fn url(node: &NodeRecord, path: &str) -> String {
        format!("https://{}{path}", std::net::SocketAddr::new(node.ip, node.https_port))
    }

    /// POSTs `body` to `path` on `node`, unsigned (onion relaying). Returns status, whether
    /// the answer is JSON, and the body.
    pub(crate) async fn post(
        &self,
        node: &NodeRecord,
        path: &str,
        body: Vec<u8>,
        now_ms: u64,
    ) -> Result<(u16, bool, Bytes), PeerError> {
        if self.partitioned.load(Ordering::Relaxed) {
            return Err(PeerError::Partitioned);
        }
        let mut request = self.http.post(Self::url(node, path)).body(body);
        if let Some((identity, own_ip)) = &self.identity
            && node.ip == *own_ip
        {
            // A node on our own address cannot tell us from its clients by address.
            let keys = &identity.ed25519;
            request = request
                .header(NODE_HEADER, hex::encode(keys.public().as_bytes()))
                .header(TIME_HEADER, now_ms.to_string())
                .header(RELAY_HEADER, relay_credential(keys, &node.ed25519, path, now_ms));
        }
        let resp = request.send().await.map_err(classify)?;
        read(resp).await
    }

    /// POSTs a request signed with this node's key.
    pub(crate) async fn post_signed(
        &self,
        keys: &Ed25519KeyPair,
        node: &NodeRecord,
        path: &str,
        body: Vec<u8>,
        now_ms: u64,
    ) -> Result<(u16, bool, Bytes), PeerError> {
        if self.partitioned.load(Ordering::Relaxed) {
            return Err(PeerError::Partitioned);
        }
        let sig = STANDARD
            .encode(keys.sign(&signed_bytes(&node.ed25519, path, now_ms, &body)).as_bytes());
        let resp = self
            .http
            .post(Self::url(node, path))
            .header(NODE_HEADER, hex::encode(keys.public().as_bytes()))
            .header(TIME_HEADER, now_ms.to_string())
            .header(SIG_HEADER, &sig)
            .body(body)
            .send()
            .await
            .map_err(classify)?;
        let answer_sig = resp
            .headers()
            .get(SIG_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| STANDARD.decode(v).ok())
            .and_then(|v| Ed25519Signature::from_slice(&v).ok());
        let (status, json, body) = read(resp).await?;
        let genuine = answer_sig
            .is_some_and(|a| node.ed25519.verify(&answer_bytes(&sig, status, &body), &a).is_ok());
        if !genuine {
            return Err(PeerError::BadResponse);
        }
        Ok((status, json, body))
    }

    /// GETs `url` (a seed's registry). Unsigned, bounded like every answer.
    pub(crate) async fn get(&self, url: &str) -> Result<(u16, Bytes), PeerError> {
        if self.partitioned.load(Ordering::Relaxed) {
            return Err(PeerError::Partitioned);
        }
        let resp = self.http.get(url).send().await.map_err(classify)?;
        read(resp).await.map(|(s, _, b)| (s, b))
    }
}

fn classify(e: reqwest::Error) -> PeerError {
    if e.is_timeout() { PeerError::Timeout } else { PeerError::Unreachable }
}

async fn read(mut resp: reqwest::Response) -> Result<(u16, bool, Bytes), PeerError> {
    let status = resp.status().as_u16();
    let json = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_PEER_RESPONSE {
            return Err(PeerError::BadResponse);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, json, Bytes::from(body)))
}

/// The credential a node puts on a relayed (unsigned) request to another node on its own
/// address, so that the receiver exempts it from the per-address client limits: an Ed25519
/// signature over `"hush-relay-v1\n" ‖ receiver key (hex) ‖ "\n" ‖ path ‖ "\n" ‖
/// timestamp`, good for that receiver for ±60 s. (It proves the sender is a node of the
/// network, nothing about the body: it only lifts rate limits.)
pub(crate) fn relay_credential(
    keys: &Ed25519KeyPair,
    receiver: &Ed25519PublicKey,
    path: &str,
    timestamp: u64,
) -> String {
    STANDARD.encode(keys.sign(&relay_bytes(receiver, path, timestamp)).as_bytes())
}

fn relay_bytes(receiver: &Ed25519PublicKey, path: &str, timestamp: u64) -> Vec<u8> {
    format!("hush-relay-v1\n{}\n{path}\n{timestamp}", hex::encode(receiver.as_bytes())).into_bytes()
}

/// Whether `headers` carry a valid [relay credential](relay_credential) of `sender` for
/// this node (`own`) and `path`.
pub(crate) fn relay_credential_valid(
    own: &Ed25519PublicKey,
    sender: &Ed25519PublicKey,
    headers: &HeaderMap,
    path: &str,
    now_ms: u64,
) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(timestamp) = header(TIME_HEADER).and_then(|t| t.parse::<u64>().ok()) else {
        return false;
    };
    if timestamp.abs_diff(now_ms) > CLOCK_WINDOW_MS {
        return false;
    }
    let Some(sig) = header(RELAY_HEADER)
        .and_then(|s| STANDARD.decode(s).ok())
        .and_then(|s| Ed25519Signature::from_slice(&s).ok())
    else {
        return false;
    };
    sender.verify(&relay_bytes(own, path, timestamp), &sig).is_ok()
}

/// Checks a signed request: a node `find` knows, a fresh timestamp, a valid signature.
/// Returns the sender, or a reason to refuse (401).
pub(crate) fn verify(
    own: &Ed25519PublicKey,
    find: impl Fn(&Ed25519PublicKey) -> Option<NodeRecord>,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    now_ms: u64,
) -> Result<NodeRecord, &'static str> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let mut key = [0u8; 32];
    hex::decode_to_slice(header(NODE_HEADER).ok_or("missing node key")?, &mut key)
        .map_err(|_| "bad node key")?;
    let key = Ed25519PublicKey::from_bytes(key);
    let sender = find(&key).ok_or("unknown node")?;
    let timestamp: u64 =
        header(TIME_HEADER).ok_or("missing timestamp")?.parse().map_err(|_| "bad timestamp")?;
    if timestamp.abs_diff(now_ms) > CLOCK_WINDOW_MS {
        return Err("timestamp too far from current time");
    }
    let sig = STANDARD
        .decode(header(SIG_HEADER).ok_or("missing signature")?)
        .map_err(|_| "bad signature")?;
    let sig = Ed25519Signature::from_slice(&sig).map_err(|_| "bad signature")?;
    sender
        .ed25519
        .verify(&signed_bytes(own, path, timestamp, body), &sig)
        .map_err(|_| "bad signature")?;
    Ok(sender)
}
