//! Known-answer tests: every vector of session-protocol.md §13.

use base64::Engine;
use hush_proto::message_hash::MessageHash;
use hush_proto::namespace::Namespace;
use hush_proto::onion::{self, EncType, HopCipher, NextHop};
use hush_proto::swarm::{self, SwarmId};
use hush_proto::{
    AccountId, AccountSeed, Identity, RecoveryPassword, blinding, config_crypto, message, mnemonic,
};
use hush_sodium::Secret;
use hush_sodium::ed25519::Ed25519KeyPair;
use hush_sodium::rng::DeterministicRng;
use hush_sodium::x25519::{X25519KeyPair, X25519PublicKey, X25519SecretKey};

use super::{h, ha, s, vectors};

fn array_of<'a>(v: &'a serde_json::Value, key: &str) -> &'a Vec<serde_json::Value> {
    v[key].as_array().unwrap_or_else(|| panic!("vector list {key:?} missing"))
}

#[test]
fn s13_1_mnemonic_encode_and_decode() {
    let v = vectors("mnemonic");
    for case in array_of(&v, "encode") {
        let bytes = h(case, "hex");
        let with_checksum = case["checksum"].as_bool().unwrap();
        let words = mnemonic::encode(&bytes, with_checksum).unwrap();
        assert_eq!(words.join(" "), s(case, "words"));
        let parsed: Vec<&str> = s(case, "words").split(' ').collect();
        assert_eq!(&*mnemonic::decode(&parsed).unwrap(), &bytes);
        if with_checksum {
            let seed = RecoveryPassword::parse(s(case, "words")).unwrap();
            assert_eq!(seed.entropy(), &bytes[..]);
            assert_eq!(seed.recovery_password().expose(), s(case, "words"));
        }
    }
    for case in array_of(&v, "decode_equivalent") {
        let seed = RecoveryPassword::parse(s(case, "words")).unwrap();
        assert_eq!(seed.entropy(), &h(case, "hex")[..]);
    }
    for phrase in array_of(&v, "checksum_failures") {
        let err = RecoveryPassword::parse(phrase.as_str().unwrap()).unwrap_err();
        assert!(matches!(err, hush_proto::Error::ChecksumMismatch), "{err}");
    }
}

#[test]
fn s13_2_seed_to_keys_and_account_id() {
    let v = vectors("keys");
    for case in array_of(&v, "accounts") {
        let seed = AccountSeed::from_entropy(&h(case, "seed")).unwrap();
        assert_eq!(seed.recovery_password().expose(), s(case, "mnemonic"));
        let identity = Identity::from_seed(&seed);
        assert_eq!(hex::encode(identity.ed25519_public().as_bytes()), s(case, "ed25519_pk"));
        assert_eq!(identity.account_id().to_string(), s(case, "account_id"));
        // And back from the words.
        let restored = Identity::from_seed(&RecoveryPassword::parse(s(case, "mnemonic")).unwrap());
        assert_eq!(restored.account_id(), identity.account_id());
    }
    for case in array_of(&v, "ed25519") {
        let keys = Ed25519KeyPair::from_seed(&Secret::from_array(ha(case, "seed")));
        assert_eq!(hex::encode(keys.public().as_bytes()), s(case, "pk"));
        if let Some(message) = case["message"].as_str() {
            let sig = keys.sign(message.as_bytes());
            assert_eq!(hex::encode(sig.as_bytes()), s(case, "signature"));
        }
    }
}

#[test]
fn s13_3_deterministic_encryption_reproduces_and_opens() {
    let v = vectors("session_encrypt");
    for case in array_of(&v, "deterministic") {
        let sender = Ed25519KeyPair::from_seed(&Secret::from_array(ha(case, "sender_seed")));
        let recipient_id = AccountId::parse(s(case, "recipient")).unwrap();
        let message = s(case, "message").as_bytes();
        let ct = message::encrypt_deterministic(&sender, &recipient_id.x25519().unwrap(), message)
            .unwrap();
        assert_eq!(hex::encode(&ct), s(case, "ciphertext"));

        // The recipient opens it and verifies the sender.
        let recipient_keys =
            Ed25519KeyPair::from_seed(&Secret::from_array(ha(case, "recipient_seed")))
                .to_x25519()
                .unwrap();
        assert_eq!(AccountId::from_x25519(recipient_keys.public()), recipient_id);
        let opened = message::decrypt(&recipient_keys, &h(case, "ciphertext")).unwrap();
        assert_eq!(&*opened.plaintext, message);
        assert_eq!(opened.sender_ed25519, *sender.public());
        assert_eq!(
            opened.sender.to_string(),
            "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
        );
    }
}

