//! The hush client library: everything a user interface needs to be a hush client.
//!
//! - [`profile`]: accounts on disk (seed, display name, the database key), optionally sealed
//!   with a passphrase.
//! - [`db`]: the local database, SQLCipher-encrypted with the profile's key: conversations,
//!   messages and their status, contacts, message requests, the outbox.
//! - `net` (private): the only module that does network I/O — the node pool, onion paths,
//!   swarm requests with retries.
//! - [`display`]: remote text made safe for terminals (escape sequences, controls and
//!   bidirectional overrides shown, not obeyed).
//! - [`Client`]: sending (through a persistent outbox), receiving (a long-poll on the own
//!   swarm), conversation features (requests, blocking, receipts, typing, unsend,
//!   disappearing messages, Note to Self), config sync with the account's other devices
//!   (display name, contacts, read positions — libsession's config messages), restoring an
//!   account's data ([`Client::restore`]), and an [`Event`] stream for UIs.
//!
//! A [`Client`] opened without [`Client::start`] never touches the network: listing
//! conversations or contacts works offline. `start` runs the background tasks (outbox,
//! poller, expiry, registry refresh) until [`Client::shutdown`].
//!
//! ```no_run
//! # async fn demo() -> hush_client::Result<()> {
//! use hush_client::{Client, ClientConfig};
//! let config = ClientConfig::new("/tmp/hush".into(), "default".parse()?, "/tmp/hush/devnet/network.json".into());
//! let client = Client::open(config)?;
//! client.start().await?;
//! let mut events = client.subscribe();
//! let bob: hush_client::AccountId = "05…".parse()?;
//! client.send_text(&bob, "hello")?;
//! while let Ok(event) = events.recv().await {
//!     println!("{}", serde_json::to_string(&event).unwrap());
//! }
//! # Ok(()) }
//! ```

mod client;
pub mod db;
pub mod display;
mod error;
mod events;
mod net;
mod outbox;
pub mod profile;
mod receive;
mod send;
mod sync;

pub use client::{
    Client, ClientConfig, DEFAULT_POLL_WAIT, RestoreProgress, RestoreSummary, Stats,
    WAIT_GIVES_UP_AFTER,
};
pub use db::{Contact, Conversation, Disappearing, Message, MessageStatus};
pub use error::{Error, ErrorKind, Result};
pub use events::Event;
pub use hush_proto::AccountId;
pub use net::{NetConfig, check_network_file};
pub use profile::{Profile, ProfileName, StoredAccount};
pub use send::{MAX_SEND_ID_BYTES, MAX_TEXT_CHARS};
