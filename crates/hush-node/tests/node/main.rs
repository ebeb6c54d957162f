//! Integration tests of hush-node over real HTTPS on loopback: one binary with submodules.
//!
//! - `methods`: every storage RPC method, namespaces, TTLs, sizes, duplicates, batch/sequence,
//!   the expiry sweep (manual clock), `get_swarm`, `info`, `oxend_request`, the seed endpoint.
//! - `auth`: every authentication rule, subaccounts included.
//! - `http`: HTTP-level limits and errors (body size, rate limit, long-poll, unknown paths).
//! - `onion`: onion requests through 1 and 3 hops with both encryption types.
//! - `network`: five `hush-node` processes made into a network with the `network` tools:
//!   replication between processes, catch-up after SIGKILL.
//! - `process`: the real `hush-node` binary: ready line, config errors, SIGTERM, and
//!   durability under `kill -9`.
//! - `abuse`: idle and half-open connections, a store flood and junk against a real
//!   process while a client keeps being served; memory stays bounded.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod abuse;
mod auth;
mod hardening;
mod http;
mod methods;
mod network;
mod onion;
mod process;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_node::{Clock, Node, NodeConfig, NodeHandle};
use hush_proto::{AccountId, AccountSeed, Identity, Timestamp};
use serde_json::{Value, json};

/// The manual clock's starting time: 2023-11-14T22:13:20Z.
pub const T0: u64 = 1_700_000_000_000;

/// A node on 127.0.0.1:0 with a temporary data dir and a manual clock, and a client for it.
#[allow(missing_debug_implementations)]
pub struct TestNode {
    pub handle: NodeHandle,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

impl TestNode {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut NodeConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = NodeConfig {
            data_dir: dir.path().to_owned(),
            listen: "127.0.0.1:0".parse().unwrap(),
            rate_limit_per_ip: 0,
            ..NodeConfig::default()
        };
        tweak(&mut config);
        let handle = Node::builder(config)
            .clock(Clock::manual(Timestamp::from_millis(T0)))
            .spawn()
            .await
            .unwrap();
        Self { handle, dir, http: client() }
    }

    pub fn now(&self) -> u64 {
        self.handle.clock().now().as_millis()
    }

    pub fn advance(&self, ms: u64) {
        self.handle.clock().advance(ms);
    }

    /// POSTs raw bytes to `path`; returns the status and body.
    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Vec<u8>) {
        let resp =
            self.http.post(format!("{}{path}", self.handle.url())).body(body).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.bytes().await.unwrap().to_vec())
    }

    /// Runs a storage RPC; returns the status and the body as JSON (text bodies become JSON
    /// strings).
    pub async fn rpc(&self, method: &str, params: Value) -> (u16, Value) {
        let body = json!({ "method": method, "params": params }).to_string();
        let (status, bytes) = self.post("/storage_rpc/v1", body).await;
        (status, parse_body(&bytes))
    }
}

/// JSON if it parses, otherwise the text as a JSON string.
pub fn parse_body(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// An HTTPS client that accepts the nodes' self-signed certificates.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap()
}

/// A test account.
#[derive(Debug)]
pub struct Account {
    pub identity: Identity,
}

impl Account {
    pub fn new(seed: u8) -> Self {
        Self { identity: Identity::from_seed(&AccountSeed::from_entropy(&[seed; 16]).unwrap()) }
    }

    pub fn id(&self) -> AccountId {
        *self.identity.account_id()
    }

    pub fn hex(&self) -> String {
        self.id().to_string()
    }

    pub fn ed_hex(&self) -> String {
        hex::encode(self.identity.ed25519_public().as_bytes())
    }

    /// Base64 signature of `message` by the account's Ed25519 key.
    pub fn sign(&self, message: &[u8]) -> String {
        STANDARD.encode(self.identity.ed25519().sign(message).as_bytes())
    }

    /// `pubkey`, `pubkey_ed25519`, `timestamp` and `signature` of `method` on `namespace` at `ts`.
    pub fn auth(&self, method: &str, namespace: i16, ts: u64) -> Value {
        let ns = if namespace == 0 { String::new() } else { namespace.to_string() };
        json!({
            "pubkey": self.hex(),
            "pubkey_ed25519": self.ed_hex(),
            "timestamp": ts,
            "signature": self.sign(format!("{method}{ns}{ts}").as_bytes()),
        })
    }
}

/// Merges the objects `extra` into `base`.
pub fn with(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}

pub fn b64(data: &[u8]) -> String {
    STANDARD.encode(data)
}
