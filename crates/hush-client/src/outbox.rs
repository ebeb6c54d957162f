//! The outbox worker: carries out queued requests (stores, deletes, expiry changes) in order
//! per destination, several destinations at once, retrying with backoff and jitter. One
//! slow request does not hold back the queue ([`Pump`]): a message's store in flight for 2 s
//! is joined by the next messages to the same destination; control messages and config
//! pushes keep their strict order. When the network comes back (or a command runs), what was
//! backing off is tried at once.
//!
//! A request is done when a swarm member answers 200. Retryable failures (network trouble,
//! busy or moving swarms) are retried — 0.25 s, 0.5 s, 1 s … up to 30 s apart — for six
//! hours, after which the request is set aside as failed and its message marked `failed`
//! with the reason ([`crate::Client::retry`] queues it again). A refusal that will not change
//! (a malformed request, 409 for a message deleted before) fails at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::client::Inner;
use crate::db::{OutboxHead, OutboxItem};
use crate::events::Event;
use crate::net::REQUEST_TIMEOUT;
use crate::{Error, Result};

/// Requests carried out at once.
const PARALLEL: usize = 16;
/// Requests in flight to one destination at once (see [`Pump`]).
const PER_DESTINATION: usize = 4;
/// How long a message's store may be in flight before the next one to the same destination
/// goes out beside it.
const SLOW_REQUEST: Duration = Duration::from_secs(2);
/// Queued requests per destination the pump looks at.
const LOOKAHEAD: usize = 8;

/// The background task.
pub(crate) async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let mut pump = Pump::default();
    let mut failed_rounds = 0u32;
    loop {
        let started = tokio::select! {
            _ = stop.changed() => return,
            r = pump.start_due(&inner) => r,
        };
        let floor = match started {
            Ok(_) => {
                failed_rounds = 0;
                5
            }
            Err(e) => {
                // No registry or no path: nothing could even be tried. Wait before trying
                // again, longer each time.
                tracing::debug!(error = %e, "outbox round failed");
                failed_rounds += 1;
                retry_delay(failed_rounds)
            }
        };
        let pause = pump.pause(floor);
        tokio::select! {
            _ = stop.changed() => return,
            () = pump.finished() => {}
            () = inner.outbox_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(pause)) => {}
        }
    }
}

/// Carries out what is due (and whatever becomes due meanwhile) until nothing is in flight
/// and nothing is due within `soon`; returns how many requests were carried out. For callers
/// without the background task (a command that sends and exits).
pub(crate) async fn run_until_idle(inner: &Arc<Inner>, soon: Duration) -> Result<usize> {
    let mut pump = Pump::default();
    let mut done = 0;
    loop {
        if let Err(e) = pump.start_due(inner).await {
            // What is in flight finishes first (and is recorded): dropping it could leave a
            // stored message unrecorded.
            while pump.in_flight() > 0 {
                pump.finished().await;
            }
            return Err(e);
        }
        if pump.in_flight() == 0 {
            let next = inner.db.next_due()?;
            match next {
                Some(at) if at.saturating_sub(inner.now()) <= soon.as_millis() as u64 => {
                    let wait = at.saturating_sub(inner.now()).max(10);
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    continue;
                }
                _ => return Ok(done),
            }
        }
        let pause = pump.pause(5);
        tokio::select! {
            () = pump.finished() => done += 1,
            () = tokio::time::sleep(Duration::from_millis(pause)) => {}
        }
    }
}

/// One request in flight.
#[derive(Debug)]
struct Flight {
    destination: String,
    started: tokio::time::Instant,
    /// The store of one of our messages: later messages to the same destination may go out
    /// beside it once it is slow.
    message_store: bool,
}

