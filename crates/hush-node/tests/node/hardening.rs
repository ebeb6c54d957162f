//! Inputs chosen to break things: overflowing numbers, foreign hashes, wrong swarms,
//! revoked tokens, JSON bombs, batch amplification, relay loops.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_node::network::{Network, NodeRecord};
use hush_proto::onion::{self, EncType, OnionNode};
use hush_proto::swarm::{self, SwarmId};
use hush_sodium::ed25519::{Ed25519KeyPair, Ed25519PublicKey, Ed25519Signature};
use hush_sodium::{Secret, SystemRng};
use serde_json::{Value, json};

use super::{Account, TestNode, b64};

const DAY: u64 = 86_400_000;

fn node_result(body: &Value) -> &Value {
    body["swarm"].as_object().unwrap().values().next().unwrap()
}

/// Checks the node's signature on its result over `signed`.
fn assert_signed(node: &TestNode, body: &Value, signed: &[u8]) {
    let sig = STANDARD.decode(node_result(body)["signature"].as_str().unwrap()).unwrap();
    node.handle.ed25519().verify(signed, &Ed25519Signature::from_slice(&sig).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_numbers_are_errors_not_crashes() {
    let node = TestNode::start().await;
    let alice = Account::new(1);
    let max = u64::MAX;
    let h = "A".repeat(43);
    for (method, params) in [
        (
            "expire_all",
            json!({"pubkey": alice.hex(), "expiry": max, "signature": alice.sign(b"x")}),
        ),
        (
            "expire",
            json!({"pubkey": alice.hex(), "messages": [h], "expiry": max, "signature": alice.sign(b"x")}),
        ),
        (
            "expire",
            json!({"pubkey": alice.hex(), "messages": [h], "expiry": [max], "signature": alice.sign(b"x")}),
        ),
        ("store", json!({"pubkey": alice.hex(), "timestamp": max, "ttl": max, "data": ""})),
        ("store", json!({"pubkey": alice.hex(), "timestamp": max, "expiry": max, "data": ""})),
        ("store", json!({"pubkey": alice.hex(), "timestamp": node.now(), "ttl": max, "data": ""})),
        (
            "delete_before",
            json!({"pubkey": alice.hex(), "before": max, "signature": alice.sign(b"x")}),
        ),
        (
            "retrieve",
            json!({"pubkey": alice.hex(), "timestamp": max, "max_count": i64::MIN, "max_size": i64::MIN, "signature": alice.sign(b"x")}),
        ),
    ] {
        let (status, body) = node.rpc(method, params).await;
        assert!((400..500).contains(&status), "{method}: {status} {body}");
    }
    assert_eq!(node.rpc("info", json!({})).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_cannot_touch_anothers_messages() {
    let node = TestNode::start().await;
    let (alice, bob) = (Account::new(1), Account::new(2));
    let p = json!({"pubkey": alice.hex(), "timestamp": node.now(), "ttl": DAY, "data": b64(b"alice's")});
    let (_, body) = node.rpc("store", p).await;
    let hash = body["hash"].as_str().unwrap().to_owned();
    // Bob names Alice's hash in his own delete and expire: nothing happens to it.
    let p = json!({"pubkey": bob.hex(), "pubkey_ed25519": bob.ed_hex(), "messages": [hash], "signature": bob.sign(format!("delete{hash}").as_bytes())});
    let (status, body) = node.rpc("delete", p).await;
    assert_eq!(status, 200);
    assert_eq!(node_result(&body)["deleted"], json!([]));
    let e = node.now() + 60_000;
    let p = json!({"pubkey": bob.hex(), "pubkey_ed25519": bob.ed_hex(), "messages": [hash], "expiry": e, "signature": bob.sign(format!("expire{e}{hash}").as_bytes())});
    let (_, body) = node.rpc("expire", p).await;
    assert_eq!(node_result(&body)["updated"], json!([]));
    // Nor does Bob's last_hash pointing into Alice's mailbox reveal anything.
    let mut p = bob.auth("retrieve", 0, node.now());
    p["last_hash"] = json!(hash);
    let (_, body) = node.rpc("retrieve", p).await;
    assert_eq!(body["messages"], json!([]));
    // Alice's message is intact.
    let (_, body) = node.rpc("retrieve", alice.auth("retrieve", 0, node.now())).await;
    assert_eq!(body["messages"][0]["expiration"], node.now() + DAY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_swarm_answers_421_with_the_right_swarm() {
    let node = TestNode::start().await;
    // A second (fictitious) node owning the swarm at 2^63: accounts near it are not ours.
    let other = NodeRecord {
        ed25519: Ed25519PublicKey::from_bytes([9; 32]),
        x25519: hush_sodium::x25519::X25519PublicKey::from_bytes([8; 32]),
        ip: "192.0.2.7".parse().unwrap(),
        https_port: 443,
        swarm_id: SwarmId(1 << 63),
        version: [0, 1, 0],
    };
    let ours = NodeRecord { swarm_id: SwarmId(0), ..node.handle.record().clone() };
    node.handle.membership().replace(Network::new(vec![ours, other.clone()], 2));
    let ids = [SwarmId(0), SwarmId(1 << 63)];
    let (theirs, mine): (Vec<Account>, Vec<Account>) = (1..40u8)
        .map(Account::new)
        .partition(|a| swarm::swarm_for(&a.id(), &ids) == Some(SwarmId(1 << 63)));
    let (foreign, local) = (&theirs[0], &mine[0]);
    let p =
        json!({"pubkey": foreign.hex(), "timestamp": node.now(), "ttl": DAY, "data": b64(b"x")});
    let (status, body) = node.rpc("store", p).await;
    assert_eq!(status, 421, "{body}");
    assert_eq!(body["swarm"], "8000000000000000");
    assert_eq!(body["snodes"][0]["pubkey_ed25519"], hex::encode([9u8; 32]));
    assert_eq!(body["snodes"][0]["ip"], "192.0.2.7");
    assert_eq!(node.rpc("retrieve", foreign.auth("retrieve", 0, node.now())).await.0, 421);
    let p = json!({"pubkey": local.hex(), "timestamp": node.now(), "ttl": DAY, "data": b64(b"x")});
    assert_eq!(node.rpc("store", p).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_tokens_cannot_store_and_write_only_tokens_only_extend() {
    let node = TestNode::start().await;
    let group = Ed25519KeyPair::from_seed(&Secret::from_array([11; 32]));
    let gid = hush_proto::AccountId::new(hush_proto::IdPrefix::Group, *group.public().as_bytes());
    let member = Ed25519KeyPair::from_seed(&Secret::from_array([12; 32]));
    let mut token = [0u8; 36];
    token[0] = 0x03;
    token[1] = 0x01 | 0x02; // read + write, no delete
    token[4..].copy_from_slice(member.public().as_bytes());
    let token_sig = b64(group.sign(&token).as_bytes());
    let now = node.now();
    let sub = |message: String, extra: Value| {
        let mut p = json!({"pubkey": gid.to_string(), "subaccount": b64(&token), "subaccount_sig": token_sig,
                           "signature": b64(member.sign(message.as_bytes()).as_bytes())});
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        p
    };
    let store = sub(
        format!("store11{now}"),
        json!({"namespace": 11, "timestamp": now, "ttl": DAY, "data": b64(b"m")}),
    );
    let (status, body) = node.rpc("store", store.clone()).await;
    assert_eq!(status, 200);
    let hash = body["hash"].as_str().unwrap().to_owned();

    // Without delete access an expire silently becomes extend-only: shortening does nothing.
    let earlier = now + DAY / 2;
    let (_, body) = node
        .rpc(
            "expire",
            sub(format!("expire{earlier}{hash}"), json!({"messages": [hash], "expiry": earlier})),
        )
        .await;
    assert_eq!(node_result(&body)["updated"], json!([]));
    let later = now + 2 * DAY;
    let (_, body) = node
        .rpc(
            "expire",
            sub(format!("expire{later}{hash}"), json!({"messages": [hash], "expiry": later})),
        )
        .await;
    assert_eq!(node_result(&body)["updated"], json!([hash]));

    // Revoked: the same store is refused.
    let mut msg = format!("revoke_subaccount{now}").into_bytes();
    msg.extend_from_slice(&token);
    let p = json!({"pubkey": gid.to_string(), "timestamp": now, "revoke": b64(&token), "signature": b64(group.sign(&msg).as_bytes())});
    assert_eq!(node.rpc("revoke_subaccount", p).await.0, 200);
    assert_eq!(node.rpc("store", store).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_results_are_signed_by_the_node() {
    let node = TestNode::start().await;
    let alice = Account::new(1);
    let mut hashes = Vec::new();
    for i in 0..3u8 {
        let p =
            json!({"pubkey": alice.hex(), "timestamp": node.now(), "ttl": DAY, "data": b64(&[i])});
        hashes.push(node.rpc("store", p).await.1["hash"].as_str().unwrap().to_owned());
    }
    hashes.sort();
    let e = node.now() + 3_600_000;
    let p = json!({"pubkey": alice.hex(), "pubkey_ed25519": alice.ed_hex(), "expiry": e, "signature": alice.sign(format!("expire_all{e}").as_bytes())});
    let (_, body) = node.rpc("expire_all", p).await;
    assert_signed(&node, &body, format!("{}{e}{}", alice.hex(), hashes.concat()).as_bytes());
    let ts = node.now();
    let p = json!({"pubkey": alice.hex(), "pubkey_ed25519": alice.ed_hex(), "timestamp": ts, "signature": alice.sign(format!("delete_all{ts}").as_bytes())});
    let (_, body) = node.rpc("delete_all", p).await;
    assert_eq!(node_result(&body)["deleted"], json!(hashes));
    assert_signed(&node, &body, format!("{}{ts}{}", alice.hex(), hashes.concat()).as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bombs_and_batch_amplification_are_bounded() {
    let node = TestNode::start().await;
    // 100 000 tiny values: refused before parsing.
    let bomb = format!("{{\"method\":\"info\",\"params\":{{\"x\":[{}0]}}}}", "0,".repeat(100_000));
    let (status, body) = node.post("/storage_rpc/v1", bomb).await;
    assert_eq!((status, body.as_slice()), (400, b"invalid json: too many values".as_slice()));

    // Fill namespace -10 (anyone may store and read there) with 7.68 MB.
    let victim = Account::new(3);
    for i in 0..100u32 {
        let mut data = vec![0u8; 76_800];
        data[..4].copy_from_slice(&i.to_le_bytes());
        let p = json!({"pubkey": victim.hex(), "namespace": -10, "timestamp": node.now(), "ttl": DAY, "data": b64(&data)});
        assert_eq!(node.rpc("store", p).await.0, 200);
    }
    // A batch of 20 full-size retrieves shares one 7.8 MB budget.
    let retrieve = json!({"method": "retrieve", "params": {"pubkey": victim.hex(), "namespace": -10, "max_size": 7_800_000}});
    let (status, bytes) = node
        .post(
            "/storage_rpc/v1",
            json!({"method": "batch", "params": {"requests": vec![retrieve; 20]}}).to_string(),
        )
        .await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    let returned: usize = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"]["messages"].as_array().unwrap().len())
        .sum();
    // 7.8 MB of budget holds 76 messages of 102 543 counted bytes; each later subrequest gets
    // its one guaranteed message: at most 76 + 19.
    assert!(returned <= 95, "{returned} messages returned");
    assert!(bytes.len() < 14_000_000, "{} bytes", bytes.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_does_not_relay_to_itself() {
    let node = TestNode::start().await;
    let me = OnionNode { ed25519: *node.handle.ed25519(), x25519: *node.handle.x25519() };
    let built =
        onion::build_request(&[me], &me, b"{}", EncType::XChaCha20, &mut SystemRng).unwrap();
    let (status, body) = node.post("/onion_req/v2", built.payload).await;
    assert_eq!(
        (status, body.as_slice()),
        (400, b"onion request loops back to this node".as_slice())
    );
}

/// Headers of a node-to-node request from `keys` to `receiver`, as docs/protocol/network.md
/// specifies them.
fn peer_headers(
    keys: &Ed25519KeyPair,
    receiver: &Ed25519PublicKey,
    path: &str,
    ts: u64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let mut signed =
        format!("hush-peer-v1\n{}\n{path}\n{ts}\n", hex::encode(receiver.as_bytes())).into_bytes();
    signed.extend_from_slice(body);
    vec![
        ("x-hush-node", hex::encode(keys.public().as_bytes())),
        ("x-hush-timestamp", ts.to_string()),
        ("x-hush-signature", STANDARD.encode(keys.sign(&signed).as_bytes())),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swarm_endpoints_check_who_asks_and_sign_their_answers() {
    let node = TestNode::start().await;
    let own = *node.handle.ed25519();
    // A registry node of another swarm, whose key this test holds.
    let peer_keys = Ed25519KeyPair::from_seed(&Secret::from_array([7; 32]));
    let peer = NodeRecord {
        ed25519: *peer_keys.public(),
        x25519: *peer_keys.to_x25519().unwrap().public(),
        ip: "192.0.2.9".parse().unwrap(),
        https_port: 443,
        swarm_id: SwarmId(1 << 63),
        version: [0, 1, 0],
    };
    let ours = NodeRecord { swarm_id: SwarmId(0), ..node.handle.record().clone() };
    node.handle.membership().replace(Network::new(vec![ours, peer], 2));
    let ids = [SwarmId(0), SwarmId(1 << 63)];
    let local = (1..40u8)
        .map(Account::new)
        .find(|a| swarm::swarm_for(&a.id(), &ids) == Some(SwarmId(0)))
        .unwrap();
    let url = node.handle.url().to_owned();
    let post = |path: &'static str, body: Vec<u8>, headers: Vec<(&'static str, String)>| {
        let req = node.http.post(format!("{url}{path}")).body(body);
        let req = headers.into_iter().fold(req, |r, (k, v)| r.header(k, v));
        async move { req.send().await.unwrap() }
    };

    // Unsigned, or signed for another receiver (a replay elsewhere): 401.
    let summary = b"{}".to_vec();
    assert_eq!(post("/swarm/v1/summary", summary.clone(), Vec::new()).await.status(), 401);
    let elsewhere = Ed25519PublicKey::from_bytes([3; 32]);
    let h = peer_headers(&peer_keys, &elsewhere, "/swarm/v1/summary", node.now(), &summary);
    assert_eq!(post("/swarm/v1/summary", summary.clone(), h).await.status(), 401);

    // Properly signed: answered, and the answer is signed for this request by the node.
    let h = peer_headers(&peer_keys, &own, "/swarm/v1/summary", node.now(), &summary);
    let request_sig = h[2].1.clone();
    let resp = post("/swarm/v1/summary", summary, h).await;
    assert_eq!(resp.status(), 200);
    let answer_sig = STANDARD.decode(resp.headers()["x-hush-signature"].to_str().unwrap()).unwrap();
    let body = resp.bytes().await.unwrap();
    let mut signed = format!("hush-peer-answer-v1\n{request_sig}\n200\n").into_bytes();
    signed.extend_from_slice(&body);
    own.verify(&signed, &Ed25519Signature::from_slice(&answer_sig).unwrap()).unwrap();

    // A hand-off of a mailbox the sender never served is refused: registry nodes cannot
    // write into other swarms' mailboxes.
    let handoff = json!({"account": local.hex(), "namespace": 0, "tombstones": [], "messages": [{
        "hash": hush_proto::message_hash::MessageHash::compute(&local.id(), hush_proto::namespace::Namespace(0), b"x").as_str(),
        "namespace": 0, "timestamp": node.now(), "expiry": node.now() + DAY, "data": b64(b"x")}]})
    .to_string()
    .into_bytes();
    let h = peer_headers(&peer_keys, &own, "/swarm/v1/handoff", node.now(), &handoff);
    assert_eq!(post("/swarm/v1/handoff", handoff, h).await.status(), 403);
    // Nor may it replicate into a swarm it is not in.
    let op = json!({"op": "store", "account": local.hex(), "namespace": 0, "timestamp": node.now(),
        "expiry": node.now() + DAY, "data": b64(b"y")})
    .to_string()
    .into_bytes();
    let h = peer_headers(&peer_keys, &own, "/swarm/v1/apply", node.now(), &op);
    assert_eq!(post("/swarm/v1/apply", op, h).await.status(), 421);
    let (_, body) = node.rpc("retrieve", local.auth("retrieve", 0, node.now())).await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 0, "{body}");
}

/// A message of `account` in `ns` as nodes exchange it.
fn wire_message(
    account: &Account,
    ns: i16,
    data: &[u8],
    timestamp: u64,
    expiry: u64,
) -> hush_node::store::StoredMessage {
    let hash = hush_proto::message_hash::MessageHash::compute(
        &account.id(),
        hush_proto::namespace::Namespace(ns),
        data,
    );
    hush_node::store::StoredMessage {
        hash: hash.as_str().to_owned(),
        namespace: ns,
        timestamp,
        expiry,
        data: data.to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merges_from_other_nodes_keep_deletions_expiries_and_outbox_slots() {
    use hush_node::store::{Limits, Store};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &dir.path().join("s.db"),
        Limits { max_account_bytes: 1 << 20, max_node_bytes: 1 << 30 },
    )
    .unwrap();
    let now = super::T0;
    let (alice, bob) = (Account::new(1), Account::new(2));

    // Deleted before this node ever held it (it was still in the previous swarm): a copy
    // arriving later is not taken in.
    let late = wire_message(&alice, 0, b"late", now, now + DAY);
    assert!(store.delete(alice.id(), vec![late.hash.clone()], now).await.unwrap().is_empty());
    let (added, _) = store.merge(alice.id(), 0, vec![late.clone()], Vec::new(), now).await.unwrap();
    assert_eq!(added, 0);

    // A tombstone filed under Bob's account cannot block or delete Alice's message.
    let mine = wire_message(&alice, 0, b"mine", now, now + DAY);
    store.merge(bob.id(), 0, Vec::new(), vec![mine.hash.clone()], now).await.unwrap();
    let (added, _) = store.merge(alice.id(), 0, vec![mine.clone()], Vec::new(), now).await.unwrap();
    assert_eq!(added, 1);

    // A copy with a later expiry raises this one's (an extension this node missed).
    let extended = hush_node::store::StoredMessage { expiry: now + 2 * DAY, ..mine.clone() };
    let (added, _) = store.merge(alice.id(), 0, vec![extended], Vec::new(), now).await.unwrap();
    assert_eq!(added, 0);
    let (hashes, _) = store.mailbox(alice.id(), 0, now + DAY + 1).await.unwrap();
    assert_eq!(hashes, vec![mine.hash.clone()], "still live after its old expiry");

    // A public outbox keeps the newest message, whichever order copies arrive in.
    let older = wire_message(&alice, -21, b"v1", now, now + DAY);
    let newer = wire_message(&alice, -21, b"v2", now + 5, now + DAY);
    store.merge(alice.id(), -21, vec![newer.clone()], Vec::new(), now).await.unwrap();
    store.merge(alice.id(), -21, vec![older], Vec::new(), now).await.unwrap();
    let (slot, _) = store.mailbox(alice.id(), -21, now).await.unwrap();
    assert_eq!(slot, vec![newer.hash]);

    // Nothing expired, or expiring beyond what a client could ask for, is taken in.
    let stale = wire_message(&alice, 0, b"stale", now - 2 * DAY, now - 1);
    let forever = wire_message(&alice, 0, b"forever", now, now + 400 * DAY);
    let (added, _) =
        store.merge(alice.id(), 0, vec![stale, forever], Vec::new(), now).await.unwrap();
    assert_eq!(added, 0);
    store.close().await;
}
