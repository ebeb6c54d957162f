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

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use hush_proto::AccountId;
use hush_proto::registry::{Registry, SignedRegistry};
use serde_json::Value;
use std::sync::Arc;

use tokio::sync::{Notify, watch};

use crate::network::NodeRecord;
use crate::rpc::{self, Ctx};
use crate::swarm_api::{
    FetchRequest, HANDOFF_PATH, Handoff, MAX_FETCH, MAX_HANDOFF, MAX_HANDOFF_BYTES,
    MAX_HANDOFF_TOMBSTONES, MailboxContents, MailboxRequest, Revocation, RevocationsRequest,
    SummaryEntry, WireMessage, parse_revocations,
};

/// Runs catch-up and hand-off every `interval`, and whenever `now` is notified, until
/// shutdown.
pub(crate) async fn run(
    ctx: Ctx,
    interval: Duration,
    now: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    // A node that starts (or restarts after downtime) catches up first: until it has, its
    // mailboxes may lack what arrived meanwhile, so retrieves are sent to other members
    // (503, see `rpc::retrieve`) — for one round, and at most CATCH_UP_GRACE.
    {
        let ready = ctx.caught_up.clone();
        tokio::spawn(async move {
            tokio::time::sleep(CATCH_UP_GRACE).await;
            ready.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    }
    tokio::select! {
        () = catch_up(&ctx) => {}
        _ = shutdown.changed() => return,
    }
    ctx.caught_up.store(true, std::sync::atomic::Ordering::Relaxed);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = now.notified() => {}
            _ = shutdown.changed() => break,
        }
        catch_up(&ctx).await;
        hand_off(&ctx).await;
    }
}

/// The longest a starting node sends retrieves elsewhere while it catches up.
const CATCH_UP_GRACE: Duration = Duration::from_secs(30);

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

/// Hands `handoff` to `member`. If the member does not know this node (401) or that it
/// served the account (403), it is first shown `proof` — the earlier registry that says so,
/// alone in an otherwise empty hand-off, so no request carries both a full chunk and a
/// registry — and then asked again.
async fn give(
    ctx: &Ctx,
    member: &NodeRecord,
    handoff: &Handoff,
    proof: Option<&SignedRegistry>,
) -> bool {
    let post = async |h: &Handoff| {
        let body = serde_json::to_vec(h).ok()?;
        ctx.peers
            .post_signed(&ctx.identity.ed25519, member, HANDOFF_PATH, body, rpc::now(ctx))
            .await
            .ok()
            .map(|(status, ..)| status)
    };
    match post(handoff).await {
        Some(200) => true,
        Some(401 | 403) if proof.is_some() => {
            let shown = Handoff {
                account: handoff.account.clone(),
                namespace: handoff.namespace,
                messages: Vec::new(),
                tombstones: Vec::new(),
                revocations: Vec::new(),
                proof: proof.cloned(),
            };
            post(&shown).await == Some(200) && post(handoff).await == Some(200)
        }
        _ => false,
    }
}

/// The newest earlier registry under which this node served `account`.
fn proof_for(ctx: &Ctx, account: &AccountId) -> Option<SignedRegistry> {
    let network = ctx.membership.current();
    let me = ctx.identity.ed25519.public();
    network
        .earlier()
        .iter()
        .find(|r| r.swarm_for(account).1.iter().any(|n| &n.ed25519 == me))
        .map(|r| r.signed().clone())
}

/// One catch-up round with every peer of this node's swarm.
pub(crate) async fn catch_up(ctx: &Ctx) {
    let network = ctx.membership.current();
    let me = *ctx.identity.ed25519.public();
    let Some(own) = network.node(&me) else { return };
    let peers: Vec<NodeRecord> =
        network.members(own.swarm_id).into_iter().filter(|n| n.ed25519 != me).cloned().collect();
    drop(network);
    // All peers at once: one that hangs does not hold up the round with the others.
    let mut rounds = tokio::task::JoinSet::new();
    for peer in peers {
        let ctx = ctx.clone();
        rounds.spawn(async move {
            if let Err(reason) = catch_up_with(&ctx, &peer).await {
                tracing::debug!(reason, "catch-up with a peer failed");
            }
        });
    }
    while rounds.join_next().await.is_some() {}
}

