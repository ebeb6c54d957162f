//! Benchmark of config sync on a 12-node local network (hush-testnet, in this process): how
//! long a restore takes for a well-used account, and how fast a change on one device shows on
//! another. Run with `cargo bench -p hush-cli --bench restore` (release); figures go to
//! BENCHMARKS.md.
//!
//! - **Restore**: an account with 1,000 contacts (its Contacts config) and 10,000
//!   messages from 10 correspondents in its swarm. A fresh device that knows only the seed
//!   runs [`Client::restore`]: connect (registry, guards, paths), fetch the config messages
//!   and merge them, then every message (decrypt, verify, store). Timed three times, each on
//!   a new device. The messages are real V1 messages, put straight into every swarm member's
//!   store (setup, not measured).
//! - **Device to device**: two online devices of one account; the first sets a contact's
//!   nickname 50 times; each is timed until the second device's `contact` event.
//!
//! Set `HUSH_BENCH_QUICK=1` for a short smoke run (100 contacts, 1,000 messages, 1 restore,
//! 10 changes).

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::disallowed_methods, reason = "a benchmark measures wall time")]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hush_client::{AccountId, Client, ClientConfig, Event, Profile, ProfileName};
use hush_node::store::NewMessage;
use hush_proto::envelope::seal_1to1;
use hush_proto::message_hash::MessageHash;
use hush_proto::namespace::Namespace;
use hush_proto::protos::session::{Content, DataMessage};
use hush_proto::{AccountSeed, Identity, Timestamp};
use hush_sodium::SystemRng;
use hush_testnet::Testnet;

fn quick() -> bool {
    std::env::var_os("HUSH_BENCH_QUICK").is_some()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn copy(seed: &AccountSeed) -> AccountSeed {
    AccountSeed::from_entropy(seed.entropy()).unwrap()
}

fn open(dir: &std::path::Path, seed: AccountSeed, name: Option<&str>, net: &Testnet) -> Client {
    let profile_name = ProfileName::parse("bench").unwrap();
    Profile::new(dir, profile_name.clone())
        .create(seed, name.map(str::to_owned), now_ms(), false)
        .unwrap();
    Client::open(ClientConfig::new(
        dir.to_owned(),
        profile_name,
        net.network_file_path().to_owned(),
    ))
    .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Puts `count` messages from each correspondent into every member of `to`'s swarm.
async fn fill_mailbox(net: &Testnet, to: &AccountId, senders: &[Identity], count: usize) {
    let now = now_ms();
    let members = net.swarm_of(to);
    let mut batch = Vec::new();
    for (s, sender) in senders.iter().enumerate() {
        for i in 0..count {
            let sent_at = now - (count - i) as u64 * 10 - s as u64;
            let content = Content {
                data_message: Some(DataMessage {
                    body: Some(format!("message {i} from correspondent {s}: a few words of text")),
                    ..DataMessage::default()
                }),
                ..Content::default()
            };
            let data =
                seal_1to1(sender, to, content, Timestamp::from_millis(sent_at), &mut SystemRng)
                    .unwrap();
            batch.push((sent_at, data));
        }
    }
    for &m in &members {
        let store = net.node(m).unwrap().store().unwrap();
        for (sent_at, data) in &batch {
            let message = NewMessage {
                account: *to,
                namespace: Namespace(0),
                hash: MessageHash::compute(to, Namespace(0), data),
                timestamp: *sent_at,
                expiry: sent_at + 14 * 86_400_000,
                data: data.clone(),
            };
            store.store(message, now).await.unwrap();
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (contacts, per_sender, restores, changes) =
        if quick() { (100, 100, 1, 10) } else { (1000, 1000, 3, 50) };
    runtime.block_on(async {
        let net = Testnet::builder().nodes(12).start().await.unwrap();
        let seed = AccountSeed::generate(&mut SystemRng);
        let first_dir = tempfile::tempdir().unwrap();
        let first = open(first_dir.path(), copy(&seed), Some("Restorer"), &net);

        // 10 correspondents among 1,000 contacts, and their messages.
        let senders: Vec<Identity> =
            (0..10).map(|_| Identity::from_seed(&AccountSeed::generate(&mut SystemRng))).collect();
        let mut ids: Vec<AccountId> = senders.iter().map(|s| *s.account_id()).collect();
        while ids.len() < contacts {
            ids.push(*Identity::from_seed(&AccountSeed::generate(&mut SystemRng)).account_id());
        }
        first.add_contacts(&ids).unwrap();
        first.set_display_name(Some("Restorer")).unwrap();
        assert_eq!(first.deliver_pending(Duration::from_secs(120)).await.unwrap(), 0);
        let me = first.account_id();
        let setup = Instant::now();
        fill_mailbox(&net, &me, &senders, per_sender).await;
        let messages = senders.len() * per_sender;
        println!(
            "setup: {contacts} contacts pushed, {messages} messages stored in {} swarm members in {:.1} s",
            net.swarm_of(&me).len(),
            setup.elapsed().as_secs_f64()
        );

        for run in 1..=restores {
            let dir = tempfile::tempdir().unwrap();
            let device = open(dir.path(), copy(&seed), None, &net);
            let t0 = Instant::now();
            let mut rounds = 0;
            let summary = device
                .restore(|p| {
                    if let hush_client::RestoreProgress::Fetching { rounds: r, .. } = p {
                        rounds = *r;
                    }
                })
                .await
                .unwrap();
            let took = t0.elapsed();
            assert_eq!(summary.contacts, contacts, "{summary:?}");
            assert_eq!(summary.messages, messages, "{summary:?}");
            assert_eq!(summary.display_name.as_deref(), Some("Restorer"));
            println!(
                "restore {run}: {:.2} s for {} contacts, {} conversations, {} messages \
                 ({rounds} rounds of fetching; {:.0} messages/s)",
                took.as_secs_f64(),
                summary.contacts,
                summary.conversations,
                summary.messages,
                summary.messages as f64 / took.as_secs_f64()
            );
        }

        // Two online devices: a change on one, timed until the other's event.
        let other_dir = tempfile::tempdir().unwrap();
        let second = open(other_dir.path(), copy(&seed), None, &net);
        first.start().await.unwrap();
        second.start().await.unwrap();
        second.restore(|_| {}).await.unwrap();
        let mut events = second.subscribe();
        let target = ids[0];
        let mut latencies = Vec::with_capacity(changes);
        for i in 0..changes {
            let nickname = format!("nick {i}");
            let t0 = Instant::now();
            first.set_nickname(&target, Some(&nickname)).unwrap();
            loop {
                match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
                    Ok(Ok(Event::Contact { contact }))
                        if contact.nickname.as_deref() == Some(nickname.as_str()) =>
                    {
                        break;
                    }
                    Ok(_) => {}
                    Err(_) => panic!("change {i} did not arrive within 30 s"),
                }
            }
            latencies.push(t0.elapsed());
        }
        latencies.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "device to device over {changes} nickname changes ({contacts}-contact config): \
             p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
            ms(percentile(&latencies, 0.50)),
            ms(percentile(&latencies, 0.95)),
            ms(*latencies.last().unwrap())
        );
        first.shutdown().await;
        second.shutdown().await;
        net.shutdown().await;
    });
}
