//! [`Testnet`]: the nodes, their registry and network file, and the faults tests inject.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hush_node::admin;
use hush_node::{Clock, Node, NodeConfig, NodeHandle};
use hush_proto::AccountId;
use hush_proto::registry::{NetworkFile, Registry, RegistryNode};
use hush_sodium::ed25519::Ed25519KeyPair;
use tokio::net::TcpListener;

use crate::{Error, Result};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Nodes in a network unless told otherwise (and unless the folder already has some).
const DEFAULT_NODES: usize = 12;

/// Options of a [`Testnet`]; [`TestnetBuilder::start`] runs it.
#[derive(Debug)]
pub struct TestnetBuilder {
    nodes: Option<usize>,
    dir: Option<PathBuf>,
    name: String,
    sync_interval: Duration,
    registry_poll_interval: Duration,
    relay_timeout: Duration,
    expiry_sweep_interval: Duration,
    distinct_addresses: bool,
    clock: Clock,
}

impl TestnetBuilder {
    /// The clock every node reads [default: the system clock]: a [`Clock::manual`] one lets
    /// a test move the whole network through days (message and config lifetimes) at once.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Gives node `i` its own loopback address, 127.0.1.(i+1), instead of sharing 127.0.0.1
    /// (at most 254 nodes): tests can then tell nodes and clients apart by address.
    pub fn distinct_addresses(mut self, distinct: bool) -> Self {
        self.distinct_addresses = distinct;
        self
    }

