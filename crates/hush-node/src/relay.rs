//! `POST /onion_req/v2`: peel one onion layer (session-protocol.md §6). At the destination,
//! run the storage RPC and return its answer encrypted for the client; otherwise relay the
//! inner layer to the next node — only to a node of the network, within the hop limit.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hush_proto::onion::{self, NextHop};
use hush_sodium::SystemRng;
use serde_json::{Value, json};

use crate::peer::{PeerClient, PeerError};
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
            let (method, reply) = rpc::handle(ctx, &request, Some(slot)).await;
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
            match peers.post(&node, "/onion_req/v2", next_layer, rpc::now(ctx)).await {
                Ok((status, json, body)) => OnionReply { status, json, body },
                // Naming the hop that did not answer (it hangs) lets the client route
                // around it — a new relay, or another swarm member — instead of blaming the
                // whole path and its guard.
                Err(PeerError::Timeout) => OnionReply::text(
                    504,
                    format!("Request time out: {}", hex::encode(destination.as_bytes())),
                ),
                Err(PeerError::BadResponse) => OnionReply::text(500, "Invalid response from snode"),
                // Naming the hop lets the client avoid that node rather than the whole path.
                Err(PeerError::Unreachable | PeerError::Partitioned) => OnionReply::text(
                    502,
                    format!("Next node not reachable: {}", hex::encode(destination.as_bytes())),
                ),
            }
        }
        NextHop::Proxy { .. } => OnionReply::text(
            501,
            "This node does not proxy onion requests to HTTP servers (host destinations)",
        ),
    }
}
