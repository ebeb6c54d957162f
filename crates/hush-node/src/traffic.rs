//! [`TrafficLog`]: a test instrument that records what reaches a node — the remote address
//! and body of each client request, and each storage request it executes (after onion
//! decryption) — so tests can check what a node learns (the privacy tests of hush-testnet).
//!
//! Off unless a test turns it on with [`crate::NodeHandle::record_traffic`]; no
//! configuration file or command-line option can. While off it costs one atomic load per
//! request. At most [`MAX_ENTRIES`] entries are kept.

use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Entries kept at most (older ones are kept, newer ones dropped).
pub const MAX_ENTRIES: usize = 100_000;

/// One thing the node saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// An HTTP request: who sent it, to which path, with which body.
    Http {
        /// The remote address of the connection.
        from: IpAddr,
        /// The request path.
        path: String,
        /// The body as received.
        body: Vec<u8>,
    },
    /// A storage RPC request the node executed (from a client directly, or the plaintext
    /// at the end of an onion path).
    Rpc {
        /// The request as executed.
        body: Vec<u8>,
    },
}

/// What a node saw, while recording.
#[derive(Debug, Default)]
pub struct TrafficLog {
    on: AtomicBool,
    entries: Mutex<Vec<Seen>>,
}

impl TrafficLog {
    /// Turns recording on or off.
    pub fn set(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }

    fn push(&self, seen: Seen) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() < MAX_ENTRIES {
            entries.push(seen);
        }
    }

    /// Records an HTTP request (when on).
    pub(crate) fn http(&self, from: IpAddr, path: &str, body: &[u8]) {
        if self.on.load(Ordering::Relaxed) {
            self.push(Seen::Http { from, path: path.to_owned(), body: body.to_vec() });
        }
    }

    /// Records an executed storage request (when on).
    pub(crate) fn rpc(&self, body: &[u8]) {
        if self.on.load(Ordering::Relaxed) {
            self.push(Seen::Rpc { body: body.to_vec() });
        }
    }

    /// Everything recorded so far.
    pub fn entries(&self) -> Vec<Seen> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}
