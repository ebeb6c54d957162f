//! Session-compatible wire formats and protocol crypto for hush, with no I/O.
//!
//! Everything here is a pure function or a plain type: no sockets, files, clocks, threads or
//! logging. Time comes in as a [`Timestamp`] argument and randomness as
//! `&mut impl` [`Csprng`](hush_sodium::Csprng), so every result is reproducible in tests. The
//! byte-level contract is `docs/session-protocol.md`; each module names its section.
//!
//! | module | what |
//! |---|---|
//! | [`account`] | [`AccountId`] (33 bytes, prefixes 05/03/15/25), [`AccountSeed`], [`Identity`] (§1) |
//! | [`mnemonic`] | the 13-word [`RecoveryPassword`] and the general word codec (§2) |
//! | [`padding`] | 1:1 message padding (§3.2) |
//! | [`message`] | Session V1 sign-then-seal encryption, random and deterministic (§3.3–3.5) |
//! | [`protos`] | prost types of every Session protobuf (§4) |
//! | [`envelope`] | `Content` → padded, encrypted `Envelope` in a `WebSocketMessage`, and back (§3.1) |
//! | [`namespace`] | storage namespaces and their rules (§5.3) |
//! | [`message_hash`] | the storage server's message hash (§5.7) |
//! | [`swarm`] | swarm space, swarm selection and swarm assignment (§7) |
//! | [`registry`] | the signed network registry (the node list and its swarms) |
//! | [`onion`] | onion hop crypto, layer build and peel, final responses (§6.2–6.4) |
//! | [`bencode`] | strict, bounded bencode (§9.2) |
//! | [`config`] | config data, diffs, the outer config message with its hash, and merging (§9.2–9.3) |
//! | [`config_wire`] | config messages on the wire: compression, padding, encryption, multipart, user-config wrapping (§9.5) |
//! | [`config_objects`] | UserProfile, Contacts and ConvoInfoVolatile fields over config data (§9.4) |
//! | [`config_user_groups`] | UserGroups: groups, community rooms, legacy groups (§9.4) |
//! | [`config_crypto`] | config message encryption and `padded_size` (§9.5 steps 3–4) |
//! | [`blinding`] | community-blinded IDs (§1.3) |
//! | [`slip39`] | SLIP-39 Shamir shares of the account seed (Trezor-compatible, crypto.md §5) |
//!
//! # Not in this crate
//!
//! - Network, disk, clock, async runtime, logging: the node and the client own those.
//! - The unsafe FFI to libsodium: that is `hush-sodium`, the only crate allowed `unsafe`.
//!
//! # Example
//!
//! ```
//! use hush_proto::{AccountSeed, Identity, RecoveryPassword};
//!
//! // The first row of session-protocol.md §13.2.
//! let seed = RecoveryPassword::parse(
//!     "vexed enjoy pigment films adept voted vexed enjoy pigment films adept voted adept",
//! )?;
//! let identity = Identity::from_seed(&seed);
//! assert_eq!(
//!     identity.account_id().to_string(),
//!     "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",
//! );
//! # Ok::<(), hush_proto::Error>(())
//! ```

pub mod account;
pub mod bencode;
pub mod blinding;
pub mod config;
pub mod config_crypto;
pub mod config_objects;
pub mod config_user_groups;
pub mod config_wire;
pub mod envelope;
mod error;
pub mod message;
pub mod message_hash;
pub mod mnemonic;
pub mod namespace;
pub mod onion;
pub mod padding;
pub mod protos;
pub mod redact;
pub mod registry;
pub mod slip39;
pub mod storage_rpc;
pub mod swarm;
mod time;

pub use account::{AccountId, AccountSeed, IdPrefix, Identity};
pub use error::{Error, Result};
pub use mnemonic::RecoveryPassword;
pub use time::Timestamp;
