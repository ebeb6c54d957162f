//! Who is in the network and which swarm serves an account.
//!
//! A [`Network`] is an immutable snapshot: the node list (sorted by swarm, then key), the
//! swarm IDs, the height (the registry's sequence number), the registry itself, and the nodes
//! earlier registries listed that this one does not. [`Membership`] holds the current
//! snapshot and replaces it atomically when a newer verified registry is adopted. Without a
//! network the snapshot is standalone: a one-node network to which every account maps.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use hush_proto::AccountId;
use hush_proto::registry::Registry;
use hush_proto::swarm::{self, SwarmId};
use hush_sodium::ed25519::Ed25519PublicKey;

/// What the network knows about one node: its keys, address, version and swarm.
pub type NodeRecord = hush_proto::registry::Node;

/// A snapshot of the network.
#[derive(Clone, Debug)]
pub struct Network {
    nodes: Vec<NodeRecord>,
    swarm_ids: Vec<SwarmId>,
    height: u64,
    registry: Option<Registry>,
    /// Registries adopted before this one, newest first (at most [`MAX_EARLIER`]): nodes
    /// that served an account under one of them may still hand its mailbox over.
    earlier: Vec<Registry>,
}

/// How many earlier registries a node remembers.
pub const MAX_EARLIER: usize = 32;

impl Network {
    /// The network a verified registry describes (its sequence number is the height).
    pub fn from_registry(registry: Registry) -> Self {
        let mut net = Self::new(registry.nodes().to_vec(), registry.seq());
        net.registry = Some(registry);
        net
    }

    /// The registry this network came from (none in standalone mode).
    pub fn registry(&self) -> Option<&Registry> {
        self.registry.as_ref()
    }

    /// A network of `nodes` at `height` (the registry's sequence number).
    pub fn new(mut nodes: Vec<NodeRecord>, height: u64) -> Self {
        nodes.sort_by_key(|n| (n.swarm_id, n.ed25519));
        let mut swarm_ids: Vec<SwarmId> = nodes.iter().map(|n| n.swarm_id).collect();
        swarm_ids.dedup();
        Self { nodes, swarm_ids, height, registry: None, earlier: Vec::new() }
    }

    /// The one-node network of a standalone node: swarm 0, every account maps to it.
    pub fn standalone(node: NodeRecord) -> Self {
        Self::new(vec![NodeRecord { swarm_id: SwarmId(0), ..node }], 1)
    }

    /// All nodes.
    pub fn nodes(&self) -> &[NodeRecord] {
        &self.nodes
    }

    /// The registry height (sequence number).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The node with this identity key.
    pub fn node(&self, ed25519: &Ed25519PublicKey) -> Option<&NodeRecord> {
        self.nodes.iter().find(|n| &n.ed25519 == ed25519)
    }

    /// The swarm serving `account`, and its members (empty when there are no nodes).
    pub fn swarm_for(&self, account: &AccountId) -> (SwarmId, Vec<&NodeRecord>) {
        match swarm::swarm_for(account, &self.swarm_ids) {
            Some(id) => (id, self.nodes.iter().filter(|n| n.swarm_id == id).collect()),
            None => (SwarmId::INVALID, Vec::new()),
        }
    }

    /// The members of swarm `id`.
    pub fn members(&self, id: SwarmId) -> Vec<&NodeRecord> {
        self.nodes.iter().filter(|n| n.swarm_id == id).collect()
    }

    /// The network of `registry`, remembering `earlier` ones (newest first).
    pub fn with_history(registry: Registry, mut earlier: Vec<Registry>) -> Self {
        earlier.truncate(MAX_EARLIER);
        let mut net = Self::from_registry(registry);
        net.earlier = earlier;
        net
    }

    /// The registries adopted before this one, newest first.
    pub fn earlier(&self) -> &[Registry] {
        &self.earlier
    }

    /// A node an earlier registry listed and this one does not.
    pub fn earlier_node(&self, ed25519: &Ed25519PublicKey) -> Option<&NodeRecord> {
        if self.node(ed25519).is_some() {
            return None;
        }
        self.earlier.iter().find_map(|r| r.nodes().iter().find(|n| &n.ed25519 == ed25519))
    }

