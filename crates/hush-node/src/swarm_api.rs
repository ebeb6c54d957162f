//! The node-to-node endpoints (all `POST`, all signed by the sending node, all answers
//! signed by this one; see `peer.rs`):
//!
//! | path | from | what |
//! |---|---|---|
//! | `/swarm/v1/apply` | a member of the account's swarm (this node too) | apply a replicated [`Op`], answer this node's signed result |
//! | `/swarm/v1/summary` | any node of the registry | `(account, namespace, count, digest)` of the mailboxes the caller serves, and `(account, count, digest)` of their revoked subaccounts |
//! | `/swarm/v1/mailbox` | a node serving the account | the hashes of its live messages and its tombstones |
//! | `/swarm/v1/fetch` | a node serving the account | messages by hash |
//! | `/swarm/v1/revocations` | a node serving the account (this node too) | its revoked subaccount tokens |
//! | `/swarm/v1/handoff` | a node that served the account under this, a remembered, or a proven earlier registry | messages, tombstones and revocations of a mailbox this node now serves |
//!
//! and the registry: `GET /network/v1/registry` (the registry this node uses) and
//! `POST /network/v1/registry` (offer a newer signed registry of this network).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_proto::AccountId;
use hush_proto::registry::Registry;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::network::NodeRecord;
use crate::rpc::apply::{self, Op};
use crate::rpc::{self, Body, Ctx, Reply};
use crate::store::StoredMessage;

/// Most hashes one `fetch` may ask for.
pub(crate) const MAX_FETCH: usize = 200;
/// Most messages one `handoff` may carry.
pub(crate) const MAX_HANDOFF: usize = 200;
/// Most message bytes (base64) one `handoff` carries: a node in a network accepts requests
/// of at least twice this (see `NodeConfig::validate`).
pub(crate) const MAX_HANDOFF_BYTES: usize = 4 << 20;
/// Most tombstones one `handoff` may carry.
pub(crate) const MAX_HANDOFF_TOMBSTONES: usize = 5_000;

/// A message as nodes exchange it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WireMessage {
    pub(crate) hash: String,
    pub(crate) namespace: i16,
    pub(crate) timestamp: u64,
    pub(crate) expiry: u64,
    /// Base64.
    pub(crate) data: String,
}

impl WireMessage {
    pub(crate) fn from_stored(m: &StoredMessage) -> Self {
        Self {
            hash: m.hash.clone(),
            namespace: m.namespace,
            timestamp: m.timestamp,
            expiry: m.expiry,
            data: STANDARD.encode(&m.data),
        }
    }

    pub(crate) fn into_stored(self) -> Option<StoredMessage> {
        if self.data.len() > 102_400 + 4 {
            return None;
        }
        let data = STANDARD.decode(&self.data).ok()?;
        Some(StoredMessage {
            hash: self.hash,
            namespace: self.namespace,
            timestamp: self.timestamp,
            expiry: self.expiry,
            data,
        })
    }
}

/// `{account, namespace}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MailboxRequest {
    pub(crate) account: String,
    pub(crate) namespace: i16,
}

/// `{hashes, tombstones}` of a mailbox.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MailboxContents {
    pub(crate) hashes: Vec<String>,
    pub(crate) tombstones: Vec<String>,
}

/// `{account, hashes}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FetchRequest {
    pub(crate) account: String,
    pub(crate) hashes: Vec<String>,
}

/// A mailbox handed to its new swarm (and, in any one of them, the account's revoked
/// subaccount tokens).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Handoff {
    pub(crate) account: String,
    pub(crate) namespace: i16,
    pub(crate) messages: Vec<WireMessage>,
    pub(crate) tombstones: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) revocations: Vec<Revocation>,
    /// An earlier registry under which the sender served the account, for receivers that
    /// do not remember it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) proof: Option<hush_proto::registry::SignedRegistry>,
}

/// Where mailboxes are handed over.
pub(crate) const HANDOFF_PATH: &str = "/swarm/v1/handoff";

