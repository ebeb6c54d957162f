//! `hush-node`: run a hush service node.
//!
//! Thin glue: parses flags and the config file into a [`NodeConfig`], sets up logging (to
//! stderr; stdout carries only the ready line), starts the node and stops it cleanly on
//! SIGTERM or SIGINT.

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
    Run(RunArgs),
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
    /// Bytes of request bodies held in memory at once [default: 33554432].
    #[arg(long, value_name = "BYTES")]
    max_inflight_body_bytes: Option<usize>,
    /// Open connections at once [default: 1000].
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
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
            max_connections,
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
    let Command::Run(args) = Cli::parse().command;
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
