//! Onion paths (session-protocol.md §6.5): two guards, each the first hop of a three-hop
//! path whose other hops are random nodes, all distinct and — where the network has enough
//! address diversity — in distinct /24 subnets. A path that fails three times in a row is
//! dropped with its guard, and a new one is built.

use std::collections::HashSet;

use hush_proto::registry::Node;
use hush_sodium::{Csprng, SystemRng};

use super::pool::subnet;

/// Hops per path.
pub(crate) const PATH_LENGTH: usize = 3;
/// Paths (and guards) wanted.
pub(crate) const PATH_COUNT: usize = 2;
/// Consecutive failures before a path is dropped.
pub(crate) const PATH_STRIKE_LIMIT: u32 = 3;

/// A path: guard first.
#[derive(Clone, Debug)]
pub(crate) struct OnionPath {
    pub(crate) nodes: Vec<Node>,
    pub(crate) strikes: u32,
    /// The destination a request through this path last timed out towards (its guard still
    /// answering), until a request succeeds.
    pub(crate) timed_out_towards: Option<[u8; 32]>,
}

impl OnionPath {
    /// The node the client connects to.
    pub(crate) fn guard(&self) -> &Node {
        &self.nodes[0]
    }

    /// Whether `node` is on the path.
    pub(crate) fn contains(&self, node: &Node) -> bool {
        self.nodes.iter().any(|n| n.ed25519 == node.ed25519)
    }
}

/// A uniformly random index below `n` (> 0).
pub(crate) fn random_index(n: usize) -> usize {
    let r = u64::from_le_bytes(SystemRng.array());
    usize::try_from(r % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
}

/// `nodes` in a random order.
pub(crate) fn shuffled<T: Clone>(nodes: &[T]) -> Vec<T> {
    let mut out = nodes.to_vec();
    for i in (1..out.len()).rev() {
        out.swap(i, random_index(i + 1));
    }
    out
}

/// Completes a path from `guard` with random hops from `pool`, avoiding the nodes in
/// `exclude` (the guards) and, while possible, subnets already on the path.
pub(crate) fn build_path(guard: &Node, pool: &[Node], exclude: &HashSet<[u8; 32]>) -> OnionPath {
    let mut nodes = vec![guard.clone()];
    let candidates: Vec<&Node> = pool
        .iter()
        .filter(|n| n.ed25519 != guard.ed25519 && !exclude.contains(n.ed25519.as_bytes()))
        .collect();
    let order = shuffled(&candidates);
    // First pass: distinct subnets; second pass: any node not on the path yet.
    for diverse in [true, false] {
        for n in &order {
            if nodes.len() == PATH_LENGTH {
                break;
            }
            let on_path = nodes.iter().any(|p| p.ed25519 == n.ed25519);
            let same_subnet = nodes.iter().any(|p| subnet(p.ip) == subnet(n.ip));
            if !(on_path || (diverse && same_subnet)) {
                nodes.push((*n).clone());
            }
        }
    }
    OnionPath { nodes, strikes: 0, timed_out_towards: None }
}

#[cfg(test)]
mod tests {
    use hush_proto::swarm::SwarmId;
    use hush_sodium::Secret;
    use hush_sodium::ed25519::Ed25519KeyPair;

    use super::*;

    fn node(i: u8, ip: &str) -> Node {
        let keys = Ed25519KeyPair::from_seed(&Secret::from_array([i; 32]));
        Node {
            ed25519: *keys.public(),
            x25519: *keys.to_x25519().unwrap().public(),
            ip: ip.parse().unwrap(),
            https_port: 1000,
            version: [0, 1, 0],
            swarm_id: SwarmId(0),
        }
    }

    #[test]
    fn paths_use_distinct_nodes_and_subnets_when_they_can() {
        let pool: Vec<Node> = (1..=9)
            .map(|i| node(i, &format!("10.0.{}.{}", i % 3, i)))
            .chain([node(10, "10.9.9.9")])
            .collect();
        let guard = pool[0].clone();
        let exclude: HashSet<[u8; 32]> = [*pool[1].ed25519.as_bytes()].into();
        for _ in 0..50 {
            let path = build_path(&guard, &pool, &exclude);
            assert_eq!(path.nodes.len(), PATH_LENGTH);
            let keys: HashSet<_> = path.nodes.iter().map(|n| n.ed25519).collect();
            assert_eq!(keys.len(), PATH_LENGTH, "distinct nodes");
            assert!(!path.contains(&pool[1]), "other guards are not hops");
            let subnets: HashSet<_> = path.nodes.iter().map(|n| subnet(n.ip)).collect();
            assert_eq!(subnets.len(), PATH_LENGTH, "distinct /24s are available here");
        }
        // One subnet for all: still three distinct nodes.
        let flat: Vec<Node> = (1..=5).map(|i| node(i, &format!("127.0.1.{i}"))).collect();
        let path = build_path(&flat[0], &flat, &HashSet::new());
        let keys: HashSet<_> = path.nodes.iter().map(|n| n.ed25519).collect();
        assert_eq!(keys.len(), PATH_LENGTH);
        // Too few nodes: a shorter path.
        let path = build_path(&flat[0], &flat[..2], &HashSet::new());
        assert_eq!(path.nodes.len(), 2);
    }
}
