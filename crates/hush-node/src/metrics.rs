//! Counters for `GET /metrics` (Prometheus text format). Labels are method names and status
//! codes only: nothing per account, nothing per client.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The node's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    messages_stored: AtomicU64,
    onion_requests: AtomicU64,
    onion_relayed: AtomicU64,
    rate_limited: AtomicU64,
    connections_refused: AtomicU64,
    bodies_refused: AtomicU64,
    inbox_evicted: AtomicU64,
}

impl Metrics {
    /// Counts a storage RPC by method and HTTP status.
    pub fn request(&self, method: &'static str, status: u16) {
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((method, status)).or_default() += 1;
        }
    }

    /// Counts a newly stored message.
    pub fn stored_message(&self) {
        self.messages_stored.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an onion request received.
    pub fn onion_request(&self) {
        self.onion_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an onion request relayed to another node.
    pub fn onion_relayed(&self) {
        self.onion_relayed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request refused by the rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection refused because the node had too many.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request whose body was refused (too large, the body budget or the address's
    /// share of it used up, malformed).
    pub fn body_refused(&self) {
        self.bodies_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts public-inbox messages evicted to make room in a full account.
    pub fn inbox_evicted(&self, n: usize) {
        self.inbox_evicted.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Prometheus text exposition, with the stored totals passed in.
    pub fn render(&self, stored_messages: u64, stored_bytes: u64) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        };
        let _ = writeln!(
            out,
            "# HELP hush_node_rpc_requests_total Storage RPC requests by method and HTTP status.\n\
             # TYPE hush_node_rpc_requests_total counter"
        );
        if let Ok(map) = self.requests.lock() {
            for ((method, status), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "hush_node_rpc_requests_total{{method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP hush_node_stored_messages Messages currently stored.\n\
             # TYPE hush_node_stored_messages gauge\nhush_node_stored_messages {stored_messages}\n\
             # HELP hush_node_stored_bytes Bytes of message data currently stored.\n\
             # TYPE hush_node_stored_bytes gauge\nhush_node_stored_bytes {stored_bytes}"
        );
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        counter(
            &mut out,
            "hush_node_messages_stored_total",
            "New messages stored.",
            load(&self.messages_stored),
        );
        counter(
            &mut out,
            "hush_node_onion_requests_total",
            "Onion requests received.",
            load(&self.onion_requests),
        );
        counter(
            &mut out,
            "hush_node_onion_relayed_total",
            "Onion requests relayed to another node.",
            load(&self.onion_relayed),
        );
        counter(
            &mut out,
            "hush_node_rate_limited_total",
            "Requests refused with 429.",
            load(&self.rate_limited),
        );
        counter(
            &mut out,
            "hush_node_connections_refused_total",
            "Connections refused at the connection limit.",
            load(&self.connections_refused),
        );
        counter(
            &mut out,
            "hush_node_bodies_refused_total",
            "Requests whose body was refused: too large, or beyond the body budget.",
            load(&self.bodies_refused),
        );
        counter(
            &mut out,
            "hush_node_inbox_evicted_total",
            "Public-inbox messages evicted to make room in a full account (a flood defence).",
            load(&self.inbox_evicted),
        );
        out
    }
}
