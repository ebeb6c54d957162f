//! hush across real hosts: every node and each client in a Linux network namespace of its
//! own, with its own address on a bridge (`ip netns` + veth), nodes as `hush-node` processes
//! and clients as `hush daemon` processes. The kernel counts, in each node's namespace, the
//! packets that arrive from every address (iptables), and the test asserts:
//!
//! - a client's address reaches its guards only (at most two nodes), never another node;
//! - the nodes that store and serve the messages see node addresses only (the exit hop, their
//!   swarm peers), never a client's, unless they are that client's guard;
//! - with the link of Alice's guard cut, her messages still arrive (she builds new paths).
//!
//! Needs root and `ip`/`iptables`: `.ci/run` (root) installs iptables and sets
//! HUSH_REQUIRE_NETNS=1; elsewhere the test prints why it is skipped.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};

use serde_json::{Value, json};

use super::{hush_as, json};

const NODES: usize = 6;
const PORT: u16 = 22021;

fn run(cmd: &[&str]) -> Output {
    Command::new(cmd[0]).args(&cmd[1..]).output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn ok(cmd: &[&str]) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Why namespaces cannot be used here, if they cannot.
fn unavailable() -> Option<String> {
    let uid = ok(&["id", "-u"]);
    if uid.trim() != "0" {
        return Some("not root".to_owned());
    }
    for tool in ["ip", "iptables"] {
        if Command::new(tool).arg("-V").output().is_err()
            && Command::new(tool).arg("--version").output().is_err()
        {
            return Some(format!("{tool} is not installed"));
        }
    }
    let probe = format!("hushprobe{}", std::process::id());
    let out = run(&["ip", "netns", "add", &probe]);
    if !out.status.success() {
        return Some(format!("ip netns add failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let _ = run(&["ip", "netns", "del", &probe]);
    None
}

/// The namespaces, veths and bridge of one test; all removed on drop (processes first).
struct Lab {
    tag: String,
    subnet: String,
    members: Vec<String>,
    children: Vec<Child>,
}

impl Lab {
    fn new(members: usize) -> Self {
        let pid = std::process::id();
        let tag = format!("h{}", pid % 100_000);
        let subnet = format!("10.77.{}", pid % 250);
        let mut lab = Self { tag, subnet, members: Vec::new(), children: Vec::new() };
        let bridge = lab.bridge();
        ok(&["ip", "link", "add", &bridge, "type", "bridge"]);
        ok(&["ip", "link", "set", &bridge, "up"]);
        for k in 0..members {
            let ns = format!("{}n{k}", lab.tag);
            ok(&["ip", "netns", "add", &ns]);
            lab.members.push(ns.clone());
            let veth = lab.veth(k);
            ok(&["ip", "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns]);
            ok(&["ip", "link", "set", &veth, "master", &bridge]);
            ok(&["ip", "link", "set", &veth, "up"]);
            let address = format!("{}/24", lab.ip(k));
            ok(&["ip", "-n", &ns, "addr", "add", &address, "dev", "eth0"]);
            ok(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
            ok(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        }
        lab
    }

    fn bridge(&self) -> String {
        format!("{}br", self.tag)
    }

    fn veth(&self, k: usize) -> String {
        format!("{}v{k}", self.tag)
    }

    fn ip(&self, k: usize) -> String {
        format!("{}.{}", self.subnet, 10 + k)
    }

    /// A command run inside member `k`'s namespace.
    fn command(&self, k: usize, program: &Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.members[k]]).arg(program);
        c
    }

    /// Counts, in member `k`'s namespace, the packets arriving from each of `sources`.
    fn count_from(&self, k: usize, sources: &[String]) {
        for s in sources {
            ok(&[
                "ip",
                "netns",
                "exec",
                &self.members[k],
                "iptables",
                "-A",
                "INPUT",
                "-s",
                s,
                "-j",
                "ACCEPT",
            ]);
        }
    }

    /// Packets member `k` received from each counted source.
    fn counts(&self, k: usize) -> BTreeMap<String, u64> {
        let out = ok(&[
            "ip",
            "netns",
            "exec",
            &self.members[k],
            "iptables",
            "-L",
            "INPUT",
            "-v",
            "-n",
            "-x",
        ]);
        out.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() >= 8 && f[2] == "ACCEPT")
                    .then(|| (f[7].to_owned(), f[0].parse().unwrap_or(0)))
            })
            .collect()
    }

    /// Cuts member `k` off the bridge (or reconnects it).
    fn link(&self, k: usize, up: bool) {
        ok(&["ip", "link", "set", &self.veth(k), if up { "up" } else { "down" }]);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in &self.members {
            let _ = run(&["ip", "netns", "del", ns]);
        }
        let _ = run(&["ip", "link", "del", &self.bridge()]);
    }
}

/// A `hush daemon --stdio` speaking JSON-RPC.
struct Daemon {
    to: ChildStdin,
    from: BufReader<ChildStdout>,
    next: u64,
}

impl Daemon {
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(self.to, "{request}").unwrap();
        loop {
            let answer = self.line();
            if answer["id"] == id {
                return answer;
            }
        }
    }

    fn line(&mut self) -> Value {
        let mut line = String::new();
        assert!(self.from.read_line(&mut line).unwrap() > 0, "the daemon ended");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line:?}"))
    }

    /// Waits for a message event with `body`.
    fn wait_message(&mut self, body: &str) {
        loop {
            let line = self.line();
            if line["params"]["event"]["message"]["body"] == body {
                return;
            }
        }
    }
}

fn hush_node_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_hush")).with_file_name("hush-node");
    assert!(
        path.exists(),
        "{} is missing: `cargo test --workspace` (or `cargo build -p hush-node`) builds it",
        path.display()
    );
    path
}

