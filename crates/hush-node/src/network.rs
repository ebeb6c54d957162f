//! Who is in the network and which swarm serves an account.
//!
//! A [`Network`] is an immutable snapshot: the node list (sorted by swarm, then key), the
//! swarm IDs, the height (the registry's sequence number), the registry itself, and the nodes
//! earlier registries listed that this one does not. [`Membership`] holds the current
//! snapshot and replaces it atomically when a newer verified registry is adopted. Without a
//! network the snapshot is standalone: a one-node network to which every account maps.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

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
    /// Nodes earlier registries listed and this one does not (newest first, bounded): they
    /// may still hand off the mailboxes they held.
    former: Vec<NodeRecord>,
}

/// Most former nodes remembered.
const MAX_FORMER: usize = 1000;

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
        Self { nodes, swarm_ids, height, registry: None, former: Vec::new() }
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

    /// A node an earlier registry listed and this one does not (it may hand off mailboxes).
    pub fn former_node(&self, ed25519: &Ed25519PublicKey) -> Option<&NodeRecord> {
        self.former.iter().find(|n| &n.ed25519 == ed25519)
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
}

impl Membership {
    /// Starts with `network`.
    pub fn new(network: Network) -> Self {
        Self { current: RwLock::new(Arc::new(network)) }
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

    /// Adopts `registry` if it is newer than the current one (or there is none yet). Returns
    /// whether it was adopted.
    pub fn adopt(&self, registry: Registry) -> bool {
        let mut guard = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let newer = guard.registry.as_ref().is_none_or(|r| registry.seq() > r.seq());
        if newer {
            let mut next = Network::from_registry(registry);
            let listed = |n: &NodeRecord| next.node(&n.ed25519).is_some();
            let mut former: Vec<NodeRecord> =
                guard.nodes.iter().chain(&guard.former).filter(|n| !listed(n)).cloned().collect();
            former.dedup_by_key(|n| n.ed25519);
            former.truncate(MAX_FORMER);
            next.former = former;
            *guard = Arc::new(next);
        }
        newer
    }
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
