//! hush-node: a service node that speaks Session's storage server API.
//!
//! A node keeps messages for the accounts its swarm serves (SQLite, durable before
//! acknowledgement, expired messages swept), answers the storage RPC (`POST
//! /storage_rpc/v1`), peels and relays onion requests (`POST /onion_req/v2`), serves the
//! node list to bootstrapping clients (`POST /json_rpc`) and exposes counters (`GET
//! /metrics`).
//!
//! In a network (a network file: network key, seeds, signed registry — see [`admin`] and
//! `docs/protocol/network.md`) it replicates every write to its swarm peers, catches up with
//! them after downtime, hands mailboxes to their new swarm when the registry changes, and
//! polls its seeds for newer registries. Without a network configured it is a one-node
//! network: every account maps to it.
//!
//! Two hush extensions serve hush clients (docs/protocol/storage-rpc.md): `retrieve` with a
//! `wait` is held open until a message arrives (a long-poll, so clients get messages at once
//! without busy polling), and `network_registry` hands out the signed registry through onion
//! paths. [`traffic`] is a test instrument (off unless a test turns it on) for the privacy
//! tests.
//!
//! # Tasks and shutdown
//!
//! [`NodeBuilder::spawn`] starts, on the caller's tokio runtime: the accept loop (one task
//! per connection), the expiry sweeper, the sync task (catch-up and hand-off), the registry
//! poller (in a network), and the store's writer thread. [`NodeHandle::shutdown`] stops
//! accepting, lets in-flight requests finish (bounded by the request timeout), stops the
//! background tasks, and closes the database cleanly; [`NodeHandle::kill`] stops everything
//! where it stands, like a crash. Dropping the handle stops the tasks too, without waiting.
//!
//! # Not in this crate
//!
//! - Protocol formats and crypto: `hush-proto` (and `hush-sodium` underneath).
//! - Client logic; multi-node networks for tests and `hush devnet` (`hush-testnet`).
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), hush_node::Error> {
//! let config = hush_node::NodeConfig {
//!     data_dir: "/var/lib/hush-node".into(),
//!     listen: "127.0.0.1:0".parse().expect("an address"),
//!     ..Default::default()
//! };
//! let node = hush_node::Node::builder(config).spawn().await?;
//! println!("{}", node.ready_line());
//! node.shutdown().await;
//! # Ok(()) }
//! ```

pub mod admin;
mod bodies;
pub mod clock;
pub mod config;
mod error;
mod http;
pub mod identity;
pub mod metrics;
pub mod network;
mod peer;
mod ratelimit;
mod relay;
mod replication;
pub mod rpc;
pub mod store;
mod swarm_api;
mod sync;
pub mod traffic;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use hush_proto::swarm::SwarmId;
use hush_sodium::ed25519::Ed25519PublicKey;
use hush_sodium::x25519::X25519PublicKey;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

pub use crate::clock::Clock;
pub use crate::config::NodeConfig;
pub use crate::error::{Error, Result};
use crate::identity::NodeIdentity;
use crate::metrics::Metrics;
use crate::network::{Membership, Network, NodeRecord};
use crate::store::Store;

/// This node's software version, as reported by `info` and the node list.
pub fn version() -> [u16; 3] {
    let part = |s: &str| s.parse().unwrap_or(0);
    [
        part(env!("CARGO_PKG_VERSION_MAJOR")),
        part(env!("CARGO_PKG_VERSION_MINOR")),
        part(env!("CARGO_PKG_VERSION_PATCH")),
    ]
}

/// Entry point: configure, then [`NodeBuilder::spawn`].
#[derive(Debug)]
pub struct Node;

impl Node {
    /// A builder for a node with `config`.
    pub fn builder(config: NodeConfig) -> NodeBuilder {
        NodeBuilder { config, clock: Clock::system(), network: None, listener: None }
    }
}

/// Options beyond the configuration file: an injected clock, a network other than standalone.
#[derive(Debug)]
pub struct NodeBuilder {
    config: NodeConfig,
    clock: Clock,
    network: Option<Network>,
    listener: Option<TcpListener>,
}

impl NodeBuilder {
    /// Uses `clock` instead of the system clock (tests move time instead of sleeping).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Starts with this network instead of a one-node network.
    pub fn network(mut self, network: Network) -> Self {
        self.network = Some(network);
        self
    }

    /// Serves on this already-bound listener instead of binding `config.listen` (a test
    /// network learns every port before any node starts, so the registry can list them).
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Creates the data directory, identity and database, binds the listener and starts
    /// serving. Returns once the node accepts connections.
    pub async fn spawn(self) -> Result<NodeHandle> {
        let config = self.config;
        config.validate()?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&config.data_dir)
            .map_err(|source| Error::File { path: config.data_dir.clone(), source })?;
        let identity = Arc::new(NodeIdentity::load_or_create(&config.data_dir)?);
        let tls = identity::tls_config(&config.data_dir)?;
        let db_path = config.data_dir.join("storage.db");
        // Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&db_path)
            .map_err(|source| Error::File { path: db_path.clone(), source })?;
        let store = Store::open(
            &db_path,
            store::Limits {
                max_account_bytes: config.max_account_bytes,
                max_node_bytes: config.max_node_bytes,
            },
        )?;
        let listener = match self.listener {
            Some(listener) => listener,
            None => TcpListener::bind(config.listen)
                .await
                .map_err(|source| Error::Listen { addr: config.listen, source })?,
        };
        let local_addr = listener
            .local_addr()
            .map_err(|source| Error::Listen { addr: config.listen, source })?;
        let public_ip = config.public_ip.unwrap_or_else(|| match local_addr.ip() {
            ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            ip => ip,
        });
        let public_port = config.public_port.unwrap_or_else(|| local_addr.port());
        let record = NodeRecord {
            ed25519: *identity.ed25519.public(),
            x25519: *identity.x25519.public(),
            ip: public_ip,
            https_port: public_port,
            swarm_id: SwarmId(0),
            version: version(),
        };
        let source = match &config.network {
            Some(path) => Some(NetworkSource::load(path)?),
            None => None,
        };
        let saved_path = config.data_dir.join("registries.json");
        let membership_is_standalone = self.network.is_none() && source.is_none();
        let caught_up = Arc::new(AtomicBool::new(membership_is_standalone));
        let membership = match (self.network, &source) {
            (Some(network), _) => Membership::new(network),
            (None, Some(src)) => {
                // The newest of the network file's registry and those adopted before a
                // restart; the others are remembered as earlier registries.
                let mut known = network::load_saved(&saved_path, &src.key, &src.name);
                known.extend(src.registry.clone());
                known.sort_by_key(|r| std::cmp::Reverse(r.seq()));
                known.dedup_by_key(|r| r.seq());
                let mut known = known.into_iter();
                let network = match known.next() {
                    Some(current) => Network::with_history(current, known.collect()),
                    // Until a registry arrives the node is a member of nothing.
                    None => Network::new(Vec::new(), 0),
                };
                Membership::persistent(network, src.name.clone(), saved_path)
            }
            (None, None) => Membership::new(Network::standalone(record.clone())),
        };
        let membership = Arc::new(membership);
        let metrics = Arc::new(Metrics::default());
        let partitioned = Arc::new(AtomicBool::new(false));
        let delay_ms = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let traffic = Arc::new(traffic::TrafficLog::default());
        // Connections to other nodes come from this node's registry address when it listens
        // on that address alone, so they are told from clients' by address.
        let local = (!local_addr.ip().is_unspecified() && local_addr.ip() == public_ip)
            .then_some(public_ip);
        let peers = peer::PeerClient::new(
            Duration::from_millis(config.relay_timeout_ms),
            partitioned.clone(),
            local,
            Some((identity.clone(), public_ip)),
        )
        .map_err(|e| Error::Tls(format!("peer client: {e}")))?;
        let rpc = rpc::Ctx {
            store: store.clone(),
            identity: identity.clone(),
            clock: self.clock.clone(),
            membership: membership.clone(),
            metrics,
            version: version(),
            peers,
            partitioned: partitioned.clone(),
            network_key: source.as_ref().map(|s| s.key),
            traffic: traffic.clone(),
            replication: Arc::default(),
            // Nothing to catch up with outside a network.
            caught_up: caught_up.clone(),
        };
        let state = Arc::new(http::State {
            limiter: ratelimit::RateLimiter::new(config.rate_limit_per_ip, config.rate_limit_burst),
            busy: Semaphore::new(config.max_concurrent_requests),
            bodies: bodies::BodyBudget::new(
                config.max_inflight_body_bytes,
                config.max_inflight_body_bytes_per_ip,
            ),
            started: tokio::time::Instant::now(),
            rpc: rpc.clone(),
            config: config.clone(),
            delay_ms: delay_ms.clone(),
        });
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let server = tokio::spawn(http::serve(
            listener,
            tokio_rustls::TlsAcceptor::from(tls),
            state,
            shutdown_rx.clone(),
        ));
        let sweeper = tokio::spawn(sweep_expired(
            store.clone(),
            self.clock.clone(),
            Duration::from_millis(config.expiry_sweep_interval_ms),
            shutdown_rx.clone(),
        ));
        let sync_now = Arc::new(tokio::sync::Notify::new());
        let syncer = tokio::spawn(sync::run(
            rpc.clone(),
            Duration::from_millis(config.sync_interval_ms),
            sync_now.clone(),
            shutdown_rx.clone(),
        ));
        let mut tasks = vec![server, sweeper, syncer];
        if let Some(src) = source {
            tasks.push(tokio::spawn(sync::poll_registry(
                rpc,
                src.seeds,
                Duration::from_millis(config.registry_poll_interval_ms),
                shutdown_rx,
            )));
        }
        tracing::info!(port = local_addr.port(), "hush-node ready");
        Ok(NodeHandle {
            url: format!("https://{local_addr}"),
            local_addr,
            record,
            clock: self.clock,
            membership,
            store: Some(store),
            shutdown: shutdown_tx,
            tasks,
            partitioned,
            delay_ms,
            sync_now,
            traffic,
            caught_up,
        })
    }
}

