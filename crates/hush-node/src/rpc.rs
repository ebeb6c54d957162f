//! The storage RPC (`POST /storage_rpc/v1`, and the final hop of onion requests): parse the
//! JSON request into a typed [`request::Request`], check the swarm, the clock and the
//! signature, run it against the [`Store`], and answer as the reference server does
//! (docs/protocol/storage-rpc.md). Recursive methods answer with this node's signed result
//! under `"swarm"`; replication to swarm peers plugs in there.

pub(crate) mod apply;
mod auth;
use hush_proto::storage_rpc::{BodyError, params, request};

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_proto::AccountId;
use hush_proto::message_hash::MessageHash;
use serde_json::{Map, Value, json};

use self::apply::{Mode, Op};
use self::auth::{Need, flags};
use self::request::{
    DeleteReq, DeleteWhereReq, ExpireAllReq, ExpireReq, GetExpiriesReq, Lifetime, Request,
    RetrieveReq, RevokeReq, StoreReq,
};
use crate::clock::Clock;
use crate::identity::NodeIdentity;
use crate::metrics::Metrics;
use crate::network::{Membership, Network, NodeRecord, base32z};
use crate::store::{self, Namespaces, Store, StoreError};

/// The `hf` (hard fork) this node reports: [19, 4] enables multi-expiry `expire`.
pub const HARDFORK: [u64; 2] = [19, 4];
/// Signature timestamps may differ from the node's clock by this much.
const SIGNATURE_WINDOW_MS: u64 = 60_000;
/// Store timestamps may be this far in the future, expiries this far in the past.
const STORE_CLOCK_SLACK_MS: u64 = 10_000;
const MIN_TTL_MS: u64 = 10_000;
const DAY_MS: u64 = 24 * 60 * 60 * 1000;
/// Longest TTL in public-inbox namespaces.
const MAX_TTL_PUBLIC_MS: u64 = 14 * DAY_MS;
/// Longest TTL elsewhere, and the cap on `expire`.
const MAX_TTL_MS: u64 = 30 * DAY_MS;
/// The `retrieve` size cap.
const MAX_RETRIEVE_BYTES: usize = 7_800_000;

/// What the RPC needs from the node.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The message store.
    pub store: Store,
    /// The node's keys.
    pub identity: Arc<NodeIdentity>,
    /// The clock.
    pub clock: Clock,
    /// The network.
    pub membership: Arc<Membership>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// This node's software version.
    pub version: [u16; 3],
    /// Client for other nodes (replication, relaying).
    pub(crate) peers: crate::peer::PeerClient,
    /// Set while the node is cut off from other nodes (a test fault).
    pub(crate) partitioned: Arc<std::sync::atomic::AtomicBool>,
    /// The key network registries must be signed with (none in standalone mode).
    pub(crate) network_key: Option<hush_sodium::ed25519::Ed25519PublicKey>,
    /// What the node saw, when a test records it.
    pub(crate) traffic: Arc<crate::traffic::TrafficLog>,
    /// The health of swarm peers as replication sees it.
    pub(crate) replication: Arc<crate::replication::Peers>,
    /// Whether the node finished its first catch-up with its swarm since it started.
    pub(crate) caught_up: Arc<std::sync::atomic::AtomicBool>,
}

/// A response body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// `application/json`.
    Json(Value),
    /// `text/plain`.
    Text(String),
}

/// An RPC answer: an HTTP status and a body.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Body,
}

impl Reply {
    fn json(status: u16, value: Value) -> Self {
        Self { status, body: Body::Json(value) }
    }

    fn text(status: u16, text: impl Into<String>) -> Self {
        Self { status, body: Body::Text(text.into()) }
    }

    /// The body as a string (JSON serialized).
    pub fn body_string(&self) -> String {
        match &self.body {
            Body::Json(v) => v.to_string(),
            Body::Text(t) => t.clone(),
        }
    }

    /// The body as JSON, or as a JSON string for text.
    fn body_value(self) -> Value {
        match self.body {
            Body::Json(v) => v,
            Body::Text(t) => Value::String(t),
        }
    }
}

pub use hush_proto::storage_rpc::{MAX_JSON_VALUES, json_values_bound};

