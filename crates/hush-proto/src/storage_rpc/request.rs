//! Parsing a storage RPC into a typed [`Request`]. Parsing is separate from running so that a
//! `batch` or `sequence` with one malformed subrequest is refused before any of it runs.

use crate::AccountId;
use crate::namespace::Namespace;
use serde_json::{Map, Value};

use super::Namespaces;
use super::params::{Auth, ParamResult, Params, data_value, token_value};

/// Largest message data (§5.6).
pub const MAX_DATA: usize = 76_800;
/// Most subrequests in a batch or sequence.
pub const MAX_SUBREQUESTS: usize = 20;
/// Most tokens revoked at once.
pub const MAX_REVOKE: usize = 50;
/// Most tokens unrevoked at once (only 50 are kept per account anyway).
pub const MAX_UNREVOKE: usize = 1_000;

/// `ttl` or absolute `expiry` of a store.
#[derive(Clone, Copy, Debug)]
pub enum Lifetime {
    /// Time to live (ms).
    Ttl(u64),
    /// Absolute expiry (ms).
    Expiry(u64),
}

/// `store`.
#[derive(Debug)]
pub struct StoreReq {
    /// The account whose mailbox it concerns.
    pub account: AccountId,
    /// The namespace.
    pub namespace: Namespace,
    /// The request's timestamp (ms).
    pub timestamp: u64,
    /// How long the message is kept.
    pub lifetime: Lifetime,
    /// The message data.
    pub data: Vec<u8>,
    /// The time the signature covers, when not `timestamp` (ms).
    pub sig_timestamp: Option<u64>,
    /// Authentication parameters.
    pub auth: Auth,
}

/// `retrieve`.
#[derive(Clone, Debug)]
pub struct RetrieveReq {
    /// hush extension: hold the request up to this long (ms) while there is nothing new.
    pub wait_ms: Option<u64>,
    /// The account whose mailbox it concerns.
    pub account: AccountId,
    /// The namespace.
    pub namespace: Option<Namespace>,
    /// Only messages stored after this one.
    pub last_hash: Option<String>,
    /// Most messages to return.
    pub max_count: Option<i64>,
    /// Byte budget of the answer (negative: a share of the batch budget).
    pub max_size: Option<i64>,
    /// The request's timestamp (ms).
    pub timestamp: Option<u64>,
    /// Authentication parameters.
    pub auth: Auth,
    /// hush extension: list the messages without their data (hash, timestamp, expiration),
    /// for a client that switched members to find what it has not seen before downloading.
    pub hashes_only: bool,
}

/// `delete`.
#[derive(Debug)]
pub struct DeleteReq {
    /// The account whose mailbox it concerns.
    pub account: AccountId,
    /// Message hashes.
    pub hashes: Vec<String>,
    /// The `required` flag: fail unless one of the messages is found.
    pub required: bool,
    /// Authentication parameters.
    pub auth: Auth,
}

/// `delete_all` (no `before`) and `delete_before`.
#[derive(Debug)]
pub struct DeleteWhereReq {
    /// The account whose mailbox it concerns.
    pub account: AccountId,
    /// The namespaces it covers.
    pub namespaces: Namespaces,
    /// `delete_all`: the request timestamp; `delete_before`: `before`.
    pub time: u64,
    /// `delete_before` (else `delete_all`).
    pub before: bool,
    /// Authentication parameters.
    pub auth: Auth,
}

/// `expire_all`.
#[derive(Debug)]
pub struct ExpireAllReq {
    /// The account whose mailbox it concerns.
    pub account: AccountId,
    /// The namespaces it covers.
    pub namespaces: Namespaces,
    /// The new expiry (ms).
    pub expiry: u64,
    /// Authentication parameters.
    pub auth: Auth,
}

/// `expire`.
#[derive(Debug)]
pub struct ExpireReq {
    /// The account whose mailbox it concerns.
    pub account: AccountId,
    /// Message hashes.
    pub hashes: Vec<String>,
    /// One expiry for all, or one per hash.
    pub expiries: Vec<u64>,
    /// Only shorten expiries.
    pub shorten: bool,
    /// Only extend expiries.
    pub extend: bool,
    /// Authentication parameters.
    pub auth: Auth,
}