/// Carries out queued requests, several at once, without letting one slow request hold the
/// rest back: each destination's requests go out in order, one at a time, except that once
/// the store of a message has been in flight for [`SLOW_REQUEST`] (a swarm member that hangs,
/// a path that times out), the next *message* to the same destination goes out beside it
/// (up to [`PER_DESTINATION`]). Everything else — control messages, sync copies, config
/// pushes and the deletions that must follow them — waits for whatever is before it, so the
/// order that matters is kept.
#[derive(Debug, Default)]
pub(crate) struct Pump {
    tasks: JoinSet<i64>,
    /// What is in flight, by request ID; `tasks` maps each task back to its request.
    flying: HashMap<i64, Flight>,
    task_requests: HashMap<tokio::task::Id, i64>,
    /// When the last plan wanted to look again.
    wake_in: Option<Duration>,
}

impl Pump {
    fn in_flight(&self) -> usize {
        self.flying.len()
    }

    /// Starts every request that may start now; returns how many were started.
    async fn start_due(&mut self, inner: &Arc<Inner>) -> Result<usize> {
        let heads = inner.db.outbox_heads(LOOKAHEAD)?;
        let plan = choose(&heads, &self.flying, inner.now(), tokio::time::Instant::now());
        self.wake_in = plan.wake_in;
        let chosen = plan.start;
        if chosen.is_empty() {
            return Ok(0);
        }
        let net = inner.net()?;
        net.ensure_registry().await?;
        let count = chosen.len();
        for head in chosen {
            let Some(item) = inner.db.outbox_item(head.id)? else { continue };
            self.flying.insert(
                item.id,
                Flight {
                    destination: item.destination.clone(),
                    started: tokio::time::Instant::now(),
                    message_store: head.message_store(),
                },
            );
            let inner = inner.clone();
            let request = item.id;
            let task = self.tasks.spawn(async move {
                let result = if expired(&item, inner.now()) {
                    Err(Error::InvalidInput(
                        "its time ran out before it could be delivered".to_owned(),
                    ))
                } else {
                    execute(&inner, &item).await
                };
                if let Err(e) = finish(&inner, &item, result) {
                    tracing::warn!(error = %e, "recording an outbox result failed");
                }
                item.id
            });
            self.task_requests.insert(task.id(), request);
        }
        Ok(count)
    }

    /// Waits until a request in flight finishes (never, when none is).
    async fn finished(&mut self) {
        let (task, outcome) = match self.tasks.join_next_with_id().await {
            Some(Ok((task, _))) => (task, None),
            Some(Err(e)) => (e.id(), Some(e)),
            None => return std::future::pending().await,
        };
        if let Some(e) = outcome {
            tracing::warn!(error = %e, "an outbox request panicked");
        }
        if let Some(request) = self.task_requests.remove(&task) {
            self.flying.remove(&request);
        }
    }

    /// How long to sleep when nothing finishes: until the last plan wanted to look again (at
    /// least `floor` ms, at most a minute).
    fn pause(&self, floor: u64) -> u64 {
        let ms = self.wake_in.map_or(60_000, |w| u64::try_from(w.as_millis()).unwrap_or(60_000));
        ms.clamp(floor, 60_000)
    }
}

/// What the pump does next: the requests to start now, and when to look again if nothing
/// finishes before (a retry coming due, a request in flight turning slow).
#[derive(Debug, Default)]
struct Plan {
    start: Vec<OutboxHead>,
    wake_in: Option<Duration>,
}

impl Plan {
    fn wake(&mut self, after: Duration) {
        self.wake_in = Some(self.wake_in.map_or(after, |w| w.min(after)));
    }
}