/// A revoked subaccount token (hex) and when it was revoked (ms).
pub(crate) type Revocation = (String, u64);

/// Most revocations one account keeps (and one hand-off or answer carries).
pub(crate) const MAX_REVOCATIONS: usize = 50;

/// `{account}` → the account's revocations.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevocationsRequest {
    pub(crate) account: String,
}

/// Parses revocations from another node; `None` if any is malformed or there are too many.
pub(crate) fn parse_revocations(list: &[Revocation]) -> Option<Vec<([u8; 36], u64)>> {
    if list.len() > MAX_REVOCATIONS {
        return None;
    }
    list.iter()
        .map(|(hex_token, at)| {
            let mut t = [0u8; 36];
            hex::decode_to_slice(hex_token, &mut t).ok()?;
            Some((t, *at))
        })
        .collect()
}

/// One mailbox in a summary: `[account hex, namespace, messages, digest]`.
pub(crate) type SummaryEntry = (String, i16, u64, i64);

fn json_reply(value: serde_json::Value) -> Reply {
    Reply { status: 200, body: Body::Json(value) }
}

fn text(status: u16, t: &str) -> Reply {
    Reply { status, body: Body::Text(t.to_owned()) }
}

fn account(s: &str) -> Result<AccountId, Reply> {
    AccountId::parse(s).map_err(|_| text(400, "invalid account"))
}

/// Most JSON values a node-to-node body may hold (a hand-off with a proof registry of 10 000
/// nodes has about 90 000); checked before parsing, so a body cannot blow up in memory.
const MAX_PEER_JSON_VALUES: usize = 200_000;

/// Handles a signed node-to-node request to `path`.
pub(crate) async fn handle(ctx: &Ctx, path: &str, headers: &http::HeaderMap, body: &[u8]) -> Reply {
    if ctx.partitioned.load(std::sync::atomic::Ordering::Relaxed) {
        return text(503, "partitioned");
    }
    if rpc::json_values_bound(body) > MAX_PEER_JSON_VALUES {
        return text(400, "invalid json: too many values");
    }
    let is_handoff = path == HANDOFF_PATH;
    let own = ctx.identity.ed25519.public();
    let now = rpc::now(ctx);
    // The sender as this node knows it: in the registry, or — for a hand-off, which may
    // come from a node that left — in a remembered or already proven earlier registry.
    let known = |key: &hush_sodium::ed25519::Ed25519PublicKey| {
        let network = ctx.membership.current();
        network
            .node(key)
            .or_else(|| is_handoff.then(|| network.earlier_node(key)).flatten())
            .cloned()
            .or_else(|| is_handoff.then(|| ctx.membership.proven_node(key)).flatten())
    };
    // The signature is checked before the body is parsed, whenever the sender is known.
    let mut sender = crate::peer::verify(own, known, headers, path, body, now);
    let handoff_req = if is_handoff {
        match serde_json::from_slice::<Handoff>(body) {
            Ok(h) => Some(h),
            Err(_) => return text(400, "invalid handoff"),
        }
    } else {
        None
    };
    // An unknown sender of a hand-off may prove, with an earlier registry, that it served
    // the account (a node that joined later remembers no earlier registry of its own).
    let mut proof = None;
    let unknown = matches!(sender, Err("unknown node"));
    if let (true, Some(p), Some(key)) =
        (unknown, handoff_req.as_ref().and_then(|h| h.proof.as_ref()), ctx.network_key)
    {
        let Some(registry) = ctx.membership.check_proof(p, &key) else {
            return text(403, "the registry offered as proof is not valid here");
        };
        let listed = |k: &hush_sodium::ed25519::Ed25519PublicKey| {
            registry.nodes().iter().find(|n| &n.ed25519 == k).cloned()
        };
        sender = crate::peer::verify(own, listed, headers, path, body, now);
        proof = Some(registry);
    }
    let sender = match sender {
        Ok(sender) => sender,
        Err(reason) => return text(401, reason),
    };
    // A known sender may still show a proof (the receiver may not know it served the account).
    if let (None, Some(p), Some(key)) =
        (&proof, handoff_req.as_ref().and_then(|h| h.proof.as_ref()), ctx.network_key)
    {
        proof = ctx.membership.check_proof(p, &key);
    }
    let result = match (path, handoff_req) {
        (apply::APPLY_PATH, _) => apply_op(ctx, &sender, body).await,
        ("/swarm/v1/summary", _) => summary(ctx, &sender).await,
        ("/swarm/v1/mailbox", _) => mailbox(ctx, &sender, body).await,
        ("/swarm/v1/fetch", _) => fetch(ctx, &sender, body).await,
        ("/swarm/v1/revocations", _) => revocations(ctx, &sender, body).await,
        (HANDOFF_PATH, Some(h)) => handoff(ctx, &sender, h, proof.as_ref()).await,
        _ => Err(text(404, "no such swarm endpoint")),
    };
    result.unwrap_or_else(|reply| reply)
}

