//! hush on a network of separate `hush-node` processes (each on a loopback address of its
//! own) with two `hush daemon` processes, when a member of the recipient's swarm **hangs**
//! (SIGSTOP: its connections open, nothing answers) rather than dies:
//!
//! - the recipient's poller moves to another member within one poll timeout, without new
//!   guards (no further node learns its address), counts it in `stats`, and does not download
//!   its inbox again at the new member (it lists it first);
//! - the sender's outbox is not held back: every message is stored and received while the
//!   member hangs, at normal pace;
//! - a send retried with the same `send_id` after the sender's daemon was killed mid-send
//!   reaches the recipient exactly once.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::rpc::Daemon;
use super::{hush_as, json};

const NODES: usize = 7;

/// Processes killed when the test ends, whatever happens (stopped ones are woken first).
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = Command::new("kill").args(["-CONT", &c.id().to_string()]).status();
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn hush_node_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_hush")).with_file_name("hush-node");
    assert!(path.exists(), "{} is missing: `cargo test --workspace` builds it", path.display());
    path
}

fn run(bin: &Path, args: &[&str]) -> String {
    let out = Command::new(bin).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The network: `NODES` node processes on 127.0.5.10… under one signed registry.
fn start_network(dir: &Path, processes: &mut Processes) -> (PathBuf, Vec<String>) {
    let bin = hush_node_binary();
    let key = dir.join("network.key");
    let public = run(&bin, &["network", "key", "--out", key.to_str().unwrap()]);
    let bootstrap = dir.join("bootstrap.json");
    let file = json!({"network": "faults", "network_key": public.trim(), "seeds": []});
    std::fs::write(&bootstrap, file.to_string()).unwrap();
    let (mut entries, mut keys) = (String::new(), Vec::new());
    for k in 0..NODES {
        let data = dir.join(format!("node-{k}"));
        let ip = format!("127.0.5.{}", 10 + k);
        let mut child = Command::new(&bin)
            .args(["run", "--listen", &format!("{ip}:0"), "--sync-interval-ms", "1000"])
            .arg("--data-dir")
            .arg(&data)
            .arg("--network")
            .arg(&bootstrap)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line:?}"));
        processes.0.push(child);
        let url = ready["url"].as_str().unwrap();
        let port = url.rsplit(':').next().unwrap();
        let data = data.to_str().unwrap();
        entries.push_str(&run(
            &bin,
            &["network", "entry", "--data-dir", data, "--ip", &ip, "--port", port],
        ));
        keys.push(ready["ed25519"].as_str().unwrap().to_owned());
    }
    let nodes = dir.join("nodes.jsonl");
    std::fs::write(&nodes, entries).unwrap();
    let network = dir.join("network.json");
    let (key, nodes_arg, net_arg) =
        (key.to_str().unwrap(), nodes.to_str().unwrap(), network.to_str().unwrap());
    run(
        &bin,
        &[
            "network", "sign", "--key", key, "--name", "faults", "--nodes", nodes_arg, "--out",
            net_arg,
        ],
    );
    run(&bin, &["network", "publish", "--file", net_arg]);
    (network, keys)
}

fn network_args(network: &Path) -> [&str; 2] {
    ["--network", network.to_str().unwrap()]
}

fn is_message(line: &Value, body: &str) -> bool {
    line["params"]["event"]["type"] == "message"
        && line["params"]["event"]["message"]["body"] == body
}