    /// Whether `node` served `account` now or under one of the earlier registries: who may
    /// hand its mailbox over.
    pub fn served(&self, node: &Ed25519PublicKey, account: &AccountId) -> bool {
        self.serves(node, account)
            || self
                .earlier
                .iter()
                .any(|r| r.swarm_for(account).1.iter().any(|n| &n.ed25519 == node))
    }

    /// Whether `account` is served by the swarm `node` belongs to.
    pub fn serves(&self, node: &Ed25519PublicKey, account: &AccountId) -> bool {
        self.swarm_for(account).1.iter().any(|n| &n.ed25519 == node)
    }

    /// Whether `ip` is the address of a node other than `own` (relays are not rate-limited
    /// as clients). A node never exempts its own address: on a machine running one node, its
    /// clients share that address.
    pub fn is_other_node_ip(&self, ip: IpAddr, own: &Ed25519PublicKey) -> bool {
        self.nodes.iter().any(|n| n.ip == ip && &n.ed25519 != own)
            && !self.nodes.iter().any(|n| n.ip == ip && &n.ed25519 == own)
    }
}

/// The current network snapshot, replaceable at run time.
#[derive(Debug)]
pub struct Membership {
    current: RwLock<Arc<Network>>,
    /// The network registries must name (when the node belongs to one).
    name: Option<String>,
    /// Where adopted registries are saved, so a restart does not forget them.
    saved: Option<PathBuf>,
    /// Registries other nodes showed as proof, already verified.
    proofs: Mutex<Vec<Registry>>,
    /// Held while adopting, so saves and swaps happen in the same order.
    adopting: Mutex<()>,
}

impl Membership {
    /// Starts with `network`; registries of any name are adopted and nothing is saved.
    pub fn new(network: Network) -> Self {
        Self {
            current: RwLock::new(Arc::new(network)),
            name: None,
            saved: None,
            proofs: Mutex::new(Vec::new()),
            adopting: Mutex::new(()),
        }
    }

    /// Starts with `network` of the network `name`; adopted registries must have that name
    /// and are saved (with the earlier ones) to `saved`.
    pub fn persistent(network: Network, name: String, saved: PathBuf) -> Self {
        Self {
            current: RwLock::new(Arc::new(network)),
            name: Some(name),
            saved: Some(saved),
            proofs: Mutex::new(Vec::new()),
            adopting: Mutex::new(()),
        }
    }

    /// The current snapshot (cheap: an `Arc` clone).
    pub fn current(&self) -> Arc<Network> {
        self.current.read().map_or_else(|p| p.into_inner().clone(), |g| g.clone())
    }

    /// Replaces the snapshot.
    pub fn replace(&self, network: Network) {
        let mut guard = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = Arc::new(network);
    }

    /// Checks a registry another node shows to prove it served an account: signed by `key`,
    /// of this network, not newer than the current registry and at most [`MAX_EARLIER`]
    /// versions older. Verified proofs are cached (as many as the window holds).
    pub fn check_proof(
        &self,
        signed: &hush_proto::registry::SignedRegistry,
        key: &Ed25519PublicKey,
    ) -> Option<Registry> {
        let seq = signed.body.seq;
        if !self.in_window(seq) || self.name.as_ref().is_some_and(|n| n != &signed.body.network) {
            return None;
        }
        if let Some(known) = self.lock_proofs().iter().find(|r| r.signed() == signed) {
            return Some(known.clone());
        }
        // Verified without holding the lock (a large registry takes a while).
        let registry = Registry::verify(signed.clone(), key).ok()?;
        let mut cache = self.lock_proofs();
        if !cache.iter().any(|r| r.signed() == signed) {
            cache.insert(0, registry.clone());
            cache.truncate(MAX_EARLIER);
        }
        Some(registry)
    }

    /// Whether a registry of sequence `seq` may serve as proof now.
    fn in_window(&self, seq: u64) -> bool {
        let current = self.current().registry().map_or(0, Registry::seq);
        seq <= current && seq.saturating_add(MAX_EARLIER as u64) >= current
    }

