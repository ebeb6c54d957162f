//! Multi-node tests over real HTTPS on loopback: one binary with submodules.
//!
//! - `swarms`: stores reach every swarm member, non-members answer 421, registries are
//!   served, polled, and refused when stale or forged.
//! - `faults`: members killed during a stream of stores, a partitioned node, restarts.
//! - `chaos`: clients writing without pause through kills, partitions, slow nodes and
//!   registry churn; no acknowledged message lost.
//! - `rebalance`: nodes joining (swarms split) and leaving; mailboxes move, none is lost.
//! - `folder`: a network kept in a folder resumes with the same keys, ports and messages.
//! - `config_sync`: restores from the recovery password, devices following each other,
//!   offline edits converging.
//! - `messaging`: hush-client end to end — sends, receives, sync copies, requests, blocking,
//!   unsend, disappearing messages, receipts, restarts and killed guards.

#![allow(clippy::unwrap_used, clippy::new_without_default, missing_docs, unreachable_pub)]

mod chaos;
mod config_sync;
mod faults;
mod folder;
mod messaging;
mod rebalance;
mod swarms;

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_proto::{AccountId, AccountSeed, Identity};
use hush_testnet::Testnet;
use serde_json::{Value, json};

/// A day in milliseconds.
pub const DAY: u64 = 86_400_000;

/// Milliseconds since the epoch, from the clock the nodes use.
pub fn now() -> u64 {
    hush_node::Clock::system().now().as_millis()
}

/// An HTTPS client for the nodes (self-signed certificates), with a short timeout so a dead
/// node fails fast.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
}

impl Client {
    pub fn new() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap();
        Self { http }
    }

    /// A storage RPC; `Err` when the node cannot be reached.
    pub async fn rpc(
        &self,
        url: &str,
        method: &str,
        params: Value,
    ) -> Result<(u16, Value), String> {
        let body = json!({ "method": method, "params": params }).to_string();
        let resp = self
            .http
            .post(format!("{url}/storage_rpc/v1"))
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok((status, value))
    }

    /// GET `path`.
    pub async fn get(&self, url: &str, path: &str) -> Result<(u16, Vec<u8>), String> {
        let resp = self.http.get(format!("{url}{path}")).send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok((status, resp.bytes().await.map_err(|e| e.to_string())?.to_vec()))
    }

    /// POST raw bytes to `path`.
    pub async fn post(
        &self,
        url: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), String> {
        let resp = self
            .http
            .post(format!("{url}{path}"))
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok((status, resp.bytes().await.map_err(|e| e.to_string())?.to_vec()))
    }

    /// Stores `data` for `account` (namespace 0, one day) on the node at `url`: the hash on
    /// 200, otherwise the status and body (or why the node was unreachable).
    pub async fn store(&self, url: &str, account: &Account, data: &[u8]) -> Result<String, String> {
        let params =
            json!({"pubkey": account.hex(), "timestamp": now(), "ttl": DAY, "data": b64(data)});
        match self.rpc(url, "store", params).await? {
            (200, body) => Ok(body["hash"].as_str().unwrap().to_owned()),
            (status, body) => Err(format!("{status}: {body}")),
        }
    }

    /// Every message hash `account` has in namespace 0 on the node at `url` (following
    /// `more`), or the failing status.
    pub async fn hashes(&self, url: &str, account: &Account) -> Result<HashSet<String>, String> {
        let mut all = HashSet::new();
        let mut last: Option<String> = None;
        loop {
            let mut params = account.auth("retrieve", now());
            if let Some(h) = &last {
                params["last_hash"] = json!(h);
            }
            let (status, body) = self.rpc(url, "retrieve", params).await?;
            if status != 200 {
                return Err(format!("{status}: {body}"));
            }
            let messages = body["messages"].as_array().unwrap();
            for m in messages {
                all.insert(m["hash"].as_str().unwrap().to_owned());
            }
            last = messages.last().map(|m| m["hash"].as_str().unwrap().to_owned());
            if body["more"] != true || last.is_none() {
                return Ok(all);
            }
        }
    }
}

/// A test account.
#[derive(Debug)]
pub struct Account {
    identity: Identity,
}

impl Account {
    pub fn new(n: u32) -> Self {
        let mut entropy = [0x5a; 16];
        entropy[..4].copy_from_slice(&n.to_le_bytes());
        Self { identity: Identity::from_seed(&AccountSeed::from_entropy(&entropy).unwrap()) }
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

    /// Retrieve authentication for namespace 0 at `ts`.
    pub fn auth(&self, method: &str, ts: u64) -> Value {
        let sig = self.identity.ed25519().sign(format!("{method}{ts}").as_bytes());
        json!({
            "pubkey": self.hex(),
            "pubkey_ed25519": hex::encode(self.identity.ed25519_public().as_bytes()),
            "timestamp": ts,
            "signature": STANDARD.encode(sig.as_bytes()),
        })
    }
}

/// `count` accounts, numbered from `first`, whose swarm is `swarm` (by node numbers).
pub fn accounts_in(net: &Testnet, swarm: &[usize], first: u32, count: usize) -> Vec<Account> {
    (first..).map(Account::new).filter(|a| net.swarm_of(&a.id()) == swarm).take(count).collect()
}

pub fn b64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Polls `check` every 250 ms until it returns true or `limit` passes; returns whether it
/// held.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Whether every node in `nodes` holds every hash of `expected` for `account`.
pub async fn all_hold(
    client: &Client,
    net: &Testnet,
    nodes: &[usize],
    account: &Account,
    expected: &HashSet<String>,
) -> bool {
    for &i in nodes {
        let Ok(url) = net.url(i) else { return false };
        match client.hashes(&url, account).await {
            Ok(have) if expected.is_subset(&have) => {}
            _ => return false,
        }
    }
    true
}

/// How many messages node `i` holds for `account`, read from its database (no request).
pub async fn held(net: &Testnet, i: usize, account: &Account) -> u64 {
    let id = account.id().as_bytes().to_vec();
    let Ok(node) = net.node(i) else { return 0 };
    let summary = node.store().unwrap().summary().await.unwrap();
    summary.iter().filter(|m| m.account == id).map(|m| m.messages).sum()
}

/// Whether every node in `nodes` holds at least `count` messages of `account` (a cheap
/// check of the databases before asking over the API).
pub async fn all_count(net: &Testnet, nodes: &[usize], account: &Account, count: usize) -> bool {
    for &i in nodes {
        if held(net, i, account).await < count as u64 {
            return false;
        }
    }
    true
}