/// 421 unless both this node and `sender` serve `account`.
fn both_serve(ctx: &Ctx, sender: &NodeRecord, account: &AccountId) -> Result<(), Reply> {
    let network = ctx.membership.current();
    if network.serves(ctx.identity.ed25519.public(), account)
        && network.serves(&sender.ed25519, account)
    {
        Ok(())
    } else {
        Err(text(421, "not a member of this account's swarm"))
    }
}

async fn apply_op(ctx: &Ctx, sender: &NodeRecord, body: &[u8]) -> Result<Reply, Reply> {
    let op: Op = serde_json::from_slice(body).map_err(|_| text(400, "invalid op"))?;
    let account = op.account()?;
    both_serve(ctx, sender, &account)?;
    let result = apply::apply(ctx, &op).await?;
    Ok(json_reply(json!({ "result": result })))
}

async fn revocations(ctx: &Ctx, sender: &NodeRecord, body: &[u8]) -> Result<Reply, Reply> {
    let req: RevocationsRequest =
        serde_json::from_slice(body).map_err(|_| text(400, "invalid request"))?;
    let id = account(&req.account)?;
    both_serve(ctx, sender, &id)?;
    let tokens: Vec<Revocation> = ctx
        .store
        .revocations(id)
        .await
        .map_err(|_| text(500, "store error"))?
        .into_iter()
        .map(|(t, at)| (hex::encode(t), at))
        .collect();
    Ok(json_reply(json!({ "tokens": tokens })))
}

async fn summary(ctx: &Ctx, sender: &NodeRecord) -> Result<Reply, Reply> {
    let all = ctx.store.summary().await.map_err(|_| text(500, "store error"))?;
    let revoked = ctx.store.revocation_summary().await.map_err(|_| text(500, "store error"))?;
    let network = ctx.membership.current();
    let entries: Vec<SummaryEntry> = all
        .into_iter()
        .filter_map(|m| {
            let id = AccountId::from_slice(&m.account).ok()?;
            network
                .serves(&sender.ed25519, &id)
                .then(|| (id.to_hex(), m.namespace, m.messages, m.digest))
        })
        .collect();
    let revocations: Vec<(String, u64, i64)> = revoked
        .into_iter()
        .filter_map(|(account, count, digest)| {
            let id = AccountId::from_slice(&account).ok()?;
            network.serves(&sender.ed25519, &id).then(|| (id.to_hex(), count, digest))
        })
        .collect();
    Ok(json_reply(json!({ "mailboxes": entries, "revocations": revocations })))
}

async fn mailbox(ctx: &Ctx, sender: &NodeRecord, body: &[u8]) -> Result<Reply, Reply> {
    let req: MailboxRequest =
        serde_json::from_slice(body).map_err(|_| text(400, "invalid request"))?;
    let id = account(&req.account)?;
    if !ctx.membership.current().serves(&sender.ed25519, &id) {
        return Err(text(421, "not a member of this account's swarm"));
    }
    let (hashes, tombstones) = ctx
        .store
        .mailbox(id, req.namespace, rpc::now(ctx))
        .await
        .map_err(|_| text(500, "store error"))?;
    Ok(json_reply(serde_json::to_value(MailboxContents { hashes, tombstones }).unwrap_or_default()))
}