async fn catch_up_with(ctx: &Ctx, peer: &NodeRecord) -> Result<(), &'static str> {
    let answer =
        ask(ctx, peer, "/swarm/v1/summary", &serde_json::json!({})).await.ok_or("summary")?;
    let theirs: Vec<SummaryEntry> =
        serde_json::from_value(answer.get("mailboxes").cloned().unwrap_or_default())
            .map_err(|_| "summary")?;
    let their_revocations: Vec<(String, u64, i64)> =
        serde_json::from_value(answer.get("revocations").cloned().unwrap_or_default())
            .map_err(|_| "summary")?;
    let network = ctx.membership.current();
    let me = *ctx.identity.ed25519.public();
    // Only mailboxes both of us serve: a peer cannot make this node take in anyone else's.
    let both = |id: &AccountId| network.serves(&me, id) && network.serves(&peer.ed25519, id);
    let theirs: BTreeMap<(String, i16), (u64, i64)> = theirs
        .into_iter()
        .filter(|(a, ..)| AccountId::parse(a).is_ok_and(|id| both(&id)))
        .map(|(a, ns, n, d)| ((a, ns), (n, d)))
        .collect();
    let ours: BTreeMap<(String, i16), (u64, i64)> = ctx
        .store
        .summary()
        .await
        .map_err(|_| "local summary")?
        .into_iter()
        .filter_map(|m| {
            let id = AccountId::from_slice(&m.account).ok()?;
            both(&id).then(|| ((id.to_hex(), m.namespace), (m.messages, m.digest)))
        })
        .collect();
    drop(network);
    let mut differing: Vec<&(String, i16)> =
        theirs.iter().filter(|(k, v)| ours.get(k) != Some(v)).map(|(k, _)| k).collect();
    differing.extend(ours.keys().filter(|k| !theirs.contains_key(k)));
    // One mailbox failing (say, the peer moved to a newer registry meanwhile) does not stop
    // the others.
    let mut failed = None;
    for (account, namespace) in differing {
        if let Err(reason) = sync_mailbox(ctx, peer, account, *namespace).await {
            failed = Some(reason);
        }
    }
    // Revoked subaccounts: pull the peer's where its set differs from ours.
    let ours: BTreeMap<String, (u64, i64)> = ctx
        .store
        .revocation_summary()
        .await
        .map_err(|_| "local revocations")?
        .into_iter()
        .filter_map(|(a, n, d)| Some((AccountId::from_slice(&a).ok()?.to_hex(), (n, d))))
        .collect();
    let network = ctx.membership.current();
    for (account, count, digest) in their_revocations {
        let Ok(id) = AccountId::parse(&account) else { continue };
        let shared = network.serves(&me, &id) && network.serves(&peer.ed25519, &id);
        if !shared || ours.get(&account) == Some(&(count, digest)) {
            continue;
        }
        if let Err(reason) = sync_revocations(ctx, peer, id).await {
            failed = Some(reason);
        }
    }
    failed.map_or(Ok(()), Err)
}

async fn sync_revocations(ctx: &Ctx, peer: &NodeRecord, id: AccountId) -> Result<(), &'static str> {
    let req = RevocationsRequest { account: id.to_hex() };
    let answer = ask(ctx, peer, "/swarm/v1/revocations", &req).await.ok_or("revocations")?;
    let tokens: Vec<Revocation> =
        serde_json::from_value(answer.get("tokens").cloned().unwrap_or_default())
            .map_err(|_| "revocations")?;
    let tokens = parse_revocations(&tokens).ok_or("revocations")?;
    ctx.store.merge_revocations(id, tokens).await.map_err(|_| "merge revocations")
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
    let mut contents = contents;
    contents.tombstones.retain(|t| hush_proto::message_hash::MessageHash::parse(t).is_ok());
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

/// Hands every mailbox this node no longer serves to its new swarm, including mailboxes
/// that hold only tombstones (so that the new swarm also knows what was deleted).
pub(crate) async fn hand_off(ctx: &Ctx) {
    let Ok(summary) = ctx.store.summary().await else { return };
    let Ok(tombstoned) = ctx.store.tombstone_mailboxes().await else { return };
    let Ok(revoked) = ctx.store.revocation_summary().await else { return };
    let network = ctx.membership.current();
    let me = *ctx.identity.ed25519.public();
    if network.registry().is_none() || network.nodes().is_empty() {
        // No network to hand anything to (standalone, or no registry yet): hold everything.
        // A node missing from a registry was taken out of the network: it hands off all.
        return;
    }
    let mailboxes: BTreeSet<(Vec<u8>, i16)> =
        summary.into_iter().map(|m| (m.account, m.namespace)).chain(tombstoned).collect();
    let foreign: Vec<(AccountId, i16, Vec<NodeRecord>)> = mailboxes
        .into_iter()
        .filter_map(|(account, namespace)| {
            let id = AccountId::from_slice(&account).ok()?;
            let (_, members) = network.swarm_for(&id);
            (!members.is_empty() && !members.iter().any(|n| n.ed25519 == me))
                .then(|| (id, namespace, members.into_iter().cloned().collect()))
        })
        .collect();
    let revoked: Vec<(AccountId, Vec<NodeRecord>)> = revoked
        .into_iter()
        .filter_map(|(account, ..)| {
            let id = AccountId::from_slice(&account).ok()?;
            let (_, members) = network.swarm_for(&id);
            (!members.is_empty() && !members.iter().any(|n| n.ed25519 == me))
                .then(|| (id, members.into_iter().cloned().collect()))
        })
        .collect();
    drop(network);
    for (id, namespace, members) in foreign {
        if let Err(reason) = hand_off_mailbox(ctx, id, namespace, &members).await {
            tracing::debug!(reason, "hand-off postponed");
        }
    }
    for (id, members) in revoked {
        if let Err(reason) = hand_off_revocations(ctx, id, &members).await {
            tracing::debug!(reason, "hand-off of revocations postponed");
        }
    }
}

