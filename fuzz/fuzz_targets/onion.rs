//! A node peeling an onion layer it received: the length-prefixed split, the routing JSON,
//! decryption with its key, the next hop's routing, and a client reading the final response.
#![no_main]

use hush_proto::onion::{self, EncType, HopCipher};
use hush_sodium::x25519::{X25519KeyPair, X25519PublicKey, X25519SecretKey};
use libfuzzer_sys::fuzz_target;

/// The node key of the `parse_layer` vector (session-protocol.md §13.5): seeds decrypt.
const NODE_SK: [u8; 32] = [
    0x2f, 0x4d, 0x1c, 0x0d, 0x28, 0xe1, 0x37, 0x77, 0x7e, 0xc0, 0xa3, 0x16, 0xe9, 0xf4, 0xf7, 0x63,
    0xe3, 0xe6, 0x66, 0x62, 0xa6, 0xc5, 0x19, 0x94, 0xc6, 0x31, 0x5c, 0x9e, 0xf3, 0x4b, 0x6d, 0xeb,
];

fuzz_target!(|data: &[u8]| {
    let node = X25519KeyPair::from_secret(X25519SecretKey::from_slice(&NODE_SK).unwrap());
    let _ = onion::split_layer(data);
    if let Ok(layer) = onion::decrypt_layer(data, &node) {
        let _ = onion::route(&layer.plaintext, layer.hop_no);
        let _ = onion::decode_final_response(&layer.cipher, data);
    }
    // The inner routing of a decrypted layer, and a response, taken from the input directly.
    let _ = onion::route(data, 1);
    if let Some((first, rest)) = data.split_first() {
        let enc = if first % 2 == 0 { EncType::AesGcm } else { EncType::XChaCha20 };
        let client = X25519PublicKey::from_bytes([first | 1; 32]);
        if let Ok(cipher) = HopCipher::for_node(enc, &node, &client) {
            let _ = onion::decode_final_response(&cipher, rest);
            let _ = cipher.decrypt(rest);
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = EncType::parse(s);
    }
});
