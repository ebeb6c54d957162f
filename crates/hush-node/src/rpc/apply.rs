//! Changes that replicate across a swarm, and how one node applies them.
//!
//! A recursive request (store, delete, delete_all, delete_before, expire_all, expire,
//! (un)revoke_subaccount) is checked once, by the node the client reached, and becomes an
//! [`Op`]. That node applies it, forwards it to every other member of the account's swarm
//! (`POST /swarm/v1/apply`, signed with its node key) and answers with every node's signed
//! result under `"swarm"`. Each member applies the op with the same [`apply`] and signs its
//! own result, so a client can check what each node did.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_proto::AccountId;
use hush_proto::message_hash::MessageHash;
use hush_proto::namespace::Namespace;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{Ctx, Reply, now, stamped, storage_error};
use crate::peer::PeerError;
use crate::store::{self, ExpireMode, Namespaces};

/// Path of the peer endpoint that applies an [`Op`].
pub(crate) const APPLY_PATH: &str = "/swarm/v1/apply";

/// How an `expire` may move expiries (serialisable form of [`ExpireMode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    Any,
    Extend,
    Shorten,
}

/// A change to apply on every member of a swarm. Accounts and hashes are strings on the
/// wire and validated again by each receiving node.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Op {
    Store {
        account: String,
        namespace: i16,
        timestamp: u64,
        expiry: u64,
        data: String,
    },
    Delete {
        account: String,
        requested: Vec<String>,
    },
    /// `delete_all` (`before` absent) or `delete_before`; `time` is what the node signs.
    DeleteWhere {
        account: String,
        namespace: Option<i16>,
        before: Option<u64>,
        time: u64,
    },
    ExpireAll {
        account: String,
        namespace: Option<i16>,
        expiry: u64,
    },
    /// `expiries` holds the applied (capped) expiry of each requested hash.
    Expire {
        account: String,
        requested: Vec<String>,
        expiries: Vec<u64>,
        single: bool,
        mode: Mode,
        report_unchanged: bool,
    },
    Revoke {
        account: String,
        tokens: Vec<String>,
        timestamp: u64,
        revoke: bool,
    },
}

impl Op {
    /// The account the op changes.
    pub(crate) fn account(&self) -> Result<AccountId, Reply> {
        let s = match self {
            Self::Store { account, .. }
            | Self::Delete { account, .. }
            | Self::DeleteWhere { account, .. }
            | Self::ExpireAll { account, .. }
            | Self::Expire { account, .. }
            | Self::Revoke { account, .. } => account,
        };
        AccountId::parse(s).map_err(|_| Reply::text(400, "invalid account"))
    }
}

fn namespaces(ns: Option<i16>) -> Namespaces {
    ns.map_or(Namespaces::All, |n| Namespaces::One(Namespace(n)))
}

/// `deleted`/`updated` for one namespace (a list) or all (a map namespace → list).
fn by_namespace(ns: Namespaces, items: &[(i16, String)]) -> Value {
    match ns {
        Namespaces::One(_) => json!(items.iter().map(|(_, h)| h).collect::<Vec<_>>()),
        Namespaces::All => {
            let mut map: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
            for (n, h) in items {
                map.entry(n.to_string()).or_default().push(h);
            }
            json!(map)
        }
    }
}

fn valid_hashes(hashes: &[String]) -> Result<(), Reply> {
    if hashes.len() > super::params::MAX_HASHES
        || hashes.iter().any(|h| MessageHash::parse(h).is_err())
    {
        return Err(Reply::text(400, "invalid message hash"));
    }
    Ok(())
}

