//! Config messages as read from our own swarm: the protobuf wrapping, decryption,
//! decompression, multipart parts, bencode, the config message format, merging, and the
//! objects (profile, contacts, conversation read state, groups) loaded from the result —
//! both on the input as stored bytes and on the input sealed here as a config message.
#![no_main]

use hush_proto::config::{self, ReceivedConfig};
use hush_proto::config_wire::{self, Opened};
use hush_proto::{AccountSeed, Identity, bencode, config_objects, config_user_groups};
use libfuzzer_sys::fuzz_target;

fn load_objects(d: &config::Dict) {
    let _ = config_objects::UserProfile::load(d);
    let _ = config_objects::contacts(d);
    let _ = config_objects::read_states(d);
    let _ = config_objects::community_read_states(d);
    let _ = config_user_groups::load(d);
}

fuzz_target!(|data: &[u8]| {
    // The account of the `config_user_profile` vector: its pushes decrypt.
    let seed = AccountSeed::from_entropy(&[
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
        0xef,
    ])
    .unwrap();
    let me = Identity::from_seed(&seed);
    let stored = config_wire::unwrap_user_config(&me, data);
    match config_wire::open(&stored, seed.ed25519_seed().expose(), "UserProfile") {
        Ok(Opened::Whole(whole)) => {
            if let Ok(received) = ReceivedConfig::parse(&whole) {
                load_objects(&received.data);
            }
        }
        Ok(Opened::Part(part)) => {
            let _ = config_wire::reassemble(&[0; 32], [&part]);
        }
        Err(_) => {}
    }
    // The input as a config message sealed here: decompression, padding, multipart
    // reassembly and the format behind the authenticated decryption.
    if let Ok(parts) = config_wire::seal_config(data, seed.ed25519_seed().expose(), "UserProfile") {
        let mut pieces = Vec::new();
        for sealed in &parts {
            match config_wire::open(sealed, seed.ed25519_seed().expose(), "UserProfile") {
                Ok(Opened::Whole(whole)) => {
                    if let Ok(received) = ReceivedConfig::parse(&whole) {
                        load_objects(&received.data);
                    }
                }
                Ok(Opened::Part(part)) => pieces.push(part),
                Err(_) => {}
            }
        }
        if let Some(first) = pieces.first() {
            let hash = first.hash;
            if let Ok(Some(whole)) = config_wire::reassemble(&hash, pieces.iter()) {
                let _ = ReceivedConfig::parse(&whole);
            }
        }
    }
    // The decoders behind decryption, on the raw input.
    let _ = bencode::Bt::decode(data);
    if let Ok(received) = ReceivedConfig::parse(data) {
        load_objects(&received.data);
    }
    // Two messages split from one input: the merge of concurrent configs.
    let (a, b) = data.split_at(data.len() / 2);
    if let Ok(merged) = config::merge(&[a, b, data]) {
        load_objects(merged.data());
        let _ = merged.serialize();
    }
});
