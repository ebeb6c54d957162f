//! Faults: members killed during a stream of stores, a partitioned node, deletions made while
//! a node was down.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hush_testnet::Testnet;
use serde_json::json;

use crate::{Account, Client, DAY, accounts_in, all_count, all_hold, b64, eventually, held, now};

/// Stores `data` for `account`, trying `urls` in turn from `start` until one acknowledges;
/// `None` when none did after a few rounds.
async fn store_anywhere(
    client: &Client,
    urls: &[String],
    start: usize,
    account: &Account,
    data: &[u8],
) -> Option<String> {
    for attempt in 0..urls.len() * 4 {
        match client.store(&urls[(start + attempt) % urls.len()], account, data).await {
            Ok(hash) => return Some(hash),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    None
}

/// How many messages node `i` holds for `accounts`, read from its database.
async fn held_all(net: &Testnet, i: usize, accounts: &[Account]) -> u64 {
    let mut total = 0;
    for a in accounts {
        total += held(net, i, a).await;
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_killed_during_a_thousand_stores_end_with_every_acknowledged_message() {
    const STORES: usize = 1000;
    // Catch-up every second: fast enough to converge soon after the restarts.
    let mut net =
        Testnet::builder().nodes(12).sync_interval(Duration::from_secs(1)).start().await.unwrap();
    let client = Client::new();
    let swarm = net.swarm_of(&Account::new(0).id());
    let accounts = Arc::new(accounts_in(&net, &swarm, 0, 10));
    let urls: Arc<Vec<String>> = Arc::new(swarm.iter().map(|&i| net.url(i).unwrap()).collect());
    let victims = [swarm[1], swarm[4]];

    // The stream: four clients, each store acknowledged by whichever member answers.
    let progress = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..4 {
        let (client, urls, accounts, progress) =
            (client.clone(), urls.clone(), accounts.clone(), progress.clone());
        workers.spawn(async move {
            let mut acked = Vec::new();
            for k in (w..STORES).step_by(4) {
                let a = k % accounts.len();
                let data = format!("message {k}");
                if let Some(hash) =
                    store_anywhere(&client, &urls, k, &accounts[a], data.as_bytes()).await
                {
                    acked.push((a, hash));
                }
                progress.fetch_add(1, Ordering::Relaxed);
            }
            acked
        });
    }
    let reach = |n: usize| {
        let progress = progress.clone();
        async move {
            while progress.load(Ordering::Relaxed) < n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    reach(200).await;
    net.kill(victims[0]).await.unwrap();
    reach(400).await;
    net.kill(victims[1]).await.unwrap();
    reach(750).await;
    for v in victims {
        let before = progress.load(Ordering::Relaxed) as u64;
        net.restart(v).await.unwrap();
        // A restarted node catches up before it serves retrieves (until then it sends them
        // to other members): straight after its restart it holds what was stored while it
        // was down, but for the few stores in flight meanwhile.
        assert!(net.node(v).unwrap().caught_up());
        let held = held_all(&net, v, &accounts).await;
        assert!(held + 8 >= before, "node {v} holds {held} of {before} after catching up");
    }
    let mut acked: BTreeMap<usize, HashSet<String>> = BTreeMap::new();
    let mut total = 0;
    while let Some(done) = workers.join_next().await {
        for (a, hash) in done.unwrap() {
            acked.entry(a).or_default().insert(hash);
            total += 1;
        }
    }
    assert_eq!(total, STORES, "every store was acknowledged by some member");
    for (a, expected) in &acked {
        let account = &accounts[*a];
        let caught_up = eventually(Duration::from_secs(30), || {
            all_count(&net, &swarm, account, expected.len())
        })
        .await;
        assert!(caught_up, "account {a}: a member is missing messages");
        assert!(
            all_hold(&client, &net, &swarm, account, expected).await,
            "account {a}: some acknowledged message is missing on some member"
        );
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_node_converges_after_healing() {
    let net = Testnet::builder().nodes(12).start().await.unwrap();
    let client = Client::new();
    let swarm = net.swarm_of(&Account::new(0).id());
    let accounts = accounts_in(&net, &swarm, 0, 5);
    let isolated = swarm[2];
    let others: Vec<String> =
        swarm.iter().filter(|&&i| i != isolated).map(|&i| net.url(i).unwrap()).collect();
    let isolated_url = net.url(isolated).unwrap();

    net.partition(isolated, true).unwrap();
    let mut expected: Vec<HashSet<String>> = vec![HashSet::new(); accounts.len()];
    for k in 0..200usize {
        let a = k % accounts.len();
        let data = format!("partitioned {k}");
        // Clients still reach the isolated node: one store in ten lands only there.
        let hash = if k % 10 == 0 {
            client.store(&isolated_url, &accounts[a], data.as_bytes()).await.unwrap()
        } else {
            client.store(&others[k % others.len()], &accounts[a], data.as_bytes()).await.unwrap()
        };
        expected[a].insert(hash);
    }
    // While cut off, neither side has the other's messages.
    assert_eq!(held_all(&net, isolated, &accounts).await, 20);
    assert_eq!(held_all(&net, swarm[0], &accounts).await, 180);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(held_all(&net, isolated, &accounts).await, 20, "a partitioned node synced");

    net.partition(isolated, false).unwrap();
    for (account, expected) in accounts.iter().zip(&expected) {
        let converged = eventually(Duration::from_secs(20), || {
            all_count(&net, &swarm, account, expected.len())
        })
        .await;
        assert!(converged, "the swarm did not converge after the partition healed");
        assert!(all_hold(&client, &net, &swarm, account, expected).await);
    }
    for &i in &swarm {
        assert_eq!(held_all(&net, i, &accounts).await, 200);
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_win_over_stale_copies_and_expired_messages_stay_dead() {
    let mut net = Testnet::builder().nodes(6).start().await.unwrap();
    let client = Client::new();
    let swarm = net.swarm_of(&Account::new(0).id());
    assert_eq!(swarm.len(), 6, "six nodes make one swarm");
    let account = Account::new(0);
    let url0 = net.url(0).unwrap();
    let mut hashes = Vec::new();
    for k in 0..6u8 {
        hashes.push(client.store(&url0, &account, &[k; 16]).await.unwrap());
    }
    // One message that expires in four seconds.
    let t = now();
    let params = json!({"pubkey": account.hex(), "timestamp": t - 6_000, "ttl": 10_000,
        "data": b64(b"short-lived")});
    let (status, body) = client.rpc(&url0, "store", params).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let short = body["hash"].as_str().unwrap().to_owned();
    let all: HashSet<String> = hashes.iter().cloned().chain([short.clone()]).collect();
    assert!(all_hold(&client, &net, &swarm, &account, &all).await);

    // Node 5 goes down holding every copy; three messages are deleted meanwhile.
    net.kill(5).await.unwrap();
    let deleted = &hashes[..3];
    let p = json!({
        "pubkey": account.hex(), "pubkey_ed25519": account.ed_hex(), "messages": deleted,
        "signature": account.sign(format!("delete{}", deleted.concat()).as_bytes()),
    });
    let (status, body) = client.rpc(&url0, "delete", p).await.unwrap();
    assert_eq!(status, 200, "{body}");
    // Restarted after the short-lived message expired.
    tokio::time::sleep(Duration::from_millis((t + 4_500).saturating_sub(now()))).await;
    net.restart(5).await.unwrap();

    // Node 5 drops its stale copies; nobody gets them (or the expired one) back.
    let remaining: HashSet<String> = hashes[3..].iter().cloned().collect();
    let exact = || async {
        for &i in &swarm {
            match client.hashes(&net.url(i).unwrap(), &account).await {
                Ok(have) if have == remaining => {}
                _ => return false,
            }
        }
        true
    };
    assert!(eventually(Duration::from_secs(15), exact).await, "stale copies survived");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(exact().await, "a deleted or expired message came back");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_extension_a_member_missed_is_not_lost() {
    let mut net = Testnet::builder()
        .nodes(6)
        .expiry_sweep_interval(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let client = Client::new();
    let swarm = net.swarm_of(&Account::new(0).id());
    let account = Account::new(0);
    let url0 = net.url(0).unwrap();
    // A message due to expire in four seconds…
    let t = now();
    let params = json!({"pubkey": account.hex(), "timestamp": t - 6_000, "ttl": 10_000,
        "data": b64(b"keep me")});
    let (status, body) = client.rpc(&url0, "store", params).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let hash = body["hash"].as_str().unwrap().to_owned();
    // …is extended by a day while node 5 is down.
    net.kill(5).await.unwrap();
    let later = now() + DAY;
    let p = json!({
        "pubkey": account.hex(), "pubkey_ed25519": account.ed_hex(), "messages": [hash],
        "expiry": later, "extend": true,
        "signature": account.sign(format!("expireextend{later}{hash}").as_bytes()),
    });
    let (status, body) = client.rpc(&url0, "expire", p).await.unwrap();
    assert_eq!(status, 200, "{body}");
    net.restart(5).await.unwrap();
    // Node 5 lets its copy expire at the old time; nobody loses the message, and node 5 gets
    // the extended copy back from its peers.
    tokio::time::sleep(Duration::from_millis((t + 5_000).saturating_sub(now()))).await;
    let expected = HashSet::from([hash]);
    assert!(
        eventually(Duration::from_secs(15), || all_hold(
            &client, &net, &swarm, &account, &expected
        ))
        .await,
        "the extended message was lost somewhere"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(all_hold(&client, &net, &swarm, &account, &expected).await);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_reach_a_member_that_missed_them_and_move_with_the_account() {
    use hush_sodium::Secret;
    use hush_sodium::ed25519::Ed25519KeyPair;
    let mut net = Testnet::builder().nodes(6).start().await.unwrap();
    let client = Client::new();
    let group = Ed25519KeyPair::from_seed(&Secret::from_array([21; 32]));
    let gid = hush_proto::AccountId::new(hush_proto::IdPrefix::Group, *group.public().as_bytes());
    let member = Ed25519KeyPair::from_seed(&Secret::from_array([22; 32]));
    let mut token = [0u8; 36];
    token[0] = 0x03;
    token[1] = 0x03;
    token[4..].copy_from_slice(member.public().as_bytes());

    net.kill(5).await.unwrap();
    let ts = now();
    let mut signed = format!("revoke_subaccount{ts}").into_bytes();
    signed.extend_from_slice(&token);
    let p = json!({"pubkey": gid.to_string(), "timestamp": ts, "revoke": b64(&token),
        "signature": b64(group.sign(&signed).as_bytes())});
    let (status, body) = client.rpc(&net.url(0).unwrap(), "revoke_subaccount", p).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let revoked_on = |net: &Testnet, i: usize| {
        let store = net.node(i).unwrap().store().unwrap().clone();
        async move { store.is_revoked(gid, token).await.unwrap() }
    };
    // Node 5 was down; it catches up (revocations too) before it serves again.
    net.restart(5).await.unwrap();
    assert!(revoked_on(&net, 5).await, "the revocation did not reach the member that missed it");

    // Six more nodes: two swarms; the revocation is on every member of the group's new swarm
    // and gone from the nodes that no longer serve it.
    net.add_nodes(6).await.unwrap();
    let swarm = net.swarm_of(&gid);
    let moved = eventually(Duration::from_secs(30), || async {
        for i in 0..net.len() {
            if revoked_on(&net, i).await != swarm.contains(&i) {
                return false;
            }
        }
        true
    })
    .await;
    if !moved {
        let mut state = Vec::new();
        for i in 0..net.len() {
            state.push((i, swarm.contains(&i), revoked_on(&net, i).await));
        }
        panic!("the revocation did not move to the new swarm: (node, member, revoked) {state:?}");
    }
    net.shutdown().await;
}