/// Which of the waiting requests `heads` (by destination, in queue order) may start, given
/// what is in flight — the rules of [`Pump`]. Every request in flight to a destination
/// counts, also one whose row is gone (cancelled by an unsend while it was on its way) or
/// one that comes later in the queue (a failed message queued again keeps its place).
fn choose(
    heads: &[OutboxHead],
    flying: &HashMap<i64, Flight>,
    now: u64,
    clock: tokio::time::Instant,
) -> Plan {
    /// What is in flight to one destination.
    #[derive(Default)]
    struct InFlight {
        count: usize,
        /// Every one a message's store…
        messages: bool,
        /// …that has been in flight for SLOW_REQUEST.
        slow: bool,
        /// When the last of them turns slow.
        turns_slow: Option<Duration>,
    }
    let mut by_destination: HashMap<&str, InFlight> = HashMap::new();
    for flight in flying.values() {
        let entry = by_destination.entry(flight.destination.as_str()).or_insert_with(|| InFlight {
            messages: true,
            slow: true,
            ..InFlight::default()
        });
        let age = clock.saturating_duration_since(flight.started);
        entry.count += 1;
        entry.messages &= flight.message_store;
        entry.slow &= flight.message_store && age >= SLOW_REQUEST;
        if age < SLOW_REQUEST {
            let left = SLOW_REQUEST - age;
            entry.turns_slow = Some(entry.turns_slow.map_or(left, |t: Duration| t.max(left)));
        }
    }
    let mut plan = Plan::default();
    let mut destination: Option<&str> = None;
    let mut decided = false;
    for head in heads {
        if destination != Some(head.destination.as_str()) {
            destination = Some(head.destination.as_str());
            decided = false;
        }
        if decided || flying.contains_key(&head.id) {
            continue;
        }
        // The first request of this destination that is not in flight decides.
        decided = true;
        if let Some(busy) = by_destination.get(head.destination.as_str()) {
            // Beside requests in flight only a message, only beside slow messages' stores.
            if !head.message_store() || !busy.messages || busy.count >= PER_DESTINATION {
                continue;
            }
            if !busy.slow {
                if let Some(after) = busy.turns_slow {
                    plan.wake(after);
                }
                continue;
            }
        }
        if head.next_attempt > now {
            plan.wake(Duration::from_millis(head.next_attempt - now));
            continue;
        }
        if flying.len() + plan.start.len() < PARALLEL {
            plan.start.push(head.clone());
        }
    }
    plan
}

/// Signs `message` with our key: the `pubkey_ed25519` and `signature` parameters.
fn signed(inner: &Inner, message: &str) -> (String, String) {
    let ed = inner.identity.ed25519();
    (hex::encode(ed.public().as_bytes()), STANDARD.encode(ed.sign(message.as_bytes()).as_bytes()))
}

async fn execute(inner: &Inner, item: &OutboxItem) -> Result<()> {
    let net = inner.net()?;
    let destination: hush_proto::AccountId = item.destination.parse()?;
    let params: Value = match item.action.as_str() {
        "store" => {
            let data = STANDARD.encode(&item.data);
            let (timestamp, ttl) = (item.timestamp, item.ttl_ms);
            let pubkey = item.destination.clone();
            let mut params =
                json!({"pubkey": pubkey, "timestamp": timestamp, "ttl": ttl, "data": data});
            // The public inbox (0) is written without a signature; our other namespaces
            // (config messages) only by us, signed.
            if item.namespace != 0 {
                if item.destination != inner.me {
                    return Err(bad(item));
                }
                // Signed now (`sig_timestamp`), not at the message's own time: a change
                // queued while offline is stored whenever it gets through, and nodes only
                // accept signatures made within a minute of their clock.
                let ns = hush_proto::namespace::Namespace(item.namespace);
                let sig_timestamp = inner.now();
                let (ed, sig) =
                    signed(inner, &format!("store{}{sig_timestamp}", ns.signature_part()));
                params["namespace"] = json!(item.namespace);
                params["sig_timestamp"] = json!(sig_timestamp);
                params["pubkey_ed25519"] = json!(ed);
                params["signature"] = json!(sig);
            }
            params
        }
        "delete" => {
            let parsed: Value = serde_json::from_slice(&item.data).map_err(|_| bad(item))?;
            let hashes = hashes_of(&parsed).ok_or_else(|| bad(item))?;
            let (ed, sig) = signed(inner, &format!("delete{}", hashes.concat()));
            let pubkey = inner.me.clone();
            json!({"pubkey": pubkey, "pubkey_ed25519": ed, "messages": hashes, "signature": sig})
        }
        "expire" => {
            let parsed: Value = serde_json::from_slice(&item.data).map_err(|_| bad(item))?;
            let hashes = hashes_of(&parsed).ok_or_else(|| bad(item))?;
            let expiry = parsed["expiry"].as_u64().ok_or_else(|| bad(item))?;
            // Shorten (disappearing after reading) unless told to set the expiry as given
            // (the refresh of our config messages).
            let shorten = parsed["shorten"].as_bool().unwrap_or(true);
            let mode = if shorten { "shorten" } else { "" };
            let (ed, sig) = signed(inner, &format!("expire{mode}{expiry}{}", hashes.concat()));
            let pubkey = inner.me.clone();
            let mut params = json!({"pubkey": pubkey, "pubkey_ed25519": ed, "messages": hashes,
                           "expiry": expiry, "signature": sig});
            if shorten {
                params["shorten"] = json!(true);
            }
            params
        }
        _ => return Err(bad(item)),
    };
    let method = item.action.as_str();
    net.account_rpc(&destination, None, method, |_, _| params.clone(), REQUEST_TIMEOUT)
        .await
        .map(|_| ())
}

