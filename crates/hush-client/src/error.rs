//! The one error type of hush-client, with a coarse [`ErrorKind`] for UIs and
//! [`Error::is_retryable`] for callers deciding whether to try again.
//!
//! Messages name the problem and never contain keys, plaintext or full Account IDs.

use std::path::PathBuf;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The profile holds no account.
    #[error(
        "profile '{0}' has no account: create one with `hush account new` or restore one with \
         `hush account restore`"
    )]
    NoAccount(String),
    /// The profile already holds an account.
    #[error("profile '{0}' already has an account")]
    AccountExists(String),
    /// Input from the user or the caller is invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// The profile is locked with a passphrase and none (or the wrong one) was given.
    #[error("the profile is locked: give its passphrase")]
    Locked,
    /// The passphrase does not open the profile.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// Something asked for does not exist (a message, a conversation).
    #[error("{0}")]
    NotFound(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A profile file is damaged or of an unknown format.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The database file was encrypted with another key than the profile's (its account
    /// file was replaced, or it was copied from another profile). It is left untouched.
    #[error(
        "{}: this database was encrypted with another key than this profile's (was its account \
         file replaced, or the database copied from another profile?); it is kept as it is",
        path.display()
    )]
    WrongKey {
        /// The database.
        path: PathBuf,
    },
    /// The disk holding the profile is full: nothing was lost, but nothing new can be written.
    #[error("{}: the disk is full; free some space and try again (nothing was lost)", path.display())]
    DiskFull {
        /// The file that could not grow.
        path: PathBuf,
    },
    /// Something else holds the profile (a running daemon, say).
    #[error("{0}")]
    InUse(String),
    /// The local database failed.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// A protocol operation failed (decoding, encryption, a malformed message).
    #[error(transparent)]
    Protocol(#[from] hush_proto::Error),
    /// No network is configured or none of its nodes could be reached.
    #[error("no hush network: {0}")]
    NoNetwork(String),
    /// A request over the network failed; trying again may work.
    #[error("network: {0}")]
    Network(String),
    /// A node answered, refusing the request.
    #[error("a node refused the request ({status}): {reason}")]
    Refused {
        /// The storage RPC status.
        status: u16,
        /// The node's reason.
        reason: String,
    },
    /// The client is shutting down.
    #[error("the client is shutting down")]
    Closed,
}

/// Coarse classes of [`Error`] for user interfaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was wrong; fix the input.
    InvalidInput,
    /// Something asked for does not exist.
    NotFound,
    /// A passphrase is needed (or was wrong).
    Locked,
    /// The network failed or is unavailable; try again later.
    Network,
    /// Files or the database failed.
    Storage,
    /// The profile is in use by another process.
    InUse,
    /// A peer or node sent something that is not valid, or refused.
    Protocol,
    /// The client is stopping.
    Closed,
}

impl ErrorKind {
    /// The kind's name in machine output (`--json` errors, JSON-RPC `data.kind`):
    /// `invalid_input`, `not_found`, `locked`, `network`, `storage`, `in_use`, `protocol`
    /// or `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::NotFound => "not_found",
            Self::Locked => "locked",
            Self::Network => "network",
            Self::Storage => "storage",
            Self::InUse => "in_use",
            Self::Protocol => "protocol",
            Self::Closed => "closed",
        }
    }
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NoAccount(_) | Self::NotFound(_) => ErrorKind::NotFound,
            Self::AccountExists(_) | Self::InvalidInput(_) => ErrorKind::InvalidInput,
            Self::Locked | Self::WrongPassphrase => ErrorKind::Locked,
            Self::File { .. }
            | Self::Corrupt { .. }
            | Self::WrongKey { .. }
            | Self::DiskFull { .. }
            | Self::Database(_) => ErrorKind::Storage,
            Self::InUse(_) => ErrorKind::InUse,
            Self::Protocol(_) | Self::Refused { .. } => ErrorKind::Protocol,
            Self::NoNetwork(_) | Self::Network(_) => ErrorKind::Network,
            Self::Closed => ErrorKind::Closed,
        }
    }

    /// Whether the same request may succeed later (network trouble, busy or restarting
    /// nodes).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Network(_) | Self::NoNetwork(_) => true,
            Self::Refused { status, .. } => matches!(status, 421 | 425 | 406 | 429 | 500..=599),
            _ => false,
        }
    }
}

/// `Result` with hush-client's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