/// Handles one request body; returns the method name (for metrics) and the reply. `slot` is
/// the request's place among those processed at once: a long-polling `retrieve` gives it up
/// while it waits.
pub async fn handle(
    ctx: &Ctx,
    body: &[u8],
    slot: Option<tokio::sync::SemaphorePermit<'_>>,
) -> (&'static str, Reply) {
    ctx.traffic.rpc(body);
    let (name, parsed) = match hush_proto::storage_rpc::read_body(body) {
        Ok(read) => read,
        Err(e @ BodyError::Invalid(_)) => return ("invalid", Reply::text(400, e.to_string())),
        Err(e @ BodyError::UnknownMethod(_)) => {
            return ("unknown", Reply::text(400, e.to_string()));
        }
    };
    let reply = match parsed {
        Ok(Request::Batch { requests, wait_ms: Some(wait), .. }) if wait > 0 => {
            long_poll_batch(ctx, requests, wait, slot).await
        }
        Ok(Request::Batch { sequential, requests, .. }) => batch(ctx, sequential, requests).await,
        Ok(Request::Retrieve(r)) if r.wait_ms.is_some_and(|w| w > 0) => {
            long_poll(ctx, r, slot).await
        }
        Ok(req) => execute(ctx, req, &mut { MAX_RETRIEVE_BYTES }).await,
        Err(e) => Reply::text(400, e.0),
    };
    (name, reply)
}

/// hush's long poll: a `retrieve` with `wait` that finds nothing new waits (without holding
/// a processing slot) until a message arrives in the mailbox or `wait` ms pass, then answers
/// like a plain `retrieve`. Session nodes ignore `wait` and answer at once.
async fn long_poll(
    ctx: &Ctx,
    r: RetrieveReq,
    slot: Option<tokio::sync::SemaphorePermit<'_>>,
) -> Reply {
    let wait = Duration::from_millis(r.wait_ms.unwrap_or(0));
    let namespace = r.namespace.unwrap_or_default();
    let Some(watch) = ctx.store.watch(r.account, namespace.0) else {
        // Too many waiting already: answer at once.
        return execute(ctx, Request::Retrieve(r), &mut { MAX_RETRIEVE_BYTES }).await;
    };
    // Registered before looking, so a message stored in between still wakes us.
    let arrived = watch.notified();
    tokio::pin!(arrived);
    arrived.as_mut().enable();
    let first = execute(ctx, Request::Retrieve(r.clone()), &mut { MAX_RETRIEVE_BYTES }).await;
    let nothing_new = first.status == 200
        && matches!(&first.body, Body::Json(v) if v["messages"].as_array().is_some_and(Vec::is_empty));
    if !nothing_new {
        return first;
    }
    drop(slot);
    if tokio::time::timeout(wait, arrived).await.is_err() {
        return first;
    }
    execute(ctx, Request::Retrieve(r), &mut { MAX_RETRIEVE_BYTES }).await
}

