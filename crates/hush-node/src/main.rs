//! `hush-node`: run a hush service node, and run a network of them.
//!
//! Thin glue. `run` parses flags and the config file into a [`NodeConfig`], sets up logging
//! (to stderr; stdout carries only the ready line), starts the node and stops it cleanly on
//! SIGTERM or SIGINT. `network key | entry | sign | publish` are the operator's registry tools
//! (`hush_node::admin`).

#![allow(unreachable_pub, reason = "a binary crate")]

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use hush_node::{Node, NodeConfig};
use tokio::signal::unix::{SignalKind, signal};

/// hush-node: a service node of the hush network (Session-compatible storage server).
#[derive(Debug, Parser)]
#[command(name = "hush-node", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the node until SIGTERM or SIGINT. Prints one JSON line on stdout when ready:
    /// {"event":"ready","url":…,"ed25519":…,"x25519":…}.
    Run(Box<RunArgs>),
    /// Run a network: create its key, list nodes, sign and publish registries.
    #[command(subcommand)]
    Network(NetworkCommand),
}

/// `hush-node network …`: the operator's tools for the network registry.
#[derive(Debug, Subcommand)]
enum NetworkCommand {
    /// Create a network key (mode 0600; never overwrites) and print its public key. Whoever
    /// holds it decides which nodes form the network.
    Key {
        /// Where to write the key.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print a node's registry entry (one JSON line), creating the node's key in DIR if it
    /// has none yet.
    Entry {
        /// The node's data directory.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// The node's public address.
        #[arg(long, value_name = "IP")]
        ip: IpAddr,
        /// The node's HTTPS port.
        #[arg(long, value_name = "PORT")]
        port: u16,
    },
    /// Sign a registry of nodes and write the network file nodes and clients start from.
    Sign {
        /// The network key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The network's name.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Registry entries: a JSON array, or one JSON object per line (what `entry` prints).
        /// Their order decides the swarms; append new nodes at the end.
        #[arg(long, value_name = "FILE")]
        nodes: PathBuf,
        /// Seed URL serving the registry (repeatable) [default: every node].
        #[arg(long = "seed", value_name = "URL")]
        seeds: Vec<String>,
        /// Sequence number [default: one more than the registry already in --out, or 1].
        #[arg(long, value_name = "N")]
        seq: Option<u64>,
        /// The network file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Offer a network file's registry to every node it lists and report their answers.
    Publish {
        /// The network file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Time limit per node, in milliseconds.
        #[arg(long, value_name = "MS", default_value_t = 10_000)]
        timeout_ms: u64,
    },
}

/// Flags of `run`. Each option may also be set in the TOML config file (same name with
/// underscores); flags win over the file.
#[derive(Debug, Args)]
struct RunArgs {
    /// Data directory: node key, TLS certificate, database (created with mode 0700).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address and port to listen on [default: 0.0.0.0:22021; port 0 picks a free port].
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// TOML configuration file (unknown keys are errors).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address advertised to clients and other nodes [default: the listen address].
    #[arg(long, value_name = "IP")]
    public_ip: Option<IpAddr>,
    /// Port advertised to clients and other nodes [default: the bound port].
    #[arg(long, value_name = "PORT")]
    public_port: Option<u16>,
    /// Largest request body in bytes [default: 10485760].
    #[arg(long, value_name = "BYTES")]
    max_request_bytes: Option<usize>,
    /// Requests read and processed at once [default: 64].
    #[arg(long, value_name = "N")]
    max_concurrent_requests: Option<usize>,
    /// Bytes of request bodies held in memory at once, counted as they arrive [default:
    /// 33554432].
    #[arg(long, value_name = "BYTES")]
    max_inflight_body_bytes: Option<usize>,
    /// Bytes of request bodies one client address may hold at once [default: 11534336].
    #[arg(long, value_name = "BYTES")]
    max_inflight_body_bytes_per_ip: Option<usize>,
    /// Open connections at once [default: 1000].
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Open connections from one client address (IPv6: one /64) at once [default: 128].
    #[arg(long, value_name = "N")]
    max_connections_per_ip: Option<usize>,
    /// Time limit for one request, in milliseconds [default: 30000].
    #[arg(long, value_name = "MS")]
    request_timeout_ms: Option<u64>,
    /// Requests per second per client address, 0 for no limit [default: 200].
    #[arg(long, value_name = "N")]
    rate_limit_per_ip: Option<u32>,
    /// Burst allowance per client address [default: 400].
    #[arg(long, value_name = "N")]
    rate_limit_burst: Option<u32>,
    /// Bytes of messages one account may store [default: 104857600].
    #[arg(long, value_name = "BYTES")]
    max_account_bytes: Option<u64>,
    /// Bytes of messages the node may store [default: 21474836480].
    #[arg(long, value_name = "BYTES")]
    max_node_bytes: Option<u64>,
    /// Interval of the expiry sweep, in milliseconds [default: 60000].
    #[arg(long, value_name = "MS")]
    expiry_sweep_interval_ms: Option<u64>,
    /// Time limit for relaying an onion request, in milliseconds [default: 25000].
    #[arg(long, value_name = "MS")]
    relay_timeout_ms: Option<u64>,
    /// Network file (network key, seeds, optionally a registry): join that network instead of
    /// running as a one-node network.
    #[arg(long, value_name = "FILE")]
    network: Option<PathBuf>,
    /// Interval of catch-up with swarm peers and of mailbox hand-off, in milliseconds
    /// [default: 10000].
    #[arg(long, value_name = "MS")]
    sync_interval_ms: Option<u64>,
    /// Interval of registry polling from the seeds, in milliseconds [default: 60000].
    #[arg(long, value_name = "MS")]
    registry_poll_interval_ms: Option<u64>,
    /// Log filter, e.g. "info" or "hush_node=debug" [default: info]. Logs go to stderr.
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
}

impl RunArgs {
    /// The config file (or defaults) with the flags applied on top.
    fn into_config(self) -> anyhow::Result<NodeConfig> {
        if self.data_dir.is_none() && self.config.is_none() {
            anyhow::bail!("--data-dir is required (or data_dir in --config)");
        }
        let mut c = match &self.config {
            Some(path) => NodeConfig::from_file(path)?,
            None => NodeConfig::default(),
        };
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { c.$field = v; } )* };
        }
        set!(
            data_dir,
            listen,
            max_request_bytes,
            max_concurrent_requests,
            max_inflight_body_bytes,
            max_inflight_body_bytes_per_ip,
            max_connections,
            max_connections_per_ip,
            request_timeout_ms,
            rate_limit_per_ip,
            rate_limit_burst,
            max_account_bytes,
            max_node_bytes,
            expiry_sweep_interval_ms,
            relay_timeout_ms,
            sync_interval_ms,
            registry_poll_interval_ms,
            log
        );
        if self.public_ip.is_some() {
            c.public_ip = self.public_ip;
        }
        if self.public_port.is_some() {
            c.public_port = self.public_port;
        }
        if self.network.is_some() {
            c.network = self.network;
        }
        c.validate()?;
        Ok(c)
    }
}

