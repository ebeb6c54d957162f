//! The network registry: the signed list of service nodes, playing the role Session's
//! blockchain plays for its network. A network key (Ed25519) signs each version; versions are
//! ordered by a sequence number; nodes and clients accept only a correctly signed registry
//! newer than the one they have.
//!
//! Wire form (JSON):
//!
//! ```json
//! {"body": {"network": "hush-devnet", "seq": 3, "nodes": [
//!     {"ed25519": "<hex>", "x25519": "<hex>", "ip": "127.0.0.1", "https_port": 41231,
//!      "version": [0, 1, 0]}]},
//!  "signature": "<hex Ed25519 signature>"}
//! ```
//!
//! The signature covers `"hush-registry-v1\n"` followed by the body re-serialized in its
//! canonical form (fields in the order above, no whitespace). Unknown fields are refused, so
//! what is verified is exactly what is used.

use std::collections::HashSet;
use std::net::IpAddr;

use hush_sodium::ed25519::{Ed25519KeyPair, Ed25519PublicKey, Ed25519Signature};
use hush_sodium::x25519::X25519PublicKey;
use serde::{Deserialize, Serialize};

use crate::swarm::{self, SwarmId};
use crate::{AccountId, Error, Result};

/// Domain separation for registry signatures.
const SIGNING_CONTEXT: &[u8] = b"hush-registry-v1\n";
/// Most nodes a registry may list.
pub const MAX_NODES: usize = 10_000;
/// Longest network name.
pub const MAX_NAME: usize = 64;

/// One node of the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryNode {
    /// Identity key (hex): names the node, signs its results.
    pub ed25519: String,
    /// Onion encryption key (hex): the X25519 form of the identity key.
    pub x25519: String,
    /// Public address.
    pub ip: IpAddr,
    /// HTTPS port.
    pub https_port: u16,
    /// Software version.
    pub version: [u16; 3],
}

/// The signed content of a registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryBody {
    /// A name for the network, e.g. "hush-devnet".
    pub network: String,
    /// Version number; a registry replaces another only with a higher one.
    pub seq: u64,
    /// The nodes, in registry order (which decides swarm assignment).
    pub nodes: Vec<RegistryNode>,
}

/// A registry as published: body and signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedRegistry {
    /// What is signed.
    pub body: RegistryBody,
    /// Hex Ed25519 signature by the network key.
    pub signature: String,
}

/// A validated node of a verified registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Identity key.
    pub ed25519: Ed25519PublicKey,
    /// Onion encryption key.
    pub x25519: X25519PublicKey,
    /// Public address.
    pub ip: IpAddr,
    /// HTTPS port.
    pub https_port: u16,
    /// Software version.
    pub version: [u16; 3],
    /// The swarm the registry assigns it to.
    pub swarm_id: SwarmId,
}

/// A registry whose signature, sequence and node list have been checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    signed: SignedRegistry,
    nodes: Vec<Node>,
}

fn canonical(body: &RegistryBody) -> Vec<u8> {
    let mut out = SIGNING_CONTEXT.to_vec();
    out.extend_from_slice(
        &serde_json::to_vec(body).expect("invariant: a registry body always serializes"),
    );
    out
}

fn hex32(s: &str, what: &'static str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| Error::InvalidRegistry(what))?;
    Ok(out)
}

impl SignedRegistry {
    /// Signs `body` with the network key.
    pub fn sign(body: RegistryBody, network_key: &Ed25519KeyPair) -> Self {
        let signature = hex::encode(network_key.sign(&canonical(&body)).as_bytes());
        Self { body, signature }
    }
}

impl Registry {
    /// Parses and verifies a published registry against the network's key.
    pub fn parse(json: &[u8], network_key: &Ed25519PublicKey) -> Result<Self> {
        let signed: SignedRegistry =
            serde_json::from_slice(json).map_err(|_| Error::InvalidRegistry("not a registry"))?;
        Self::verify(signed, network_key)
    }

    /// Verifies a signed registry: signature, name, sequence, and every node (keys that match
    /// each other, no duplicates, a usable address).
    pub fn verify(signed: SignedRegistry, network_key: &Ed25519PublicKey) -> Result<Self> {
        let body = &signed.body;
        let sig = Ed25519Signature::from_bytes(hex_sig(&signed.signature)?);
        network_key
            .verify(&canonical(body), &sig)
            .map_err(|_| Error::InvalidRegistry("its signature does not match the network key"))?;
        if body.network.is_empty() || body.network.len() > MAX_NAME {
            return Err(Error::InvalidRegistry("network name must be 1 to 64 bytes"));
        }
        if body.seq == 0 {
            return Err(Error::InvalidRegistry("sequence numbers start at 1"));
        }
        if body.nodes.len() > MAX_NODES {
            return Err(Error::InvalidRegistry("too many nodes"));
        }
        let mut seen = HashSet::new();
        let mut nodes = Vec::with_capacity(body.nodes.len());
        for n in &body.nodes {
            let ed25519 = Ed25519PublicKey::from_bytes(hex32(&n.ed25519, "bad node ed25519 key")?);
            let x25519 = X25519PublicKey::from_bytes(hex32(&n.x25519, "bad node x25519 key")?);
            if ed25519.to_x25519().ok() != Some(x25519) {
                return Err(Error::InvalidRegistry(
                    "node x25519 key does not match its ed25519 key",
                ));
            }
            if !seen.insert(ed25519) {
                return Err(Error::InvalidRegistry("a node is listed twice"));
            }
            if n.https_port == 0 || n.ip.is_unspecified() {
                return Err(Error::InvalidRegistry("a node has no usable address"));
            }
            nodes.push(Node {
                ed25519,
                x25519,
                ip: n.ip,
                https_port: n.https_port,
                version: n.version,
                swarm_id: SwarmId::INVALID,
            });
        }
        for (node, swarm) in nodes.iter_mut().zip(swarm::assign(body.nodes.len())) {
            node.swarm_id = swarm;
        }
        Ok(Self { signed, nodes })
    }