/// `get_expiries`.
#[derive(Debug)]
pub struct GetExpiriesReq {
    /// The account whose mailbox it concerns.
    pub account: AccountId,
    /// Message hashes.
    pub hashes: Vec<String>,
    /// The request's timestamp (ms).
    pub timestamp: u64,
    /// Authentication parameters.
    pub auth: Auth,
}

/// `revoke_subaccount` and `unrevoke_subaccount`.
#[derive(Debug)]
pub struct RevokeReq {
    /// The account whose mailbox it concerns.
    pub account: AccountId,
    /// Subaccount tokens.
    pub tokens: Vec<[u8; 36]>,
    /// The request's timestamp (ms).
    pub timestamp: u64,
    /// Revoke (or unrevoke).
    pub revoke: bool,
    /// Authentication parameters.
    pub auth: Auth,
}

/// A parsed storage RPC.
#[derive(Debug)]
pub enum Request {
    /// `store`.
    Store(StoreReq),
    /// `retrieve`.
    Retrieve(RetrieveReq),
    /// `delete`.
    Delete(DeleteReq),
    /// `delete_all` and `delete_before`.
    DeleteWhere(DeleteWhereReq),
    /// `expire_all`.
    ExpireAll(ExpireAllReq),
    /// `expire`.
    Expire(ExpireReq),
    /// `get_expiries`.
    GetExpiries(GetExpiriesReq),
    /// `revoke_subaccount` and `unrevoke_subaccount`.
    Revoke(RevokeReq),
    /// `get_swarm` (alias `get_snodes_for_pubkey`).
    GetSwarm(AccountId),
    /// `info`.
    Info,
    /// hush extension: the signed network registry, for clients refreshing their node list
    /// through an onion path.
    NetworkRegistry,
    /// `oxend_request`.
    Oxend {
        /// The oxend endpoint.
        endpoint: String,
        /// Its parameters.
        params: Value,
    },
    /// `batch` and `sequence`.
    Batch {
        /// `sequence`: stop at the first failure.
        sequential: bool,
        /// The subrequests, each with its method name.
        requests: Vec<(&'static str, Self)>,
        /// hush extension: a batch of nothing but `retrieve`s may wait (ms) for a message
        /// in any of their mailboxes, like a single `retrieve` with `wait`.
        wait_ms: Option<u64>,
    },
}

/// Why a request could not be parsed: the HTTP 400 body.
#[derive(Debug)]
pub struct ParseError(
    /// The text.
    pub String,
);

/// The canonical name of a method, or `None` if unknown.
pub fn method_name(method: &str) -> Option<&'static str> {
    Some(match method {
        "store" => "store",
        "retrieve" => "retrieve",
        "delete" => "delete",
        "delete_all" => "delete_all",
        "delete_before" => "delete_before",
        "expire_all" => "expire_all",
        "expire" => "expire",
        "get_expiries" => "get_expiries",
        "revoke_subaccount" => "revoke_subaccount",
        "unrevoke_subaccount" => "unrevoke_subaccount",
        "get_swarm" | "get_snodes_for_pubkey" => "get_swarm",
        "info" => "info",
        "oxend_request" => "oxend_request",
        "network_registry" => "network_registry",
        "batch" => "batch",
        "sequence" => "sequence",
        _ => return None,
    })
}

/// Parses `params` of `method` (a name from [`method_name`]).
pub fn parse(
    method: &'static str,
    params: &Map<String, Value>,
    nested: bool,
) -> Result<Request, ParseError> {
    let p = Params(params);
    let result = match method {
        "store" => store(&p).map(Request::Store),
        "retrieve" => retrieve(&p, nested).map(Request::Retrieve),
        "delete" => delete(&p).map(Request::Delete),
        "delete_all" | "delete_before" => delete_where(&p, method == "delete_before"),
        "expire_all" => expire_all(&p),
        "expire" => expire(&p),
        "get_expiries" => get_expiries(&p),
        "revoke_subaccount" | "unrevoke_subaccount" => revoke(&p, method == "revoke_subaccount"),
        "get_swarm" => p.account().map(Request::GetSwarm),
        "info" => Ok(Request::Info),
        "network_registry" => Ok(Request::NetworkRegistry),
        "oxend_request" => oxend(&p),
        "batch" | "sequence" => return batch(params, method == "sequence", nested),
        _ => return Err(ParseError(format!("no method {method}"))),
    };
    result.map_err(|msg| ParseError(format!("invalid request: {msg}")))
}

