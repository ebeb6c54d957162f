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
use crate::db::{MessageStatus, OutboxItem};
use crate::events::Event;
use crate::net::REQUEST_TIMEOUT;
use crate::{Error, Result};

/// Requests carried out at once (each to a different destination).
const PARALLEL: usize = 16;

/// The background task.
pub(crate) async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    loop {
        let worked = match run_round(&inner).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "outbox round failed");
                0
            }
        };
        if worked > 0 {
            continue;
        }
        let next = inner.db.next_due().ok().flatten();
        let pause = next.map_or(60_000, |t| t.saturating_sub(inner.now()).clamp(5, 60_000));
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
            let result = execute(&inner, &item).await;
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
            // Only the public inbox (0) is written without a signature; nothing else is
            // queued for a store.
            if item.namespace != 0 {
                return Err(bad(item));
            }
            json!({"pubkey": pubkey, "timestamp": timestamp, "ttl": ttl, "data": data})
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
            let (ed, sig) = signed(inner, &format!("expireshorten{expiry}{}", hashes.concat()));
            let pubkey = inner.me.clone();
            json!({"pubkey": pubkey, "pubkey_ed25519": ed, "messages": hashes,
                           "expiry": expiry, "shorten": true, "signature": sig})
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
    match result {
        Ok(()) => {
            inner.db.outbox_done(item.id)?;
            if let Some(id) = item.message_id
                && !inner.db.message_pending(id)?
            {
                set_status(inner, id, MessageStatus::Sent, None)?;
            }
        }
        Err(e) if e.is_retryable() && now < item.give_up_at => {
            let delay = retry_delay(item.attempts);
            tracing::debug!(error = %e, delay_ms = delay, "outbox request will be retried");
            inner.db.outbox_retry(item.id, now + delay, &e.to_string())?;
        }
        Err(e) if item.action == "expire" && e.is_retryable() => {
            // The copy expires on its own schedule anyway.
            inner.db.outbox_done(item.id)?;
        }
        Err(e) => {
            let reason = match &e {
                Error::Refused { status: 409, .. } => {
                    "the message was deleted before it was stored".to_owned()
                }
                other => other.to_string(),
            };
            tracing::debug!(error = %reason, "outbox request failed");
            match item.message_id {
                Some(id) => {
                    inner.db.outbox_fail(item.id, &reason)?;
                    set_status(inner, id, MessageStatus::Failed, Some(&reason))?;
                }
                None => inner.db.outbox_done(item.id)?,
            }
        }
    }
    Ok(())
}

fn set_status(inner: &Inner, id: i64, status: MessageStatus, error: Option<&str>) -> Result<()> {
    let Some(message) = inner.db.message(id)? else { return Ok(()) };
    if message.status != MessageStatus::Sending {
        // A read receipt may have come first; a deleted message is gone.
        return Ok(());
    }
    inner.db.set_status(id, status, error)?;
    inner.emit(Event::Status {
        id,
        conversation: message.conversation,
        status,
        error: error.map(str::to_owned),
    });
    Ok(())
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
    use super::retry_delay;

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
