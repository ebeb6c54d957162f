//! Rebalancing: nodes joining and leaving change the swarms; every mailbox moves to its new
//! swarm and leaves the nodes that no longer serve it.

use std::collections::HashSet;
use std::time::Duration;

use hush_testnet::Testnet;
use serde_json::{Value, json};

use crate::{Account, Client, DAY, all_count, all_hold, b64, eventually, held, now};

/// Stores like a client that follows 421 answers to the swarm they name.
async fn store_following(
    client: &Client,
    mut url: String,
    account: &Account,
    data: &[u8],
) -> String {
    for attempt in 0..100 {
        let params =
            json!({"pubkey": account.hex(), "timestamp": now(), "ttl": DAY, "data": b64(data)});
        match client.rpc(&url, "store", params).await {
            Ok((200, body)) => return body["hash"].as_str().unwrap().to_owned(),
            Ok((421, body)) => {
                let snodes = body["snodes"].as_array().unwrap();
                let n: &Value = &snodes[attempt % snodes.len()];
                url = format!("https://{}:{}", n["ip"].as_str().unwrap(), n["port_https"]);
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("no node took the store");
}

/// Every acknowledged message on every member of its account's current swarm, and on no
/// other running node: first by the databases' counts, then over the API.
async fn settled(
    client: &Client,
    net: &Testnet,
    accounts: &[Account],
    acked: &[HashSet<String>],
) -> bool {
    for (account, expected) in accounts.iter().zip(acked) {
        let swarm = net.swarm_of(&account.id());
        if !all_count(net, &swarm, account, expected.len()).await {
            return false;
        }
        for i in (0..net.len()).filter(|i| !swarm.contains(i) && net.is_running(*i)) {
            if held(net, i, account).await > 0 {
                return false;
            }
        }
    }
    for (account, expected) in accounts.iter().zip(acked) {
        if !all_hold(client, net, &net.swarm_of(&account.id()), account, expected).await {
            return false;
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_nodes_joining_twelve_move_every_mailbox_to_its_new_swarm() {
    let mut net = Testnet::builder().nodes(12).start().await.unwrap();
    let client = Client::new();
    let accounts: Vec<Account> = (0..30).map(Account::new).collect();
    let mut acked: Vec<HashSet<String>> = vec![HashSet::new(); accounts.len()];
    for round in 0..5 {
        for (a, account) in accounts.iter().enumerate() {
            let swarm = net.swarm_of(&account.id());
            let url = net.url(swarm[(a + round) % swarm.len()]).unwrap();
            let data = format!("before {round}");
            acked[a].insert(client.store(&url, account, data.as_bytes()).await.unwrap());
        }
    }
    let before: Vec<Vec<usize>> = accounts.iter().map(|a| net.swarm_of(&a.id())).collect();

    // Stores keep coming while the network changes.
    let stream = {
        let client = client.clone();
        let targets: Vec<(Account, String)> = (0..accounts.len() as u32)
            .map(|a| (Account::new(a), net.url(before[a as usize][0]).unwrap()))
            .collect();
        tokio::spawn(async move {
            let mut out = Vec::new();
            for k in 0..150 {
                let (account, url) = &targets[k % targets.len()];
                let data = format!("during {k}");
                let hash = store_following(&client, url.clone(), account, data.as_bytes()).await;
                out.push((k % targets.len(), hash));
            }
            out
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(net.add_nodes(6).await.unwrap(), 12..18);
    assert_eq!(net.registry().nodes().len(), 18);

    // 18 nodes form three swarms: mailboxes have new homes, some on the new nodes, and some
    // old members no longer serve accounts they held.
    let after: Vec<Vec<usize>> = accounts.iter().map(|a| net.swarm_of(&a.id())).collect();
    let swarms: HashSet<&Vec<usize>> = after.iter().collect();
    assert_eq!(swarms.len(), 3, "30 accounts land in all three swarms");
    assert!(after.iter().any(|s| s.iter().any(|&i| i >= 12)));
    let left_behind = before.iter().zip(&after).any(|(b, a)| b.iter().any(|i| !a.contains(i)));
    assert!(left_behind);

    for (a, hash) in stream.await.unwrap() {
        acked[a].insert(hash);
    }
    assert!(
        eventually(Duration::from_secs(60), || settled(&client, &net, &accounts, &acked)).await,
        "mailboxes did not settle in their new swarms"
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_leaving_hands_its_mailboxes_over_before_dropping_them() {
    let mut net = Testnet::builder().nodes(12).start().await.unwrap();
    let client = Client::new();
    let accounts: Vec<Account> = (100..124).map(Account::new).collect();
    let mut acked: Vec<HashSet<String>> = vec![HashSet::new(); accounts.len()];
    for round in 0..3 {
        for (a, account) in accounts.iter().enumerate() {
            let swarm = net.swarm_of(&account.id());
            let url = net.url(swarm[round % swarm.len()]).unwrap();
            acked[a].insert(client.store(&url, account, &[round as u8; 8]).await.unwrap());
        }
    }
    let held_by_0 = accounts.iter().filter(|a| net.swarm_of(&a.id()).contains(&0)).count();
    assert!(held_by_0 > 0);

    net.retire(0).await.unwrap();
    assert_eq!(net.registry().nodes().len(), 11);
    assert!(accounts.iter().all(|a| !net.swarm_of(&a.id()).contains(&0)));
    assert!(
        eventually(Duration::from_secs(60), || settled(&client, &net, &accounts, &acked)).await,
        "mailboxes did not settle after a node left"
    );
    // The retired node kept nothing.
    let summary = net.node(0).unwrap().store().unwrap().summary().await.unwrap();
    assert!(summary.is_empty(), "{} mailboxes left on the retired node", summary.len());
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_deleted_in_its_new_swarm_before_the_hand_off_stays_deleted() {
    // No background rounds: this test decides when hand-offs happen.
    let mut net = Testnet::builder()
        .nodes(12)
        .sync_interval(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let client = Client::new();
    let account = Account::new(500);
    let old_swarm = net.swarm_of(&account.id());
    let url = net.url(old_swarm[0]).unwrap();
    let doomed = client.store(&url, &account, b"delete me").await.unwrap();
    let kept = client.store(&url, &account, b"keep me").await.unwrap();

    net.add_nodes(6).await.unwrap();
    let new_swarm = net.swarm_of(&account.id());
    let newcomer = *new_swarm.iter().find(|&&i| i >= 12).unwrap();
    // The newcomer does not have the message yet; the client deletes it there anyway.
    let p = json!({
        "pubkey": account.hex(), "pubkey_ed25519": account.ed_hex(), "messages": [doomed],
        "signature": account.sign(format!("delete{doomed}").as_bytes()),
    });
    let (status, body) = client.rpc(&net.url(newcomer).unwrap(), "delete", p).await.unwrap();
    assert_eq!(status, 200, "{body}");

    // Now the old swarm hands the mailbox over: the deleted message must not come back.
    for _ in 0..3 {
        net.sync_now();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let expected = HashSet::from([kept]);
    let settled = eventually(Duration::from_secs(30), || async {
        net.sync_now();
        for &i in &new_swarm {
            match client.hashes(&net.url(i).unwrap(), &account).await {
                Ok(have) if have == expected => {}
                _ => return false,
            }
        }
        for i in (0..net.len()).filter(|i| !new_swarm.contains(i)) {
            if held(&net, i, &account).await > 0 {
                return false;
            }
        }
        true
    })
    .await;
    assert!(settled, "the deleted message came back, or the kept one did not arrive");
    net.shutdown().await;
}