    /// How many nodes [default: 12, or as many as the folder already has].
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = Some(n);
        self
    }

    /// Keeps everything in `dir` (created if missing) instead of a temporary folder that is
    /// deleted with the network; starting again on the same folder resumes the network.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The network's name in its registry [default: "hush-testnet"].
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How often nodes catch up with their swarm peers and hand off mailboxes
    /// [default: 300 ms; a production node uses 10 s].
    pub fn sync_interval(mut self, interval: Duration) -> Self {
        self.sync_interval = interval;
        self
    }

    /// How often nodes ask a seed for a newer registry [default: 2 s; a production node
    /// uses 60 s]. Registries the network itself changes reach running nodes at once.
    pub fn registry_poll_interval(mut self, interval: Duration) -> Self {
        self.registry_poll_interval = interval;
        self
    }

    /// How often nodes delete expired messages [default: 1 s; a production node uses 60 s].
    pub fn expiry_sweep_interval(mut self, interval: Duration) -> Self {
        self.expiry_sweep_interval = interval;
        self
    }

    /// Time limit of one node-to-node request [default: 10 s].
    pub fn relay_timeout(mut self, timeout: Duration) -> Self {
        self.relay_timeout = timeout;
        self
    }

    /// Creates (or resumes) the network and starts every node.
    pub async fn start(self) -> Result<Testnet> {
        let (dir, temp) = match &self.dir {
            Some(dir) => {
                create_private_dir(dir)?;
                (dir.clone(), None)
            }
            None => {
                let temp = tempfile::Builder::new().prefix("hush-testnet-").tempdir().map_err(
                    |source| Error::Io { what: "creating a temporary folder".into(), source },
                )?;
                (temp.path().to_owned(), Some(temp))
            }
        };
        let lock = lock_folder(&dir)?;
        let key = admin::load_or_create_key(&dir.join("network.key"))?;
        let file_path = dir.join("network.json");
        let previous =
            if file_path.exists() { Some(admin::read_network_file(&file_path)?) } else { None };
        if previous.as_ref().is_some_and(|p| p.network_key != hex::encode(key.public().as_bytes()))
        {
            return Err(Error::BadFolder {
                path: file_path,
                reason: "signed by another network key than network.key".into(),
            });
        }
        let existing = count_node_dirs(&dir);
        let count = self.nodes.unwrap_or(if existing > 0 { existing } else { DEFAULT_NODES });
        if count == 0 {
            return Err(Error::Empty);
        }
        let prev_port = |entry: &RegistryNode| -> Option<u16> {
            let registry = previous.as_ref()?.registry.as_ref()?;
            registry.body.nodes.iter().find(|n| n.ed25519 == entry.ed25519).map(|n| n.https_port)
        };
        let mut slots = Vec::with_capacity(count);
        let mut listeners = Vec::with_capacity(count);
        for i in 0..count {
            let node_dir = dir.join(format!("node-{i:02}"));
            // The key first (port unknown yet), to find the port this node had last time.
            let ip = address(self.distinct_addresses, i)?;
            let probe = admin::node_entry(&node_dir, ip, 1)?;
            let listener = match prev_port(&probe) {
                Some(port) => match bind(ip, port).await {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(
                            node = i,
                            port,
                            "last port unavailable ({e}); taking another"
                        );
                        bind(ip, 0).await?
                    }
                },
                None => bind(ip, 0).await?,
            };
            let port = local_port(&listener)?;
            let entry = RegistryNode { https_port: port, ..probe };
            slots.push(Slot {
                dir: node_dir,
                port,
                entry,
                handle: None,
                reserved: None,
                retired: false,
            });
            listeners.push(listener);
        }
        let mut net = Testnet {
            dir,
            _lock: lock,
            temp,
            name: self.name,
            key,
            file_path,
            file: NetworkFile {
                network: String::new(),
                network_key: String::new(),
                seeds: Vec::new(),
                registry: None,
            },
            slots,
            sync_interval: self.sync_interval,
            registry_poll_interval: self.registry_poll_interval,
            relay_timeout: self.relay_timeout,
            expiry_sweep_interval: self.expiry_sweep_interval,
            distinct_addresses: self.distinct_addresses,
            clock: self.clock,
        };
        // Same nodes at the same addresses: keep the registry (and its sequence number).
        let entries = net.registry_entries();
        let unchanged = previous
            .as_ref()
            .and_then(|p| p.registry.as_ref())
            .filter(|r| r.body.nodes == entries && r.body.network == net.name);
        match (unchanged, &previous) {
            (Some(_), Some(prev)) => net.file = prev.clone(),
            _ => {
                let seq = previous
                    .as_ref()
                    .and_then(|p| p.registry.as_ref())
                    .map_or(1, |r| r.body.seq + 1);
                net.sign(seq)?;
            }
        }
        for (i, listener) in listeners.into_iter().enumerate() {
            let handle = net.spawn(i, listener).await?;
            net.slots[i].handle = Some(handle);
        }
        // Ready when every node serves its mailboxes complete (its first catch-up is done).
        for slot in &net.slots {
            if let Some(handle) = &slot.handle {
                handle.wait_caught_up(CATCH_UP_WAIT).await;
            }
        }
        tracing::info!(nodes = count, seq = net.seq(), "testnet running");
        Ok(net)
    }
}

/// The longest `start` and `restart` wait for nodes to catch up with their swarms.
const CATCH_UP_WAIT: Duration = Duration::from_secs(35);

/// One node's place in the network; it keeps its folder and port while down.
#[derive(Debug)]
struct Slot {
    dir: PathBuf,
    port: u16,
    entry: RegistryNode,
    handle: Option<NodeHandle>,
    /// While the node is down: a socket bound (not listening) to its port, so no other
    /// program takes the port before the restart. Connections to it are refused, as to a
    /// dead node.
    reserved: Option<tokio::net::TcpSocket>,
    /// Taken out of the registry (it may still run, handing off its mailboxes).
    retired: bool,
}

/// A running network of hush nodes on loopback. Nodes are numbered from 0 in registry order;
/// a node keeps its number, folder and port through kills and restarts.
#[derive(Debug)]
pub struct Testnet {
    dir: PathBuf,
    /// Held while the network runs: one network per folder.
    _lock: std::fs::File,
    /// Deleted on drop (when the network lives in a temporary folder).
    temp: Option<tempfile::TempDir>,
    name: String,
    key: Ed25519KeyPair,
    file_path: PathBuf,
    file: NetworkFile,
    slots: Vec<Slot>,
    sync_interval: Duration,
    registry_poll_interval: Duration,
    relay_timeout: Duration,
    expiry_sweep_interval: Duration,
    distinct_addresses: bool,
    clock: Clock,
}

