//! Background convergence, run every `sync_interval_ms`:
//!
//! - **Catch-up** (anti-entropy): ask each swarm peer for the summaries of the mailboxes this
//!   node serves; where a mailbox's `(count, digest)` differs, fetch the peer's hashes and
//!   tombstones, pull the messages this node lacks and apply the peer's tombstones. A node
//!   that was down, partitioned or newly joined converges within a few rounds; a deletion
//!   (tombstone) always beats a stale copy, and expired messages are never pulled.
//! - **Hand-off** (rebalancing): a mailbox this node no longer serves under the current
//!   registry is sent to the members of its new swarm, and dropped here only once a majority
//!   of them confirmed it.
//!
//! And, when the node belongs to a network, [`poll_registry`] fetches newer registries from
//! the seeds.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use hush_proto::AccountId;
use hush_proto::registry::Registry;
use serde_json::Value;
use tokio::sync::watch;

use crate::network::NodeRecord;
use crate::rpc::{self, Ctx};
use crate::swarm_api::{
    FetchRequest, Handoff, MAX_FETCH, MAX_HANDOFF, MailboxContents, MailboxRequest, SummaryEntry,
    WireMessage,
};

/// Runs catch-up and hand-off every `interval` until shutdown.
pub(crate) async fn run(ctx: Ctx, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                catch_up(&ctx).await;
                hand_off(&ctx).await;
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// POSTs a signed JSON request to a peer; the JSON answer on 200.
async fn ask(
    ctx: &Ctx,
    peer: &NodeRecord,
    path: &str,
    body: &impl serde::Serialize,
) -> Option<Value> {
    let body = serde_json::to_vec(body).ok()?;
    match ctx.peers.post_signed(&ctx.identity.ed25519, peer, path, body, rpc::now(ctx)).await {
        Ok((200, _, answer)) => serde_json::from_slice(&answer).ok(),
        _ => None,
    }
}

/// One catch-up round with every peer of this node's swarm.
pub(crate) async fn catch_up(ctx: &Ctx) {
    let network = ctx.membership.current();
    let me = *ctx.identity.ed25519.public();
    let Some(own) = network.node(&me) else { return };
    let peers: Vec<NodeRecord> =
        network.members(own.swarm_id).into_iter().filter(|n| n.ed25519 != me).cloned().collect();
    drop(network);
    for peer in peers {
        if let Err(reason) = catch_up_with(ctx, &peer).await {
            tracing::debug!(reason, "catch-up with a peer failed");
        }
    }
}

async fn catch_up_with(ctx: &Ctx, peer: &NodeRecord) -> Result<(), &'static str> {
    let answer =
        ask(ctx, peer, "/swarm/v1/summary", &serde_json::json!({})).await.ok_or("summary")?;
    let theirs: Vec<SummaryEntry> =
        serde_json::from_value(answer.get("mailboxes").cloned().unwrap_or_default())
            .map_err(|_| "summary")?;
    let theirs: BTreeMap<(String, i16), (u64, i64)> =
        theirs.into_iter().map(|(a, ns, n, d)| ((a, ns), (n, d))).collect();
    let network = ctx.membership.current();
    let me = *ctx.identity.ed25519.public();
    let ours: BTreeMap<(String, i16), (u64, i64)> = ctx
        .store
        .summary()
        .await
        .map_err(|_| "local summary")?
        .into_iter()
        .filter_map(|m| {
            let id = AccountId::from_slice(&m.account).ok()?;
            network.serves(&me, &id).then(|| ((id.to_hex(), m.namespace), (m.messages, m.digest)))
        })
        .collect();
    drop(network);
    let mut differing: Vec<&(String, i16)> =
        theirs.iter().filter(|(k, v)| ours.get(k) != Some(v)).map(|(k, _)| k).collect();
    differing.extend(ours.keys().filter(|k| !theirs.contains_key(k)));
    for (account, namespace) in differing {
        sync_mailbox(ctx, peer, account, *namespace).await?;
    }
    Ok(())
}

async fn sync_mailbox(
    ctx: &Ctx,
    peer: &NodeRecord,
    account: &str,
    namespace: i16,
) -> Result<(), &'static str> {
    let id = AccountId::parse(account).map_err(|_| "account")?;
    let req = MailboxRequest { account: account.to_owned(), namespace };
    let contents: MailboxContents =
        serde_json::from_value(ask(ctx, peer, "/swarm/v1/mailbox", &req).await.ok_or("mailbox")?)
            .map_err(|_| "mailbox")?;
    let now = rpc::now(ctx);
    let (have, tombs) = ctx.store.mailbox(id, namespace, now).await.map_err(|_| "local mailbox")?;
    let known: HashSet<&String> = have.iter().chain(tombs.iter()).collect();
    let missing: Vec<String> =
        contents.hashes.iter().filter(|h| !known.contains(h)).cloned().collect();
    // Tombstones first, in one merge; then the missing messages in bounded fetches.
    ctx.store
        .merge(id, namespace, Vec::new(), contents.tombstones, now)
        .await
        .map_err(|_| "merge")?;
    for chunk in missing.chunks(MAX_FETCH) {
        let req = FetchRequest { account: account.to_owned(), hashes: chunk.to_vec() };
        let answer = ask(ctx, peer, "/swarm/v1/fetch", &req).await.ok_or("fetch")?;
        let wire: Vec<WireMessage> =
            serde_json::from_value(answer.get("messages").cloned().unwrap_or_default())
                .map_err(|_| "fetch")?;
        let messages = wire.into_iter().filter_map(WireMessage::into_stored).collect();
        ctx.store
            .merge(id, namespace, messages, Vec::new(), rpc::now(ctx))
            .await
            .map_err(|_| "merge")?;
    }
    Ok(())
}

