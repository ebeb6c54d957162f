//! A network registry as served by a node or a seed: JSON, then its signature under the
//! network key, then the node list. The input is tried twice: as a published registry
//! (almost always stopping at the signature), and as a registry body signed here with a
//! known key, so the node-list checks behind the signature are reached too.
#![no_main]

use hush_proto::registry::{Registry, RegistryBody, SignedRegistry};
use hush_sodium::Secret;
use hush_sodium::ed25519::Ed25519KeyPair;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = Ed25519KeyPair::from_seed(&Secret::from_array([7; 32]));
    let _ = Registry::parse(data, key.public());
    if let Ok(body) = serde_json::from_slice::<RegistryBody>(data) {
        let signed = SignedRegistry::sign(body, &key);
        let _ = Registry::verify(signed, key.public());
    }
});