#[test]
#[allow(clippy::disallowed_methods, reason = "the test measures delivery times")]
fn a_hung_member_neither_blinds_the_receiver_nor_holds_back_the_sender() {
    let dir = tempfile::tempdir().unwrap();
    let mut processes = Processes(Vec::new());
    let (network, keys) = start_network(dir.path(), &mut processes);
    let data = dir.path().join("clients");
    let mut ids = Vec::new();
    for name in ["alice", "bob"] {
        let made = hush_as(&data, name, &["--json", "account", "new", "--display-name", name], "");
        ids.push(json(&made)["account_id"].as_str().unwrap().to_owned());
    }
    let (alice_id, bob_id) = (ids[0].clone(), ids[1].clone());
    let mut bob = Daemon::start(&data, "bob", &network_args(&network));
    bob.call("subscribe", json!({}));
    bob.call("contact_add", json!({"account_id": alice_id}));
    let mut alice = Daemon::start(&data, "alice", &network_args(&network));
    alice.call("subscribe", json!({}));

    // Bob's inbox fills with twenty messages, polled at one member.
    for n in 0..20 {
        let text = format!("before {n}");
        let sent = alice.call("send", json!({"to": bob_id, "text": text, "wait": true}));
        assert_eq!(sent["result"]["status"], "sent", "{sent}");
        bob.wait(Duration::from_secs(20), "a message", |l| is_message(l, &text));
    }
    let before = bob.stats();
    let polled = before["polled_member"].as_str().unwrap().to_owned();
    // The member to hang must not be one of Alice's guards (a hung guard is another case,
    // the path's): Alice starts again, with new paths, until it is not.
    for _ in 0..20 {
        let guards = alice.stats()["guards"].clone();
        if !guards.as_array().unwrap().iter().any(|g| g == &json!(polled)) {
            break;
        }
        drop(alice);
        alice = Daemon::start(&data, "alice", &network_args(&network));
        alice.call("subscribe", json!({}));
        let sent = alice.call("send", json!({"to": bob_id, "text": "new paths", "wait": true}));
        assert_eq!(sent["result"]["status"], "sent", "{sent}");
        bob.wait(Duration::from_secs(20), "a message", |l| is_message(l, "new paths"));
    }
    let alice_guards = alice.stats()["guards"].clone();
    assert!(!alice_guards.as_array().unwrap().iter().any(|g| g == &json!(polled)));
    let hung = keys.iter().position(|k| *k == polled).unwrap();
    let hung_pid = processes.0[hung].id().to_string();
    assert!(Command::new("kill").args(["-STOP", &hung_pid]).status().unwrap().success());

    // Thirty messages while it hangs: none waits for the others, all arrive.
    let started = std::time::Instant::now();
    for n in 0..30 {
        alice.request("send", json!({"to": bob_id, "text": format!("during {n}")}));
    }
    let mut received: Vec<String> = Vec::new();
    while received.len() < 30 {
        let line = bob.wait(Duration::from_secs(60), "a message sent during the hang", |l| {
            l["params"]["event"]["type"] == "message"
                && l["params"]["event"]["message"]["body"]
                    .as_str()
                    .is_some_and(|b| b.starts_with("during ") && !received.iter().any(|r| r == b))
        });
        received.push(line["params"]["event"]["message"]["body"].as_str().unwrap().to_owned());
    }
    let all_received = started.elapsed();
    let after = bob.stats();
    let alice_after = alice.stats();
    eprintln!(
        "faults: member {hung} of {NODES} hung; Bob received the 30 messages sent meanwhile in \
         {} ms; Bob's stats before {before}, after {after}; Alice's {alice_after}",
        all_received.as_millis(),
    );
    // Within about two poll timeouts (8 s wait + 5 s), not the 52 s of 55b1511.
    assert!(all_received < Duration::from_secs(35), "{all_received:?}");
    assert_ne!(after["polled_member"], json!(polled), "the poll moved to another member");
    assert!(after["poll_failures"].as_u64() > before["poll_failures"].as_u64(), "{after}");
    assert!(after["member_timeouts"].as_u64() >= Some(1), "{after}");
    assert_eq!(after["exposed_to"], before["exposed_to"], "no new node learnt Bob's address");
    assert_eq!(after["guards"], before["guards"], "Bob kept his guards");
    // The new member's inbox was listed first: the twenty earlier messages were not fetched
    // again (at 55b1511 every switch downloaded the whole inbox).
    let again = after["duplicates"].as_u64().unwrap() - before["duplicates"].as_u64().unwrap();
    assert!(again < 5, "{again} messages downloaded again after the switch");

    // A send retried with its send ID after the daemon died mid-send arrives once.
    let send = json!({"to": bob_id, "text": "exactly once", "send_id": "retry-1"});
    alice.request("send", send.clone());
    std::thread::sleep(Duration::from_millis(30));
    // SIGKILL, and reaped: its profile lock is gone before the next daemon starts.
    alice.child.kill().unwrap();
    alice.child.wait().unwrap();
    drop(alice);
    let mut alice = Daemon::start(&data, "alice", &network_args(&network));
    let first = alice.call("send", send.clone());
    let second = alice.call("send", send);
    assert_eq!(first["result"]["id"], second["result"]["id"], "{first} {second}");
    let conflict =
        alice.call("send", json!({"to": bob_id, "text": "something else", "send_id": "retry-1"}));
    assert_eq!(conflict["error"]["code"], -32602, "{conflict}");
    bob.wait(Duration::from_secs(40), "the retried message", |l| is_message(l, "exactly once"));
    assert!(Command::new("kill").args(["-CONT", &hung_pid]).status().unwrap().success());
    let sent = alice.call("send", json!({"to": bob_id, "text": "after", "wait": true}));
    assert_eq!(sent["result"]["status"], "sent", "{sent}");
    bob.wait(Duration::from_secs(20), "the last message", |l| is_message(l, "after"));
    let copies = bob.call("messages", json!({"conversation": alice_id, "limit": 500}));
    let once = copies["result"].as_array().unwrap().iter().filter(|m| m["body"] == "exactly once");
    assert_eq!(once.count(), 1, "the retried send was stored once");
}