/// The long poll of a batch of `retrieve`s (hush extension): when none of them finds
/// anything, waits until a message arrives in any of their mailboxes (or `wait_ms` pass) and
/// answers the batch again. One held request covers every namespace a client reads.
async fn long_poll_batch(
    ctx: &Ctx,
    requests: Vec<(&'static str, Request)>,
    wait_ms: u64,
    slot: Option<tokio::sync::SemaphorePermit<'_>>,
) -> Reply {
    let retrieves: Vec<RetrieveReq> = requests
        .iter()
        .filter_map(|(_, r)| match r {
            Request::Retrieve(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    let watches: Option<Vec<_>> = retrieves
        .iter()
        .map(|r| ctx.store.watch(r.account, r.namespace.unwrap_or_default().0))
        .collect();
    let Some(watches) = watches else {
        // Too many waiting already: answer at once.
        return batch(ctx, false, requests).await;
    };
    // Registered before looking, so a message stored in between still wakes us.
    let mut arrived: Vec<_> = watches.iter().map(|w| Box::pin(w.notified())).collect();
    for n in &mut arrived {
        n.as_mut().enable();
    }
    let first = batch(ctx, false, requests).await;
    let nothing_new = matches!(&first.body, Body::Json(v) if v["results"].as_array().is_some_and(|results| {
        results.iter().all(|r| r["code"] == 200 && r["body"]["messages"].as_array().is_some_and(Vec::is_empty))
    }));
    if !nothing_new {
        return first;
    }
    drop(slot);
    let any = std::future::poll_fn(|cx| {
        if arrived.iter_mut().any(|n| n.as_mut().poll(cx).is_ready()) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    });
    if tokio::time::timeout(Duration::from_millis(wait_ms), any).await.is_err() {
        return first;
    }
    let again = retrieves.into_iter().map(|r| ("retrieve", Request::Retrieve(r))).collect();
    batch(ctx, false, again).await
}

async fn batch(ctx: &Ctx, sequential: bool, requests: Vec<(&'static str, Request)>) -> Reply {
    let mut results = Vec::with_capacity(requests.len());
    // One retrieve size budget for the whole batch, so a batch cannot multiply it.
    let mut budget = MAX_RETRIEVE_BYTES;
    for (name, req) in requests {
        let reply = execute(ctx, req, &mut budget).await;
        ctx.metrics.request(name, reply.status);
        let failed = !(200..300).contains(&reply.status);
        results.push(json!({ "code": reply.status, "body": reply.body_value() }));
        if sequential && failed {
            break;
        }
    }
    Reply::json(200, json!({ "results": results }))
}

/// Runs one request; `budget` is what is left of the retrieve size limit (shared by the
/// subrequests of a batch).
async fn execute(ctx: &Ctx, req: Request, budget: &mut usize) -> Reply {
    let result = match req {
        Request::Store(r) => store(ctx, r).await,
        Request::Retrieve(r) => retrieve(ctx, r, budget).await,
        Request::Delete(r) => delete(ctx, r).await,
        Request::DeleteWhere(r) => delete_where(ctx, r).await,
        Request::ExpireAll(r) => expire_all(ctx, r).await,
        Request::Expire(r) => expire(ctx, r).await,
        Request::GetExpiries(r) => get_expiries(ctx, r).await,
        Request::Revoke(r) => revoke(ctx, r).await,
        Request::GetSwarm(account) => Ok(get_swarm(ctx, &account)),
        Request::Info => Ok(info(ctx)),
        Request::NetworkRegistry => Ok(network_registry(ctx)),
        Request::Oxend { endpoint, params } => Ok(oxend(ctx, &endpoint, &params)),
        Request::Batch { .. } => Ok(Reply::text(
            400,
            "Invalid batch subrequest: subrequests may not contain meta-requests",
        )),
    };
    result.unwrap_or_else(|e| e)
}

type Res = Result<Reply, Reply>;

pub(crate) fn now(ctx: &Ctx) -> u64 {
    ctx.clock.now().as_millis()
}

/// `t` and `hf`, added to every JSON answer that carries them.
fn stamped(ctx: &Ctx, mut value: Map<String, Value>) -> Value {
    value.insert("t".to_owned(), json!(now(ctx)));
    value.insert("hf".to_owned(), json!(HARDFORK));
    Value::Object(value)
}

fn storage_error(e: &StoreError) -> Reply {
    match e {
        StoreError::AccountFull | StoreError::NodeFull => Reply::text(507, e.to_string()),
        StoreError::Deleted => Reply::text(409, e.to_string()),
        StoreError::Closed => Reply::text(503, "Service node is not ready: shutting down"),
        other => {
            tracing::error!("storage failure: {other}");
            Reply::text(500, "request failed")
        }
    }
}

/// 421 with the right swarm unless this node serves `account`.
fn check_swarm(ctx: &Ctx, account: &AccountId) -> Result<(), Reply> {
    let network = ctx.membership.current();
    let (_, members) = network.swarm_for(account);
    let own = ctx.identity.ed25519.public();
    if members.iter().any(|n| &n.ed25519 == own) {
        Ok(())
    } else {
        Err(Reply::json(421, swarm_json(ctx, &network, account)))
    }
}

fn within(ctx: &Ctx, t: u64, window: u64) -> bool {
    now(ctx).abs_diff(t) <= window
}

async fn store(ctx: &Ctx, r: StoreReq) -> Res {
    check_swarm(ctx, &r.account)?;
    let expiry = match r.lifetime {
        Lifetime::Ttl(ttl) => r.timestamp.saturating_add(ttl),
        Lifetime::Expiry(e) => e,
    };
    let ttl = expiry.saturating_sub(r.timestamp);
    let max_ttl = if r.namespace.is_public_inbox() { MAX_TTL_PUBLIC_MS } else { MAX_TTL_MS };
    if expiry < r.timestamp || !(MIN_TTL_MS..=max_ttl).contains(&ttl) {
        return Err(Reply::text(403, "Provided expiry/TTL is not valid."));
    }
    let t = now(ctx);
    if r.timestamp > t + STORE_CLOCK_SLACK_MS || expiry < t.saturating_sub(STORE_CLOCK_SLACK_MS) {
        return Err(Reply::text(406, "Timestamp error: check your clock"));
    }
    if !r.namespace.is_public_inbox() {
        if r.auth.signature.is_none() {
            return Err(Reply::text(
                401,
                format!("store: signature required to store to namespace {}", r.namespace),
            ));
        }
        let sig_ts = r.sig_timestamp.unwrap_or(r.timestamp);
        if !within(ctx, sig_ts, SIGNATURE_WINDOW_MS) {
            return Err(Reply::text(406, "store signature timestamp too far from current time"));
        }
        let message = format!("store{}{sig_ts}", r.namespace.signature_part());
        let need_flags = if r.namespace.is_public_outbox() {
            flags::WRITE | flags::DELETE
        } else {
            flags::WRITE
        };
        let need = Need { flags: need_flags, subaccounts: true, read_namespace: None };
        if !auth::verify(&ctx.store, &r.account, &r.auth, message.as_bytes(), need).await {
            return Err(Reply::text(401, "store signature verification failed"));
        }
    }
    let hash = MessageHash::compute(&r.account, r.namespace, &r.data);
    let mut top = Map::new();
    top.insert("hash".to_owned(), json!(hash.as_str()));
    let op = Op::Store {
        account: r.account.to_string(),
        namespace: r.namespace.0,
        timestamp: r.timestamp,
        expiry,
        data: STANDARD.encode(&r.data),
    };
    Ok(apply::respond(ctx, &r.account, op, top, false).await)
}

async fn retrieve(ctx: &Ctx, r: RetrieveReq, budget: &mut usize) -> Res {
    check_swarm(ctx, &r.account)?;
    if !ctx.caught_up.load(std::sync::atomic::Ordering::Relaxed) {
        // Just started: what arrived while this node was down is still on its way here.
        return Err(Reply::text(503, "Service node is catching up with its swarm; try another"));
    }
    let namespace = r.namespace.unwrap_or_default();
    let needs_auth = r.auth.present()
        || r.timestamp.is_some()
        || r.namespace.is_none_or(|ns| !ns.is_public_read());
    if needs_auth {
        if r.auth.signature.is_none() {
            return Err(Reply::text(401, "retrieve: request signature required"));
        }
        let Some(timestamp) = r.timestamp else {
            return Err(Reply::text(400, "invalid request: Required field 'timestamp' missing"));
        };
        if !within(ctx, timestamp, SIGNATURE_WINDOW_MS) {
            return Err(Reply::text(406, "retrieve timestamp too far from current time"));
        }
        let message = format!("retrieve{}{timestamp}", namespace.signature_part());
        let need = Need { flags: flags::READ, subaccounts: true, read_namespace: Some(namespace) };
        if !auth::verify(&ctx.store, &r.account, &r.auth, message.as_bytes(), need).await {
            return Err(Reply::text(401, "retrieve signature verification failed"));
        }
    }
    let max_count = r.max_count.filter(|&n| n > 0);
    let max_size = match r.max_size.filter(|&n| n != 0) {
        Some(n) if n < 0 => {
            MAX_RETRIEVE_BYTES / usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX)
        }
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX).min(MAX_RETRIEVE_BYTES),
        None if max_count.is_none() => MAX_RETRIEVE_BYTES / 5,
        None => MAX_RETRIEVE_BYTES,
    }
    .min(*budget);
    let (messages, more) = ctx
        .store
        .retrieve(store::Retrieve {
            account: r.account,
            namespace,
            last_hash: r.last_hash,
            max_count: max_count.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX)),
            max_size,
            now: now(ctx),
            hashes_only: r.hashes_only,
        })
        .await
        .map_err(|e| storage_error(&e))?;
    let used: usize = messages.iter().map(|m| store::retrieve_size(&m.hash, m.data.len())).sum();
    *budget = budget.saturating_sub(used);
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            if r.hashes_only {
                json!({"hash": m.hash, "timestamp": m.timestamp, "expiration": m.expiry})
            } else {
                json!({
                    "hash": m.hash,
                    "timestamp": m.timestamp,
                    "expiration": m.expiry,
                    "data": STANDARD.encode(&m.data),
                })
            }
        })
        .collect();
    let mut body = Map::new();
    body.insert("messages".to_owned(), Value::Array(messages));
    body.insert("more".to_owned(), json!(more));
    Ok(Reply::json(200, stamped(ctx, body)))
}