/// Applies `op` to this node's store and returns its signed result.
pub(crate) async fn apply(ctx: &Ctx, op: &Op) -> Result<Map<String, Value>, Reply> {
    let account = op.account()?;
    let t = now(ctx);
    let mut result = Map::new();
    let signed: Vec<u8> = match op {
        Op::Store { namespace, timestamp, expiry, data, .. } => {
            let namespace = Namespace(*namespace);
            let data =
                super::params::data_value(&Value::String(data.clone()), super::request::MAX_DATA)
                    .map_err(|e| Reply::text(400, e))?;
            let hash = MessageHash::compute(&account, namespace, &data);
            let stored = ctx
                .store
                .store(
                    store::NewMessage {
                        account,
                        namespace,
                        hash: hash.clone(),
                        timestamp: *timestamp,
                        expiry: *expiry,
                        data,
                    },
                    t,
                )
                .await
                .map_err(|e| storage_error(&e))?;
            if !stored.already {
                ctx.metrics.stored_message();
            }
            if stored.evicted > 0 {
                ctx.metrics.inbox_evicted(stored.evicted);
            }
            result.insert("hash".to_owned(), json!(hash.as_str()));
            result.insert("expiry".to_owned(), json!(stored.expiry));
            if stored.already {
                result.insert("already".to_owned(), json!(true));
            }
            result.insert("t".to_owned(), json!(t));
            hash.as_str().as_bytes().to_vec()
        }
        Op::Delete { requested, .. } => {
            valid_hashes(requested)?;
            let deleted = ctx
                .store
                .delete(account, requested.clone(), t)
                .await
                .map_err(|e| storage_error(&e))?;
            let signed = format!("{account}{}{}", requested.concat(), deleted.concat());
            result.insert("deleted".to_owned(), json!(deleted));
            signed.into_bytes()
        }
        Op::DeleteWhere { namespace, before, time, .. } => {
            let ns = namespaces(*namespace);
            let deleted = ctx
                .store
                .delete_where(account, ns, *before, t)
                .await
                .map_err(|e| storage_error(&e))?;
            let hashes: String = deleted.iter().map(|(_, h)| h.as_str()).collect();
            result.insert("deleted".to_owned(), by_namespace(ns, &deleted));
            format!("{account}{time}{hashes}").into_bytes()
        }
        Op::ExpireAll { namespace, expiry, .. } => {
            let ns = namespaces(*namespace);
            let updated =
                ctx.store.expire_all(account, ns, *expiry).await.map_err(|e| storage_error(&e))?;
            let hashes: String = updated.iter().map(|(_, h)| h.as_str()).collect();
            result.insert("updated".to_owned(), by_namespace(ns, &updated));
            format!("{account}{expiry}{hashes}").into_bytes()
        }
        Op::Expire { requested, expiries, single, mode, report_unchanged, .. } => {
            valid_hashes(requested)?;
            if expiries.len() != requested.len() {
                return Err(Reply::text(400, "one expiry per message"));
            }
            let mode = match mode {
                Mode::Any => ExpireMode::Any,
                Mode::Extend => ExpireMode::Extend,
                Mode::Shorten => ExpireMode::Shorten,
            };
            let changes: Vec<(String, u64)> =
                requested.iter().cloned().zip(expiries.iter().copied()).collect();
            let outcome =
                ctx.store.expire(account, changes, mode, t).await.map_err(|e| storage_error(&e))?;
            let updated: Vec<&str> = outcome.updated.iter().map(|(h, _)| h.as_str()).collect();
            let (expiry_value, expiry_part) = if *single {
                let applied = expiries.first().copied().unwrap_or(0);
                (json!(applied), applied.to_string())
            } else {
                let list: Vec<u64> = outcome.updated.iter().map(|(_, e)| *e).collect();
                (json!(list), list.iter().map(u64::to_string).collect())
            };
            let mut signed =
                format!("{account}{expiry_part}{}{}", requested.concat(), updated.concat());
            result.insert("updated".to_owned(), json!(updated));
            result.insert("expiry".to_owned(), expiry_value);
            if *report_unchanged {
                let mut unchanged = Map::new();
                for (h, e) in &outcome.unchanged {
                    signed.push_str(h);
                    signed.push_str(&e.to_string());
                    unchanged.insert(h.clone(), json!(e));
                }
                result.insert("unchanged".to_owned(), Value::Object(unchanged));
            }
            signed.into_bytes()
        }
        Op::Revoke { tokens, timestamp, revoke, .. } => {
            let raw: Vec<[u8; 36]> = tokens
                .iter()
                .map(|t| {
                    super::params::token_value(t).ok_or_else(|| Reply::text(400, "invalid token"))
                })
                .collect::<Result<_, _>>()?;
            if *revoke {
                ctx.store.revoke(account, raw.clone(), t).await.map_err(|e| storage_error(&e))?;
            } else {
                let count = ctx
                    .store
                    .unrevoke(account, raw.clone())
                    .await
                    .map_err(|e| storage_error(&e))?;
                result.insert("count".to_owned(), json!(count));
            }
            let mut signed = format!("{account}{timestamp}").into_bytes();
            for t in &raw {
                signed.extend_from_slice(t);
            }
            signed
        }
    };
    let signature = ctx.identity.ed25519.sign(&signed);
    result.insert("signature".to_owned(), json!(STANDARD.encode(signature.as_bytes())));
    Ok(result)
}