    /// The network's name.
    pub fn network(&self) -> &str {
        &self.signed.body.network
    }

    /// The sequence number.
    pub fn seq(&self) -> u64 {
        self.signed.body.seq
    }

    /// The nodes with their swarms, in registry order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The document as published (for serving it to others).
    pub fn signed(&self) -> &SignedRegistry {
        &self.signed
    }

    /// The published JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.signed).expect("invariant: a registry always serializes")
    }

    /// The swarm of `account` and its members.
    pub fn swarm_for(&self, account: &AccountId) -> (SwarmId, Vec<&Node>) {
        let mut ids: Vec<SwarmId> = self.nodes.iter().map(|n| n.swarm_id).collect();
        ids.sort();
        ids.dedup();
        match swarm::swarm_for(account, &ids) {
            Some(id) => (id, self.nodes.iter().filter(|n| n.swarm_id == id).collect()),
            None => (SwarmId::INVALID, Vec::new()),
        }
    }
}

/// What a node or client needs to join a network: its name, the key that signs its
/// registries, where to fetch them, and optionally a registry to start from. Written by
/// `hush devnet` and testnets as `network.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// The network's name (matches the registry's).
    pub network: String,
    /// The network key (hex Ed25519) that registries must be signed with.
    pub network_key: String,
    /// Base URLs (`https://host:port`) serving `GET /network/v1/registry`.
    pub seeds: Vec<String>,
    /// A registry to start from (verified like any other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<SignedRegistry>,
}

impl NetworkFile {
    /// The network key.
    pub fn key(&self) -> Result<Ed25519PublicKey> {
        Ok(Ed25519PublicKey::from_bytes(hex32(&self.network_key, "bad network key")?))
    }

    /// The bundled registry, verified, if there is one.
    pub fn registry(&self) -> Result<Option<Registry>> {
        let key = self.key()?;
        let reg = self.registry.clone().map(|r| Registry::verify(r, &key)).transpose()?;
        if reg.as_ref().is_some_and(|r| r.network() != self.network) {
            return Err(Error::InvalidRegistry("the registry is for another network"));
        }
        Ok(reg)
    }
}

fn hex_sig(s: &str) -> Result<[u8; 64]> {
    let mut out = [0u8; 64];
    hex::decode_to_slice(s, &mut out).map_err(|_| Error::InvalidRegistry("bad signature"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use hush_sodium::Secret;

    use super::*;

    fn node(seed: u8, port: u16) -> (Ed25519KeyPair, RegistryNode) {
        let keys = Ed25519KeyPair::from_seed(&Secret::from_array([seed; 32]));
        let x = keys.to_x25519().unwrap();
        let n = RegistryNode {
            ed25519: hex::encode(keys.public().as_bytes()),
            x25519: hex::encode(x.public().as_bytes()),
            ip: "127.0.0.1".parse().unwrap(),
            https_port: port,
            version: [0, 1, 0],
        };
        (keys, n)
    }

    fn body(count: u8, seq: u64) -> RegistryBody {
        RegistryBody {
            network: "test".into(),
            seq,
            nodes: (1..=count).map(|i| node(i, 1000 + u16::from(i)).1).collect(),
        }
    }

    #[test]
    fn signed_registries_verify_and_tampering_fails() {
        let key = Ed25519KeyPair::from_seed(&Secret::from_array([77; 32]));
        let signed = SignedRegistry::sign(body(12, 1), &key);
        let json = serde_json::to_vec(&signed).unwrap();
        let reg = Registry::parse(&json, key.public()).unwrap();
        assert_eq!(reg.seq(), 1);
        assert_eq!(reg.nodes().len(), 12);
        // Two swarms of six, by the largest-gap rule: 0 and 2^63 - 1.
        let in_first = reg.nodes().iter().filter(|n| n.swarm_id == SwarmId(0)).count();
        assert_eq!(in_first, 6);
        // Another key, a changed port, an extra field: all refused.
        let other = Ed25519KeyPair::from_seed(&Secret::from_array([78; 32]));
        assert!(Registry::parse(&json, other.public()).is_err());
        let mut tampered = signed.clone();
        tampered.body.nodes[0].https_port = 1;
        assert!(Registry::verify(tampered, key.public()).is_err());
        let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        v["body"]["extra"] = serde_json::json!(1);
        assert!(Registry::parse(v.to_string().as_bytes(), key.public()).is_err());
        // Unsigned.
        let mut unsigned = signed;
        unsigned.signature = String::new();
        assert!(Registry::verify(unsigned, key.public()).is_err());
    }

    #[test]
    fn nodes_must_be_consistent() {
        let key = Ed25519KeyPair::from_seed(&Secret::from_array([77; 32]));
        let mut b = body(3, 1);
        b.nodes[1].x25519 = b.nodes[2].x25519.clone();
        assert!(Registry::verify(SignedRegistry::sign(b, &key), key.public()).is_err());
        let mut b = body(3, 1);
        b.nodes[2] = b.nodes[0].clone();
        assert!(Registry::verify(SignedRegistry::sign(b, &key), key.public()).is_err());
        assert!(Registry::verify(SignedRegistry::sign(body(3, 0), &key), key.public()).is_err());
    }
}