async fn delete(ctx: &Ctx, r: DeleteReq) -> Res {
    check_swarm(ctx, &r.account)?;
    let message = format!("delete{}", r.hashes.concat());
    let need = Need { flags: flags::DELETE, subaccounts: true, read_namespace: None };
    if !auth::verify(&ctx.store, &r.account, &r.auth, message.as_bytes(), need).await {
        return Err(Reply::text(401, "delete_msgs signature verification failed"));
    }
    let op = Op::Delete { account: r.account.to_string(), requested: r.hashes };
    Ok(apply::respond(ctx, &r.account, op, Map::new(), r.required).await)
}

/// The namespace of an [`Op`]: `None` for all.
fn namespace_field(ns: Namespaces) -> Option<i16> {
    match ns {
        Namespaces::One(n) => Some(n.0),
        Namespaces::All => None,
    }
}

fn namespaces_part(ns: Namespaces) -> String {
    match ns {
        Namespaces::One(n) => n.signature_part(),
        Namespaces::All => "all".to_owned(),
    }
}

async fn delete_where(ctx: &Ctx, r: DeleteWhereReq) -> Res {
    check_swarm(ctx, &r.account)?;
    let (name, message) = if r.before {
        if r.time > now(ctx) + SIGNATURE_WINDOW_MS {
            return Err(Reply::text(401, "delete_before signature verification failed"));
        }
        ("delete_before", format!("delete_before{}{}", namespaces_part(r.namespaces), r.time))
    } else {
        if !within(ctx, r.time, SIGNATURE_WINDOW_MS) {
            return Err(Reply::text(406, "delete_all timestamp too far from current time"));
        }
        ("delete_all", format!("delete_all{}{}", namespaces_part(r.namespaces), r.time))
    };
    let need = Need { flags: flags::DELETE, subaccounts: true, read_namespace: None };
    if !auth::verify(&ctx.store, &r.account, &r.auth, message.as_bytes(), need).await {
        return Err(Reply::text(401, format!("{name} signature verification failed")));
    }
    let op = Op::DeleteWhere {
        account: r.account.to_string(),
        namespace: namespace_field(r.namespaces),
        before: r.before.then_some(r.time),
        time: r.time,
    };
    Ok(apply::respond(ctx, &r.account, op, Map::new(), false).await)
}

