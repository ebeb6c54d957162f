//! Benchmark of a 12-node hush network (hush-testnet: every node, and the clients, in this
//! process on the machine's cores): stores/s for the whole network, replication lag p50/p99
//! under that load, and the CPU an idle network spends on catch-up. Run with
//! `cargo bench -p hush-testnet` (release); figures go to BENCHMARKS.md.
//!
//! - **Network stores/s**: 64 clients store 100-byte messages for 240 accounts, each at a
//!   random member of the account's swarm; every acknowledged store was written on the six
//!   members of that swarm.
//! - **Replication lag**: idle, then while 32 clients keep storing, a probe stores for a
//!   fresh account every 20 ms and polls all six members until each returns the message. Lag is the time
//!   from sending the store until the last member returns it; "after the ack" is how much of
//!   that came after the store's answer (replication is synchronous, so it should be none).
//! - **Idle CPU**: process CPU time over 5 s with no clients, at the testnet's 300 ms sync
//!   interval and at the production 10 s.
//!
//! Set `HUSH_BENCH_QUICK=1` for a short smoke run.

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::disallowed_methods, reason = "a benchmark measures wall time")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hush_proto::{AccountSeed, Identity};
use hush_testnet::Testnet;
use serde_json::{Value, json};

const NODES: usize = 12;
const ACCOUNTS: u32 = 240;

fn quick() -> bool {
    std::env::var_os("HUSH_BENCH_QUICK").is_some()
}

