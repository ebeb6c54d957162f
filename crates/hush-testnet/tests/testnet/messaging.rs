//! hush-client end to end over a running network: onion-routed sends and long-poll
//! receives between accounts, sync copies to a second device, requests, blocking, unsend,
//! disappearing messages, read receipts, a restart with a queued outbox, and a killed guard.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use hush_client::{
    AccountId, Client, ClientConfig, Disappearing, Event, MessageStatus, Profile, ProfileName,
};
use hush_proto::AccountSeed;
use hush_sodium::SystemRng;
use hush_testnet::Testnet;

use crate::{eventually, now};

/// A person: a profile with a fresh account (or the given seed) in `dir`, and its client.
pub fn person(dir: &Path, name: &str, net: &Testnet, seed: Option<AccountSeed>) -> Client {
    let profile_name = ProfileName::parse(name).unwrap();
    let profile = Profile::new(dir, profile_name.clone());
    if !profile.has_account() {
        let seed = seed.unwrap_or_else(|| AccountSeed::generate(&mut SystemRng));
        profile.create(seed, Some(name.to_owned()), now(), false).unwrap();
    }
    let mut config =
        ClientConfig::new(dir.to_owned(), profile_name, net.network_file_path().to_owned());
    config.poll_wait = Duration::from_secs(4);
    Client::open(config).unwrap()
}

pub async fn started(dir: &Path, name: &str, net: &Testnet) -> Client {
    let c = person(dir, name, net, None);
    c.start().await.unwrap();
    c
}