async fn expire_all(ctx: &Ctx, r: ExpireAllReq) -> Res {
    check_swarm(ctx, &r.account)?;
    if r.expiry < now(ctx).saturating_sub(SIGNATURE_WINDOW_MS) {
        return Err(Reply::text(406, "expire_all timestamp too far in the past"));
    }
    let message = format!("expire_all{}{}", namespaces_part(r.namespaces), r.expiry);
    let need = Need { flags: flags::DELETE, subaccounts: true, read_namespace: None };
    if !auth::verify(&ctx.store, &r.account, &r.auth, message.as_bytes(), need).await {
        return Err(Reply::text(401, "expire_all signature verification failed"));
    }
    let op = Op::ExpireAll {
        account: r.account.to_string(),
        namespace: namespace_field(r.namespaces),
        expiry: r.expiry,
    };
    Ok(apply::respond(ctx, &r.account, op, Map::new(), false).await)
}

async fn expire(ctx: &Ctx, r: ExpireReq) -> Res {
    check_swarm(ctx, &r.account)?;
    let t = now(ctx);
    if r.expiries.iter().any(|&e| e < t.saturating_sub(SIGNATURE_WINDOW_MS)) {
        return Err(Reply::text(401, "expire: expiry timestamp is in the past"));
    }
    let mode_part = if r.shorten {
        "shorten"
    } else if r.extend {
        "extend"
    } else {
        ""
    };
    let expiries_part: String = r.expiries.iter().map(u64::to_string).collect();
    let message = format!("expire{mode_part}{expiries_part}{}", r.hashes.concat());
    let need = Need { flags: flags::WRITE, subaccounts: true, read_namespace: None };
    if !auth::verify(&ctx.store, &r.account, &r.auth, message.as_bytes(), need).await {
        return Err(Reply::text(401, "expire: signature verification failed"));
    }
    let can_delete = auth::subaccount_flags(&r.auth).is_none_or(|f| f & flags::DELETE != 0);
    if r.shorten && !can_delete {
        return Err(Reply::text(
            400,
            "expire: shorten parameter cannot be used with this subaccount token (missing \
             delete access)",
        ));
    }
    let mode = if r.shorten {
        Mode::Shorten
    } else if r.extend || !can_delete {
        Mode::Extend
    } else {
        Mode::Any
    };
    let cap = t + MAX_TTL_MS;
    let single = r.expiries.len() == 1;
    let expiries: Vec<u64> =
        (0..r.hashes.len()).map(|i| r.expiries[if single { 0 } else { i }].min(cap)).collect();
    let op = Op::Expire {
        account: r.account.to_string(),
        requested: r.hashes,
        expiries,
        single,
        mode,
        report_unchanged: r.shorten || r.extend,
    };
    Ok(apply::respond(ctx, &r.account, op, Map::new(), false).await)
}

