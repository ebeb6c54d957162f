//! Integration tests of hush-proto: one binary (link time matters on two cores).
//!
//! - `vectors`: every known-answer vector of session-protocol.md §13, read from
//!   `tests/vectors/*.json`.
//! - `roundtrip`: proptest round trips of every codec and cipher.
//! - `decoders`: every decoder fed arbitrary bytes returns an error or a value, never panics.
//! - `slip39`: Trezor's 45 SLIP-39 vectors, error messages, group splits.
//! - `config`: config data and message encodings and hashes against libsession's tests.
//! - `user_groups`: UserGroups and the group and community read states, by libsession's
//!   storage rules (the contents its tests build, derived from its code).

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod config;
mod decoders;
mod roundtrip;
mod slip39;
mod user_groups;
mod vectors;

use serde_json::Value;

/// Loads `tests/vectors/<name>.json`.
pub fn vectors(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// A string field of a vector.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("vector field {key:?} missing"))
}

/// A hex field of a vector, decoded.
pub fn h(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(s(v, key)).unwrap()
}

/// A hex field decoded into an array.
pub fn ha<const N: usize>(v: &Value, key: &str) -> [u8; N] {
    h(v, key).try_into().unwrap()
}