impl Testnet {
    /// Options, starting from the defaults.
    pub fn builder() -> TestnetBuilder {
        TestnetBuilder {
            nodes: None,
            dir: None,
            name: "hush-testnet".to_owned(),
            sync_interval: Duration::from_millis(300),
            registry_poll_interval: Duration::from_secs(2),
            relay_timeout: Duration::from_secs(10),
            expiry_sweep_interval: Duration::from_secs(1),
            distinct_addresses: false,
            clock: Clock::system(),
        }
    }

    /// Nodes ever started (retired ones included).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the network has no nodes (never true for a started network).
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The folder holding the network key, the network file and the nodes' folders.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `network.json`: what a client or a separately run node needs to join.
    pub fn network_file_path(&self) -> &Path {
        &self.file_path
    }

    /// The current network file.
    pub fn network_file(&self) -> &NetworkFile {
        &self.file
    }

    /// The current registry, verified.
    pub fn registry(&self) -> Registry {
        let signed =
            self.file.registry.clone().expect("invariant: a started network has a registry");
        Registry::verify(signed, self.key.public())
            .expect("invariant: the network's own registry verifies")
    }

    /// The current registry's sequence number.
    pub fn seq(&self) -> u64 {
        self.file.registry.as_ref().map_or(0, |r| r.body.seq)
    }

    /// `https://ADDRESS:PORT` of node `i` (whether or not it runs).
    pub fn url(&self, i: usize) -> Result<String> {
        Ok(format!("https://{}", self.address(i)?))
    }

    /// The address and port node `i` listens on.
    pub fn address(&self, i: usize) -> Result<SocketAddr> {
        let slot = self.slot(i)?;
        Ok(SocketAddr::new(slot.entry.ip, slot.port))
    }

    /// Starts or stops recording what reaches every running node
    /// ([`hush_node::NodeHandle::record_traffic`]).
    pub fn record_traffic(&self, on: bool) {
        for handle in self.slots.iter().filter_map(|s| s.handle.as_ref()) {
            handle.record_traffic(on);
        }
    }

    /// Node `i`'s registry entry (keys, address, version).
    pub fn entry(&self, i: usize) -> Result<&RegistryNode> {
        Ok(&self.slot(i)?.entry)
    }

    /// The running node `i`.
    pub fn node(&self, i: usize) -> Result<&NodeHandle> {
        self.slot(i)?.handle.as_ref().ok_or(Error::NotRunning(i))
    }

    /// Whether node `i` runs.
    pub fn is_running(&self, i: usize) -> bool {
        self.slots.get(i).is_some_and(|s| s.handle.is_some())
    }

    /// The nodes (by number) of the swarm serving `account` under the current registry.
    pub fn swarm_of(&self, account: &AccountId) -> Vec<usize> {
        let registry = self.registry();
        let members: Vec<String> = registry
            .swarm_for(account)
            .1
            .iter()
            .map(|n| hex::encode(n.ed25519.as_bytes()))
            .collect();
        (0..self.slots.len()).filter(|&i| members.contains(&self.slots[i].entry.ed25519)).collect()
    }

    /// The nodes in the current registry that are not in `account`'s swarm.
    pub fn outside_swarm_of(&self, account: &AccountId) -> Vec<usize> {
        let swarm = self.swarm_of(account);
        (0..self.slots.len()).filter(|i| !self.slots[*i].retired && !swarm.contains(i)).collect()
    }

    /// Crashes node `i`: connections and work in flight are cut, nothing beyond what was
    /// committed survives. Its folder and port are kept for [`Testnet::restart`].
    pub async fn kill(&mut self, i: usize) -> Result<()> {
        let slot = self.slot_mut(i)?;
        let handle = slot.handle.take().ok_or(Error::NotRunning(i))?;
        handle.kill().await;
        slot.reserved = reserve(slot.entry.ip, slot.port);
        Ok(())
    }