    fn lock_proofs(&self) -> std::sync::MutexGuard<'_, Vec<Registry>> {
        self.proofs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A node listed by a registry some node showed as proof (cached, and still within the
    /// window).
    pub fn proven_node(&self, ed25519: &Ed25519PublicKey) -> Option<NodeRecord> {
        let cache = self.lock_proofs();
        cache
            .iter()
            .filter(|r| self.in_window(r.seq()))
            .find_map(|r| r.nodes().iter().find(|n| &n.ed25519 == ed25519))
            .cloned()
    }

    /// Whether a registry some node showed as proof (cached, and still within the window)
    /// puts `node` in `account`'s swarm.
    pub fn proven_served(&self, node: &Ed25519PublicKey, account: &AccountId) -> bool {
        let cache = self.lock_proofs();
        cache
            .iter()
            .filter(|r| self.in_window(r.seq()))
            .any(|r| r.swarm_for(account).1.iter().any(|n| &n.ed25519 == node))
    }

    /// The network this node belongs to (none for a standalone node).
    pub fn network_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Adopts `registry` if it is newer than the current one (or there is none yet) and
    /// names this node's network; saves it first when the node keeps its registries. Returns
    /// whether it was adopted.
    pub fn adopt(&self, registry: Registry) -> bool {
        if self.name.as_ref().is_some_and(|name| name != registry.network()) {
            return false;
        }
        let _adopting = self.adopting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.current();
        if current.registry.as_ref().is_some_and(|r| registry.seq() <= r.seq()) {
            return false;
        }
        let earlier: Vec<Registry> =
            current.registry.iter().chain(&current.earlier).cloned().collect();
        let next = Network::with_history(registry, earlier);
        // Saved outside the lock: requests keep reading the current network meanwhile.
        if let Some(Err(e)) = self.saved.as_ref().map(|path| save(path, &next)) {
            tracing::warn!("could not save the adopted registry: {e}");
        }
        let mut guard = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = Arc::new(next);
        true
    }
}

/// Writes the registry and the earlier ones (signed, newest first) to `path` atomically.
fn save(path: &Path, network: &Network) -> std::io::Result<()> {
    let all: Vec<&hush_proto::registry::SignedRegistry> =
        network.registry.iter().chain(&network.earlier).map(Registry::signed).collect();
    let json = serde_json::to_vec(&all).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The registries saved at `path` that verify with `key` and name `network`, newest first;
/// nothing if there is no such file. Damaged entries are skipped.
pub fn load_saved(path: &Path, key: &Ed25519PublicKey, network: &str) -> Vec<Registry> {
    let Ok(bytes) = std::fs::read(path) else { return Vec::new() };
    let Ok(all) = serde_json::from_slice::<Vec<hush_proto::registry::SignedRegistry>>(&bytes)
    else {
        tracing::warn!("{}: not a list of registries; ignored", path.display());
        return Vec::new();
    };
    let mut out: Vec<Registry> = all
        .into_iter()
        .filter_map(|s| Registry::verify(s, key).ok())
        .filter(|r| r.network() == network)
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.seq()));
    out.dedup_by_key(|r| r.seq());
    out
}

/// z-base-32 (the alphabet oxen uses for `.snode` addresses).
pub fn base32z(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use hush_sodium::x25519::X25519PublicKey;

    use super::*;

    #[test]
    fn base32z_known_values() {
        // Test vectors from the z-base-32 description (Zooko O'Whielacronx).
        assert_eq!(base32z(&[0x00]), "yy");
        assert_eq!(base32z(&[0xf0, 0xbf, 0xc7]), "6n9hq");
        assert_eq!(base32z(&[0xd4, 0x7a, 0x04]), "4t7ye");
    }

    #[test]
    fn standalone_maps_every_account_to_the_node() {
        let node = NodeRecord {
            ed25519: Ed25519PublicKey::from_bytes([1; 32]),
            x25519: X25519PublicKey::from_bytes([2; 32]),
            ip: "127.0.0.1".parse().unwrap(),
            https_port: 1,
            swarm_id: SwarmId(77),
            version: [0, 1, 0],
        };
        let net = Network::standalone(node.clone());
        for b in [0u8, 0x42, 0xff] {
            let id = AccountId::new(hush_proto::IdPrefix::Standard, [b; 32]);
            let (swarm, members) = net.swarm_for(&id);
            assert_eq!(swarm, SwarmId(0));
            assert_eq!(members.len(), 1);
            assert_eq!(members[0].ed25519, node.ed25519);
        }
    }
}
