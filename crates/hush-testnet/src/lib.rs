//! hush-testnet: a real hush network in one process.
//!
//! [`Testnet::builder`]`().nodes(n).start()` runs `n` real [`hush_node`] instances (HTTPS on
//! loopback, real SQLite, real node-to-node replication) under one signed network registry,
//! writes the network file (`network.json`: network key, seeds, registry) that nodes and
//! clients start from, and injects faults: [`Testnet::kill`], [`Testnet::restart`],
//! [`Testnet::partition`], [`Testnet::add_nodes`], [`Testnet::retire`].
//!
//! For privacy tests, [`TestnetBuilder::distinct_addresses`] puts node `i` on its own
//! loopback address (127.0.1.(i+1)) and [`Testnet::record_traffic`] has every node record the
//! remote addresses and bodies it sees.
//!
//! The same type runs `hush devnet`: with [`TestnetBuilder::dir`] everything (network key,
//! node keys, databases, ports) persists in that folder and a later start resumes the same
//! network.
//!
//! # Layout of the folder
//!
//! ```text
//! DIR/lock               held while the network runs (one network per folder)
//! DIR/network.key        the network key (hex seed, 0600): signs registries
//! DIR/network.json       network name, public key, seeds, signed registry (for clients too)
//! DIR/node-00/ …         one data dir per node (node key, TLS certificate, storage.db)
//! ```
//!
//! # How a network starts
//!
//! Every node's listener is bound first (port 0 picks a free port, or the port the node had
//! last time), so the registry can name every address before any node runs; then the registry
//! is signed and written, and the nodes start with it. Nothing races for ports.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), hush_testnet::Error> {
//! let mut net = hush_testnet::Testnet::builder().nodes(12).start().await?;
//! println!("clients: {}", net.network_file_path().display());
//! net.kill(3).await?;
//! net.restart(3).await?;
//! net.shutdown().await;
//! # Ok(()) }
//! ```

mod error;
mod testnet;

pub use crate::error::{Error, Result};
pub use crate::testnet::{Testnet, TestnetBuilder};
