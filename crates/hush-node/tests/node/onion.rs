//! Onion requests through real nodes: one hop (the destination itself) and three nodes
//! (two relays and the destination), with both encryption types.

use hush_node::network::Network;
use hush_proto::onion::{self, EncType, OnionNode};
use hush_sodium::SystemRng;
use serde_json::{Value, json};

use super::{Account, TestNode};

fn onion_node(n: &TestNode) -> OnionNode {
    OnionNode { ed25519: *n.handle.ed25519(), x25519: *n.handle.x25519() }
}

/// Sends `request` through `path` to `destination` via `path[0]` (or the destination itself
/// when the path is empty); returns the HTTP status and, on 200, the decrypted inner answer.
async fn send(
    entry: &TestNode,
    path: &[&TestNode],
    destination: &TestNode,
    request: &Value,
    enc: EncType,
) -> (u16, Option<onion::FinalResponse>) {
    let hops: Vec<OnionNode> = path.iter().map(|n| onion_node(n)).collect();
    let built = onion::build_request(
        &hops,
        &onion_node(destination),
        request.to_string().as_bytes(),
        enc,
        &mut SystemRng,
    )
    .unwrap();
    let (status, body) = entry.post("/onion_req/v2", built.payload).await;
    if status != 200 {
        return (status, None);
    }
    (status, Some(onion::decode_final_response(&built.response_cipher, &body).unwrap()))
}

async fn network_of(nodes: &[&TestNode]) {
    let records = nodes.iter().map(|n| n.handle.record().clone()).collect::<Vec<_>>();
    for n in nodes {
        n.handle.membership().replace(Network::new(records.clone(), 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hop_and_three_hops_with_both_enc_types() {
    let a = TestNode::start().await;
    let b = TestNode::start().await;
    let c = TestNode::start().await;
    network_of(&[&a, &b, &c]).await;
    let alice = Account::new(1);

    for enc in [EncType::AesGcm, EncType::XChaCha20] {
        // One hop: the entry node is the destination.
        let (status, resp) = send(&a, &[], &a, &json!({"method": "info", "params": {}}), enc).await;
        assert_eq!(status, 200);
        let resp = resp.unwrap();
        assert_eq!(resp.status, 200);
        let info: Value = serde_json::from_str(&resp.body).unwrap();
        assert_eq!(info["version"], json!(hush_node::version()));

        // Three nodes: a → b → c. A store at c, then a retrieve through the same path.
        let data = format!("through the onion with {}", enc.as_str());
        let store = json!({"method": "store", "params": {"pubkey": alice.hex(), "timestamp": c.now(),
                            "ttl": 86_400_000, "data": super::b64(data.as_bytes())}});
        let (status, resp) = send(&a, &[&a, &b], &c, &store, enc).await;
        assert_eq!(status, 200);
        let resp = resp.unwrap();
        assert_eq!(resp.status, 200, "{}", resp.body);
        let stored: Value = serde_json::from_str(&resp.body).unwrap();
        assert!(stored["swarm"].get(hex::encode(c.handle.ed25519().as_bytes())).is_some());

        let retrieve = json!({"method": "retrieve", "params": alice.auth("retrieve", 0, c.now())});
        let (_, resp) = send(&a, &[&a, &b], &c, &retrieve, enc).await;
        let body: Value = serde_json::from_str(&resp.unwrap().body).unwrap();
        let found = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["data"] == super::b64(data.as_bytes()));
        assert!(found, "{body}");
        // Inner errors come back encrypted with their status.
        let (status, resp) =
            send(&a, &[&a, &b], &c, &json!({"method": "nope", "params": {}}), enc).await;
        assert_eq!(status, 200);
        assert_eq!(resp.unwrap().status, 400);
    }
    // The destination really was c: c ran the store RPCs; a only relayed (and received c's
    // replication of the messages, as a member of the same swarm).
    let metrics_of = |n: &TestNode| {
        let url = format!("{}/metrics", n.handle.url());
        let http = n.http.clone();
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let c_metrics = metrics_of(&c).await;
    assert!(c_metrics.contains("method=\"store\",status=\"200\"} 2"), "{c_metrics}");
    let metrics = metrics_of(&a).await;
    assert!(!metrics.contains("method=\"store\""), "{metrics}");
    assert!(metrics.contains("hush_node_stored_messages 2"), "{metrics}");
    // Per enc type, three requests went a → b → c: a relayed six.
    assert!(metrics.contains("hush_node_onion_relayed_total 6"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_only_to_known_nodes_and_refuse_garbage() {
    let a = TestNode::start().await;
    let stranger = TestNode::start().await;
    // a does not know `stranger`: 502 Next node not found.
    let (status, _) =
        send(&a, &[&a], &stranger, &json!({"method": "info", "params": {}}), EncType::XChaCha20)
            .await;
    assert_eq!(status, 502);
    let hops = [onion_node(&a)];
    let built = onion::build_request(
        &hops,
        &onion_node(&stranger),
        b"{}",
        EncType::XChaCha20,
        &mut SystemRng,
    )
    .unwrap();
    let (status, body) = a.post("/onion_req/v2", built.payload).await;
    assert_eq!(status, 502);
    let expected =
        format!("Next node not found: {}", hex::encode(stranger.handle.ed25519().as_bytes()));
    assert_eq!(String::from_utf8(body).unwrap(), expected);

    // Garbage and layers for another node.
    assert_eq!(a.post("/onion_req/v2", vec![1, 2, 3]).await.0, 400);
    let for_stranger =
        onion::build_request(&[], &onion_node(&stranger), b"{}", EncType::AesGcm, &mut SystemRng)
            .unwrap();
    let (status, body) = a.post("/onion_req/v2", for_stranger.payload).await;
    assert_eq!((status, body.as_slice()), (400, b"Invalid ciphertext".as_slice()));

    // A layer claiming 15 hops already is not relayed further.
    let relay_json = json!({"destination": hex::encode(stranger.handle.ed25519().as_bytes()),
                            "ephemeral_key": hex::encode([1u8; 32]), "enc_type": "xchacha20"});
    let inner = onion::encode_layer(b"blob", relay_json.to_string().as_bytes()).unwrap();
    let eph = hush_sodium::x25519::X25519KeyPair::generate(&mut SystemRng);
    let cipher = onion::HopCipher::for_client(EncType::XChaCha20, &eph, a.handle.x25519()).unwrap();
    let outer_json = json!({"ephemeral_key": hex::encode(eph.public().as_bytes()), "enc_type": "xchacha20", "hop_no": 15});
    let layer = onion::encode_layer(
        &cipher.encrypt(&inner, &mut SystemRng).unwrap(),
        outer_json.to_string().as_bytes(),
    )
    .unwrap();
    let (status, body) = a.post("/onion_req/v2", layer).await;
    assert_eq!(
        (status, body.as_slice()),
        (400, b"onion request max path length exceeded".as_slice())
    );
}