fn run_time() -> Duration {
    if quick() { Duration::from_secs(2) } else { Duration::from_secs(6) }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn account(i: u32) -> Identity {
    let mut entropy = [0u8; 16];
    entropy[..4].copy_from_slice(&i.to_le_bytes());
    entropy[15] = 0xb7;
    Identity::from_seed(&AccountSeed::from_entropy(&entropy).unwrap())
}

/// An account and the URLs of its swarm's members.
struct Target {
    id: Identity,
    members: Vec<String>,
}

fn targets_of(net: &Testnet, range: std::ops::Range<u32>) -> Vec<Target> {
    range
        .map(|i| {
            let id = account(i);
            let members =
                net.swarm_of(id.account_id()).into_iter().map(|n| net.url(n).unwrap()).collect();
            Target { id, members }
        })
        .collect()
}

async fn store(http: &reqwest::Client, url: &str, id: &Identity, data: &[u8]) -> Option<String> {
    let body = json!({"method": "store", "params": {
        "pubkey": id.account_id().to_string(), "timestamp": now_ms(), "ttl": 86_400_000,
        "data": STANDARD.encode(data)}});
    let resp =
        http.post(format!("{url}/storage_rpc/v1")).body(body.to_string()).send().await.ok()?;
    if resp.status() != 200 {
        return None;
    }
    let v: Value = serde_json::from_slice(&resp.bytes().await.ok()?).ok()?;
    v["hash"].as_str().map(str::to_owned)
}

async fn has(http: &reqwest::Client, url: &str, id: &Identity, hash: &str) -> bool {
    let ts = now_ms();
    let sig = id.ed25519().sign(format!("retrieve{ts}").as_bytes());
    let body = json!({"method": "retrieve", "params": {
        "pubkey": id.account_id().to_string(),
        "pubkey_ed25519": hex::encode(id.ed25519_public().as_bytes()),
        "timestamp": ts, "signature": STANDARD.encode(sig.as_bytes())}});
    let Ok(resp) = http.post(format!("{url}/storage_rpc/v1")).body(body.to_string()).send().await
    else {
        return false;
    };
    let Ok(bytes) = resp.bytes().await else { return false };
    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else { return false };
    v["messages"].as_array().is_some_and(|m| m.iter().any(|m| m["hash"] == hash))
}

/// `clients` tasks storing until `stop`; returns the acknowledged count.
fn load(
    targets: Arc<Vec<Target>>,
    clients: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..clients)
        .map(|c| {
            let (targets, stop, acked) = (targets.clone(), stop.clone(), acked.clone());
            tokio::spawn(async move {
                let http = client();
                let mut k = c;
                while !stop.load(Ordering::Relaxed) {
                    let t = &targets[k % targets.len()];
                    let url = &t.members[(k / targets.len() + c) % t.members.len()];
                    let data = [k as u8; 100];
                    if store(&http, url, &t.id, &data).await.is_some() {
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    k += 7;
                }
            })
        })
        .collect()
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process, in clock ticks (100 Hz on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn throughput(net: &Testnet) {
    let targets = Arc::new(targets_of(net, 0..ACCOUNTS));
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let tasks = load(targets, 64, stop.clone(), acked.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (start, before, cpu0) = (Instant::now(), acked.load(Ordering::Relaxed), cpu_seconds());
    tokio::time::sleep(run_time()).await;
    let stores = acked.load(Ordering::Relaxed) - before;
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "network stores/s ({NODES} nodes, 64 clients): {:.0} acknowledged stores/s, each on 6 nodes \
         ({:.0} node writes/s); CPU {:.2} cores",
        stores as f64 / secs,
        stores as f64 * 6.0 / secs,
        cpu / secs
    );
}

async fn replication_lag(net: &Testnet, clients: usize) {
    let targets = Arc::new(targets_of(net, 0..ACCOUNTS));
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let tasks = load(targets, clients, stop.clone(), acked.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let http = client();
    let mut lags = Vec::new();
    let mut acks = Vec::new();
    let mut at_first_poll = 0usize;
    let probes = if quick() { 50 } else { 300 };
    let load_start = (Instant::now(), acked.load(Ordering::Relaxed));
    for p in 0..probes {
        let probe = &targets_of(net, 1_000_000 + p..1_000_001 + p)[0];
        let sent = Instant::now();
        let Some(hash) = store(&http, &probe.members[0], &probe.id, b"probe").await else {
            continue;
        };
        let acked_at = Instant::now();
        let mut polls = Vec::new();
        for url in &probe.members {
            let (http, url, hash) = (http.clone(), url.clone(), hash.clone());
            let id = account(1_000_000 + p);
            polls.push(tokio::spawn(async move {
                let mut first = true;
                while !has(&http, &url, &id, &hash).await {
                    first = false;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                (Instant::now(), first)
            }));
        }
        let mut last = acked_at;
        let mut all_first = true;
        for poll in polls {
            let (seen, first) = poll.await.unwrap();
            last = last.max(seen);
            all_first &= first;
        }
        at_first_poll += usize::from(all_first);
        lags.push(last - sent);
        acks.push(acked_at - sent);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let load_rate = (acked.load(Ordering::Relaxed) - load_start.1) as f64
        / load_start.0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    lags.sort();
    acks.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "replication lag ({} probes, {clients} background clients storing {load_rate:.0}/s): on all 6 members \
         p50 {:.1} ms, p99 {:.1} ms after sending; store acknowledged p50 {:.1} ms, p99 {:.1} ms; \
         every member already had it at the first read after the ack in {at_first_poll}/{} probes",
        lags.len(),
        ms(percentile(&lags, 0.5)),
        ms(percentile(&lags, 0.99)),
        ms(percentile(&acks, 0.5)),
        ms(percentile(&acks, 0.99)),
        lags.len(),
    );
}

async fn idle_cpu(sync: Duration) {
    let net = Testnet::builder().nodes(NODES).sync_interval(sync).start().await.unwrap();
    // A little data so summaries are not empty.
    let http = client();
    for t in targets_of(&net, 0..24) {
        store(&http, &t.members[0], &t.id, b"seed").await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (start, cpu0) = (Instant::now(), cpu_seconds());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let cpu = cpu_seconds() - cpu0;
    println!(
        "idle {NODES}-node network, sync every {} ms: {:.1}% of one core",
        sync.as_millis(),
        cpu / start.elapsed().as_secs_f64() * 100.0
    );
    net.shutdown().await;
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        // Production sync interval: the figures are the request path, not background sync.
        let net = Testnet::builder()
            .nodes(NODES)
            .sync_interval(Duration::from_secs(10))
            .start()
            .await
            .unwrap();
        throughput(&net).await;
        replication_lag(&net, 0).await;
        replication_lag(&net, 32).await;
        net.shutdown().await;
        idle_cpu(Duration::from_millis(300)).await;
        idle_cpu(Duration::from_secs(10)).await;
    });
}
