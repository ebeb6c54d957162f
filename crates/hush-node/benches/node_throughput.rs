//! Benchmark of one hush-node: direct stores/s and retrieves/s with concurrent clients, the
//! same through a 3-hop onion path, retrieve latency with 10³ vs 10⁶ messages stored, and
//! idle RSS. Run with `cargo bench -p hush-node` (release); figures go to BENCHMARKS.md.
//!
//! - Direct and latency runs start the real `hush-node` binary as a child process, so client
//!   and server are separate processes sharing the machine's two cores.
//! - The onion run needs three nodes that know each other; they run in this process on their
//!   own runtime, with the client on another. The three form one swarm, so each store is also
//!   replicated to the other two. Figures for a 12-node network are in `hush-testnet`'s
//!   benchmark.
//! - Set `HUSH_BENCH_QUICK=1` for a short smoke run (10⁴ instead of 10⁶ messages).

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::disallowed_methods, reason = "a benchmark measures wall time")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_node::network::Network;
use hush_node::store::{Limits, NewMessage, Store};
use hush_node::{Node, NodeConfig};
use hush_proto::message_hash::MessageHash;
use hush_proto::namespace::Namespace;
use hush_proto::onion::{self, EncType, OnionNode};
use hush_proto::{AccountSeed, Identity};
use hush_sodium::SystemRng;
use serde_json::{Value, json};

const CONCURRENCY: usize = 64;
const RUN: Duration = Duration::from_secs(6);
const WARMUP: Duration = Duration::from_secs(1);

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn quick() -> bool {
    std::env::var_os("HUSH_BENCH_QUICK").is_some()
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .pool_max_idle_per_host(CONCURRENCY * 2)
        .build()
        .unwrap()
}

fn account(i: u32) -> Identity {
    let mut entropy = [0u8; 16];
    entropy[..4].copy_from_slice(&i.to_le_bytes());
    entropy[15] = 0x5a;
    Identity::from_seed(&AccountSeed::from_entropy(&entropy).unwrap())
}

/// Starts the binary on `dir`; returns the child and its URL.
fn start_binary(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hush-node"))
        .args(["run", "--listen", "127.0.0.1:0", "--rate-limit-per-ip", "0", "--log", "warn"])
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    (child, ready["url"].as_str().unwrap().to_owned())
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap()
}

