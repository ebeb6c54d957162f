//! Sending a change to the other members of a swarm, and how long a client's answer waits.
//!
//! Every peer gets the change at once, in a task of its own that runs to its end (the peer's
//! answer or the relay timeout) whether or not the client's answer still waits for it. The
//! answer waits until:
//!
//! - every peer answered; or
//! - a majority of the swarm holds the change (this node plus half the others, rounded up),
//!   and then a grace of three times as long as that took (at least [`MIN_GRACE`]) for the
//!   rest, so that healthy members a little slower than the others are still listed; or
//! - [`MAX_WAIT`] passed, when too few members answer to make a majority.
//!
//! A peer that did not answer in time is *slow* for [`SLOW_FOR`]: later changes still go to it
//! but nobody waits for its answer, so one hung member costs its swarm's writers one grace,
//! not a relay timeout per write. An answer from it ends that early. A peer holds at most
//! [`MAX_IN_FLIGHT`] changes in flight; beyond that it is skipped (`{"failed": true, "busy":
//! true}`) and catch-up brings it what it missed — the background copies cannot pile up
//! without bound behind a hung member.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use hush_sodium::ed25519::Ed25519PublicKey;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::network::NodeRecord;
use crate::rpc::Ctx;
use crate::rpc::apply::{APPLY_PATH, peer_result};

/// The shortest wait for the rest once a majority holds the change.
pub(crate) const MIN_GRACE: Duration = Duration::from_millis(200);
/// The longest a client's answer waits for its swarm.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(5);
/// How long a peer that did not answer in time is not waited for.
pub(crate) const SLOW_FOR: Duration = Duration::from_secs(30);
/// Changes in flight to one peer at most.
pub(crate) const MAX_IN_FLIGHT: usize = 64;

/// What this node knows of its peers' health.
#[derive(Debug, Default)]
pub(crate) struct Peers {
    state: Mutex<HashMap<Ed25519PublicKey, PeerState>>,
}

#[derive(Debug, Default)]
struct PeerState {
    in_flight: usize,
    slow_until: Option<Instant>,
}

impl Peers {
    fn with<R>(&self, key: &Ed25519PublicKey, f: impl FnOnce(&mut PeerState) -> R) -> R {
        let mut map = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let r = f(map.entry(*key).or_default());
        map.retain(|_, s| s.in_flight > 0 || s.slow_until.is_some_and(|t| t > Instant::now()));
        r
    }

    /// Takes a slot for a change to `key`, or refuses when it has too many in flight.
    fn enter(&self, key: &Ed25519PublicKey) -> bool {
        self.with(key, |s| {
            if s.in_flight >= MAX_IN_FLIGHT {
                return false;
            }
            s.in_flight += 1;
            true
        })
    }

    fn leave(&self, key: &Ed25519PublicKey, answered: bool) {
        self.with(key, |s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            if answered {
                s.slow_until = None;
            }
        });
    }

    fn is_slow(&self, key: &Ed25519PublicKey) -> bool {
        self.with(key, |s| s.slow_until.is_some_and(|t| t > Instant::now()))
    }

    fn mark_slow(&self, key: &Ed25519PublicKey) {
        self.with(key, |s| s.slow_until = Some(Instant::now() + SLOW_FOR));
    }
}

/// Sends `body` (a serialized op) to `peers` and returns each one's entry for the answer's
/// `"swarm"`, waiting as the module docs say.
///
/// `patient` (a `delete` that must report whether anything was deleted) waits for every
/// peer that is not slow, up to [`MAX_WAIT`], rather than for a majority.
pub(crate) async fn replicate(
    ctx: &Ctx,
    peers: Vec<NodeRecord>,
    body: Vec<u8>,
    patient: bool,
) -> Vec<(String, Value)> {
    let started = Instant::now();
    // A majority of the swarm (these peers and this node), this node included.
    let needed = peers.len().div_ceil(2);
    let (tx, mut rx) = tokio::sync::mpsc::channel(peers.len().max(1));
    let mut results = Vec::with_capacity(peers.len());
    let mut waiting: HashMap<Ed25519PublicKey, bool> = HashMap::new();
    for peer in peers {
        let key = hex::encode(peer.ed25519.as_bytes());
        if !ctx.replication.enter(&peer.ed25519) {
            results.push((key, json!({"failed": true, "busy": true})));
            continue;
        }
        // Waited for unless it was slow a moment ago.
        waiting.insert(peer.ed25519, !ctx.replication.is_slow(&peer.ed25519));
        let (ctx, body, tx) = (ctx.clone(), body.clone(), tx.clone());
        tokio::spawn(async move {
            let now = crate::rpc::now(&ctx);
            let answer =
                ctx.peers.post_signed(&ctx.identity.ed25519, &peer, APPLY_PATH, body, now).await;
            ctx.replication.leave(&peer.ed25519, answer.is_ok());
            let _ = tx.send((peer.ed25519, key, peer_result(answer))).await;
        });
    }
    drop(tx);
    let mut applied = 0usize;
    let mut deadline = started + MAX_WAIT;
    let mut majority = false;
    // Slow peers are not waited for, but an answer of theirs that comes meanwhile is listed.
    while waiting.values().any(|&waited| waited) {
        let Ok(Some((peer, key, result))) = tokio::time::timeout_at(deadline, rx.recv()).await
        else {
            break;
        };
        waiting.remove(&peer);
        if result.get("failed").is_none() {
            applied += 1;
        }
        results.push((key, result));
        if applied >= needed && !majority && !patient {
            majority = true;
            let now = Instant::now();
            let grace = (now - started).saturating_mul(3).max(MIN_GRACE);
            deadline = deadline.min(now + grace);
        }
    }
    // Answers that came in the last moment count.
    while let Ok((peer, key, result)) = rx.try_recv() {
        if waiting.remove(&peer).is_some() {
            results.push((key, result));
        }
    }
    // Whoever has not answered by now is listed as timed out; those that were waited for
    // are not waited for next time.
    for (peer, waited) in waiting {
        if waited {
            ctx.replication.mark_slow(&peer);
        }
        results.push((hex::encode(peer.as_bytes()), json!({"failed": true, "timeout": true})));
    }
    results
}