fn store(p: &Params<'_>) -> ParamResult<StoreReq> {
    let account = p.account()?;
    let timestamp = p.u64_lenient("timestamp")?.ok_or("Required field 'timestamp' missing")?;
    let lifetime = match (p.get("ttl"), p.get("expiry")) {
        (Some(_), Some(_)) => return Err("Cannot specify both 'ttl' and 'expiry'".to_owned()),
        (Some(_), None) => Lifetime::Ttl(p.u64_lenient("ttl")?.unwrap_or(0)),
        (None, Some(_)) => Lifetime::Expiry(p.required_timestamp("expiry")?),
        (None, None) => return Err("Required field 'expiry' or 'ttl' missing".to_owned()),
    };
    let data = data_value(p.required("data")?, MAX_DATA)?;
    Ok(StoreReq {
        auth: p.auth(&account)?,
        account,
        namespace: p.namespace()?.unwrap_or_default(),
        timestamp,
        lifetime,
        data,
        sig_timestamp: p.timestamp("sig_timestamp")?,
    })
}

/// Longest a `retrieve` may be held open (below the relay and request timeouts).
pub const MAX_WAIT_MS: u64 = 20_000;

fn retrieve(p: &Params<'_>, nested: bool) -> ParamResult<RetrieveReq> {
    let account = p.account()?;
    let last_hash = match p.get_either("last_hash", "lastHash")? {
        None => None,
        Some(v) => {
            let s = v.as_str().ok_or("Invalid last_hash: expected base64 (43 chars)")?;
            if s.is_empty() {
                None
            } else {
                if s.len() != 43 {
                    return Err("Invalid last_hash: expected base64 (43 chars)".to_owned());
                }
                crate::message_hash::MessageHash::parse(s)
                    .map_err(|_| "Invalid last_hash: not base64".to_owned())?;
                Some(s.to_owned())
            }
        }
    };
    // Only a request of its own may wait: a batch answers at once.
    let wait_ms = if nested { None } else { p.u64_lenient("wait")?.map(|w| w.min(MAX_WAIT_MS)) };
    Ok(RetrieveReq {
        wait_ms,
        auth: p.auth(&account)?,
        account,
        namespace: p.namespace()?,
        last_hash,
        max_count: p.i64("max_count")?,
        max_size: p.i64("max_size")?,
        timestamp: p.timestamp("timestamp")?,
        hashes_only: p.bool("hashes_only")?.unwrap_or(false),
    })
}

fn delete(p: &Params<'_>) -> ParamResult<DeleteReq> {
    let account = p.account()?;
    Ok(DeleteReq {
        auth: p.auth(&account)?,
        account,
        hashes: p.hashes()?,
        required: p.bool("required")?.unwrap_or(false),
    })
}

fn delete_where(p: &Params<'_>, before: bool) -> ParamResult<Request> {
    let account = p.account()?;
    let time =
        if before { p.required_timestamp("before")? } else { p.required_timestamp("timestamp")? };
    Ok(Request::DeleteWhere(DeleteWhereReq {
        auth: p.auth(&account)?,
        account,
        namespaces: p.namespaces()?,
        time,
        before,
    }))
}

fn expire_all(p: &Params<'_>) -> ParamResult<Request> {
    let account = p.account()?;
    Ok(Request::ExpireAll(ExpireAllReq {
        auth: p.auth(&account)?,
        account,
        namespaces: p.namespaces()?,
        expiry: p.required_timestamp("expiry")?,
    }))
}

fn expire(p: &Params<'_>) -> ParamResult<Request> {
    let account = p.account()?;
    let hashes = p.hashes()?;
    let expiries = match p.required("expiry")? {
        Value::Array(items) => {
            if items.is_empty() {
                return Err("'expiry' does not contain any expiration timestamps".to_owned());
            }
            if items.len() != hashes.len() {
                return Err(
                    "'expiry' must be a single expiry, or the same length as 'messages'".to_owned()
                );
            }
            items
                .iter()
                .map(|v| {
                    Params(&Map::from_iter([("expiry".to_owned(), v.clone())]))
                        .required_timestamp("expiry")
                })
                .collect::<ParamResult<Vec<u64>>>()?
        }
        _ => vec![p.required_timestamp("expiry")?],
    };
    let shorten = p.bool("shorten")?.unwrap_or(false);
    let extend = p.bool("extend")?.unwrap_or(false);
    if shorten && extend {
        return Err("cannot specify both 'shorten' and 'extend'".to_owned());
    }
    Ok(Request::Expire(ExpireReq {
        auth: p.auth(&account)?,
        account,
        hashes,
        expiries,
        shorten,
        extend,
    }))
}

