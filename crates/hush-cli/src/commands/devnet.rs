//! `hush devnet`: a local hush network in the foreground, for development and for trying
//! hush without a public network. The nodes are real (`hush-testnet` runs `hush-node`
//! instances in this process); the folder keeps the network key, node keys, databases and
//! ports, so the next start resumes the same network with its messages.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use hush_testnet::Testnet;
use serde_json::json;

use crate::Failure;
use crate::args::{DevnetArgs, Settings};
use crate::output;

/// The network's name in its registry.
const NAME: &str = "hush-devnet";

/// The devnet's folder: `--data-dir` itself when given, else `devnet` in the data dir (where
/// clients look for a local network).
pub fn folder(settings: &Settings) -> PathBuf {
    if settings.data_dir_flag {
        settings.data_dir.clone()
    } else {
        settings.data_dir.join("devnet")
    }
}

/// Runs the network until Ctrl-C or SIGTERM.
pub fn run(settings: &Settings, args: &DevnetArgs) -> Result<(), Failure> {
    let dir = folder(settings);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let mut interrupt =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .context("installing a SIGINT handler")?;
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("installing a SIGTERM handler")?;
        let mut builder = Testnet::builder()
            .dir(&dir)
            .name(NAME)
            .sync_interval(Duration::from_secs(2))
            .registry_poll_interval(Duration::from_secs(10));
        if let Some(n) = args.nodes {
            builder = builder.nodes(usize::from(n));
        }
        let net = builder
            .start()
            .await
            .with_context(|| format!("starting the network in {}", dir.display()))?;
        announce(settings, &net);
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        if !settings.json {
            output::note("stopping the network…");
        }
        net.shutdown().await;
        if settings.json {
            output::json(&json!({"event": "stopped"}));
        } else {
            output::note(&format!("stopped; the network is kept in {}", dir.display()));
        }
        Ok(())
    })
}

/// Tells the user where the network is and how to use it.
fn announce(settings: &Settings, net: &Testnet) {
    let file = net.network_file_path();
    let nodes: Vec<_> = (0..net.len())
        .filter_map(|i| {
            let entry = net.entry(i).ok()?;
            Some((net.url(i).ok()?, entry.ed25519.clone()))
        })
        .collect();
    if settings.json {
        output::json(&json!({
            "event": "ready",
            "dir": net.dir(),
            "network_file": file,
            "network": NAME,
            "registry_seq": net.seq(),
            "nodes": nodes.iter().map(|(url, key)| json!({"url": url, "ed25519": key})).collect::<Vec<_>>(),
        }));
        return;
    }
    output::result(&format!(
        "hush devnet: {} nodes on 127.0.0.1, registry version {} of {NAME:?}",
        nodes.len(),
        net.seq()
    ));
    for (i, (url, key)) in nodes.iter().enumerate() {
        output::result(&format!("  node {i:02}  {url}  {}…", &key[..16]));
    }
    output::result(&format!("network file: {}", file.display()));
    output::note(&format!(
        "Clients: pass --network {} (clients using this data dir look there by default).\n\
         Ctrl-C stops the network; it resumes from {} next time.",
        file.display(),
        net.dir().display()
    ));
}