/// Applies `op` here, forwards it to the other members of the account's swarm, and answers
/// with the members' results under `"swarm"` (plus `top` fields). A peer that fails shows as
/// `{"failed": true, …}`; the answer is 200 unless every node failed. With `required` (a
/// `delete`), the answer is 404 when no node deleted anything.
///
/// The answer does not wait for every member ([`crate::replication`]): once the change is
/// durable here and applied by a majority of the swarm, stragglers get a short grace and then
/// show as `{"failed": true, "timeout": true}` while their copy goes on in the background; a
/// member that was slow is not waited for again for a while; catch-up repairs what a member
/// missed.
pub(crate) async fn respond(
    ctx: &Ctx,
    account: &AccountId,
    op: Op,
    top: Map<String, Value>,
    required: bool,
) -> Reply {
    let own = match apply(ctx, &op).await {
        Ok(result) => Value::Object(result),
        Err(reply) => return reply,
    };
    let mut swarm = Map::new();
    swarm.insert(hex::encode(ctx.identity.ed25519.public().as_bytes()), own);

    let network = ctx.membership.current();
    let me = ctx.identity.ed25519.public();
    let peers: Vec<_> =
        network.swarm_for(account).1.into_iter().filter(|n| &n.ed25519 != me).cloned().collect();
    drop(network);
    let body = serde_json::to_vec(&op).expect("invariant: an op always serializes");
    // A delete that must say whether anything was deleted hears every member out (a store
    // is not held up for a member's tombstone: a 409 that comes too late is applied by
    // catch-up, which deletes the copy again).
    for (key, result) in crate::replication::replicate(ctx, peers, body, required).await {
        swarm.insert(key, result);
    }
    // A member that holds the message's tombstone refuses it (409): the message was deleted,
    // and catch-up would delete this copy too. Refuse it here as well rather than
    // acknowledge a message that is about to disappear.
    if let Op::Store { namespace, .. } = &op {
        let refused = swarm.values().any(|v| v.get("code").and_then(Value::as_str) == Some("409"));
        let hash = swarm
            .get(&hex::encode(ctx.identity.ed25519.public().as_bytes()))
            .and_then(|v| v.get("hash"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let (true, Some(hash)) = (refused, hash) {
            let _ = ctx.store.merge(*account, *namespace, Vec::new(), vec![hash], now(ctx)).await;
            return Reply::text(409, store::StoreError::Deleted.to_string());
        }
    }
    let all_failed = swarm.values().all(|v| v.get("failed").is_some());
    let nothing_deleted = swarm
        .values()
        .all(|v| v.get("deleted").and_then(Value::as_array).is_none_or(Vec::is_empty));
    let mut body = top;
    body.insert("swarm".to_owned(), Value::Object(swarm));
    let status = if all_failed {
        500
    } else if required && nothing_deleted {
        404
    } else {
        200
    };
    Reply::json(status, stamped(ctx, body))
}

/// A peer's answer as its entry under `"swarm"`.
pub(crate) fn peer_result(answer: Result<(u16, bool, bytes::Bytes), PeerError>) -> Value {
    match answer {
        Ok((200, _, body)) => serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|mut v| v.get_mut("result").map(Value::take))
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({"failed": true, "bad_peer_response": true})),
        Ok((status, _, body)) => json!({
            "failed": true,
            "code": status.to_string(),
            "reason": String::from_utf8_lossy(&body[..body.len().min(200)]),
        }),
        Err(PeerError::Timeout) => json!({"failed": true, "timeout": true}),
        Err(_) => json!({"failed": true, "query_failure": true}),
    }
}