/// Runs `CONCURRENCY` workers calling `op` for `RUN` after `WARMUP`; returns ops/s.
async fn throughput<F, Fut>(op: F) -> f64
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..CONCURRENCY as u64 {
        let (op, counting, stop, done, failed) =
            (op.clone(), counting.clone(), stop.clone(), done.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            let mut i = w << 32;
            while !stop.load(Ordering::Relaxed) {
                let ok = op(i).await;
                i += 1;
                if counting.load(Ordering::Relaxed) {
                    if ok {
                        done.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(WARMUP).await;
    counting.store(true, Ordering::Relaxed);
    let start = Instant::now();
    tokio::time::sleep(RUN).await;
    counting.store(false, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let failed = failed.load(Ordering::Relaxed);
    assert_eq!(failed, 0, "{failed} operations failed");
    done.load(Ordering::Relaxed) as f64 / elapsed
}

async fn rpc(http: &reqwest::Client, url: &str, body: String) -> Option<Value> {
    let resp = http.post(format!("{url}/storage_rpc/v1")).body(body).send().await.ok()?;
    if resp.status() != 200 {
        return None;
    }
    serde_json::from_slice(&resp.bytes().await.ok()?).ok()
}

fn store_body(account_hex: &str, data: &[u8]) -> String {
    json!({"method": "store", "params": {"pubkey": account_hex, "timestamp": now_ms(),
           "ttl": 3_600_000, "data": STANDARD.encode(data)}})
    .to_string()
}

fn retrieve_body(id: &Identity) -> String {
    let ts = now_ms();
    let sig = STANDARD.encode(id.ed25519().sign(format!("retrieve{ts}").as_bytes()).as_bytes());
    json!({"method": "retrieve", "params": {"pubkey": id.account_id().to_string(),
           "pubkey_ed25519": hex::encode(id.ed25519_public().as_bytes()),
           "timestamp": ts, "signature": sig, "max_count": 10}})
    .to_string()
}

async fn direct(url: &str) {
    let http = client();
    let accounts: Arc<Vec<(Identity, String)>> = Arc::new(
        (0..256)
            .map(|i| {
                let id = account(i);
                let hex = id.account_id().to_string();
                (id, hex)
            })
            .collect(),
    );
    let (h, u, a) = (http.clone(), url.to_owned(), accounts.clone());
    let stores = throughput(move |i| {
        let (h, u, a) = (h.clone(), u.clone(), a.clone());
        async move {
            let (_, hex) = &a[(i as usize) % a.len()];
            let mut data = [0u8; 100];
            data[..8].copy_from_slice(&i.to_le_bytes());
            rpc(&h, &u, store_body(hex, &data)).await.is_some()
        }
    })
    .await;
    println!("| direct store, 100 B, {CONCURRENCY} concurrent clients | {stores:.0} stores/s |");
    let (h, u, a) = (http.clone(), url.to_owned(), accounts);
    let retrieves = throughput(move |i| {
        let (h, u, a) = (h.clone(), u.clone(), a.clone());
        async move {
            let (id, _) = &a[(i as usize) % a.len()];
            rpc(&h, &u, retrieve_body(id)).await.is_some()
        }
    })
    .await;
    println!(
        "| direct retrieve (signed, ≤ 10 messages), {CONCURRENCY} concurrent clients | {retrieves:.0} retrieves/s |"
    );
}

fn via_onion(rt: &tokio::runtime::Runtime) {
    // Three nodes on their own runtime.
    let nodes_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let handles: Vec<_> = dirs
        .iter()
        .map(|d| {
            let config = NodeConfig {
                data_dir: d.path().to_owned(),
                listen: "127.0.0.1:0".parse().unwrap(),
                rate_limit_per_ip: 0,
                log: "warn".into(),
                ..NodeConfig::default()
            };
            nodes_rt.block_on(Node::builder(config).spawn()).unwrap()
        })
        .collect();
    let records: Vec<_> = handles.iter().map(|h| h.record().clone()).collect();
    for h in &handles {
        h.membership().replace(Network::new(records.clone(), 1));
    }
    let hop = |i: usize| OnionNode { ed25519: *handles[i].ed25519(), x25519: *handles[i].x25519() };
    let path = Arc::new([hop(0), hop(1)]);
    let dest = hop(2);
    let entry = handles[0].url().to_owned();
    let http = client();

    let send = move |body: String| {
        let (http, entry, path) = (http.clone(), entry.clone(), path.clone());
        async move {
            let built = onion::build_request(
                &path[..],
                &dest,
                body.as_bytes(),
                EncType::XChaCha20,
                &mut SystemRng,
            )
            .unwrap();
            let Ok(resp) =
                http.post(format!("{entry}/onion_req/v2")).body(built.payload).send().await
            else {
                return false;
            };
            if resp.status() != 200 {
                return false;
            }
            let Ok(bytes) = resp.bytes().await else { return false };
            onion::decode_final_response(&built.response_cipher, &bytes)
                .is_ok_and(|r| r.status == 200)
        }
    };
    let accounts: Arc<Vec<(Identity, String)>> = Arc::new(
        (1000..1064)
            .map(|i| {
                let id = account(i);
                let hex = id.account_id().to_string();
                (id, hex)
            })
            .collect(),
    );
    let (s, a) = (send.clone(), accounts.clone());
    let stores = rt.block_on(throughput(move |i| {
        let (s, a) = (s.clone(), a.clone());
        async move {
            let (_, hex) = &a[(i as usize) % a.len()];
            let mut data = [0u8; 100];
            data[..8].copy_from_slice(&i.to_le_bytes());
            s(store_body(hex, &data)).await
        }
    }));
    println!(
        "| store through 3 nodes (guard → relay → destination), XChaCha20, {CONCURRENCY} concurrent | {stores:.0} stores/s |"
    );
    let (s, a) = (send, accounts);
    let retrieves = rt.block_on(throughput(move |i| {
        let (s, a) = (s.clone(), a.clone());
        async move {
            let (id, _) = &a[(i as usize) % a.len()];
            s(retrieve_body(id)).await
        }
    }));
    println!(
        "| retrieve through 3 nodes, XChaCha20, {CONCURRENCY} concurrent | {retrieves:.0} retrieves/s |"
    );
    for h in handles {
        nodes_rt.block_on(h.shutdown());
    }
    drop(dirs);
    nodes_rt.shutdown_timeout(Duration::from_secs(1));
}

/// Fills `dir` with `total` messages: `target_count` for the target account, the rest spread
/// over other accounts. Returns the hash of the target's 10th-from-last message.
async fn populate(dir: &Path, total: u64, target: &Identity, target_count: u64) -> String {
    let store = Store::open(
        &dir.join("storage.db"),
        Limits { max_account_bytes: u64::MAX, max_node_bytes: u64::MAX },
    )
    .unwrap();
    let t = now_ms();
    let fill = Arc::new(AtomicU64::new(0));
    let others: Vec<_> = (0..1000u32).map(|i| *account(50_000 + i).account_id()).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let is_target =
            i % (total / target_count) == 0 && i / (total / target_count) < target_count;
        let owner = if is_target { *target.account_id() } else { others[(i % 1000) as usize] };
        let mut data = [0u8; 100];
        data[..8].copy_from_slice(&i.to_le_bytes());
        let hash = MessageHash::compute(&owner, Namespace(0), &data);
        let (store, fill) = (store.clone(), fill.clone());
        tasks.spawn(async move {
            store
                .store(
                    NewMessage {
                        account: owner,
                        namespace: Namespace(0),
                        hash,
                        timestamp: t,
                        expiry: t + 3_600_000,
                        data: data.to_vec(),
                    },
                    t,
                )
                .await
                .unwrap();
            fill.fetch_add(1, Ordering::Relaxed);
        });
        while tasks.len() >= 2048 {
            tasks.join_next().await.unwrap().unwrap();
        }
    }
    while tasks.join_next().await.is_some() {}
    store.close().await;
    // Stores completed in any order: find the target's 10th-newest message by storage order.
    let db = rusqlite::Connection::open(dir.join("storage.db")).unwrap();
    db.query_row(
        "SELECT hash FROM messages WHERE account = ?1 ORDER BY id DESC LIMIT 1 OFFSET 9",
        [&target.account_id().as_bytes()[..]],
        |r| r.get(0),
    )
    .unwrap()
}

async fn latency(total: u64, target_count: u64) -> (f64, f64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let target = account(7);
    let t0 = Instant::now();
    let anchor = populate(dir.path(), total, &target, target_count).await;
    let fill_secs = t0.elapsed().as_secs_f64();
    println!("|   (filled {total} messages in {fill_secs:.0} s) | |");
    let (mut child, url) = start_binary(dir.path());
    let http = client();
    let mut samples = Vec::new();
    for i in 0..2200 {
        let ts = now_ms();
        let sig =
            STANDARD.encode(target.ed25519().sign(format!("retrieve{ts}").as_bytes()).as_bytes());
        let body =
            json!({"method": "retrieve", "params": {"pubkey": target.account_id().to_string(),
            "pubkey_ed25519": hex::encode(target.ed25519_public().as_bytes()), "timestamp": ts,
            "signature": sig, "last_hash": anchor}})
            .to_string();
        let start = Instant::now();
        let v = rpc(&http, &url, body).await.expect("retrieve");
        let took = start.elapsed();
        assert_eq!(v["messages"].as_array().unwrap().len(), 9);
        if i >= 200 {
            samples.push(took.as_secs_f64() * 1e6);
        }
    }
    samples.sort_by(f64::total_cmp);
    let rss = rss_kib(child.id());
    child.kill().unwrap();
    let _ = child.wait();
    (samples[samples.len() / 2], samples[samples.len() * 99 / 100], rss)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("## hush-node throughput (cargo bench -p hush-node)\n");
    println!("| case | result |\n|---|---|");

    // Idle RSS of a fresh node.
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start_binary(dir.path());
    std::thread::sleep(Duration::from_secs(2));
    println!("| idle RSS, fresh node | {:.1} MiB |", rss_kib(child.id()) as f64 / 1024.0);
    rt.block_on(direct(&url));
    println!("| RSS after the direct runs | {:.1} MiB |", rss_kib(child.id()) as f64 / 1024.0);
    child.kill().unwrap();
    let _ = child.wait();

    via_onion(&rt);

    let big = if quick() { 10_000 } else { 1_000_000 };
    let (small_p50, small_p99, _) = rt.block_on(latency(1_000, 1_000));
    println!(
        "| retrieve latency, 10³ messages stored (9 returned after last_hash) | p50 {small_p50:.0} µs, p99 {small_p99:.0} µs |"
    );
    let (big_p50, big_p99, big_rss) = rt.block_on(latency(big, big));
    println!(
        "| retrieve latency, {big} messages stored in the same mailbox (9 returned after last_hash) | p50 {big_p50:.0} µs, p99 {big_p99:.0} µs |"
    );
    println!("| ratio of medians, {big} vs 10³ | {:.2}× |", big_p50 / small_p50);
    println!(
        "| RSS after serving the {big}-message database | {:.1} MiB |",
        big_rss as f64 / 1024.0
    );
}
