//! Benchmark of hush-client end to end on a 12-node local network (hush-testnet, in this
//! process): message latency from `send_text` to the recipient's `message` event, and the CPU
//! an idle client uses. Run with `cargo bench -p hush-cli` (release); figures go to
//! BENCHMARKS.md.
//!
//! - **Latency**: Alice sends 1,000 messages to Bob one after the other; each is timed from
//!   the call that queues it until Bob's client emits its `message` event (outbox → onion
//!   path → Bob's swarm → replication → Bob's long-poll through his own onion path →
//!   decryption → database → event). Both clients run in this process with the defaults
//!   (8 s long-poll wait).
//! - **Idle CPU**: `hush daemon --stdio` (Bob's profile) as its own process, its user+system
//!   CPU time from /proc over 60 s with nothing to receive.
//!
//! Set `HUSH_BENCH_QUICK=1` for a short smoke run (100 messages, 10 s idle).

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::disallowed_methods, reason = "a benchmark measures wall time")]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hush_client::{Client, ClientConfig, Event, Profile, ProfileName};
use hush_proto::AccountSeed;
use hush_sodium::SystemRng;
use hush_testnet::Testnet;

fn quick() -> bool {
    std::env::var_os("HUSH_BENCH_QUICK").is_some()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn open(dir: &std::path::Path, name: &str, net: &Testnet) -> Client {
    let profile = Profile::new(dir, ProfileName::parse(name).unwrap());
    profile
        .create(AccountSeed::generate(&mut SystemRng), Some(name.into()), now_ms(), false)
        .unwrap();
    Client::open(ClientConfig::new(
        dir.to_owned(),
        ProfileName::parse(name).unwrap(),
        net.network_file_path().to_owned(),
    ))
    .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// User + system CPU time of process `pid`, in clock ticks (/proc/PID/stat fields 14, 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn ticks_per_second() -> u64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let messages = if quick() { 100 } else { 1000 };
    let idle = if quick() { Duration::from_secs(10) } else { Duration::from_secs(60) };
    runtime.block_on(async {
        let net = Testnet::builder().nodes(12).start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let alice = open(dir.path(), "alice", &net);
        let bob = open(dir.path(), "bob", &net);
        alice.start().await.unwrap();
        bob.start().await.unwrap();
        let b = bob.account_id();
        bob.add_contact(&alice.account_id()).unwrap();
        let mut events = bob.subscribe();
        // Warm-up: paths and connections.
        for i in 0..10 {
            alice.send_text(&b, &format!("warm-up {i}")).unwrap();
        }
        let mut warm = 0;
        while warm < 10 {
            if let Ok(Event::Message { .. }) = events.recv().await {
                warm += 1;
            }
        }
        let mut latencies = Vec::with_capacity(messages);
        let started = Instant::now();
        for i in 0..messages {
            let body = format!("message {i}");
            let t0 = Instant::now();
            alice.send_text(&b, &body).unwrap();
            loop {
                match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
                    Ok(Ok(Event::Message { message })) if message.body == body => break,
                    Ok(_) => {}
                    Err(_) => panic!("message {i} did not arrive within 30 s"),
                }
            }
            latencies.push(t0.elapsed());
        }
        let total = started.elapsed();
        latencies.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "end-to-end latency over {messages} messages (12 nodes): p50 {:.1} ms, p95 {:.1} ms, \
             p99 {:.1} ms, max {:.1} ms ({:.1} s in all)",
            ms(percentile(&latencies, 0.50)),
            ms(percentile(&latencies, 0.95)),
            ms(percentile(&latencies, 0.99)),
            ms(*latencies.last().unwrap()),
            total.as_secs_f64()
        );
        println!("bob's receive counters: {:?}", bob.stats());
        alice.shutdown().await;
        bob.shutdown().await;

        // Idle: Bob's daemon as its own process.
        let mut daemon = Command::new(env!("CARGO_BIN_EXE_hush"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--profile", "bob", "--network"])
            .arg(net.network_file_path())
            .args(["daemon", "--stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = daemon.id();
        // Started and settled.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let before = cpu_ticks(pid);
        let t0 = Instant::now();
        tokio::time::sleep(idle).await;
        let used = cpu_ticks(pid) - before;
        let seconds = t0.elapsed().as_secs_f64();
        let share = used as f64 / ticks_per_second() as f64 / seconds * 100.0;
        println!(
            "idle client (hush daemon, own process) over {seconds:.0} s: {used} CPU ticks = \
             {share:.3}% of a core"
        );
        drop(daemon.stdin.take());
        let _ = daemon.wait();
        net.shutdown().await;
    });
}