#[test]
fn in_separate_namespaces_only_guards_see_a_client_and_a_cut_link_is_routed_around() {
    if let Some(why) = unavailable() {
        assert!(
            std::env::var_os("HUSH_REQUIRE_NETNS").is_none(),
            "HUSH_REQUIRE_NETNS is set but network namespaces are unavailable: {why}"
        );
        eprintln!("skipped: network namespaces are unavailable ({why})");
        return;
    }
    let node_bin = hush_node_binary();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    let (alice_k, bob_k) = (NODES, NODES + 1);
    let mut lab = Lab::new(NODES + 2);
    let every_address: Vec<String> = (0..NODES + 2).map(|k| lab.ip(k)).collect();

    // The network: a key, the nodes (each in its namespace), their entries, a signed file.
    let key = base.join("network.key");
    let public =
        ok(&[node_bin.to_str().unwrap(), "network", "key", "--out", key.to_str().unwrap()]);
    let bootstrap = base.join("bootstrap.json");
    std::fs::write(
        &bootstrap,
        json!({"network": "netns", "network_key": public.trim(), "seeds": []}).to_string(),
    )
    .unwrap();
    let mut entries = String::new();
    for k in 0..NODES {
        lab.count_from(k, &every_address);
        let data = base.join(format!("node-{k}"));
        let listen = format!("{}:{PORT}", lab.ip(k));
        let mut child = lab
            .command(k, &node_bin)
            .args(["run", "--listen", &listen, "--sync-interval-ms", "500", "--data-dir"])
            .arg(&data)
            .arg("--network")
            .arg(&bootstrap)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut ready).unwrap();
        assert!(ready.contains("ready"), "{ready:?}");
        lab.children.push(child);
        entries.push_str(&ok(&[
            node_bin.to_str().unwrap(),
            "network",
            "entry",
            "--data-dir",
            data.to_str().unwrap(),
            "--ip",
            &lab.ip(k),
            "--port",
            &PORT.to_string(),
        ]));
    }
    let nodes_file = base.join("nodes.jsonl");
    std::fs::write(&nodes_file, entries).unwrap();
    let network = base.join("network.json");
    ok(&[
        node_bin.to_str().unwrap(),
        "network",
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--name",
        "netns",
        "--nodes",
        nodes_file.to_str().unwrap(),
        "--out",
        network.to_str().unwrap(),
    ]);
    // Published from inside node 0's namespace (the test's own namespace has no address).
    let out = lab
        .command(0, &node_bin)
        .args(["network", "publish", "--file", network.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Alice and Bob, each a daemon in a namespace of its own.
    let data = base.join("clients");
    let mut ids = Vec::new();
    for name in ["alice", "bob"] {
        let made = hush_as(&data, name, &["--json", "account", "new", "--display-name", name], "");
        ids.push(json(&made)["account_id"].as_str().unwrap().to_owned());
    }
    let hush = PathBuf::from(env!("CARGO_BIN_EXE_hush"));
    let mut daemons = Vec::new();
    for (k, name) in [(alice_k, "alice"), (bob_k, "bob")] {
        let mut child = lab
            .command(k, &hush)
            .arg("--data-dir")
            .arg(&data)
            .args(["--profile", name, "--network", network.to_str().unwrap(), "daemon", "--stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let to = child.stdin.take().unwrap();
        let from = BufReader::new(child.stdout.take().unwrap());
        lab.children.push(child);
        daemons.push(Daemon { to, from, next: 0 });
    }
    let (mut alice, mut bob) = {
        let mut it = daemons.into_iter();
        (it.next().unwrap(), it.next().unwrap())
    };
    assert!(bob.call("subscribe", json!({}))["result"].is_object());
    bob.call("contact_add", json!({"account_id": ids[0]}));

    // Ten messages Alice → Bob, each stored before the next (wait).
    for n in 0..10 {
        let text = format!("over the bridge {n}");
        let sent = alice.call("send", json!({"to": ids[1], "text": text, "wait": true}));
        assert_eq!(sent["result"]["status"], "sent", "{sent}");
        bob.wait_message(&text);
    }

    // Who saw whom.
    let alice_ip = lab.ip(alice_k);
    let bob_ip = lab.ip(bob_k);
    let seen: Vec<BTreeMap<String, u64>> = (0..NODES).map(|k| lab.counts(k)).collect();
    let saw = |k: usize, ip: &str| seen[k].get(ip).copied().unwrap_or(0) > 0;
    let alice_guards: Vec<usize> = (0..NODES).filter(|k| saw(*k, &alice_ip)).collect();
    let bob_guards: Vec<usize> = (0..NODES).filter(|k| saw(*k, &bob_ip)).collect();
    eprintln!("netns: packets by source address, per node: {seen:#?}");
    eprintln!("netns: Alice's address reached nodes {alice_guards:?}, Bob's {bob_guards:?}");
    assert!(
        (1..=2).contains(&alice_guards.len()),
        "Alice's address reached {alice_guards:?}, more than her two guards"
    );
    assert!((1..=2).contains(&bob_guards.len()), "Bob's address reached {bob_guards:?}");
    // Every node carried or stored the traffic, and the ones that are nobody's guard saw
    // node addresses only.
    for k in (0..NODES).filter(|k| !alice_guards.contains(k) && !bob_guards.contains(k)) {
        let others: u64 = (0..NODES)
            .filter(|j| *j != k)
            .map(|j| seen[k].get(&lab.ip(j)).copied().unwrap_or(0))
            .sum();
        assert!(others > 0, "node {k} heard from no other node");
        assert!(!saw(k, &alice_ip) && !saw(k, &bob_ip), "node {k} saw a client");
    }

    // Cut the link of Alice's first guard: her next messages still arrive.
    let cut = alice_guards[0];
    lab.link(cut, false);
    for n in 0..5 {
        let text = format!("around the cut {n}");
        let sent = alice.call("send", json!({"to": ids[1], "text": text, "wait": true}));
        assert_eq!(sent["result"]["status"], "sent", "{sent}");
        bob.wait_message(&text);
    }
    let after: Vec<usize> =
        (0..NODES).filter(|k| lab.counts(*k).get(&alice_ip).copied().unwrap_or(0) > 0).collect();
    eprintln!("netns: link of node {cut} cut; Alice's address has now reached nodes {after:?}");
    assert!(after.len() <= 3, "a new guard, not a spray of connections: {after:?}");
    lab.link(cut, true);
}