async fn fetch(ctx: &Ctx, sender: &NodeRecord, body: &[u8]) -> Result<Reply, Reply> {
    let req: FetchRequest =
        serde_json::from_slice(body).map_err(|_| text(400, "invalid request"))?;
    if req.hashes.len() > MAX_FETCH {
        return Err(text(400, "too many hashes"));
    }
    let id = account(&req.account)?;
    if !ctx.membership.current().serves(&sender.ed25519, &id) {
        return Err(text(421, "not a member of this account's swarm"));
    }
    let messages = ctx
        .store
        .fetch(id, req.hashes, rpc::now(ctx))
        .await
        .map_err(|_| text(500, "store error"))?;
    let wire: Vec<WireMessage> = messages.iter().map(WireMessage::from_stored).collect();
    Ok(json_reply(json!({ "messages": wire })))
}

async fn handoff(
    ctx: &Ctx,
    sender: &NodeRecord,
    h: Handoff,
    proof: Option<&Registry>,
) -> Result<Reply, Reply> {
    if h.messages.len() > MAX_HANDOFF || h.tombstones.len() > MAX_HANDOFF_TOMBSTONES {
        return Err(text(400, "too many messages or tombstones"));
    }
    let id = account(&h.account)?;
    let network = ctx.membership.current();
    if !network.serves(ctx.identity.ed25519.public(), &id) {
        return Err(text(421, "not a member of this account's swarm"));
    }
    // Only a node that held this mailbox (under this, a remembered or a proven earlier
    // registry) hands it over.
    let served_in_proof = proof
        .is_some_and(|r| r.swarm_for(&id).1.iter().any(|n| n.ed25519 == sender.ed25519))
        || ctx.membership.proven_served(&sender.ed25519, &id);
    if !network.served(&sender.ed25519, &id) && !served_in_proof {
        return Err(text(403, "the sender never served this account"));
    }
    drop(network);
    if h.tombstones.iter().any(|t| hush_proto::message_hash::MessageHash::parse(t).is_err()) {
        return Err(text(400, "invalid tombstone"));
    }
    let revocations =
        parse_revocations(&h.revocations).ok_or_else(|| text(400, "invalid revocations"))?;
    if !revocations.is_empty() {
        ctx.store.merge_revocations(id, revocations).await.map_err(|_| text(500, "store error"))?;
    }
    let messages: Vec<StoredMessage> =
        h.messages.into_iter().filter_map(WireMessage::into_stored).collect();
    let (added, _) = ctx
        .store
        .merge(id, h.namespace, messages, h.tombstones, rpc::now(ctx))
        .await
        .map_err(|_| text(500, "store error"))?;
    Ok(json_reply(json!({ "added": added })))
}

/// `GET /network/v1/registry`.
pub(crate) fn registry(ctx: &Ctx) -> Reply {
    match ctx.membership.current().registry() {
        Some(r) => Reply {
            status: 200,
            body: Body::Json(serde_json::to_value(r.signed()).unwrap_or_default()),
        },
        None => text(404, "this node has no network registry"),
    }
}

/// `POST /network/v1/registry`: adopt a newer registry signed by the network key.
pub(crate) fn offer_registry(ctx: &Ctx, body: &[u8]) -> Reply {
    let Some(key) = ctx.network_key else {
        return text(404, "this node is not part of a network");
    };
    match Registry::parse(body, &key) {
        Ok(registry) if ctx.membership.network_name().is_some_and(|n| n != registry.network()) => {
            text(400, "a registry of another network")
        }
        Ok(registry) => {
            let seq = registry.seq();
            let adopted = ctx.membership.adopt(registry);
            if adopted {
                tracing::info!(seq, "adopted a new network registry");
            }
            json_reply(json!({ "adopted": adopted, "seq": seq }))
        }
        Err(e) => Reply { status: 400, body: Body::Text(e.to_string()) },
    }
}
