//! The HTTPS server: TLS (rustls, ring) → HTTP/1.1 (hyper) → routes.
//!
//! Bounds everywhere: a connection limit (excess connections are closed at once), a TLS
//! handshake timeout, a header read timeout (slowloris), a body size limit, a per-request
//! timeout, a limit on requests processed at once, and per-address rate limits (nodes of the
//! network, which relay onion requests for many clients, are exempt).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, SemaphorePermit, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use crate::config::NodeConfig;
use crate::ratelimit::{ConnectionCounts, RateLimiter};
use crate::relay;
use crate::rpc;

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A slow sender gets this long to deliver its body (slowloris on bodies).
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
const SERVER: &str = concat!("hush-node/", env!("CARGO_PKG_VERSION"));

/// Shared state of all connections.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) rpc: rpc::Ctx,
    pub(crate) config: NodeConfig,
    pub(crate) limiter: RateLimiter,
    pub(crate) busy: Semaphore,
    pub(crate) bodies: Arc<crate::bodies::BodyBudget>,
    pub(crate) started: Instant,
    /// A test fault: every answer waits this long first (ms; 0: none).
    pub(crate) delay_ms: Arc<std::sync::atomic::AtomicU64>,
}

type Reply = Response<Full<Bytes>>;

fn reply(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    headers.insert(header::SERVER, header::HeaderValue::from_static(SERVER));
    resp
}

fn text(status: u16, body: impl Into<String>) -> Reply {
    reply(status, "text/plain; charset=utf-8", body.into())
}

fn rpc_reply(r: rpc::Reply) -> Reply {
    match r.body {
        rpc::Body::Json(v) => reply(r.status, "application/json", v.to_string()),
        rpc::Body::Text(t) => text(r.status, t),
    }
}

