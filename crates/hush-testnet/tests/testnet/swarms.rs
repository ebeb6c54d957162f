//! Swarm assignment over a running network, replication of stores, 421 from outsiders, and
//! registry distribution.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use hush_proto::registry::{Registry, SignedRegistry};
use hush_testnet::Testnet;
use serde_json::{Value, json};

use crate::{Account, Client, DAY, all_hold, b64, eventually, now};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_on_any_member_reaches_every_member_and_outsiders_answer_421() {
    let net = Testnet::builder().nodes(12).start().await.unwrap();
    let client = Client::new();
    let registry = net.registry();
    // 12 nodes: two swarms of six.
    let swarm_ids: BTreeSet<_> = registry.nodes().iter().map(|n| n.swarm_id).collect();
    assert_eq!(swarm_ids.len(), 2);
    for id in &swarm_ids {
        assert_eq!(registry.nodes().iter().filter(|n| n.swarm_id == *id).count(), 6);
    }
    let mut swarms_seen = BTreeSet::new();
    for k in 0..12u32 {
        let account = Account::new(k);
        let swarm = net.swarm_of(&account.id());
        assert_eq!(swarm.len(), 6);
        let (swarm_id, _) = registry.swarm_for(&account.id());
        swarms_seen.insert(swarm_id);
        // Any member takes the store; every member has it within a second.
        let via = swarm[k as usize % swarm.len()];
        let hash = client
            .store(&net.url(via).unwrap(), &account, format!("message {k}").as_bytes())
            .await
            .unwrap();
        let expected = HashSet::from([hash.clone()]);
        assert!(
            eventually(Duration::from_secs(1), || all_hold(
                &client, &net, &swarm, &account, &expected
            ))
            .await,
            "account {k}: not on every member of its swarm within 1 s"
        );
        // The store's answer carries a signed result from every member.
        // (Checked on one more store: results are per node, keyed by node key.)
        let member_keys: BTreeSet<String> =
            swarm.iter().map(|&i| net.entry(i).unwrap().ed25519.clone()).collect();
        let params =
            json!({"pubkey": account.hex(), "timestamp": now(), "ttl": DAY, "data": b64(b"again")});
        let (status, body) =
            client.rpc(&net.url(via).unwrap(), "store", params.clone()).await.unwrap();
        assert_eq!(status, 200, "{body}");
        let answered: BTreeSet<String> =
            body["swarm"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(answered, member_keys);
        for result in body["swarm"].as_object().unwrap().values() {
            assert!(result.get("failed").is_none(), "{result}");
            assert!(result["signature"].is_string());
        }
        // Outsiders refuse with 421 and name the right swarm and its members.
        for outsider in net.outside_swarm_of(&account.id()) {
            let url = net.url(outsider).unwrap();
            let (status, body) = client.rpc(&url, "store", params.clone()).await.unwrap();
            assert_eq!(status, 421, "{body}");
            assert_eq!(body["swarm"], format!("{:x}", swarm_id.0));
            assert_eq!(snode_keys(&body), member_keys);
            let (status, _) =
                client.rpc(&url, "retrieve", account.auth("retrieve", now())).await.unwrap();
            assert_eq!(status, 421);
            // get_swarm answers from anywhere.
            let (status, body) =
                client.rpc(&url, "get_swarm", json!({"pubkey": account.hex()})).await.unwrap();
            assert_eq!(status, 200);
            assert_eq!(snode_keys(&body), member_keys);
        }
    }
    assert_eq!(swarms_seen, swarm_ids, "the accounts covered both swarms");
    net.shutdown().await;
}

fn snode_keys(body: &Value) -> BTreeSet<String> {
    body["snodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["pubkey_ed25519"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registries_are_served_and_spread_and_stale_or_forged_ones_are_refused() {
    let net = Testnet::builder()
        .nodes(6)
        .registry_poll_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let client = Client::new();
    let url0 = net.url(0).unwrap();
    let key = hush_node::admin::load_key(&net.dir().join("network.key")).unwrap();
    let current = net.network_file().registry.clone().unwrap();

    // Served as signed, and verifiable with the network file's key.
    let (status, bytes) = client.get(&url0, "/network/v1/registry").await.unwrap();
    assert_eq!(status, 200);
    let served = Registry::parse(&bytes, key.public()).unwrap();
    assert_eq!(served.signed(), &current);
    // The seed list Session clients ask for lists every node.
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "get_n_service_nodes", "params": {}});
    let (status, bytes) =
        client.post(&url0, "/json_rpc", request.to_string().into_bytes()).await.unwrap();
    assert_eq!(status, 200);
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["result"]["service_node_states"].as_array().unwrap().len(), 6);

    // Refused: another key, tampered, unsigned. Ignored: the same or an older one.
    let mut next = current.body.clone();
    next.seq += 1;
    let forger =
        hush_sodium::ed25519::Ed25519KeyPair::from_seed(&hush_sodium::Secret::from_array([9; 32]));
    let forged = SignedRegistry::sign(next.clone(), &forger);
    let mut tampered = SignedRegistry::sign(next.clone(), &key);
    tampered.body.nodes[0].https_port ^= 1;
    let mut unsigned = SignedRegistry::sign(next.clone(), &key);
    unsigned.signature = String::new();
    for bad in [&forged, &tampered, &unsigned] {
        let (status, _) = client.post(&url0, "/network/v1/registry", to_json(bad)).await.unwrap();
        assert_eq!(status, 400);
    }
    let (status, answer) =
        client.post(&url0, "/network/v1/registry", to_json(&current)).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_slice::<Value>(&answer).unwrap()["adopted"], false);

    // A newer one offered to one node reaches the others through their seeds.
    let newer = SignedRegistry::sign(next, &key);
    let (status, answer) =
        client.post(&url0, "/network/v1/registry", to_json(&newer)).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_slice::<Value>(&answer).unwrap()["adopted"], true);
    let spread = eventually(Duration::from_secs(10), || async {
        for i in 0..6 {
            let Ok((200, bytes)) = client.get(&net.url(i).unwrap(), "/network/v1/registry").await
            else {
                return false;
            };
            if Registry::parse(&bytes, key.public()).unwrap().seq() != newer.body.seq {
                return false;
            }
        }
        true
    })
    .await;
    assert!(spread, "the newer registry did not reach every node");
    // And the older one is refused from now on.
    let (_, answer) = client.post(&url0, "/network/v1/registry", to_json(&current)).await.unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&answer).unwrap()["adopted"], false);
    net.shutdown().await;
}

fn to_json(r: &SignedRegistry) -> Vec<u8> {
    serde_json::to_vec(r).unwrap()
}