fn hashes_of(v: &Value) -> Option<Vec<String>> {
    v["messages"].as_array()?.iter().map(|h| h.as_str().map(str::to_owned)).collect()
}

fn bad(item: &OutboxItem) -> Error {
    Error::InvalidInput(format!("outbox entry {} is malformed", item.id))
}

/// Records the outcome of one request.
fn finish(inner: &Inner, item: &OutboxItem, result: Result<()>) -> Result<()> {
    let now = inner.now();
    let failure = match result {
        Ok(()) => None,
        Err(e) if e.is_retryable() && now < item.give_up_at => {
            let delay = retry_delay(item.attempts);
            tracing::debug!(error = %e, delay_ms = delay, "outbox request will be retried");
            inner.db.outbox_retry(item.id, now + delay, &e.to_string())?;
            return Ok(());
        }
        Err(e) if item.message_id.is_none() => {
            // Control messages, sync copies, deletes and expiry changes are dropped when they
            // cannot be done (a copy expires on its own schedule anyway).
            tracing::debug!(error = %e, action = item.action, "outbox request dropped");
            Some(e.to_string())
        }
        Err(Error::Refused { status: 409, .. }) => {
            Some("the message was deleted before it was stored".to_owned())
        }
        Err(e) => Some(e.to_string()),
    };
    let changed = if item.message_id.is_none() && failure.is_some() {
        inner.db.outbox_done(item.id)?;
        None
    } else {
        inner.db.outbox_finish(item, failure.as_deref())?
    };
    if let Some((message, status)) = changed {
        inner.emit(Event::Status {
            id: message.id,
            conversation: message.conversation,
            status,
            error: message.error,
        });
    }
    Ok(())
}

/// Whether a stored copy's lifetime ran out before it was delivered: delivering it is
/// pointless (and nodes refuse it with 406 soon after), so retrying cannot help.
fn expired(item: &OutboxItem, now: u64) -> bool {
    item.action == "store" && item.timestamp.saturating_add(item.ttl_ms) <= now
}

