//! The one error type of hush-node (start-up, storage and configuration failures). Request
//! failures are not errors of this kind: they become HTTP statuses in the RPC layer.

use std::path::PathBuf;

/// What can stop the node from starting or running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A file in the data directory could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// A key file (the node's, or a network key) is damaged.
    #[error("{0} is not a valid key file (64 hex characters)")]
    BadKeyFile(PathBuf),
    /// TLS set-up failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The database has a newer schema than this program knows.
    #[error("database schema version {found} is newer than this hush-node ({known})")]
    SchemaTooNew {
        /// The version on disk.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The storage thread stopped.
    #[error("the storage thread is gone")]
    StoreClosed,
}

/// `Result` with hush-node's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