/// Sends an account's revocations to its new swarm; forgets them once a majority took them.
async fn hand_off_revocations(
    ctx: &Ctx,
    id: AccountId,
    members: &[NodeRecord],
) -> Result<(), &'static str> {
    let tokens = ctx.store.revocations(id).await.map_err(|_| "revocations")?;
    let handoff = Handoff {
        account: id.to_hex(),
        namespace: 0,
        messages: Vec::new(),
        tombstones: Vec::new(),
        revocations: tokens.iter().map(|(t, at)| (hex::encode(t), *at)).collect(),
        proof: None,
    };
    let proof = proof_for(ctx, &id);
    let mut confirmed = 0;
    for member in members {
        if give(ctx, member, &handoff, proof.as_ref()).await {
            confirmed += 1;
        }
    }
    if confirmed * 2 <= members.len() {
        return Err("no majority of the new swarm took the revocations");
    }
    let tokens = tokens.into_iter().map(|(t, _)| t).collect();
    ctx.store.drop_revocations(id, tokens).await.map_err(|_| "drop revocations")
}

/// Sends one mailbox to every member of its new swarm — tombstones first, then the messages
/// 200 at a time, split further so no request carries more than [`MAX_HANDOFF_BYTES`] — and
/// drops exactly what was sent once a majority of the members took all of it.
async fn hand_off_mailbox(
    ctx: &Ctx,
    id: AccountId,
    namespace: i16,
    members: &[NodeRecord],
) -> Result<(), &'static str> {
    let now = rpc::now(ctx);
    let (hashes, tombstones) =
        ctx.store.mailbox(id, namespace, now).await.map_err(|_| "mailbox")?;
    let mut took_all = vec![true; members.len()];
    let majority_left =
        |took_all: &[bool]| took_all.iter().filter(|ok| **ok).count() * 2 > members.len();
    let proof = proof_for(ctx, &id);
    let send = async |took_all: &mut Vec<bool>, handoff: Handoff| {
        for (member, ok) in members.iter().zip(took_all.iter_mut()) {
            if *ok && !give(ctx, member, &handoff, proof.as_ref()).await {
                *ok = false;
            }
        }
    };
    for chunk in tombstones.chunks(MAX_HANDOFF_TOMBSTONES) {
        let handoff = Handoff {
            account: id.to_hex(),
            namespace,
            messages: Vec::new(),
            tombstones: chunk.to_vec(),
            revocations: Vec::new(),
            proof: None,
        };
        send(&mut took_all, handoff).await;
        if !majority_left(&took_all) {
            return Err("no majority of the new swarm took the tombstones");
        }
    }
    let mut handed = Vec::with_capacity(hashes.len());
    for batch in hashes.chunks(MAX_HANDOFF) {
        let messages = ctx.store.fetch(id, batch.to_vec(), now).await.map_err(|_| "fetch")?;
        let mut part: Vec<WireMessage> = Vec::new();
        let mut bytes = 0;
        for m in &messages {
            let wire = WireMessage::from_stored(m);
            let size = wire.data.len() + 256;
            if !part.is_empty() && bytes + size > MAX_HANDOFF_BYTES {
                let messages = std::mem::take(&mut part);
                let handoff = Handoff {
                    account: id.to_hex(),
                    namespace,
                    messages,
                    tombstones: Vec::new(),
                    revocations: Vec::new(),
                    proof: None,
                };
                send(&mut took_all, handoff).await;
                bytes = 0;
            }
            part.push(wire);
            bytes += size;
        }
        if !part.is_empty() {
            let handoff = Handoff {
                account: id.to_hex(),
                namespace,
                messages: part,
                tombstones: Vec::new(),
                revocations: Vec::new(),
                proof: None,
            };
            send(&mut took_all, handoff).await;
        }
        if !majority_left(&took_all) {
            return Err("no majority of the new swarm took the messages");
        }
        handed.extend(messages.into_iter().map(|m| m.hash));
    }
    let confirmed = took_all.iter().filter(|ok| **ok).count();
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
    let Ok(signed) = serde_json::from_slice::<SignedRegistry>(&body) else {
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
