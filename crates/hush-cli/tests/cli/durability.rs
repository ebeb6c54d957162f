//! `kill -9` of client processes in the middle of their database writes: Alice's daemon is
//! killed while it queues messages as fast as it is asked, Bob's `receive --follow` while it
//! stores what arrives, round after round. Afterwards both databases pass SQLite's integrity
//! check, every message Alice's daemon acknowledged is in her database and reaches Bob, and
//! none arrives twice.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hush_client::{Client, ClientConfig};
use serde_json::Value;

use super::{hush_as, json, start_devnet};

fn spawn(data: &std::path::Path, profile: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hush"))
        .args(["--data-dir", data.to_str().unwrap(), "--profile", profile])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Kills `child` with SIGKILL after `after` (from another thread, whatever it is doing).
fn kill_later(child: &Child, after: Duration) -> std::thread::JoinHandle<()> {
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(after);
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    })
}

fn open(data: &std::path::Path, profile: &str) -> Client {
    let config = ClientConfig::new(
        data.to_owned(),
        profile.parse().unwrap(),
        data.join("devnet").join("network.json"),
    );
    Client::open(config).unwrap()
}

#[test]
fn kill_9_while_sending_and_receiving_loses_nothing_acknowledged_and_corrupts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for name in ["alice", "bob"] {
        json(&hush_as(data, name, &["--json", "account", "new", "--display-name", name], ""));
    }
    let (devnet, _devnet_out, _) = start_devnet(None, Some(data), &["--nodes", "6"]);
    let b = json(&hush_as(data, "bob", &["--json", "account", "show"], ""))["account_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut acknowledged: Vec<String> = Vec::new();
    let mut n = 0u32;
    for round in 0..8u64 {
        // Bob stores what arrives; killed at a different moment each round.
        let mut receiver = spawn(data, "bob", &["--json", "receive", "--follow"]);
        let receiver_killer = kill_later(&receiver, Duration::from_millis(900 + 170 * round));
        // Alice's daemon queues messages as fast as it is asked, until it is killed.
        let mut daemon = spawn(data, "alice", &["daemon", "--stdio"]);
        let daemon_killer = kill_later(&daemon, Duration::from_millis(700 + 130 * round));
        let mut to = daemon.stdin.take().unwrap();
        let mut from = BufReader::new(daemon.stdout.take().unwrap());
        loop {
            n += 1;
            let text = format!("message {n}");
            let request = serde_json::json!({
                "jsonrpc": "2.0", "id": n, "method": "send", "params": {"to": b, "text": text},
            });
            if writeln!(to, "{request}").is_err() {
                break;
            }
            let mut line = String::new();
            if from.read_line(&mut line).unwrap_or(0) == 0 {
                break; // killed before it answered: not acknowledged
            }
            let answer: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(answer["result"]["body"], text.as_str(), "{answer}");
            acknowledged.push(text);
        }
        daemon_killer.join().unwrap();
        receiver_killer.join().unwrap();
        let _ = daemon.wait();
        let _ = receiver.kill();
        let _ = receiver.wait();
    }
    assert!(acknowledged.len() > 50, "only {} messages acknowledged", acknowledged.len());

    // Opened again: the databases are sound, and what was acknowledged is there.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let rt = rt.unwrap();
    let (alice, bob) = (open(data, "alice"), open(data, "bob"));
    for c in [&alice, &bob] {
        assert_eq!(c.db().integrity_check().unwrap(), "ok");
    }
    let bob_id = bob.account_id();
    let alice_id = alice.account_id();
    // Bob's receivers were killed while storing, not before they started: they had stored
    // messages by then.
    let stored_by_receivers = bob.messages(&alice_id, 100_000).unwrap().len();
    assert!(stored_by_receivers > 0, "Bob's receivers never stored anything before the kills");
    let queued: Vec<String> =
        alice.messages(&bob_id, 100_000).unwrap().into_iter().map(|m| m.body).collect();
    for text in &acknowledged {
        assert!(queued.contains(text), "{text:?} was acknowledged but is not in Alice's database");
    }
    // Everything queued goes out and arrives, once.
    let left = rt.block_on(alice.deliver_pending(Duration::from_secs(120))).unwrap();
    assert_eq!(left, 0, "requests still queued");
    let mut got: HashMap<String, usize> = HashMap::new();
    for _ in 0..60 {
        rt.block_on(bob.receive_now()).unwrap();
        got.clear();
        for m in bob.messages(&alice_id, 100_000).unwrap() {
            *got.entry(m.body).or_default() += 1;
        }
        if acknowledged.iter().all(|t| got.contains_key(t)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let missing = acknowledged.iter().filter(|t| !got.contains_key(*t)).count();
    let twice = got.values().filter(|c| **c > 1).count();
    eprintln!(
        "durability: 8 rounds of kill -9 on both clients; {} messages acknowledged, {} in \
         Alice's database, {stored_by_receivers} stored by Bob's killed receivers, {} received \
         by Bob in all, {missing} missing, {twice} twice; integrity ok",
        acknowledged.len(),
        queued.len(),
        got.len()
    );
    assert_eq!(missing, 0);
    assert_eq!(twice, 0);
    drop(devnet);
}