fn main() -> ExitCode {
    let args = match Cli::parse().command {
        Command::Run(args) => *args,
        Command::Network(cmd) => {
            return match network_command(cmd) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln_error(&e);
                    ExitCode::FAILURE
                }
            };
        }
    };
    let config = match args.into_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln_error(&e);
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln_error(&anyhow::anyhow!(e).context("starting the runtime"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln_error(&e);
            ExitCode::FAILURE
        }
    }
}

async fn run(config: NodeConfig) -> anyhow::Result<()> {
    let mut terminate = signal(SignalKind::terminate()).context("installing a SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing a SIGINT handler")?;
    let node = Node::builder(config).spawn().await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", node.ready_line()).context("printing the ready line")?;
        out.flush().context("printing the ready line")?;
    }
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
    }
    node.shutdown().await;
    Ok(())
}

#[allow(clippy::print_stderr, reason = "errors before logging is set up")]
fn eprintln_error(e: &anyhow::Error) {
    eprintln!("hush-node: {e:#}");
}

#[allow(clippy::print_stdout, reason = "the command's output")]
fn network_command(cmd: NetworkCommand) -> anyhow::Result<()> {
    use hush_node::admin;
    match cmd {
        NetworkCommand::Key { out } => {
            let key = admin::create_key(&out)?;
            println!("{}", hex::encode(key.public().as_bytes()));
        }
        NetworkCommand::Entry { data_dir, ip, port } => {
            let entry = admin::node_entry(&data_dir, ip, port)?;
            println!("{}", serde_json::to_string(&entry)?);
        }
        NetworkCommand::Sign { key, name, nodes, seeds, seq, out } => {
            let key = admin::load_key(&key)?;
            let text = std::fs::read_to_string(&nodes)
                .with_context(|| format!("reading {}", nodes.display()))?;
            let entries: Vec<hush_proto::registry::RegistryNode> =
                if text.trim_start().starts_with('[') {
                    serde_json::from_str(&text)
                        .with_context(|| format!("{}: not a list of entries", nodes.display()))?
                } else {
                    text.lines()
                        .filter(|l| !l.trim().is_empty())
                        .enumerate()
                        .map(|(i, l)| {
                            serde_json::from_str(l)
                                .with_context(|| format!("{} line {}", nodes.display(), i + 1))
                        })
                        .collect::<anyhow::Result<_>>()?
                };
            let seq = match seq {
                Some(seq) => seq,
                None if out.exists() => {
                    let previous = admin::read_network_file(&out)?;
                    previous.registry.map_or(1, |r| r.body.seq + 1)
                }
                None => 1,
            };
            let seeds = if seeds.is_empty() {
                entries
                    .iter()
                    .map(|n| format!("https://{}", SocketAddr::new(n.ip, n.https_port)))
                    .collect()
            } else {
                seeds
            };
            let count = entries.len();
            let file = admin::sign_network_file(&key, &name, seq, entries, seeds)?;
            admin::write_network_file(&out, &file)?;
            println!("signed registry {seq} of {name:?} with {count} nodes into {}", out.display());
        }
        NetworkCommand::Publish { file, timeout_ms } => {
            let file = admin::read_network_file(&file)?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let outcomes = runtime
                .block_on(admin::publish(&file, std::time::Duration::from_millis(timeout_ms)))?;
            let mut failed = 0;
            for o in &outcomes {
                match &o.result {
                    Ok(true) => println!("{}: adopted", o.url),
                    Ok(false) => println!("{}: already had it or a newer one", o.url),
                    Err(e) => {
                        failed += 1;
                        println!("{}: failed: {e}", o.url);
                    }
                }
            }
            if failed == outcomes.len() && failed > 0 {
                anyhow::bail!("no node took the registry");
            }
        }
    }
    Ok(())
}
