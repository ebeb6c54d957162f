//! Fault injection under a steady message load: four clients write to each other without
//! pause while nodes are killed (abruptly: their tasks aborted mid-request) and restarted,
//! swarm members are partitioned, nodes are made slow, and nodes join and leave the
//! registry. Every message a client saw acknowledged must reach its recipient exactly once.
//!
//! `HUSH_CHAOS_SECS` sets how long the faults go on (default 30), `HUSH_CHAOS_INTERVAL_MS`
//! how often each client writes (500), `HUSH_CHAOS_SETTLE_SECS` how long delivery may take
//! once the faults are healed (90), and `HUSH_CHAOS_SEED` the random schedule (printed, so a
//! failing run can be replayed); the figures go to stderr (RELIABILITY.md has longer runs).

use std::collections::HashMap;
use std::time::Duration;

use hush_client::{Client, MessageStatus};
use hush_testnet::Testnet;

use crate::messaging::{incoming, started};

/// A small deterministic generator (xorshift64*), so a schedule can be replayed.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        usize::try_from(r % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// A fault that is healed a few seconds after it is made.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Kill,
    Partition,
    Slow,
}

/// Undoes `fault` on node `i`.
async fn heal(net: &mut Testnet, i: usize, fault: Fault) {
    match fault {
        Fault::Kill => net.restart(i).await.unwrap(),
        Fault::Partition => net.partition(i, false).unwrap(),
        Fault::Slow => net.slow(i, Duration::ZERO).unwrap(),
    }
}

/// What the faults did.
#[derive(Default, Debug)]
struct Faults {
    killed: u32,
    partitioned: u32,
    slowed: u32,
    joined: u32,
    retired: u32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_survive_kills_partitions_slow_nodes_and_registry_churn() {
    let secs = env_u64("HUSH_CHAOS_SECS").unwrap_or(30);
    let interval = env_u64("HUSH_CHAOS_INTERVAL_MS").unwrap_or(500);
    let settle = env_u64("HUSH_CHAOS_SETTLE_SECS").unwrap_or(90);
    let seed = env_u64("HUSH_CHAOS_SEED").unwrap_or_else(|| crate::now() | 1);
    eprintln!("chaos: {secs} s of faults, HUSH_CHAOS_SEED={seed}");
    if let Ok(filter) = std::env::var("HUSH_CHAOS_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let mut dice = Dice(seed);
    let mut net = Testnet::builder().nodes(12).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut clients = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        clients.push(started(dir.path(), name, &net).await);
    }
    let ids: Vec<_> = clients.iter().map(Client::account_id).collect();
    for (i, c) in clients.iter().enumerate() {
        for (j, other) in ids.iter().enumerate() {
            if i != j {
                c.add_contact(other).unwrap();
            }
        }
    }

    // The load: each client writes to the next, twice a second, for as long as the faults go
    // (about what 12 nodes and 4 clients of a debug build carry on 2 cores, with room for the
    // faults).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        let (c, to, stop) = (c.clone(), ids[(i + 1) % ids.len()], stop.clone());
        let interval = interval.max(10);
        writers.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = format!("m {i} {n}");
                let m = c.send_text(&to, &body).unwrap();
                sent.push((m.id, body));
                n += 1;
                tokio::time::sleep(Duration::from_millis(interval)).await;
            }
            sent
        }));
    }

    // The faults: one every second; a killed, partitioned or slow node is healed three
    // seconds later; never more than three nodes down at once.
    let mut faults = Faults::default();
    let mut pending: Vec<(u64, usize, Fault)> = Vec::new();
    for second in 0..secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        for &(_, i, fault) in pending.iter().filter(|(at, ..)| *at == second) {
            heal(&mut net, i, fault).await;
        }
        pending.retain(|(at, ..)| *at > second);
        let busy: Vec<usize> = pending.iter().map(|(_, i, _)| *i).collect();
        let free: Vec<usize> =
            (0..net.len()).filter(|i| net.is_running(*i) && !busy.contains(i)).collect();
        let down = (0..net.len()).filter(|i| !net.is_running(*i)).count();
        let Some(&node) = free.get(dice.below(free.len())) else { continue };
        match dice.below(20) {
            0..=6 if down < 3 => {
                net.kill(node).await.unwrap();
                faults.killed += 1;
                pending.push((second + 3, node, Fault::Kill));
            }
            7..=11 => {
                net.partition(node, true).unwrap();
                faults.partitioned += 1;
                pending.push((second + 3, node, Fault::Partition));
            }
            12..=16 => {
                net.slow(node, Duration::from_millis(1500)).unwrap();
                faults.slowed += 1;
                pending.push((second + 3, node, Fault::Slow));
            }
            17 if faults.joined < 2 => {
                net.add_nodes(1).await.unwrap();
                faults.joined += 1;
            }
            18 if faults.retired < 1 && !pending.iter().any(|(_, i, _)| *i == node) => {
                net.retire(node).await.unwrap();
                faults.retired += 1;
            }
            _ => {}
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for (_, i, fault) in pending {
        heal(&mut net, i, fault).await;
    }
    let mut sent: Vec<Vec<(i64, String)>> = Vec::new();
    for w in writers {
        sent.push(w.await.unwrap());
    }

    // Healed: everything queued goes out and arrives.
    let total: usize = sent.iter().map(Vec::len).sum();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(settle);
    let (mut acked, mut delivered, mut failed);
    loop {
        (acked, delivered, failed) = (0usize, 0usize, 0usize);
        let mut duplicates = 0usize;
        for (i, c) in clients.iter().enumerate() {
            let to = (i + 1) % clients.len();
            let mut got: HashMap<String, usize> = HashMap::new();
            for m in incoming(&clients[to], &ids[i]) {
                *got.entry(m.body).or_default() += 1;
            }
            duplicates += got.values().filter(|n| **n > 1).count();
            for (id, body) in &sent[i] {
                match c.message(*id).unwrap().status {
                    MessageStatus::Sent | MessageStatus::Read => {
                        acked += 1;
                        delivered += usize::from(got.contains_key(body));
                    }
                    MessageStatus::Failed => failed += 1,
                    _ => {}
                }
            }
        }
        assert_eq!(duplicates, 0, "a message arrived twice");
        if (acked + failed == total && delivered == acked) || tokio::time::Instant::now() > deadline
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "chaos: {total} messages sent, {acked} acknowledged, {delivered} delivered, {} lost, \
         {failed} failed; faults: {faults:?}",
        acked - delivered
    );
    for (i, c) in clients.iter().enumerate() {
        let stuck: Vec<_> = sent[i]
            .iter()
            .map(|(id, _)| c.message(*id).unwrap())
            .filter(|m| m.status == MessageStatus::Sending)
            .collect();
        if let Some(first) = stuck.first() {
            eprintln!(
                "chaos: client {i} has {} messages still sending, the first {first:?}; {:?}; \
                 outbox {}",
                stuck.len(),
                c.stats(),
                c.db().outbox_len().unwrap()
            );
        }
    }
    assert_eq!(delivered, acked, "acknowledged messages were lost");
    assert_eq!(acked + failed, total, "messages still unsent after the faults were healed");
    assert_eq!(failed, 0, "messages failed");
    for c in clients {
        c.shutdown().await;
    }
    net.shutdown().await;
}
