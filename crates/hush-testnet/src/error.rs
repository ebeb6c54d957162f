//! The one error type of hush-testnet.

use std::path::PathBuf;

/// What can go wrong starting or changing a test network.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A node failed to start, or a network tool failed.
    #[error(transparent)]
    Node(#[from] hush_node::Error),
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The folder holds a network this build cannot resume.
    #[error("{path}: {reason}")]
    BadFolder {
        /// The file at fault.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Another network is running on this folder.
    #[error("{0} is in use by another running network")]
    Busy(PathBuf),
    /// There is no node with this index.
    #[error("there is no node {0}")]
    NoSuchNode(usize),
    /// The node is not running (it was killed or stopped).
    #[error("node {0} is not running")]
    NotRunning(usize),
    /// The node is already running.
    #[error("node {0} is already running")]
    AlreadyRunning(usize),
    /// The network must keep at least one node.
    #[error("a network needs at least one node")]
    Empty,
}

/// `Result` with hush-testnet's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
