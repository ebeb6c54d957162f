//! Integration tests of hush-sodium: one binary (link time matters on two cores).
//!
//! - `kat`: known-answer vectors for every primitive (RFCs, NIST, the IETF X-Wing draft, and
//!   values computed with independent implementations, each source named).
//! - `differential`: libsodium against the pure-Rust implementations (RustCrypto, dalek) on
//!   random inputs.
//! - `misuse`: wrong lengths, tampering and bad keys give errors, never panics.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod differential;
mod kat;
mod misuse;

/// Decodes test-vector hex.
pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).expect("test vector hex")
}

/// Decodes test-vector hex into an array.
pub fn arr<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().expect("test vector length")
}