/// Hands every mailbox this node no longer serves to its new swarm.
pub(crate) async fn hand_off(ctx: &Ctx) {
    let Ok(summary) = ctx.store.summary().await else { return };
    let network = ctx.membership.current();
    let me = *ctx.identity.ed25519.public();
    if network.registry().is_none() || network.nodes().is_empty() {
        // No network to hand anything to (standalone, or no registry yet): hold everything.
        // A node missing from a registry was taken out of the network: it hands off all.
        return;
    }
    let foreign: Vec<(AccountId, i16, Vec<NodeRecord>)> = summary
        .into_iter()
        .filter_map(|m| {
            let id = AccountId::from_slice(&m.account).ok()?;
            let (_, members) = network.swarm_for(&id);
            (!members.is_empty() && !members.iter().any(|n| n.ed25519 == me))
                .then(|| (id, m.namespace, members.into_iter().cloned().collect()))
        })
        .collect();
    drop(network);
    for (id, namespace, members) in foreign {
        if let Err(reason) = hand_off_mailbox(ctx, id, namespace, &members).await {
            tracing::debug!(reason, "hand-off postponed");
        }
    }
}

async fn hand_off_mailbox(
    ctx: &Ctx,
    id: AccountId,
    namespace: i16,
    members: &[NodeRecord],
) -> Result<(), &'static str> {
    let now = rpc::now(ctx);
    let (hashes, tombstones) =
        ctx.store.mailbox(id, namespace, now).await.map_err(|_| "mailbox")?;
    let messages = ctx.store.fetch(id, hashes, now).await.map_err(|_| "fetch")?;
    let handed: Vec<String> = messages.iter().map(|m| m.hash.clone()).collect();
    let wire: Vec<WireMessage> = messages.iter().map(WireMessage::from_stored).collect();
    let mut confirmed = 0usize;
    for member in members {
        let mut ok = true;
        let chunks: Vec<&[WireMessage]> =
            if wire.is_empty() { vec![&[]] } else { wire.chunks(MAX_HANDOFF).collect() };
        for (i, chunk) in chunks.into_iter().enumerate() {
            let handoff = Handoff {
                account: id.to_hex(),
                namespace,
                messages: chunk.to_vec(),
                tombstones: if i == 0 { tombstones.clone() } else { Vec::new() },
            };
            if ask(ctx, member, "/swarm/v1/handoff", &handoff).await.is_none() {
                ok = false;
                break;
            }
        }
        if ok {
            confirmed += 1;
        }
    }
    if confirmed * 2 <= members.len() {
        return Err("no majority of the new swarm confirmed");
    }
    ctx.store.drop_handed_off(id, namespace, handed, tombstones).await.map_err(|_| "drop")?;
    tracing::debug!(confirmed, "mailbox handed off to its new swarm");
    Ok(())
}

/// Every `interval`, asks the seeds (in turn, until one answers) for their registry and
/// adopts it when it is newer and valid. The sequence number is read before the signature is
/// checked, so an unchanged network costs one small request per round.
pub(crate) async fn poll_registry(
    ctx: Ctx,
    seeds: Vec<String>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(key) = ctx.network_key else { return };
    if seeds.is_empty() {
        return;
    }
    // Nodes start at different seeds, so a network does not ask the first one all at once.
    let mut next = usize::from(ctx.identity.ed25519.public().as_bytes()[0]) % seeds.len();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                for _ in 0..seeds.len() {
                    let seed = &seeds[next];
                    next = (next + 1) % seeds.len();
                    if poll_seed(&ctx, &key, seed).await {
                        break;
                    }
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// Asks one seed; true when it answered with a registry (adopted or not).
async fn poll_seed(ctx: &Ctx, key: &hush_sodium::ed25519::Ed25519PublicKey, seed: &str) -> bool {
    let url = format!("{}/network/v1/registry", seed.trim_end_matches('/'));
    let Ok((200, body)) = ctx.peers.get(&url).await else { return false };
    let Ok(signed) = serde_json::from_slice::<hush_proto::registry::SignedRegistry>(&body) else {
        tracing::warn!("a seed served something that is not a registry");
        return false;
    };
    let current = ctx.membership.current().registry().map_or(0, Registry::seq);
    if signed.body.seq <= current {
        return true;
    }
    match Registry::verify(signed, key) {
        Ok(registry) => {
            let seq = registry.seq();
            if ctx.membership.adopt(registry) {
                tracing::info!(seq, "adopted a newer network registry from a seed");
            }
            true
        }
        Err(e) => {
            tracing::warn!("a seed served an invalid registry: {e}");
            false
        }
    }
}
