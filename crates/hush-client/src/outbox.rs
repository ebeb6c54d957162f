//! The outbox worker: carries out queued requests (stores, deletes, expiry changes) in order
//! per destination, retrying with backoff and jitter.
//!
//! A request is done when a swarm member answers 200. Retryable failures (network trouble,
//! busy or moving swarms) are retried — 0.25 s, 0.5 s, 1 s … up to 30 s apart — for six
//! hours, after which the request is set aside as failed and its message marked `failed`
//! with the reason ([`crate::Client::retry`] queues it again). A refusal that will not change
//! (a malformed request, 409 for a message deleted before) fails at once.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::client::Inner;
use crate::db::OutboxItem;
use crate::events::Event;
use crate::net::REQUEST_TIMEOUT;
use crate::{Error, Result};

/// Requests carried out at once (each to a different destination).
const PARALLEL: usize = 16;

/// The background task.
pub(crate) async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let mut failed_rounds = 0u32;
    loop {
        let round = tokio::select! {
            _ = stop.changed() => return,
            r = run_round(&inner) => r,
        };
        let (worked, floor) = match round {
            Ok(n) => {
                failed_rounds = 0;
                (n, 5)
            }
            Err(e) => {
                // No registry or no path: nothing could even be tried. Wait before trying
                // again, longer each time.
                tracing::debug!(error = %e, "outbox round failed");
                failed_rounds += 1;
                (0, retry_delay(failed_rounds))
            }
        };
        if worked > 0 {
            continue;
        }
        let next = inner.db.next_due().ok().flatten();
        let pause = next.map_or(60_000, |t| t.saturating_sub(inner.now()).clamp(floor, 60_000));
        tokio::select! {
            _ = stop.changed() => return,
            () = inner.outbox_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(pause)) => {}
        }
    }
}

/// Carries out the requests due now (at most one per destination); returns how many.
pub(crate) async fn run_round(inner: &Arc<Inner>) -> Result<usize> {
    let due = inner.db.due(inner.now(), PARALLEL)?;
    if due.is_empty() {
        return Ok(0);
    }
    let net = inner.net()?;
    net.ensure_registry().await?;
    let count = due.len();
    let mut set = JoinSet::new();
    for item in due {
        let inner = inner.clone();
        set.spawn(async move {
            let result = if expired(&item, inner.now()) {
                Err(Error::InvalidInput("its time ran out before it could be delivered".to_owned()))
            } else {
                execute(&inner, &item).await
            };
            finish(&inner, &item, result)
        });
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Err(e)) => tracing::warn!(error = %e, "recording an outbox result failed"),
            Err(e) => tracing::warn!(error = %e, "an outbox request panicked"),
            Ok(Ok(())) => {}
        }
    }
    Ok(count)
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
    use super::{expired, retry_delay};
    use crate::db::OutboxItem;

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