async fn get_expiries(ctx: &Ctx, r: GetExpiriesReq) -> Res {
    check_swarm(ctx, &r.account)?;
    if !within(ctx, r.timestamp, SIGNATURE_WINDOW_MS) {
        return Err(Reply::text(406, "get_expiries timestamp too far from current time"));
    }
    let message = format!("get_expiries{}{}", r.timestamp, r.hashes.concat());
    let need = Need { flags: flags::READ, subaccounts: true, read_namespace: None };
    if !auth::verify(&ctx.store, &r.account, &r.auth, message.as_bytes(), need).await {
        return Err(Reply::text(401, "get_expiries signature verification failed"));
    }
    let found =
        ctx.store.expiries(r.account, r.hashes, now(ctx)).await.map_err(|e| storage_error(&e))?;
    let map: Map<String, Value> = found.into_iter().map(|(h, e)| (h, json!(e))).collect();
    Ok(Reply::json(200, json!({ "expiries": map })))
}

async fn revoke(ctx: &Ctx, r: RevokeReq) -> Res {
    check_swarm(ctx, &r.account)?;
    let name = if r.revoke { "revoke_subaccount" } else { "unrevoke_subaccount" };
    if !within(ctx, r.timestamp, SIGNATURE_WINDOW_MS) {
        return Err(Reply::text(406, format!("{name} timestamp too far from current time")));
    }
    let mut message = format!("{name}{}", r.timestamp).into_bytes();
    for t in &r.tokens {
        message.extend_from_slice(t);
    }
    let need = Need { flags: 0, subaccounts: false, read_namespace: None };
    if !auth::verify(&ctx.store, &r.account, &r.auth, &message, need).await {
        return Err(Reply::text(401, format!("{name} signature verification failed")));
    }
    let op = Op::Revoke {
        account: r.account.to_string(),
        tokens: r.tokens.iter().map(hex::encode).collect(),
        timestamp: r.timestamp,
        revoke: r.revoke,
    };
    Ok(apply::respond(ctx, &r.account, op, Map::new(), false).await)
}

/// One node in `get_swarm` form.
fn snode_json(n: &NodeRecord) -> Value {
    let ed = hex::encode(n.ed25519.as_bytes());
    json!({
        "address": format!("{}.snode", base32z(n.ed25519.as_bytes())),
        "pubkey_legacy": ed,
        "pubkey_x25519": hex::encode(n.x25519.as_bytes()),
        "pubkey_ed25519": ed,
        "port": n.https_port.to_string(),
        "port_https": n.https_port,
        "port_omq": 0,
        "port_quic": 0,
        "ip": n.ip.to_string(),
    })
}

