//! `POST /onion_req/v2`: peel one onion layer (session-protocol.md §6). At the destination,
//! run the storage RPC and return its answer encrypted for the client; otherwise relay the
//! inner layer to the next node — only to a node of the network, within the hop limit.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hush_proto::onion::{self, NextHop};
use hush_sodium::SystemRng;
use serde_json::{Value, json};

use crate::network::NodeRecord;
use crate::rpc;

/// The answer to an onion request: status, content type, body.
#[derive(Debug)]
pub(crate) struct OnionReply {
    pub(crate) status: u16,
    pub(crate) json: bool,
    pub(crate) body: Bytes,
}

impl OnionReply {
    fn text(status: u16, text: impl Into<String>) -> Self {
        Self { status, json: false, body: Bytes::from(text.into()) }
    }
}

/// HTTPS client for node-to-node relaying. Node certificates are self-signed; what matters
/// is the onion layer, which only the intended node can open.
#[derive(Clone, Debug)]
pub(crate) struct PeerClient {
    http: reqwest::Client,
}

impl PeerClient {
    pub(crate) fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self { http })
    }

    async fn post_onion(&self, node: &NodeRecord, layer: Vec<u8>) -> OnionReply {
        let url =
            format!("https://{}/onion_req/v2", std::net::SocketAddr::new(node.ip, node.https_port));
        match self.http.post(url).body(layer).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let json = resp
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
                match read_capped(resp).await {
                    Ok(body) => OnionReply { status, json, body },
                    Err(Some(e)) if e.is_timeout() => OnionReply::text(504, "Request time out"),
                    Err(_) => OnionReply::text(500, "Invalid response from snode"),
                }
            }
            Err(e) if e.is_timeout() => OnionReply::text(504, "Request time out"),
            Err(_) => OnionReply::text(502, "Next node not reachable"),
        }
    }
}

/// Largest answer accepted from the next node: a maximal retrieve (7.8 MB of data, base64
/// inside JSON, encrypted, base64 again) stays well under it.
const MAX_PEER_RESPONSE: usize = 24 << 20;

/// Reads a response body, refusing more than [`MAX_PEER_RESPONSE`] bytes (`Err(None)`).
async fn read_capped(mut resp: reqwest::Response) -> Result<Bytes, Option<reqwest::Error>> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Some)? {
        if body.len() + chunk.len() > MAX_PEER_RESPONSE {
            return Err(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// Handles one onion request. `slot` (the request's place among those processed at once) is
/// released before waiting on the next node, so slow relays do not starve local work.
pub(crate) async fn handle(
    ctx: &rpc::Ctx,
    peers: &PeerClient,
    body: &[u8],
    slot: tokio::sync::SemaphorePermit<'_>,
) -> OnionReply {
    ctx.metrics.onion_request();
    let layer = match onion::decrypt_layer(body, &ctx.identity.x25519) {
        Ok(layer) => layer,
        Err(hush_proto::Error::DecryptionFailed) => {
            return OnionReply::text(400, "Invalid ciphertext");
        }
        Err(e) => return OnionReply::text(400, format!("Error parsing onion request: {e}")),
    };
    let next = match onion::route(&layer.plaintext, layer.hop_no) {
        Ok(next) => next,
        Err(hush_proto::Error::OnionLayer("too many hops")) => {
            return OnionReply::text(400, "onion request max path length exceeded");
        }
        Err(e) => return OnionReply::text(400, format!("Error parsing onion request: {e}")),
    };
    match next {
        NextHop::Final { request, json, base64 } => {
            let (method, reply) = rpc::handle(ctx, &request).await;
            ctx.metrics.request(method, reply.status);
            let inner = if json {
                json!({ "status": reply.status, "body": match reply.body {
                    rpc::Body::Json(v) => v,
                    rpc::Body::Text(t) => Value::String(t),
                }})
            } else {
                json!({ "status": reply.status, "body": reply.body_string() })
            };
            let plaintext = inner.to_string();
            match layer.cipher.encrypt(plaintext.as_bytes(), &mut SystemRng) {
                Ok(ct) if base64 => {
                    OnionReply { status: 200, json: false, body: Bytes::from(STANDARD.encode(ct)) }
                }
                Ok(ct) => OnionReply { status: 200, json: false, body: Bytes::from(ct) },
                Err(_) => OnionReply::text(500, "Failed to encrypt the response"),
            }
        }
        NextHop::Relay { destination, layer: next_layer } => {
            if &destination == ctx.identity.ed25519.public() {
                return OnionReply::text(400, "onion request loops back to this node");
            }
            let network = ctx.membership.current();
            let Some(node) = network.node(&destination) else {
                return OnionReply::text(
                    502,
                    format!("Next node not found: {}", hex::encode(destination.as_bytes())),
                );
            };
            ctx.metrics.onion_relayed();
            let node = node.clone();
            drop(network);
            drop(slot);
            peers.post_onion(&node, next_layer).await
        }
        NextHop::Proxy { .. } => OnionReply::text(
            501,
            "This node does not proxy onion requests to HTTP servers (host destinations)",
        ),
    }
}