/// A node-to-node answer, signed for the request it answers (see `peer.rs`).
fn signed_peer_reply(state: &State, request: &http::HeaderMap, r: rpc::Reply) -> Reply {
    let (content_type, body): (&'static str, Bytes) = match r.body {
        rpc::Body::Json(v) => ("application/json", v.to_string().into()),
        rpc::Body::Text(t) => ("text/plain; charset=utf-8", t.into()),
    };
    let request_sig = request
        .get(crate::peer::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let sig = crate::peer::sign_answer(&state.rpc.identity.ed25519, request_sig, r.status, &body);
    let mut resp = reply(r.status, content_type, body);
    if let Ok(value) = header::HeaderValue::from_str(&sig) {
        resp.headers_mut().insert(crate::peer::SIGNATURE_HEADER, value);
    }
    resp
}

/// Accepts connections until `shutdown` turns true, then lets open connections finish their
/// requests (up to the request timeout) before returning.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: TlsAcceptor,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let connections = Arc::new(Semaphore::new(state.config.max_connections));
    let per_address = Arc::new(ConnectionCounts::default());
    let own = *state.rpc.identity.ed25519.public();
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // Out of file descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                // Other nodes relay for many clients: only client addresses are capped.
                // An IPv4 client of a dual-stack listener is itself, not `::ffff:a.b.c.d`.
                let ip = peer.ip().to_canonical();
                let counted = if state.rpc.membership.current().is_other_node_ip(ip, &own) {
                    None
                } else {
                    let Some(counted) = per_address.enter(ip, state.config.max_connections_per_ip)
                    else {
                        state.rpc.metrics.connection_refused();
                        drop(stream);
                        continue;
                    };
                    Some(counted)
                };
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    state.rpc.metrics.connection_refused();
                    drop(stream);
                    continue;
                };
                let (tls, state, shutdown) = (tls.clone(), state.clone(), shutdown.clone());
                tasks.spawn(async move {
                    connection(stream, peer, tls, state, shutdown).await;
                    drop(permit);
                    drop(counted);
                });
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let deadline = state.config.request_timeout() + Duration::from_secs(1);
    let _ =
        tokio::time::timeout(deadline, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    tls: TlsAcceptor,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let Ok(Ok(tls_stream)) = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(stream)).await
    else {
        return;
    };
    let ip = peer.ip().to_canonical();
    let service = service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(route(&state, ip, req).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true)
        .serve_connection(TokioIo::new(tls_stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn route(state: &State, ip: IpAddr, req: Request<Incoming>) -> Reply {
    let delay = state.delay_ms.load(std::sync::atomic::Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let now = state.started.elapsed();
    let own = state.rpc.identity.ed25519.public();
    // The client API is rate-limited per address; operator scrapes of /metrics are not.
    let network = state.rpc.membership.current();
    let path = req.uri().path();
    // Other nodes' addresses are exempt (they relay for many clients and replicate). This
    // node's own address is not, since its clients may share it — except for swarm requests
    // that name another node of the registry at that address (several nodes on one machine;
    // the signature is checked before anything is done for them).
    let named_node = || {
        let key = req.headers().get("x-hush-node")?.to_str().ok()?;
        let mut raw = [0u8; 32];
        hex::decode_to_slice(key, &mut raw).ok()?;
        let key = hush_sodium::ed25519::Ed25519PublicKey::from_bytes(raw);
        network.node(&key).filter(|n| n.ip == ip && &n.ed25519 != own)
    };
    // A node on this node's own address relaying an onion request shows a credential.
    let relayed_by_node = || {
        named_node().is_some_and(|n| {
            crate::peer::relay_credential_valid(
                own,
                &n.ed25519,
                req.headers(),
                path,
                rpc::now(&state.rpc),
            )
        })
    };
    let from_node = network.is_other_node_ip(ip, own)
        || (path.starts_with("/swarm/") && named_node().is_some())
        || (path == "/onion_req/v2" && relayed_by_node());
    let exempt = (req.method() == Method::GET && path == "/metrics") || from_node;
    drop(network);
    // Whose share of the body budget a body counts against (nodes: the total only).
    let sender = (!from_node).then_some(ip);
    if !exempt && !state.limiter.allow(ip, now) {
        state.rpc.metrics.rate_limited();
        return text(429, "Too Many Requests\n");
    }
    if req.headers().contains_key("x-loki-long-poll") {
        return text(410, "long polling is no longer supported, client upgrade required");
    }
    let path = req.uri().path().to_owned();
    match (req.method().clone(), path.as_str()) {
        (Method::POST, "/storage_rpc/v1") => {
            with_body(state, sender, req, |body, slot| async move {
                state.rpc.traffic.http(ip, "/storage_rpc/v1", &body);
                let (method, reply) = rpc::handle(&state.rpc, &body, Some(slot)).await;
                state.rpc.metrics.request(method, reply.status);
                rpc_reply(reply)
            })
            .await
        }
        (Method::POST, "/onion_req/v2") => {
            with_body(state, sender, req, |body, slot| async move {
                state.rpc.traffic.http(ip, "/onion_req/v2", &body);
                let r = relay::handle(&state.rpc, &state.rpc.peers, &body, slot).await;
                let content_type =
                    if r.json { "application/json" } else { "text/plain; charset=utf-8" };
                reply(r.status, content_type, r.body)
            })
            .await
        }
        (Method::POST, "/json_rpc") => {
            with_body(state, sender, req, |body, _slot| async move { seed(state, &body) }).await
        }
        (Method::POST, p) if p.starts_with("/swarm/v1/") => {
            let headers = req.headers().clone();
            with_body(state, sender, req, |body, _slot| async move {
                let r = crate::swarm_api::handle(&state.rpc, &path, &headers, &body).await;
                signed_peer_reply(state, &headers, r)
            })
            .await
        }
        (Method::GET, "/network/v1/registry") => rpc_reply(crate::swarm_api::registry(&state.rpc)),
        (Method::POST, "/network/v1/registry") => {
            with_body(state, sender, req, |body, _slot| async move {
                rpc_reply(crate::swarm_api::offer_registry(&state.rpc, &body))
            })
            .await
        }
        (Method::GET, "/metrics") => {
            let (messages, bytes) = state.rpc.store.usage().await.unwrap_or((0, 0));
            let mut text = state.rpc.metrics.render(messages, bytes);
            text.push_str(&format!(
                "# HELP hush_node_body_bytes_in_flight Bytes of request bodies held in memory.\n\
                 # TYPE hush_node_body_bytes_in_flight gauge\nhush_node_body_bytes_in_flight {}\n",
                state.bodies.used()
            ));
            reply(200, "text/plain; version=0.0.4", text)
        }
        (Method::POST, "/ping_test/v1") => text(200, ""),
        (method, _) => {
            let shown: String = path.chars().take(64).collect();
            text(404, format!("{method} {shown} Not Found"))
        }
    }
}

/// Reads the body (bounded in size and time, its memory taken from the body budget as the
/// bytes arrive: see [`crate::bodies`]) and then runs `f` with it and the request's slot, one
/// of at most `max_concurrent_requests` processed at a time. The slot is taken only once the
/// whole body is in, so slow senders hold no slot. `f` may drop the slot early (before
/// waiting on another node). `sender` is the client address (`None` for another node).
async fn with_body<'a, F, Fut>(
    state: &'a State,
    sender: Option<IpAddr>,
    req: Request<Incoming>,
    f: F,
) -> Reply
where
    F: FnOnce(Bytes, SemaphorePermit<'a>) -> Fut,
    Fut: Future<Output = Reply> + 'a,
{
    let max = state.config.max_request_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return text(413, "Request body too large");
    }
    let timeout = state.config.request_timeout();
    let work = async {
        let mut charge = state.bodies.charge(sender);
        let body = match tokio::time::timeout(
            BODY_READ_TIMEOUT,
            read_body(req.into_body(), max, &mut charge),
        )
        .await
        {
            Ok(Ok(body)) => body,
            Ok(Err(reply)) => {
                state.rpc.metrics.body_refused();
                return reply;
            }
            Err(_) => return text(408, "Request Timeout"),
        };
        let Ok(slot) = state.busy.acquire().await else {
            return text(503, "Server busy, try again later");
        };
        let reply = f(body, slot).await;
        drop(charge);
        reply
    };
    tokio::time::timeout(timeout, work).await.unwrap_or_else(|_| text(408, "Request Timeout"))
}

/// Reads a body of at most `max` bytes, charging each chunk as it arrives. Nothing is
/// allocated ahead of the bytes (a declared length costs nothing): the chunks are kept as
/// they came and joined once the body is complete.
async fn read_body(
    mut body: Incoming,
    max: usize,
    charge: &mut crate::bodies::Charge,
) -> Result<Bytes, Reply> {
    use crate::bodies::Refused;
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(text(400, "invalid request body")) };
        let Ok(data) = frame.into_data() else { continue };
        if len + data.len() > max {
            return Err(text(413, "Request body too large"));
        }
        match charge.add(data.len()) {
            Ok(()) => {}
            Err(Refused::Full) => return Err(text(503, "Server busy, try again later")),
            Err(Refused::AddressShare) => {
                return Err(text(
                    503,
                    "Server busy: too many request bodies in flight from your address",
                ));
            }
        }
        len += data.len();
        chunks.push(data);
    }
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => {
            let mut joined = Vec::with_capacity(len);
            for chunk in &chunks {
                joined.extend_from_slice(chunk);
            }
            Bytes::from(joined)
        }
    })
}

/// The seed endpoint: JSON-RPC `get_n_service_nodes` (session-protocol.md §8).
fn seed(state: &State, body: &[u8]) -> Reply {
    if rpc::json_values_bound(body) > rpc::MAX_JSON_VALUES {
        return text(400, "invalid json: too many values");
    }
    let Ok(req) = serde_json::from_slice::<serde_json::Value>(body) else {
        return text(400, "invalid json");
    };
    let method = req.get("method").and_then(serde_json::Value::as_str).unwrap_or("");
    if method != "get_n_service_nodes" && method != "get_service_nodes" {
        let shown: String = method.chars().take(64).collect();
        return reply(
            200,
            "application/json",
            serde_json::json!({
                "jsonrpc": "2.0",
                "id": req.get("id").cloned().unwrap_or_default(),
                "error": { "code": -32601, "message": format!("Method not found: {shown}") },
            })
            .to_string(),
        );
    }
    let params = req.get("params").cloned().unwrap_or_default();
    let result = rpc::service_nodes(&state.rpc.membership.current(), &params);
    reply(
        200,
        "application/json",
        serde_json::json!({
            "jsonrpc": "2.0",
            "id": req.get("id").cloned().unwrap_or_default(),
            "result": result,
        })
        .to_string(),
    )
}
