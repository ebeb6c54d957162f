//! The node-to-node endpoints (all `POST`, all signed by the sending node; see `peer.rs`):
//!
//! | path | from | what |
//! |---|---|---|
//! | `/swarm/v1/apply` | a member of the account's swarm | apply a replicated [`Op`], answer this node's signed result |
//! | `/swarm/v1/summary` | a swarm peer | the `(account, namespace, count, digest)` of every mailbox the peer serves |
//! | `/swarm/v1/mailbox` | a swarm peer | the hashes and tombstones of one mailbox |
//! | `/swarm/v1/fetch` | a swarm peer | messages by hash |
//! | `/swarm/v1/handoff` | any node of the network | messages and tombstones of a mailbox this node now serves |
//!
//! and the registry: `GET /network/v1/registry` (the registry this node uses) and
//! `POST /network/v1/registry` (offer a newer signed registry).

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

/// A mailbox handed to its new swarm.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Handoff {
    pub(crate) account: String,
    pub(crate) namespace: i16,
    pub(crate) messages: Vec<WireMessage>,
    pub(crate) tombstones: Vec<String>,
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

/// Handles a signed node-to-node request to `path`.
pub(crate) async fn handle(ctx: &Ctx, path: &str, headers: &http::HeaderMap, body: &[u8]) -> Reply {
    if ctx.partitioned.load(std::sync::atomic::Ordering::Relaxed) {
        return text(503, "partitioned");
    }
    let network = ctx.membership.current();
    // A node taken out of the network may still hand off what it held.
    let former = path == "/swarm/v1/handoff";
    let sender = match crate::peer::verify(&network, headers, path, body, rpc::now(ctx), former) {
        Ok(sender) => sender,
        Err(reason) => return text(401, reason),
    };
    drop(network);
    let result = match path {
        apply::APPLY_PATH => apply_op(ctx, &sender, body).await,
        "/swarm/v1/summary" => summary(ctx, &sender).await,
        "/swarm/v1/mailbox" => mailbox(ctx, &sender, body).await,
        "/swarm/v1/fetch" => fetch(ctx, &sender, body).await,
        "/swarm/v1/handoff" => handoff(ctx, body).await,
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

async fn summary(ctx: &Ctx, sender: &NodeRecord) -> Result<Reply, Reply> {
    let all = ctx.store.summary().await.map_err(|_| text(500, "store error"))?;
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
    Ok(json_reply(json!({ "mailboxes": entries })))
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

async fn handoff(ctx: &Ctx, body: &[u8]) -> Result<Reply, Reply> {
    let h: Handoff = serde_json::from_slice(body).map_err(|_| text(400, "invalid handoff"))?;
    if h.messages.len() > MAX_HANDOFF {
        return Err(text(400, "too many messages"));
    }
    let id = account(&h.account)?;
    if !ctx.membership.current().serves(ctx.identity.ed25519.public(), &id) {
        return Err(text(421, "not a member of this account's swarm"));
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