#[test]
fn s13_4_config_encryption_and_padded_size() {
    let v = vectors("config_encrypt");
    for case in array_of(&v, "encrypt") {
        let key_base: [u8; 32] = ha(case, "key_base");
        let ct =
            config_crypto::encrypt(s(case, "message").as_bytes(), &key_base, s(case, "domain"))
                .unwrap();
        assert_eq!(hex::encode(&ct), s(case, "ciphertext"));
        let pt = config_crypto::decrypt(&ct, &key_base, s(case, "domain")).unwrap();
        assert_eq!(&*pt, s(case, "message").as_bytes());
        assert!(config_crypto::decrypt(&ct, &key_base, "test-suite2").is_err());
    }
    for case in array_of(&v, "nonces") {
        let ct = config_crypto::encrypt(
            s(case, "message").as_bytes(),
            &ha(case, "key_base"),
            s(case, "domain"),
        )
        .unwrap();
        assert_eq!(hex::encode(&ct[ct.len() - 24..]), s(case, "nonce"));
    }
    for row in array_of(&v, "padded_size") {
        let [len, overhead, expected] = [0, 1, 2].map(|i| row[i].as_u64().unwrap() as usize);
        assert_eq!(
            config_crypto::padded_size(len, overhead),
            expected,
            "padded_size({len}, {overhead})"
        );
    }
}

#[test]
fn s13_5_onion_hop_decryption_and_layer_parsing() {
    let v = vectors("onion");
    for case in array_of(&v, "hop_decrypt") {
        let enc = EncType::parse(s(case, "enc_type")).unwrap();
        let node =
            X25519KeyPair::from_secret(X25519SecretKey::from_slice(&h(case, "node_sk")).unwrap());
        assert_eq!(hex::encode(node.public().as_bytes()), s(case, "node_pk"));
        let client_pk = X25519PublicKey::from_bytes(ha(case, "client_pk"));
        let at_node = HopCipher::for_node(enc, &node, &client_pk).unwrap();
        assert_eq!(
            &*at_node.decrypt(&h(case, "ciphertext")).unwrap(),
            s(case, "plaintext").as_bytes()
        );
        // The client side derives the same key.
        let client =
            X25519KeyPair::from_secret(X25519SecretKey::from_slice(&h(case, "client_sk")).unwrap());
        assert_eq!(client.public(), &client_pk);
        let at_client = HopCipher::for_client(enc, &client, node.public()).unwrap();
        assert_eq!(
            &*at_client.decrypt(&h(case, "ciphertext")).unwrap(),
            s(case, "plaintext").as_bytes()
        );
    }
    for case in array_of(&v, "parse_layer") {
        let node =
            X25519KeyPair::from_secret(X25519SecretKey::from_slice(&h(case, "node_sk")).unwrap());
        assert_eq!(hex::encode(node.public().as_bytes()), s(case, "node_pk"));
        let layer = onion::decrypt_layer(&h(case, "layer"), &node).unwrap();
        assert_eq!(&*layer.plaintext, s(case, "payload").as_bytes());
        assert_eq!(layer.cipher.enc_type(), EncType::AesGcm);
        let mut rng = DeterministicRng::from_seed([1; 32]);
        let reply = layer.cipher.encrypt(s(case, "reply").as_bytes(), &mut rng).unwrap();
        assert_eq!(reply.len() as u64, case["reply_len"].as_u64().unwrap());
        // Not a routable layer by itself: "Hello world" has no routing JSON.
        assert!(onion::route(&layer.plaintext, 0).is_err());
    }
}

