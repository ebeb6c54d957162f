//! A network registry as served by a node or a seed: JSON, then its signature under the
//! network key, then the node list.
#![no_main]

use hush_sodium::ed25519::Ed25519PublicKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = Ed25519PublicKey::from_bytes([7; 32]);
    let _ = hush_proto::registry::Registry::parse(data, &key);
});