fn get_expiries(p: &Params<'_>) -> ParamResult<Request> {
    let account = p.account()?;
    Ok(Request::GetExpiries(GetExpiriesReq {
        auth: p.auth(&account)?,
        account,
        hashes: p.hashes()?,
        timestamp: p.required_timestamp("timestamp")?,
    }))
}

fn revoke(p: &Params<'_>, revoke: bool) -> ParamResult<Request> {
    let account = p.account()?;
    let key = if revoke { "revoke" } else { "unrevoke" };
    let list = p.strings(key)?.ok_or_else(|| format!("Required field '{key}' missing"))?;
    if list.is_empty() {
        return Err(format!("Required field '{key}' missing"));
    }
    if revoke && list.len() > MAX_REVOKE {
        return Err("invalid revoke: cannot revoke more than 50 subaccounts at once".to_owned());
    }
    if list.len() > MAX_UNREVOKE {
        return Err(format!("invalid unrevoke: at most {MAX_UNREVOKE} subaccounts at once"));
    }
    let tokens = list
        .iter()
        .map(|t| {
            token_value(t).ok_or_else(|| {
                format!("invalid {key}: expected base64 or hex-encoded subaccount tag")
            })
        })
        .collect::<ParamResult<Vec<_>>>()?;
    // Revocations are signed by the account's own key: subaccount fields are not read.
    let mut auth = p.auth(&account)?;
    auth.subaccount = None;
    Ok(Request::Revoke(RevokeReq {
        account,
        tokens,
        timestamp: p.required_timestamp("timestamp")?,
        revoke,
        auth,
    }))
}

fn oxend(p: &Params<'_>) -> ParamResult<Request> {
    let endpoint = p.str("endpoint")?.ok_or("Required field 'endpoint' missing")?;
    if endpoint != "get_service_nodes" && endpoint != "ons_resolve" {
        return Err(format!(
            "Invalid oxend endpoint '{}'",
            endpoint.chars().take(64).collect::<String>()
        ));
    }
    Ok(Request::Oxend {
        endpoint: endpoint.to_owned(),
        params: p.get("params").cloned().unwrap_or(Value::Null),
    })
}

fn batch(
    params: &Map<String, Value>,
    sequential: bool,
    nested: bool,
) -> Result<Request, ParseError> {
    let err = |m: &str| Err(ParseError(m.to_owned()));
    if nested {
        return err("Invalid batch subrequest: subrequests may not contain meta-requests");
    }
    let Some(Value::Array(list)) = params.get("requests") else {
        return err("Invalid batch request: no valid \"requests\" field");
    };
    if list.is_empty() {
        return err("Invalid batch request: no valid \"requests\" field");
    }
    if list.len() > MAX_SUBREQUESTS {
        return err("Invalid batch request: subrequest limit exceeded");
    }
    let mut requests = Vec::with_capacity(list.len());
    for item in list {
        let (Some(Value::String(method)), Some(Value::Object(sub))) =
            (item.get("method"), item.get("params"))
        else {
            return err("Invalid batch request: subrequests must have method/params keys");
        };
        let Some(name) = method_name(method) else {
            return Err(ParseError(format!(
                "Invalid batch subrequest: invalid method \"{}\"",
                method.chars().take(64).collect::<String>()
            )));
        };
        if matches!(name, "batch" | "sequence") {
            return err("Invalid batch subrequest: subrequests may not contain meta-requests");
        }
        requests.push((name, parse(name, sub, true)?));
    }
    let all_retrieves = requests.iter().all(|(_, r)| matches!(r, Request::Retrieve(_)));
    let wait_ms = match Params(params).u64_lenient("wait").map_err(ParseError)? {
        Some(w) if !sequential && all_retrieves => Some(w.min(MAX_WAIT_MS)),
        _ => None,
    };
    Ok(Request::Batch { sequential, requests, wait_ms })
}