/// The network file's contents as a node uses them.
#[derive(Debug)]
struct NetworkSource {
    name: String,
    key: Ed25519PublicKey,
    seeds: Vec<String>,
    registry: Option<hush_proto::registry::Registry>,
}

impl NetworkSource {
    fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read(path).map_err(|source| Error::File { path: path.to_owned(), source })?;
        let file: hush_proto::registry::NetworkFile = serde_json::from_slice(&text)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        let key = file.key().map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        let registry =
            file.registry().map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        Ok(Self { name: file.network, key, seeds: file.seeds, registry })
    }
}

/// Deletes expired messages now and every `interval` until shutdown.
async fn sweep_expired(
    store: Store,
    clock: Clock,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match store.sweep_expired(clock.now().as_millis()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(deleted = n, "expired messages swept"),
                    Err(e) => tracing::warn!("expiry sweep failed: {e}"),
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// A running node. [`NodeHandle::shutdown`] stops it gracefully; dropping it stops it
/// without waiting.
#[derive(Debug)]
pub struct NodeHandle {
    url: String,
    local_addr: SocketAddr,
    record: NodeRecord,
    clock: Clock,
    membership: Arc<Membership>,
    store: Option<Store>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    partitioned: Arc<AtomicBool>,
    delay_ms: Arc<std::sync::atomic::AtomicU64>,
    sync_now: Arc<tokio::sync::Notify>,
    traffic: Arc<traffic::TrafficLog>,
    caught_up: Arc<AtomicBool>,
}

impl NodeHandle {
    /// Whether the node has caught up with its swarm since it started (until then it sends
    /// clients' retrieves to other members with 503).
    pub fn caught_up(&self) -> bool {
        self.caught_up.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits until [`NodeHandle::caught_up`] (at most `timeout`); returns whether it did.
    pub async fn wait_caught_up(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.caught_up() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// `https://ADDR:PORT` of the listener.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The node's identity key.
    pub fn ed25519(&self) -> &Ed25519PublicKey {
        &self.record.ed25519
    }

    /// The node's onion encryption key.
    pub fn x25519(&self) -> &X25519PublicKey {
        &self.record.x25519
    }

    /// How the network sees this node.
    pub fn record(&self) -> &NodeRecord {
        &self.record
    }

    /// The node's clock (tests move a manual clock through it).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The node's view of the network; replace it to add or remove nodes.
    pub fn membership(&self) -> &Arc<Membership> {
        &self.membership
    }

    /// The node's message store, for inspection (what a node holds, beyond what its API
    /// shows to the swarm's clients). `None` only while stopping.
    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// Starts or stops recording what reaches the node (a test instrument, see
    /// [`traffic::TrafficLog`]).
    pub fn record_traffic(&self, on: bool) {
        self.traffic.set(on);
    }

    /// What the node saw while recording ([`NodeHandle::record_traffic`]).
    pub fn traffic(&self) -> Vec<traffic::Seen> {
        self.traffic.entries()
    }

    /// Cuts the node off from the other nodes (`true`) or reconnects it: a fault for tests.
    /// While partitioned it sends nothing to other nodes and answers their swarm requests with
    /// 503; clients can still reach it.
    pub fn set_partitioned(&self, partitioned: bool) {
        self.partitioned.store(partitioned, std::sync::atomic::Ordering::Relaxed);
    }

    /// Makes every answer of this node wait `delay` first (zero: none): a slow node, a fault
    /// for tests.
    pub fn set_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// This node's entry in a network registry.
    pub fn registry_entry(&self) -> hush_proto::registry::RegistryNode {
        hush_proto::registry::RegistryNode {
            ed25519: hex::encode(self.record.ed25519.as_bytes()),
            x25519: hex::encode(self.record.x25519.as_bytes()),
            ip: self.record.ip,
            https_port: self.record.https_port,
            version: self.record.version,
        }
    }

    /// Starts a catch-up and hand-off round now (after the current one, if one is running)
    /// instead of waiting for the next interval.
    pub fn sync_now(&self) {
        self.sync_now.notify_one();
    }

    /// The one JSON line printed when the node is ready.
    pub fn ready_line(&self) -> String {
        // Written by hand to keep the documented key order.
        format!(
            r#"{{"event":"ready","url":{},"ed25519":"{}","x25519":"{}"}}"#,
            serde_json::Value::String(self.url.clone()),
            hex::encode(self.record.ed25519.as_bytes()),
            hex::encode(self.record.x25519.as_bytes()),
        )
    }

    /// Stops accepting connections, lets in-flight requests finish, stops the sweeper and
    /// closes the database.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
        if let Some(store) = self.store.take() {
            store.close().await;
        }
        tracing::info!("hush-node stopped");
    }

    /// Stops the node abruptly, the way a crash would: connections and requests in flight are
    /// cut, background tasks are cancelled where they stand, nothing is flushed beyond what
    /// was already committed. Returns once the listener is closed (its port can be bound
    /// again). A fault for tests.
    pub async fn kill(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await;
        }
        // Dropping the last handle on the store lets its writer thread end after its current
        // group; acknowledged writes are already durable.
        self.store.take();
        tracing::info!("hush-node killed");
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