fn swarm_json(ctx: &Ctx, network: &Network, account: &AccountId) -> Value {
    let (swarm, members) = network.swarm_for(account);
    let mut body = Map::new();
    body.insert("snodes".to_owned(), members.into_iter().map(snode_json).collect());
    body.insert("swarm".to_owned(), json!(format!("{:x}", swarm.0)));
    stamped(ctx, body)
}

fn get_swarm(ctx: &Ctx, account: &AccountId) -> Reply {
    Reply::json(200, swarm_json(ctx, &ctx.membership.current(), account))
}

fn network_registry(ctx: &Ctx) -> Reply {
    match ctx.membership.current().registry() {
        Some(r) => {
            let mut body = Map::new();
            body.insert(
                "registry".to_owned(),
                serde_json::to_value(r.signed()).unwrap_or_default(),
            );
            Reply::json(200, stamped(ctx, body))
        }
        None => Reply::text(404, "this node has no network registry"),
    }
}

fn info(ctx: &Ctx) -> Reply {
    let mut body = Map::new();
    body.insert("version".to_owned(), json!(ctx.version));
    body.insert("timestamp".to_owned(), json!(now(ctx)));
    Reply::json(200, stamped(ctx, body))
}

fn oxend(ctx: &Ctx, endpoint: &str, params: &Value) -> Reply {
    if endpoint != "get_service_nodes" {
        return Reply::text(400, "ONS is not available on this network");
    }
    let result = service_nodes(&ctx.membership.current(), params);
    let mut body = Map::new();
    body.insert("result".to_owned(), result);
    Reply::json(200, stamped(ctx, body))
}

/// The oxend `get_service_nodes` / seed `get_n_service_nodes` result for `params`
/// (`fields` filter, `limit`; see docs/protocol/storage-rpc.md).
pub fn service_nodes(network: &Network, params: &Value) -> Value {
    let wanted = |name: &str| -> bool {
        match params.get("fields") {
            Some(Value::Array(list)) if !list.is_empty() => {
                list.iter().any(|f| f.as_str() == Some(name) || f.as_str() == Some("all"))
            }
            Some(Value::Object(map)) if map.values().any(|v| v.as_bool() == Some(true)) => {
                map.get(name).and_then(Value::as_bool) == Some(true)
            }
            _ => true,
        }
    };
    let limit = params.get("limit").and_then(Value::as_i64).unwrap_or(0);
    let mut states: Vec<Value> = network
        .nodes()
        .iter()
        .map(|n| {
            let ed = hex::encode(n.ed25519.as_bytes());
            let all = [
                ("public_ip", json!(n.ip.to_string())),
                ("storage_port", json!(n.https_port)),
                ("storage_lmq_port", json!(0)),
                ("quorumnet_port", json!(0)),
                ("storage_server_version", json!(n.version)),
                ("pubkey_ed25519", json!(ed)),
                ("pubkey_x25519", json!(hex::encode(n.x25519.as_bytes()))),
                ("service_node_pubkey", json!(ed)),
                ("swarm_id", json!(n.swarm_id.0)),
                ("swarm", json!(format!("{:x}", n.swarm_id.0))),
                ("requested_unlock_height", json!(0)),
                ("funded", json!(true)),
                ("active", json!(true)),
            ];
            Value::Object(
                all.into_iter()
                    .filter(|(k, _)| wanted(k))
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            )
        })
        .collect();
    let limit = usize::try_from(limit).unwrap_or(0);
    if limit > 0 && limit < states.len() {
        // A random subset, as oxend answers a positive `limit`.
        for i in (1..states.len()).rev() {
            let r = u64::from_le_bytes(hush_sodium::Csprng::array(&mut hush_sodium::SystemRng));
            let j = usize::try_from(r % (i as u64 + 1)).unwrap_or(0);
            states.swap(i, j);
        }
        states.truncate(limit);
    }
    let mut result = Map::new();
    result.insert("service_node_states".to_owned(), Value::Array(states));
    for (k, v) in [
        ("height", json!(network.height())),
        ("target_height", json!(network.height())),
        ("hardfork", json!(HARDFORK[0])),
        ("snode_revision", json!(HARDFORK[1])),
    ] {
        if wanted(k) {
            result.insert(k.to_owned(), v);
        }
    }
    result.insert("status".to_owned(), json!("OK"));
    Value::Object(result)
}
