//! Config sync end to end: a restore on a fresh device brings back the profile, contacts,
//! read positions and messages; a change on one device shows on another online one; offline
//! edits on two devices converge.

use std::time::Duration;

use hush_client::{AccountId, Client, Event};
use hush_proto::AccountSeed;
use hush_sodium::SystemRng;
use hush_testnet::Testnet;

use crate::eventually;
use crate::messaging::person;

fn copy(seed: &AccountSeed) -> AccountSeed {
    AccountSeed::from_entropy(seed.entropy()).unwrap()
}

fn stranger() -> AccountId {
    let seed = AccountSeed::generate(&mut SystemRng);
    *hush_proto::Identity::from_seed(&seed).account_id()
}

/// Delivers everything queued (config pushes included).
async fn flush(client: &Client) {
    assert_eq!(client.deliver_pending(Duration::from_secs(30)).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_brings_back_profile_contacts_read_state_and_messages() {
    let net = Testnet::builder().nodes(6).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let seed = AccountSeed::generate(&mut SystemRng);
    let alice = person(dir.path(), "alice", &net, Some(copy(&seed)));
    alice.start().await.unwrap();
    let bob = person(dir.path(), "bob", &net, None);
    bob.start().await.unwrap();
    let (a, b) = (alice.account_id(), bob.account_id());
    let (carol, dave) = (stranger(), stranger());

    alice.set_display_name(Some("Alice Liddell")).unwrap();
    alice.send_text(&b, "hi bob").unwrap();
    for i in 0..3 {
        bob.send_text(&a, &format!("from bob {i}")).unwrap();
    }
    assert!(
        eventually(Duration::from_secs(30), || async {
            alice.messages(&b, 100).unwrap().len() == 4
        })
        .await
    );
    alice.mark_read(&b).unwrap();
    alice.set_nickname(&b, Some("Bobby")).unwrap();
    alice.add_contact(&carol).unwrap();
    alice.set_nickname(&carol, Some("Caz")).unwrap();
    alice.block(&dave).unwrap();
    alice.set_pinned(&b, true).unwrap();
    alice.set_notifications(&carol, 2).unwrap();
    let gone = alice.send_text(&b, "sent by mistake").unwrap();
    alice.wait_sent(gone.id, Duration::from_secs(20)).await.unwrap();
    alice.unsend(gone.id).unwrap();
    // Deleted here (and from the swarm): it does not come back either.
    let deleted =
        alice.messages(&b, 100).unwrap().into_iter().find(|m| m.body == "from bob 1").unwrap();
    alice.delete_message(deleted.id).unwrap();
    flush(&alice).await;

    // A fresh device knows nothing but the seed.
    let profile = hush_client::Profile::new(fresh.path(), "alice".parse().unwrap());
    profile.create(copy(&seed), None, crate::now(), false).unwrap();
    let mut config = hush_client::ClientConfig::new(
        fresh.path().to_owned(),
        "alice".parse().unwrap(),
        net.network_file_path().to_owned(),
    );
    config.poll_wait = Duration::from_secs(4);
    let restored = Client::open(config).unwrap();
    let mut phases = Vec::new();
    let summary = restored
        .restore(|p| phases.push(serde_json::to_value(p).unwrap()["phase"].clone()))
        .await
        .unwrap();
    assert_eq!(phases.first().unwrap(), "connecting");
    assert_eq!(phases.last().unwrap(), "done");
    assert_eq!(summary.display_name.as_deref(), Some("Alice Liddell"));
    assert_eq!(restored.display_name().as_deref(), Some("Alice Liddell"));
    let contact = |id: &AccountId| restored.contact(id).unwrap().unwrap();
    assert_eq!(contact(&b).nickname.as_deref(), Some("Bobby"));
    assert!(contact(&b).approved);
    assert_eq!(contact(&carol).nickname.as_deref(), Some("Caz"));
    assert!(contact(&carol).approved && !contact(&carol).blocked);
    assert!(contact(&dave).blocked);
    assert_eq!((contact(&b).priority, contact(&carol).notifications), (1, 2));
    let messages = restored.messages(&b, 100).unwrap();
    let bodies: Vec<&str> = messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["hi bob", "from bob 0", "from bob 2"], "unsent and deleted stay gone");
    let conversation = restored.db().conversation(&b.to_string()).unwrap().unwrap();
    assert_eq!(conversation.unread, 0, "read on the first device");
    assert!(conversation.pinned);
    assert!(!conversation.is_request);
    assert_eq!(summary.messages, 3);
    assert!(summary.contacts >= 3, "{summary:?}");
    assert!(restored.stats().dropped.is_empty(), "{:?}", restored.stats());

    alice.shutdown().await;
    bob.shutdown().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_devices_follow_each_other_and_offline_edits_converge() {
    let net = Testnet::builder().nodes(6).start().await.unwrap();
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    let seed = AccountSeed::generate(&mut SystemRng);
    let first = person(one.path(), "alice", &net, Some(copy(&seed)));
    let second = person(two.path(), "alice", &net, Some(copy(&seed)));
    first.start().await.unwrap();
    second.start().await.unwrap();
    let x = stranger();

    // Online: a nickname set on one device shows on the other (an event, then the database).
    let mut events = second.subscribe();
    first.add_contact(&x).unwrap();
    first.set_nickname(&x, Some("Ex")).unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.recv().await {
                Ok(Event::Contact { contact }) if contact.nickname.as_deref() == Some("Ex") => {
                    return contact;
                }
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("the second device saw the nickname");
    assert!(seen.approved);
    first.set_display_name(Some("Alice")).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            second.display_name().as_deref() == Some("Alice")
        })
        .await
    );

    // Offline: one blocks X while the other renames X; both then push and read.
    first.shutdown().await;
    second.shutdown().await;
    let first = person(one.path(), "alice", &net, None);
    let second = person(two.path(), "alice", &net, None);
    first.block(&x).unwrap();
    second.set_nickname(&x, Some("X-ray")).unwrap();
    flush(&first).await;
    flush(&second).await;
    for _ in 0..3 {
        for device in [&first, &second] {
            device.receive_now().await.unwrap();
            flush(device).await;
        }
    }
    for device in [&first, &second] {
        let c = device.contact(&x).unwrap().unwrap();
        assert!(c.blocked, "{c:?}");
        assert_eq!(c.nickname.as_deref(), Some("X-ray"), "{c:?}");
        assert_eq!(device.display_name().as_deref(), Some("Alice"));
    }
    // Each push deleted the copies it superseded: one config message per object is left.
    let me = first.account_id();
    let settled = eventually(Duration::from_secs(20), || async {
        let mut ok = true;
        for member in net.swarm_of(&me) {
            let store = net.node(member).unwrap().store().unwrap();
            for ns in [2, 3] {
                let (live, _) = store.mailbox(me, ns, crate::now()).await.unwrap();
                ok &= live.len() == 1;
            }
        }
        ok
    })
    .await;
    assert!(settled, "obsolete config messages were deleted");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_queued_long_before_it_goes_out_still_reaches_the_swarm() {
    // Nodes take a store signature only within a minute of their clock. A change made
    // offline is signed when it finally goes out, not when it was made (it used to be
    // refused with 406 for ever, and the queue behind it stalled).
    let clock = hush_node::Clock::manual(hush_proto::Timestamp::from_millis(crate::now()));
    let net = Testnet::builder().nodes(4).clock(clock.clone()).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let seed = AccountSeed::generate(&mut SystemRng);
    let device = person(dir.path(), "away", &net, Some(copy(&seed)));
    device.set_display_name(Some("Back Again")).unwrap();
    clock.advance(10 * 60_000);
    flush(&device).await;
    let (_d, _c, fresh) = restore_fresh(&net, &seed).await;
    assert_eq!(fresh.display_name.as_deref(), Some("Back Again"));
    device.shutdown().await;
    net.shutdown().await;
}

/// A device that knows only the seed, restored (fetching whatever the swarm still has).
async fn restore_fresh(
    net: &Testnet,
    seed: &AccountSeed,
) -> (tempfile::TempDir, Client, hush_client::RestoreSummary) {
    let dir = tempfile::tempdir().unwrap();
    let profile = hush_client::Profile::new(dir.path(), "again".parse().unwrap());
    profile.create(copy(seed), None, crate::now(), false).unwrap();
    let config = hush_client::ClientConfig::new(
        dir.path().to_owned(),
        "again".parse().unwrap(),
        net.network_file_path().to_owned(),
    );
    let client = Client::open(config).unwrap();
    let summary = client.restore(|_| {}).await.unwrap();
    (dir, client, summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_go_after_14_days_configs_after_30_unless_refreshed() {
    let clock = hush_node::Clock::manual(hush_proto::Timestamp::from_millis(crate::now()));
    let net = Testnet::builder().nodes(4).clock(clock.clone()).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (kept_seed, left_seed) =
        (AccountSeed::generate(&mut SystemRng), AccountSeed::generate(&mut SystemRng));
    // Clients read the time from the nodes' answers: they follow the manual clock.
    let kept = person(dir.path(), "kept", &net, Some(copy(&kept_seed)));
    let left = person(dir.path(), "left", &net, Some(copy(&left_seed)));
    kept.set_display_name(Some("Still Here")).unwrap();
    left.set_display_name(Some("Long Gone")).unwrap();
    kept.send_text(&left.account_id(), "old news").unwrap();
    left.send_text(&kept.account_id(), "old news too").unwrap();
    flush(&kept).await;
    flush(&left).await;
    let (_d, _c, fresh) = restore_fresh(&net, &kept_seed).await;
    assert_eq!((fresh.display_name.as_deref(), fresh.messages), (Some("Still Here"), 2));

    // 15 days on: the messages are gone; the account still in use refreshes its configs.
    clock.advance(15 * crate::DAY);
    tokio::time::sleep(Duration::from_secs(2)).await; // an expiry sweep
    kept.receive_now().await.unwrap();
    flush(&kept).await;
    let (_d, _c, day15) = restore_fresh(&net, &kept_seed).await;
    assert_eq!((day15.display_name.as_deref(), day15.messages), (Some("Still Here"), 0));

    // 31 days after the first push: the refreshed configs live on, the others are gone.
    clock.advance(16 * crate::DAY);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_d, _c, refreshed) = restore_fresh(&net, &kept_seed).await;
    assert_eq!(refreshed.display_name.as_deref(), Some("Still Here"));
    let (_d, again, abandoned) = restore_fresh(&net, &left_seed).await;
    assert_eq!((abandoned.display_name, abandoned.messages, abandoned.contacts), (None, 0, 0));
    assert_eq!(again.stats().configs, 0);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_larger_than_one_message_travels_in_parts() {
    let net = Testnet::builder().nodes(4).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let seed = AccountSeed::generate(&mut SystemRng);
    let alice = person(dir.path(), "alice", &net, Some(copy(&seed)));
    let many: Vec<AccountId> = (0..2500).map(|_| stranger()).collect();
    alice.add_contacts(&many).unwrap();
    flush(&alice).await;
    let me = alice.account_id();
    let member = net.swarm_of(&me)[0];
    let store = net.node(member).unwrap().store().unwrap();
    let (parts, _) = store.mailbox(me, 3, crate::now()).await.unwrap();
    assert!(parts.len() >= 2, "{} stored message(s)", parts.len());
    let (_d, restored, summary) = restore_fresh(&net, &seed).await;
    assert_eq!(summary.contacts, 2500);
    assert!(restored.contacts().unwrap().iter().all(|c| c.approved));
    net.shutdown().await;
}
