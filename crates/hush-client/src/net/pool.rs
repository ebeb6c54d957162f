//! The node pool: the verified network registry this client uses, where it comes from, and
//! the nodes currently struck out.
//!
//! The registry comes from the network file (`network.json`: name, network key, seeds,
//! optionally a registry), from the client's database (the newest one it saw), or from a seed
//! (`GET /network/v1/registry`, directly — the only request that does not go through an onion
//! path, as Session's seed requests). Afterwards the client refreshes it through its onion
//! paths (`network_registry`), so no node but its guards sees its address. Only registries
//! signed by the network key, of the same network and newer than the current one are adopted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use hush_proto::AccountId;
use hush_proto::registry::{NetworkFile, Node, Registry, SignedRegistry};
use hush_sodium::ed25519::Ed25519PublicKey;

use crate::{Error, Result};

/// Failures before a node is left out of paths and destinations.
pub(crate) const NODE_STRIKE_LIMIT: u32 = 3;
/// How long a struck-out node is left out before it gets another chance (a node that hung
/// or went down may be back; until then other nodes serve).
pub(crate) const STRUCK_OUT_FOR: std::time::Duration = std::time::Duration::from_secs(300);

/// What the client knows about the network.
#[derive(Debug)]
pub(crate) struct Pool {
    name: String,
    key: Ed25519PublicKey,
    seeds: Vec<String>,
    registry: Option<Registry>,
    /// Failures per node, and when the last one was.
    strikes: HashMap<Ed25519PublicKey, (u32, tokio::time::Instant)>,
}

impl Pool {
    /// The pool of a network file.
    pub(crate) fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::NoNetwork(format!(
                "{} does not exist: start a local network with `hush devnet`, or pass --network",
                path.display()
            )),
            _ => Error::File { path: path.to_owned(), source },
        })?;
        let file: NetworkFile = serde_json::from_slice(&text).map_err(|e| Error::Corrupt {
            path: path.to_owned(),
            reason: format!("not a network file: {e}"),
        })?;
        let key = file
            .key()
            .map_err(|e| Error::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
        let registry = file
            .registry()
            .map_err(|e| Error::Corrupt { path: path.to_owned(), reason: e.to_string() })?;
        Ok(Self { name: file.network, key, seeds: file.seeds, registry, strikes: HashMap::new() })
    }

    /// The network's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The seeds.
    pub(crate) fn seeds(&self) -> &[String] {
        &self.seeds
    }

    /// The registry in use.
    pub(crate) fn registry(&self) -> Option<&Registry> {
        self.registry.as_ref()
    }

    /// Verifies `signed` and adopts it if it is newer; returns whether it was adopted.
    pub(crate) fn offer(&mut self, signed: SignedRegistry) -> Result<bool> {
        let registry = Registry::verify(signed, &self.key)?;
        if registry.network() != self.name {
            return Err(Error::Protocol(hush_proto::Error::InvalidRegistry("another network")));
        }
        if self.registry.as_ref().is_some_and(|r| r.seq() >= registry.seq()) {
            return Ok(false);
        }
        self.registry = Some(registry);
        // A new registry is a fresh start for every node.
        self.strikes.clear();
        Ok(true)
    }

    /// The usable nodes (not struck out).
    pub(crate) fn nodes(&self) -> Vec<Node> {
        self.registry
            .iter()
            .flat_map(Registry::nodes)
            .filter(|n| self.usable(&n.ed25519))
            .cloned()
            .collect()
    }

    /// Forgets every strike.
    pub(crate) fn forgive_all(&mut self) {
        self.strikes.clear();
    }

    /// Whether a node may be used.
    pub(crate) fn usable(&self, key: &Ed25519PublicKey) -> bool {
        self.strikes
            .get(key)
            .is_none_or(|(n, last)| *n < NODE_STRIKE_LIMIT || last.elapsed() >= STRUCK_OUT_FOR)
    }

    /// The swarm of `account`: its members that are usable (all of them if none is).
    pub(crate) fn swarm(&self, account: &AccountId) -> Vec<Node> {
        let Some(registry) = &self.registry else { return Vec::new() };
        let members: Vec<Node> = registry.swarm_for(account).1.into_iter().cloned().collect();
        let usable: Vec<Node> =
            members.iter().filter(|n| self.usable(&n.ed25519)).cloned().collect();
        if usable.is_empty() { members } else { usable }
    }

    /// Counts a failure of `key`.
    pub(crate) fn strike(&mut self, key: &Ed25519PublicKey) {
        let now = tokio::time::Instant::now();
        let entry = self.strikes.entry(*key).or_insert((0, now));
        if entry.1.elapsed() >= STRUCK_OUT_FOR {
            // Old failures are forgotten; one that comes after a second chance it was given
            // strikes it out again at once.
            entry.0 = if entry.0 >= NODE_STRIKE_LIMIT { NODE_STRIKE_LIMIT - 1 } else { 0 };
        }
        *entry = (entry.0 + 1, now);
    }

    /// Recent failures of `key` (those older than [`STRUCK_OUT_FOR`] are forgotten).
    pub(crate) fn strikes(&self, key: &Ed25519PublicKey) -> u32 {
        self.strikes.get(key).filter(|(_, last)| last.elapsed() < STRUCK_OUT_FOR).map_or(0, |s| s.0)
    }

    /// Forgets the failures of `key` (it answered).
    pub(crate) fn clear_strikes(&mut self, key: &Ed25519PublicKey) {
        self.strikes.remove(key);
    }
}

/// The /24 (IPv4) or /48 (IPv6) a node's address belongs to, for path diversity.
pub(crate) fn subnet(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets()[..3].to_vec(),
        IpAddr::V6(v6) => v6.octets()[..6].to_vec(),
    }
}