/// Incoming messages of `who` in the conversation with `with`.
pub fn incoming(who: &Client, with: &AccountId) -> Vec<hush_client::Message> {
    who.messages(with, 10_000).unwrap().into_iter().filter(|m| !m.outgoing).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_exchange_100_messages_each_way_exactly_once_in_order() {
    let net = Testnet::builder().nodes(12).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let alice = started(dir.path(), "alice", &net).await;
    let bob = started(dir.path(), "bob", &net).await;
    let (a, b) = (alice.account_id(), bob.account_id());
    for i in 0..100 {
        alice.send_text(&b, &format!("a→b {i}")).unwrap();
        bob.send_text(&a, &format!("b→a {i}")).unwrap();
    }
    let delivered = eventually(Duration::from_secs(90), || async {
        incoming(&alice, &b).len() >= 100 && incoming(&bob, &a).len() >= 100
    })
    .await;
    assert!(
        delivered,
        "alice has {}, bob has {}",
        incoming(&alice, &b).len(),
        incoming(&bob, &a).len()
    );
    // A little longer: nothing arrives twice.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (who, from, prefix) in [(&bob, &a, "a→b"), (&alice, &b, "b→a")] {
        let got = incoming(who, from);
        let bodies: Vec<String> = got.iter().map(|m| m.body.clone()).collect();
        let expected: Vec<String> = (0..100).map(|i| format!("{prefix} {i}")).collect();
        assert_eq!(bodies, expected, "exactly once, in order");
        assert!(got.windows(2).all(|w| w[0].sent_at < w[1].sent_at));
        assert!(got.iter().all(|m| m.author == from.to_string()));
    }
    // Every outgoing message reached the recipient's swarm.
    let all_sent = eventually(Duration::from_secs(20), || async {
        [(&alice, &b), (&bob, &a)].iter().all(|(who, to)| {
            let out: Vec<_> =
                who.messages(to, 1000).unwrap().into_iter().filter(|m| m.outgoing).collect();
            out.len() == 100 && out.iter().all(|m| m.status == MessageStatus::Sent)
        })
    })
    .await;
    assert!(all_sent);
    // Each wrote first to a stranger... and both wrote at once: neither sees a request now
    // that each has written to the other.
    assert!(alice.conversations(true).unwrap().is_empty());
    assert!(bob.stats().dropped.is_empty(), "{:?}", bob.stats());
    alice.shutdown().await;
    bob.shutdown().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_copies_reach_a_second_device_restored_from_the_same_seed() {
    let net = Testnet::builder().nodes(6).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let second_dir = tempfile::tempdir().unwrap();
    let seed = AccountSeed::generate(&mut SystemRng);
    let restored = AccountSeed::from_entropy(seed.entropy()).unwrap();
    let alice = person(dir.path(), "alice", &net, Some(seed));
    alice.start().await.unwrap();
    let bob = started(dir.path(), "bob", &net).await;
    let b = bob.account_id();
    for i in 0..5 {
        alice.send_text(&b, &format!("hello {i}")).unwrap();
    }
    alice.send_text(&alice.account_id(), "note to self").unwrap();
    // The second device starts later and finds what the first sent.
    let second = person(second_dir.path(), "alice", &net, Some(restored));
    assert_eq!(second.account_id(), alice.account_id());
    second.start().await.unwrap();
    let synced = eventually(Duration::from_secs(30), || async {
        second.messages(&b, 100).unwrap().len() == 5
            && second.messages(&alice.account_id(), 10).unwrap().len() == 1
    })
    .await;
    assert!(synced, "{:?}", second.messages(&b, 100).unwrap());
    let copies = second.messages(&b, 100).unwrap();
    let bodies: Vec<&str> = copies.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["hello 0", "hello 1", "hello 2", "hello 3", "hello 4"]);
    assert!(copies.iter().all(|m| m.outgoing && m.synced && m.status == MessageStatus::Sent));
    // The first device does not see its own copies again.
    assert_eq!(alice.messages(&b, 100).unwrap().len(), 5);
    assert_eq!(alice.messages(&alice.account_id(), 10).unwrap().len(), 1);
    // Bob got each once.
    assert!(
        eventually(Duration::from_secs(20), || async {
            incoming(&bob, &alice.account_id()).len() == 5
        })
        .await
    );
    for c in [&alice, &bob, &second] {
        c.shutdown().await;
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_accept_block_unsend_receipts_and_disappearing() {
    let net = Testnet::builder().nodes(6).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let alice = started(dir.path(), "alice", &net).await;
    let bob = started(dir.path(), "bob", &net).await;
    let carol = started(dir.path(), "carol", &net).await;
    let (a, b, c) = (alice.account_id(), bob.account_id(), carol.account_id());
    let mut bob_events = bob.subscribe();

    // A stranger's first message is a request.
    alice.send_text(&b, "hi bob, it's alice").unwrap();
    assert!(eventually(Duration::from_secs(20), || async { incoming(&bob, &a).len() == 1 }).await);
    let requests = bob.conversations(true).unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].id, a.to_string());
    assert_eq!(requests[0].name.as_deref(), Some("alice"), "display name from the profile");
    let mut saw_request = false;
    while let Ok(e) = bob_events.try_recv() {
        saw_request |= matches!(e, Event::Request { ref from } if *from == a.to_string());
    }
    assert!(saw_request);
    // Accepting tells alice.
    bob.accept_request(&a).unwrap();
    assert!(bob.conversations(true).unwrap().is_empty());
    assert!(
        eventually(Duration::from_secs(20), || async {
            alice.contact(&b).unwrap().is_some_and(|k| k.approved_me)
        })
        .await
    );

    // Read receipts (both sides on).
    alice.set_read_receipts(true).unwrap();
    bob.set_read_receipts(true).unwrap();
    let m = alice.send_text(&b, "did you read this?").unwrap();
    assert!(eventually(Duration::from_secs(20), || async { incoming(&bob, &a).len() == 2 }).await);
    assert_eq!(bob.mark_read(&a).unwrap(), 2);
    assert!(
        eventually(Duration::from_secs(20), || async {
            alice.message(m.id).unwrap().status == MessageStatus::Read
        })
        .await,
        "read receipt"
    );

    // Unsend: gone from bob's device.
    let oops = alice.send_text(&b, "oops, wrong chat").unwrap();
    assert!(eventually(Duration::from_secs(20), || async { incoming(&bob, &a).len() == 3 }).await);
    alice.unsend(oops.id).unwrap();
    assert!(
        eventually(Duration::from_secs(20), || async {
            incoming(&bob, &a).iter().all(|m| m.body != "oops, wrong chat")
        })
        .await,
        "unsent message still on bob's device"
    );
    assert!(alice.message(oops.id).is_err());

    // Disappearing after send (2 s): both sides delete it when due.
    alice.set_disappearing(&b, Disappearing::AfterSend(2)).unwrap();
    assert!(
        eventually(Duration::from_secs(20), || async {
            bob.disappearing(&a).unwrap() == Disappearing::AfterSend(2)
        })
        .await
    );
    let gone = alice.send_text(&b, "this will self-destruct").unwrap();
    assert!(gone.expires_at.is_some());
    let arrived = eventually(Duration::from_secs(10), || async {
        incoming(&bob, &a).iter().any(|m| m.body == "this will self-destruct")
    })
    .await;
    assert!(arrived);
    assert!(
        eventually(Duration::from_secs(10), || async {
            alice.message(gone.id).is_err()
                && incoming(&bob, &a).iter().all(|m| m.body != "this will self-destruct")
        })
        .await,
        "disappeared on both sides"
    );

    // Blocking: carol's messages are dropped.
    bob.block(&c).unwrap();
    carol.send_text(&b, "let me in").unwrap();
    assert!(
        eventually(Duration::from_secs(20), || async {
            bob.stats().dropped.get("blocked").copied().unwrap_or(0) >= 1
        })
        .await
    );
    assert!(bob.messages(&c, 10).unwrap().is_empty());
    assert!(bob.conversations(true).unwrap().is_empty());
    // Unblocked, carol is a request again.
    bob.unblock(&c).unwrap();
    carol.send_text(&b, "please?").unwrap();
    assert!(eventually(Duration::from_secs(20), || async { incoming(&bob, &c).len() == 1 }).await);
    assert_eq!(bob.conversations(true).unwrap().len(), 1);
    for x in [&alice, &bob, &carol] {
        x.shutdown().await;
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_message_survives_a_restart_and_a_killed_guard_does_not_stop_delivery() {
    let mut net = Testnet::builder().nodes(8).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bob = started(dir.path(), "bob", &net).await;
    let b = bob.account_id();
    // Queued while the client is offline (never started), then the client closes.
    {
        let alice = person(dir.path(), "alice", &net, None);
        alice.send_text(&b, "written offline").unwrap();
        assert_eq!(
            alice.db().outbox_len().unwrap(),
            3,
            "the message, its sync copy and the contacts config (writing approves bob)"
        );
    }
    let alice = person(dir.path(), "alice", &net, None);
    let a = alice.account_id();
    alice.start().await.unwrap();
    assert!(
        eventually(Duration::from_secs(20), || async { incoming(&bob, &a).len() == 1 }).await,
        "the queued message was delivered after the restart"
    );
    // Kill both guards of alice's paths: she builds new paths and keeps delivering.
    let guards: HashSet<u16> = alice.guards().iter().map(|g| g.port()).collect();
    assert_eq!(guards.len(), 2);
    let mut killed = 0;
    for i in 0..net.len() {
        let port: u16 = net.url(i).unwrap().rsplit(':').next().unwrap().parse().unwrap();
        if guards.contains(&port) {
            net.kill(i).await.unwrap();
            killed += 1;
        }
    }
    assert_eq!(killed, 2);
    for i in 0..5 {
        alice.send_text(&b, &format!("after the guards died {i}")).unwrap();
    }
    assert!(
        eventually(Duration::from_secs(60), || async { incoming(&bob, &a).len() == 6 }).await,
        "delivered {} of 6; alice's outbox holds {}, her messages {:?}, bob's stats {:?}",
        incoming(&bob, &a).len(),
        alice.db().outbox_len().unwrap(),
        alice
            .messages(&b, 10)
            .unwrap()
            .iter()
            .map(|m| (m.status, m.error.clone()))
            .collect::<Vec<_>>(),
        bob.stats(),
    );
    let new_guards: HashSet<u16> = alice.guards().iter().map(|g| g.port()).collect();
    assert!(new_guards.is_disjoint(&guards), "dead guards were replaced");
    alice.shutdown().await;
    bob.shutdown().await;
    net.shutdown().await;
}

/// An account nobody in these tests knows.
fn carol_like_stranger() -> AccountId {
    *hush_proto::Identity::from_seed(&AccountSeed::generate(&mut SystemRng)).account_id()
}

/// Whether `haystack` contains `needle`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_guards_see_a_client_address_and_no_node_sees_the_sender_in_clear() {
    use hush_node::traffic::Seen;
    let net = Testnet::builder().nodes(12).distinct_addresses(true).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let alice_ip: std::net::IpAddr = "127.0.2.1".parse().unwrap();
    let bob_ip: std::net::IpAddr = "127.0.2.2".parse().unwrap();
    let open = |name: &str, ip| {
        let profile = Profile::new(dir.path(), ProfileName::parse(name).unwrap());
        profile
            .create(AccountSeed::generate(&mut SystemRng), Some(name.into()), now(), false)
            .unwrap();
        let mut config = ClientConfig::new(
            dir.path().to_owned(),
            ProfileName::parse(name).unwrap(),
            net.network_file_path().to_owned(),
        );
        config.net.local_address = Some(ip);
        config.poll_wait = Duration::from_secs(4);
        Client::open(config).unwrap()
    };
    let alice = open("alice", alice_ip);
    let bob = open("bob", bob_ip);
    net.record_traffic(true);
    alice.start().await.unwrap();
    bob.start().await.unwrap();
    let (a, b) = (alice.account_id(), bob.account_id());
    for i in 0..5 {
        alice.send_text(&b, &format!("private {i}")).unwrap();
    }
    assert!(eventually(Duration::from_secs(30), || async { incoming(&bob, &a).len() == 5 }).await);
    bob.send_text(&a, "private reply").unwrap();
    assert!(
        eventually(Duration::from_secs(30), || async { incoming(&alice, &b).len() == 1 }).await
    );
    // The nodes each client connected to directly: its guards (replaced ones included,
    // should a path have failed under load) and the candidates it probed for them.
    let (alice_guards, bob_guards) = (alice.exposed_to(), bob.exposed_to());
    for g in alice.guards() {
        assert!(alice_guards.contains(&g));
    }
    alice.shutdown().await;
    bob.shutdown().await;
    net.record_traffic(false);

    let secrets = |c: &Client| -> Vec<Vec<u8>> {
        let id = c.account_id();
        vec![
            id.to_string().into_bytes(),
            id.as_bytes().to_vec(),
            id.to_string().as_bytes()[2..].to_vec(),
        ]
    };
    let (alice_ids, bob_ids) = (secrets(&alice), secrets(&bob));
    let (mut saw_alice, mut saw_bob, mut bob_mailbox_requests) = (0, 0, 0);
    for i in 0..net.len() {
        let here = net.address(i).unwrap();
        for seen in net.node(i).unwrap().traffic() {
            match seen {
                Seen::Http { from, path, body } => {
                    // Only a client's guards see its address.
                    if from == alice_ip {
                        assert!(alice_guards.contains(&here), "node {i} is not alice's guard");
                        saw_alice += 1;
                    }
                    if from == bob_ip {
                        assert!(bob_guards.contains(&here), "node {i} is not bob's guard");
                        saw_bob += 1;
                    }
                    // Between hops everything is sealed: no Account ID in clear.
                    for id in alice_ids.iter().chain(&bob_ids) {
                        assert!(!contains(&body, id), "node {i} saw an Account ID on {path}");
                    }
                }
                Seen::Rpc { body } => {
                    // A request about one mailbox never names the other account.
                    let about_bob = bob_ids.iter().any(|id| contains(&body, id));
                    let about_alice = alice_ids.iter().any(|id| contains(&body, id));
                    assert!(!(about_bob && about_alice), "node {i} saw both accounts together");
                    bob_mailbox_requests += usize::from(about_bob);
                }
            }
        }
    }
    assert!(saw_alice > 0 && saw_bob > 0, "the guards saw the clients");
    // Each answered probe became a guard: normally exactly two nodes per client.
    assert!(alice_guards.len() < 6 && bob_guards.len() < 6, "{alice_guards:?} {bob_guards:?}");
    assert!(bob_mailbox_requests > 0, "stores and polls of bob's mailbox were seen");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_follow_a_registry_change_through_421_and_network_registry() {
    let mut net = Testnet::builder().nodes(6).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let alice = started(dir.path(), "alice", &net).await;
    let bob = started(dir.path(), "bob", &net).await;
    let (a, b) = (alice.account_id(), bob.account_id());
    alice.send_text(&b, "before").unwrap();
    assert!(eventually(Duration::from_secs(20), || async { incoming(&bob, &a).len() == 1 }).await);
    // Six more nodes: two swarms now; the clients still hold the old registry.
    net.add_nodes(6).await.unwrap();
    let before = net.seq();
    // A node serves its registry to clients (through onion paths, as the client asks).
    let client = crate::Client::new();
    let (status, body) =
        client.rpc(&net.url(0).unwrap(), "network_registry", serde_json::json!({})).await.unwrap();
    assert_eq!(status, 200);
    let signed: hush_proto::registry::SignedRegistry =
        serde_json::from_value(body["registry"].clone()).unwrap();
    assert_eq!(signed.body.seq, before);
    for i in 0..5 {
        alice.send_text(&b, &format!("after {i}")).unwrap();
    }
    assert!(
        eventually(Duration::from_secs(60), || async { incoming(&bob, &a).len() == 6 }).await,
        "delivered {} of 6 after the swarms changed",
        incoming(&bob, &a).len()
    );
    // Alice's stale view puts every old node but her guards in each swarm. Stores for an
    // account whose new swarm holds at most half of those candidates meet a 421 with a
    // chance of at least 1/2 each; twenty of them all missing has a chance below 1 in 10^6.
    // (Whether the stores above met one depends on how the swarms split.)
    let guard_ports: HashSet<u16> = alice.guards().iter().map(|g| g.port()).collect();
    let candidates: Vec<usize> = (0..6)
        .filter(|&i| {
            let port: u16 = net.url(i).unwrap().rsplit(':').next().unwrap().parse().unwrap();
            !guard_ports.contains(&port)
        })
        .collect();
    let x = (1..2000)
        .map(crate::Account::new)
        .min_by_key(|acc| net.swarm_of(&acc.id()).iter().filter(|i| candidates.contains(i)).count())
        .unwrap();
    let inside = net.swarm_of(&x.id()).iter().filter(|i| candidates.contains(i)).count();
    assert!(inside * 2 <= candidates.len(), "{inside} of {candidates:?}");
    for i in 0..20 {
        alice.send_text(&x.id(), &format!("to the other swarm {i}")).unwrap();
    }
    assert!(
        eventually(Duration::from_secs(60), || async { alice.registry_seq() == Some(before) })
            .await,
        "alice still has registry {:?}, the network {before}",
        alice.registry_seq()
    );
    alice.shutdown().await;
    bob.shutdown().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_indicators_and_messages_that_disappear_after_reading() {
    let net = Testnet::builder().nodes(6).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let alice = started(dir.path(), "alice", &net).await;
    // Bob's account is a test account whose swarm we can read directly.
    let bob_account = crate::Account::new(4242);
    let mut entropy = [0x5a; 16];
    entropy[..4].copy_from_slice(&4242u32.to_le_bytes());
    let bob = person(dir.path(), "bob", &net, Some(AccountSeed::from_entropy(&entropy).unwrap()));
    assert_eq!(bob.account_id(), bob_account.id());
    bob.start().await.unwrap();
    let (a, b) = (alice.account_id(), bob.account_id());
    bob.add_contact(&a).unwrap();
    alice.add_contact(&b).unwrap();
    let mut bob_events = bob.subscribe();
    // The contacts config changes are pushed first: then the outbox shows what typing sends.
    assert!(
        eventually(Duration::from_secs(20), || async { alice.db().outbox_len().unwrap() == 0 })
            .await
    );

    // Typing: shown only when the recipient has indicators on; sent only when the sender has,
    // and only to approved contacts.
    alice.set_typing_indicators(true).unwrap();
    alice.typing(&carol_like_stranger(), true).unwrap();
    assert_eq!(alice.db().outbox_len().unwrap(), 0, "strangers do not learn when we type");
    alice.set_typing_indicators(false).unwrap();
    alice.typing(&b, true).unwrap();
    assert_eq!(alice.db().outbox_len().unwrap(), 0, "off by default: nothing sent");
    alice.set_typing_indicators(true).unwrap();
    bob.set_typing_indicators(true).unwrap();
    alice.typing(&b, true).unwrap();
    let typing = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Ok(Event::Typing { from, started }) = bob_events.recv().await {
                break (from, started);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(typing, (a.to_string(), true));

    // After reading: the timer starts when bob reads, and bob's swarm copy goes too.
    alice.set_disappearing(&b, Disappearing::AfterRead(2)).unwrap();
    let sent = alice.send_text(&b, "read me, then I'm gone").unwrap();
    assert!(eventually(Duration::from_secs(20), || async { incoming(&bob, &a).len() == 1 }).await);
    let got = incoming(&bob, &a).remove(0);
    assert_eq!(got.disappearing, Disappearing::AfterRead(2));
    assert_eq!(got.expires_at, None, "not read yet: no timer");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(incoming(&bob, &a).len(), 1, "unread messages stay");
    let hash = got.hash.clone().unwrap();
    let swarm = net.swarm_of(&b);
    let http = crate::Client::new();
    let held = |hash: String| {
        let (http, net, swarm, account) = (&http, &net, &swarm, &bob_account);
        async move {
            let url = net.url(swarm[0]).unwrap();
            http.hashes(&url, account).await.unwrap().contains(&hash)
        }
    };
    assert!(held(hash.clone()).await, "stored in bob's swarm");
    assert_eq!(bob.mark_read(&a).unwrap(), 1);
    assert!(
        eventually(Duration::from_secs(10), || async {
            incoming(&bob, &a).is_empty() && alice.message(sent.id).is_err()
        })
        .await,
        "deleted on both sides once read"
    );
    assert!(
        eventually(Duration::from_secs(10), || {
            let h = held(hash.clone());
            async move { !h.await }
        })
        .await,
        "bob's swarm copy expired with the shortened expiry"
    );
    alice.shutdown().await;
    bob.shutdown().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_messages_are_dropped_and_do_not_block_the_mailbox() {
    use hush_proto::envelope::seal_1to1;
    use hush_proto::protos::session::{Content, DataMessage};
    let net = Testnet::builder().nodes(6).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bob = started(dir.path(), "bob", &net).await;
    let b = bob.account_id();
    let mallory = hush_proto::Identity::from_seed(&AccountSeed::generate(&mut SystemRng));
    let content = |body: &str| Content {
        data_message: Some(DataMessage { body: Some(body.into()), ..DataMessage::default() }),
        expiration_type: Some(2),
        expiration_timer: Some(1),
        ..Content::default()
    };
    // A send time at the end of time (it would overflow an expiry), and garbage.
    let far = seal_1to1(
        &mallory,
        &b,
        content("from the end of time"),
        hush_proto::Timestamp::from_millis(u64::MAX - 1),
        &mut SystemRng,
    )
    .unwrap();
    let http = crate::Client::new();
    let url = net.url(net.swarm_of(&b)[0]).unwrap();
    for data in [far, b"not a message at all".to_vec()] {
        let params = serde_json::json!({"pubkey": b.to_string(), "timestamp": now(), "ttl": 60_000,
                                        "data": crate::b64(&data)});
        assert_eq!(http.rpc(&url, "store", params).await.unwrap().0, 200);
    }
    // An honest message after them still arrives.
    let alice = started(dir.path(), "alice", &net).await;
    alice.send_text(&b, "hello after the junk").unwrap();
    assert!(
        eventually(Duration::from_secs(20), || async {
            incoming(&bob, &alice.account_id()).len() == 1
        })
        .await,
        "{:?}",
        bob.stats()
    );
    let stats = bob.stats();
    assert_eq!(stats.dropped.get("bad_time"), Some(&1), "{stats:?}");
    assert_eq!(stats.dropped.get("undecryptable"), Some(&1), "{stats:?}");
    assert!(bob.messages(&mallory.account_id().to_owned(), 10).unwrap().is_empty());
    alice.shutdown().await;
    bob.shutdown().await;
    net.shutdown().await;
}
