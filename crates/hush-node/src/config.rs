//! Node configuration: a TOML file (unknown keys are errors) whose every option also has a
//! command-line flag; flags win over the file, the file over the defaults.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::{Error, Result};

/// Everything a node needs to run.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Where the key, the TLS certificate and the database live.
    pub data_dir: PathBuf,
    /// Address and port to listen on (HTTPS). Port 0 picks a free port.
    pub listen: SocketAddr,
    /// The address other nodes and clients are told to use; defaults to the listen address
    /// (or 127.0.0.1 when listening on all interfaces).
    pub public_ip: Option<IpAddr>,
    /// The port advertised to others; defaults to the port actually bound.
    pub public_port: Option<u16>,
    /// Largest request body accepted, in bytes.
    pub max_request_bytes: usize,
    /// Requests read and processed at once (their bodies are the node's largest memory use:
    /// at most this many × `max_request_bytes`); more wait, bounded by `max_connections`.
    pub max_concurrent_requests: usize,
    /// Bytes of request bodies held in memory at once, counted as they arrive (a declared
    /// length reserves nothing); a body that would go beyond is refused with 503 at once.
    /// Its last eighth is kept for bodies up to 256 KiB (every client request).
    pub max_inflight_body_bytes: usize,
    /// Bytes of request bodies one client address (an IPv6 /64) may hold in memory at once;
    /// nodes of the network are held to `max_inflight_body_bytes` only.
    pub max_inflight_body_bytes_per_ip: usize,
    /// Open client connections at once; more are refused.
    pub max_connections: usize,
    /// Open connections from one client address (an IPv6 /64) at once; more are refused, so
    /// one address cannot take every connection (registry nodes are exempt).
    pub max_connections_per_ip: usize,
    /// Time limit for reading a request and producing its response, in milliseconds.
    pub request_timeout_ms: u64,
    /// Sustained requests per second allowed from one client address (0 = no limit).
    pub rate_limit_per_ip: u32,
    /// Burst allowance above the sustained rate, in requests.
    pub rate_limit_burst: u32,
    /// Bytes of stored message data one account may hold.
    pub max_account_bytes: u64,
    /// Bytes of stored message data the whole node may hold.
    pub max_node_bytes: u64,
    /// How often expired messages are deleted, in milliseconds.
    pub expiry_sweep_interval_ms: u64,
    /// Time limit for relaying an onion request to the next node, in milliseconds.
    pub relay_timeout_ms: u64,
    /// The network file (`network.json`: network key, seeds, optionally a registry). Without
    /// one the node is a one-node network.
    pub network: Option<PathBuf>,
    /// How often the node compares its mailboxes with its swarm peers (catch-up) and hands
    /// off mailboxes it no longer serves, in milliseconds.
    pub sync_interval_ms: u64,
    /// How often the node asks its seeds for a newer registry, in milliseconds.
    pub registry_poll_interval_ms: u64,
    /// Log filter (`tracing` env-filter syntax), e.g. "info" or "hush_node=debug".
    pub log: String,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("hush-node-data"),
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 22021),
            public_ip: None,
            public_port: None,
            max_request_bytes: 10 << 20,
            max_concurrent_requests: 64,
            max_inflight_body_bytes: 32 << 20,
            max_inflight_body_bytes_per_ip: 11 << 20,
            max_connections: 1000,
            max_connections_per_ip: 128,
            request_timeout_ms: 30_000,
            rate_limit_per_ip: 200,
            rate_limit_burst: 400,
            max_account_bytes: 100 << 20,
            max_node_bytes: 20 << 30,
            expiry_sweep_interval_ms: 60_000,
            relay_timeout_ms: 25_000,
            network: None,
            sync_interval_ms: 10_000,
            registry_poll_interval_ms: 60_000,
            log: "info".to_owned(),
        }
    }
}

impl NodeConfig {
    /// Reads a TOML file. Unknown keys and wrong types are errors naming the key.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::File { path: path.to_owned(), source })?;
        toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// Checks the values make sense together.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("max_request_bytes", self.max_request_bytes as u64),
            ("max_concurrent_requests", self.max_concurrent_requests as u64),
            ("max_connections", self.max_connections as u64),
            ("max_connections_per_ip", self.max_connections_per_ip as u64),
            ("request_timeout_ms", self.request_timeout_ms),
            ("max_account_bytes", self.max_account_bytes),
            ("max_node_bytes", self.max_node_bytes),
            ("expiry_sweep_interval_ms", self.expiry_sweep_interval_ms),
            ("relay_timeout_ms", self.relay_timeout_ms),
            ("sync_interval_ms", self.sync_interval_ms),
            ("registry_poll_interval_ms", self.registry_poll_interval_ms),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(Error::Config(format!("{name} must be greater than 0")));
            }
        }
        if self.max_inflight_body_bytes - self.max_inflight_body_bytes / 8 < self.max_request_bytes
        {
            return Err(Error::Config(
                "max_inflight_body_bytes must be at least 8/7 of max_request_bytes (an eighth is \
                 kept for small requests)"
                    .to_owned(),
            ));
        }
        if self.max_inflight_body_bytes_per_ip < self.max_request_bytes {
            return Err(Error::Config(
                "max_inflight_body_bytes_per_ip must be at least max_request_bytes".to_owned(),
            ));
        }
        if self.network.is_some() && self.max_request_bytes < 5 << 20 {
            return Err(Error::Config(
                "in a network, max_request_bytes must be at least 5242880 (hand-offs between \
                 nodes carry up to 4 MiB)"
                    .to_owned(),
            ));
        }
        if self.max_request_bytes > u32::MAX as usize {
            return Err(Error::Config("max_request_bytes must fit in 32 bits".to_owned()));
        }
        if self.max_request_bytes < 128 << 10 {
            return Err(Error::Config(
                "max_request_bytes must be at least 131072 (a 76 800-byte message in base64 JSON)"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// `request_timeout_ms` as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        assert!(toml::from_str::<NodeConfig>("listen = \"127.0.0.1:1\"\nbogus = 1").is_err());
        assert!(toml::from_str::<NodeConfig>("listen = 5").is_err());
        let c: NodeConfig =
            toml::from_str("listen = \"127.0.0.1:0\"\nmax_connections = 7").unwrap();
        assert_eq!(c.max_connections, 7);
        assert_eq!(c.max_request_bytes, NodeConfig::default().max_request_bytes);
        c.validate().unwrap();
        let zero = NodeConfig { request_timeout_ms: 0, ..c.clone() };
        assert!(zero.validate().is_err());
        // In a network, requests must fit a hand-off.
        let small = NodeConfig { max_request_bytes: 1 << 20, ..c };
        small.validate().unwrap();
        let networked = NodeConfig { network: Some("network.json".into()), ..small };
        assert!(networked.validate().is_err());
    }
}