    /// Stops node `i` gracefully (requests in flight finish, the database closes cleanly).
    pub async fn stop(&mut self, i: usize) -> Result<()> {
        let slot = self.slot_mut(i)?;
        let handle = slot.handle.take().ok_or(Error::NotRunning(i))?;
        handle.shutdown().await;
        slot.reserved = reserve(slot.entry.ip, slot.port);
        Ok(())
    }

    /// Starts node `i` again on its folder and port, with the current network file.
    pub async fn restart(&mut self, i: usize) -> Result<()> {
        let slot = self.slot(i)?;
        if slot.handle.is_some() {
            return Err(Error::AlreadyRunning(i));
        }
        let listener = bind(slot.entry.ip, slot.port).await?;
        self.slots[i].reserved = None;
        let handle = self.spawn(i, listener).await?;
        handle.wait_caught_up(CATCH_UP_WAIT).await;
        self.slots[i].handle = Some(handle);
        Ok(())
    }

    /// Cuts node `i` off from the other nodes (it neither sends to them nor answers them;
    /// clients still reach it), or with `false` reconnects it.
    pub fn partition(&self, i: usize, partitioned: bool) -> Result<()> {
        self.node(i)?.set_partitioned(partitioned);
        Ok(())
    }

    /// Makes node `i` slow: each of its answers waits `delay` first (zero: back to normal).
    pub fn slow(&self, i: usize, delay: Duration) -> Result<()> {
        self.node(i)?.set_delay(delay);
        Ok(())
    }

    /// Adds `count` nodes: starts them, and publishes a new registry listing them after the
    /// existing ones. Swarms change; mailboxes move to their new swarms in the background.
    /// Returns the new nodes' numbers.
    pub async fn add_nodes(&mut self, count: usize) -> Result<Range<usize>> {
        let first = self.slots.len();
        let mut listeners = Vec::with_capacity(count);
        for i in first..first + count {
            let dir = self.dir.join(format!("node-{i:02}"));
            let ip = address(self.distinct_addresses, i)?;
            let listener = bind(ip, 0).await?;
            let port = local_port(&listener)?;
            let entry = admin::node_entry(&dir, ip, port)?;
            self.slots.push(Slot {
                dir,
                port,
                entry,
                handle: None,
                reserved: None,
                retired: false,
            });
            listeners.push(listener);
        }
        self.sign(self.seq() + 1)?;
        for (listener, i) in listeners.into_iter().zip(first..) {
            let handle = self.spawn(i, listener).await?;
            self.slots[i].handle = Some(handle);
        }
        self.announce();
        Ok(first..first + count)
    }

    /// Takes node `i` out of the registry (a node leaving the network). It keeps running
    /// until stopped, handing its mailboxes to their new swarms.
    pub async fn retire(&mut self, i: usize) -> Result<()> {
        let slot = self.slot_mut(i)?;
        slot.retired = true;
        if self.slots.iter().all(|s| s.retired) {
            self.slots[i].retired = false;
            return Err(Error::Empty);
        }
        self.sign(self.seq() + 1)?;
        self.announce();
        Ok(())
    }

    /// Makes every running node start a catch-up and hand-off round now.
    pub fn sync_now(&self) {
        for handle in self.slots.iter().filter_map(|s| s.handle.as_ref()) {
            handle.sync_now();
        }
    }

    /// Stops every node gracefully (and deletes a temporary folder).
    pub async fn shutdown(mut self) {
        for slot in &mut self.slots {
            if let Some(handle) = slot.handle.take() {
                handle.shutdown().await;
            }
        }
        drop(self.temp.take());
    }

    fn slot(&self, i: usize) -> Result<&Slot> {
        self.slots.get(i).ok_or(Error::NoSuchNode(i))
    }

    fn slot_mut(&mut self, i: usize) -> Result<&mut Slot> {
        self.slots.get_mut(i).ok_or(Error::NoSuchNode(i))
    }