#[test]
fn s13_5_built_onion_peels_through_every_hop() {
    let mut rng = DeterministicRng::from_seed([9; 32]);
    let nodes: Vec<(Ed25519KeyPair, X25519KeyPair)> = (0..4)
        .map(|_| {
            let ed = Ed25519KeyPair::generate(&mut rng);
            let x = ed.to_x25519().unwrap();
            (ed, x)
        })
        .collect();
    let onion_node =
        |i: usize| onion::OnionNode { ed25519: *nodes[i].0.public(), x25519: *nodes[i].1.public() };
    let path = [onion_node(0), onion_node(1), onion_node(2)];
    let request = br#"{"method":"info","params":{}}"#;
    for enc in [EncType::AesGcm, EncType::XChaCha20] {
        let built = onion::build_request(&path, &onion_node(3), request, enc, &mut rng).unwrap();
        let mut layer = built.payload.clone();
        for (i, expected_next) in [1usize, 2, 3].into_iter().enumerate() {
            let peeled = onion::decrypt_layer(&layer, &nodes[i].1).unwrap();
            assert_eq!(peeled.hop_no as usize, i);
            match onion::route(&peeled.plaintext, peeled.hop_no).unwrap() {
                NextHop::Relay { destination, layer: next } => {
                    assert_eq!(destination, *nodes[expected_next].0.public());
                    layer = next;
                }
                other => panic!("hop {i}: expected a relay, got {other:?}"),
            }
        }
        let last = onion::decrypt_layer(&layer, &nodes[3].1).unwrap();
        assert_eq!(last.hop_no, 3);
        let NextHop::Final { request: got, json, base64 } =
            onion::route(&last.plaintext, 3).unwrap()
        else {
            panic!("the destination must see a final request");
        };
        assert_eq!(got, request);
        assert!(!json && base64);
        let body =
            onion::encode_final_response(&last.cipher, 200, r#"{"version":[1,0,0]}"#, &mut rng)
                .unwrap();
        let response =
            onion::decode_final_response(&built.response_cipher, body.as_bytes()).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, r#"{"version":[1,0,0]}"#);
    }
}

#[test]
fn s13_6_message_hash() {
    let v = vectors("message_hash");
    for case in array_of(&v, "hashes") {
        let account = AccountId::parse(s(case, "pubkey")).unwrap();
        let ns = Namespace(case["namespace"].as_i64().unwrap() as i16);
        let data = base64::engine::general_purpose::STANDARD.decode(s(case, "data_b64")).unwrap();
        let hash = MessageHash::compute(&account, ns, &data);
        assert_eq!(hash.as_str(), s(case, "hash"));
        assert_eq!(MessageHash::parse(s(case, "hash")).unwrap(), hash);
    }
}

#[test]
fn s13_7_swarm_space_and_selection() {
    let v = vectors("swarm");
    for row in array_of(&v, "swarm_space") {
        // Account IDs with any prefix byte are ring points; build the ID from raw bytes.
        let raw = hex::decode(row[0].as_str().unwrap()).unwrap();
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[1..]);
        let id = AccountId::new(hush_proto::IdPrefix::Standard, key);
        let expected: u64 = row[1].as_str().unwrap().parse().unwrap();
        assert_eq!(swarm::swarm_space(&id), expected, "{}", row[0]);
    }
    for set in array_of(&v, "selection") {
        let mut ids: Vec<SwarmId> = array_of(set, "swarms")
            .iter()
            .map(|x| SwarmId(x.as_str().unwrap().parse().unwrap()))
            .collect();
        ids.sort();
        for case in array_of(set, "cases") {
            let point: u64 = case[0].as_str().unwrap().parse().unwrap();
            let expected: u64 = case[1].as_str().unwrap().parse().unwrap();
            assert_eq!(swarm::select_swarm(point, &ids), Some(SwarmId(expected)), "point {point}");
        }
    }
    assert_eq!(swarm::select_swarm(5, &[]), None);
    assert_eq!(swarm::select_swarm(5, &[SwarmId(77)]), Some(SwarmId(77)));
}

#[test]
fn s13_8_blinded_ids() {
    let v = vectors("blinding");
    for case in array_of(&v, "blind25") {
        let account = AccountId::parse(s(case, "account_id")).unwrap();
        let blinded = blinding::blind25_id(&account, &ha(case, "server_pk")).unwrap();
        assert_eq!(blinded.to_string(), s(case, "blinded"));
    }
    for case in array_of(&v, "blind15") {
        let account = AccountId::parse(s(case, "account_id")).unwrap();
        let [positive, negative] = blinding::blind15_ids(&account, &ha(case, "server_pk")).unwrap();
        assert_eq!(positive.to_string(), s(case, "blinded"));
        // The twin differs only in the sign bit.
        assert_eq!(positive.key_bytes()[..31], negative.key_bytes()[..31]);
        assert_eq!(positive.key_bytes()[31] ^ negative.key_bytes()[31], 0x80);
    }
}