/// 250 ms doubling to 30 s, plus up to 50% jitter.
fn retry_delay(attempts: u32) -> u64 {
    let base = (250u64 << attempts.min(7)).min(30_000);
    let jitter =
        u64::try_from(crate::net::random_index(usize::try_from(base / 2).unwrap_or(1).max(1)))
            .unwrap_or(0);
    base + jitter
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::{Flight, OutboxHead, PER_DESTINATION, choose, expired, retry_delay};
    use crate::db::OutboxItem;

    fn head(id: i64, destination: &str, action: &str, message: bool) -> OutboxHead {
        OutboxHead {
            id,
            destination: destination.to_owned(),
            action: action.to_owned(),
            message_id: message.then_some(id),
            next_attempt: 0,
        }
    }

    fn flight(destination: &str, started: tokio::time::Instant, message_store: bool) -> Flight {
        Flight { destination: destination.to_owned(), started, message_store }
    }

    fn ids(chosen: &[OutboxHead]) -> Vec<i64> {
        chosen.iter().map(|h| h.id).collect()
    }

    #[test]
    fn one_request_per_destination_until_a_message_store_turns_slow() {
        let t0 = tokio::time::Instant::now();
        let heads = [
            head(1, "a", "store", true),
            head(2, "a", "store", true),
            head(3, "a", "store", false),
            head(4, "b", "delete", false),
            head(5, "b", "store", true),
        ];
        let mut flying = HashMap::new();
        assert_eq!(ids(&choose(&heads, &flying, 0, t0).start), [1, 4], "the heads, in order");
        flying.insert(1, flight("a", t0, true));
        flying.insert(4, flight("b", t0, false));
        let waiting = choose(&heads, &flying, 0, t0 + Duration::from_millis(500));
        assert!(waiting.start.is_empty());
        assert_eq!(waiting.wake_in, Some(Duration::from_millis(1500)), "when 1 turns slow");
        // Message 1 hangs: message 2 goes out beside it; the control message 3 still waits,
        // and so does what follows b's deletion, however long it takes.
        let later = t0 + Duration::from_secs(3);
        assert_eq!(ids(&choose(&heads, &flying, 0, later).start), [2]);
        flying.insert(2, flight("a", later, true));
        assert!(choose(&heads, &flying, 0, later + Duration::from_secs(9)).start.is_empty());
        // Not before its retry is due.
        let backing_off = [OutboxHead { next_attempt: 10, ..head(1, "a", "store", true) }];
        let plan = choose(&backing_off, &HashMap::new(), 5, t0);
        assert!(plan.start.is_empty());
        assert_eq!(plan.wake_in, Some(Duration::from_millis(5)));
    }

    #[test]
    fn a_request_in_flight_holds_its_destination_even_when_its_row_is_gone() {
        let t0 = tokio::time::Instant::now();
        // Message 1's store is on its way when it is unsent: its row is cancelled and the
        // unsend (a control message, 2) is queued. It must not overtake the store.
        let heads = [head(2, "a", "store", false)];
        let mut flying = HashMap::new();
        flying.insert(1, flight("a", t0, true));
        let later = t0 + Duration::from_secs(10);
        assert!(choose(&heads, &flying, 0, later).start.is_empty());
        // A failed message queued again (a lower ID than what is in flight) waits as well,
        // until what is in flight is a slow message's store.
        let retried = [head(0, "a", "store", true), head(2, "a", "store", false)];
        assert!(choose(&retried, &flying, 0, t0).start.is_empty());
        assert_eq!(ids(&choose(&retried, &flying, 0, later).start), [0]);
        assert_eq!(choose(&heads, &HashMap::new(), 0, later).start.len(), 1, "then it goes");
    }

    #[test]
    fn at_most_a_few_beside_each_other() {
        let t0 = tokio::time::Instant::now();
        let heads: Vec<OutboxHead> = (1..=8).map(|i| head(i, "a", "store", true)).collect();
        let mut flying = HashMap::new();
        let mut clock = t0;
        for _ in 0..8 {
            clock += Duration::from_secs(3);
            for h in choose(&heads, &flying, 0, clock).start {
                flying.insert(h.id, flight("a", clock, true));
            }
        }
        assert_eq!(flying.len(), PER_DESTINATION);
    }

    #[test]
    fn copies_whose_lifetime_ended_are_not_sent() {
        let item = |action: &str| OutboxItem {
            id: 1,
            message_id: None,
            action: action.to_owned(),
            destination: String::new(),
            namespace: 0,
            data: Vec::new(),
            ttl_ms: 20_000,
            timestamp: 1_000_000,
            attempts: 0,
            give_up_at: 0,
        };
        assert!(!expired(&item("store"), 1_000_000));
        assert!(!expired(&item("store"), 1_019_999));
        assert!(expired(&item("store"), 1_020_000), "a typing indicator 20 s later");
        assert!(!expired(&item("delete"), 9_000_000), "only stores expire");
    }

    #[test]
    fn retries_back_off_to_half_a_minute_with_jitter() {
        for attempts in 0..20 {
            let d = retry_delay(attempts);
            let base = (250u64 << attempts.min(7)).min(30_000);
            assert!((base..base + base / 2 + 1).contains(&d), "{attempts}: {d}");
        }
        assert!(retry_delay(0) < 400);
        assert!((30_000..45_001).contains(&retry_delay(30)));
    }
}