    fn registry_entries(&self) -> Vec<RegistryNode> {
        self.slots.iter().filter(|s| !s.retired).map(|s| s.entry.clone()).collect()
    }

    /// Signs the registry of the current nodes as version `seq` and writes the network file.
    fn sign(&mut self, seq: u64) -> Result<()> {
        let entries = self.registry_entries();
        let seeds = entries
            .iter()
            .map(|n| format!("https://{}", SocketAddr::new(n.ip, n.https_port)))
            .collect();
        self.file = admin::sign_network_file(&self.key, &self.name, seq, entries, seeds)?;
        admin::write_network_file(&self.file_path, &self.file)?;
        Ok(())
    }

    /// Hands the current registry to every running node (what publishing does over HTTPS).
    fn announce(&self) {
        let registry = self.registry();
        for handle in self.slots.iter().filter_map(|s| s.handle.as_ref()) {
            handle.membership().adopt(registry.clone());
        }
    }

    async fn spawn(&self, i: usize, listener: TcpListener) -> Result<NodeHandle> {
        let slot = self.slot(i)?;
        let config = NodeConfig {
            data_dir: slot.dir.clone(),
            listen: SocketAddr::new(slot.entry.ip, slot.port),
            public_ip: Some(slot.entry.ip),
            // Every client of a local network shares one address.
            rate_limit_per_ip: 0,
            // Nor on connections per address: every client and node of a local network
            // shares one (or a few) addresses.
            max_connections_per_ip: NodeConfig::default().max_connections,
            network: Some(self.file_path.clone()),
            sync_interval_ms: millis(self.sync_interval),
            registry_poll_interval_ms: millis(self.registry_poll_interval),
            relay_timeout_ms: millis(self.relay_timeout),
            expiry_sweep_interval_ms: millis(self.expiry_sweep_interval),
            ..NodeConfig::default()
        };
        Ok(Node::builder(config).clock(self.clock.clone()).listener(listener).spawn().await?)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Node `i`'s address: 127.0.0.1, or 127.0.1.(i+1) when nodes have their own.
fn address(distinct: bool, i: usize) -> Result<IpAddr> {
    if !distinct {
        return Ok(LOOPBACK);
    }
    let last = u8::try_from(i + 1).ok().filter(|&b| b < 255).ok_or_else(|| Error::Io {
        what: format!("node {i}: only 254 nodes get their own loopback address"),
        source: std::io::Error::from(std::io::ErrorKind::AddrNotAvailable),
    })?;
    Ok(IpAddr::V4(Ipv4Addr::new(127, 0, 1, last)))
}

async fn bind(ip: IpAddr, port: u16) -> Result<TcpListener> {
    TcpListener::bind(SocketAddr::new(ip, port))
        .await
        .map_err(|source| Error::Io { what: format!("binding {ip}:{port}"), source })
}

/// Holds `port` without listening on it (see [`Slot::reserved`]); `None` if that fails,
/// which only risks another program taking the port.
fn reserve(ip: IpAddr, port: u16) -> Option<tokio::net::TcpSocket> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.set_reuseaddr(true).ok()?;
    socket.bind(SocketAddr::new(ip, port)).ok()?;
    Some(socket)
}

fn local_port(listener: &TcpListener) -> Result<u16> {
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|source| Error::Io { what: "reading a bound port".into(), source })
}

/// Takes `DIR/lock` exclusively, so two networks never run on one folder.
fn lock_folder(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| Error::Io { what: format!("opening {}", path.display()), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Busy(dir.to_owned())),
        Err(std::fs::TryLockError::Error(source)) => {
            Err(Error::Io { what: format!("locking {}", path.display()), source })
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| Error::Io { what: format!("creating {}", dir.display()), source })
}

/// How many `node-NN` folders `dir` has, counting from `node-00` without gaps.
fn count_node_dirs(dir: &Path) -> usize {
    let mut n = 0;
    while dir.join(format!("node-{n:02}")).join("node.key").exists() {
        n += 1;
    }
    n
}
