//! Every decoder that sees remote or user input, fed arbitrary bytes: it must return a value
//! or an error, and never panic.

use hush_proto::message_hash::MessageHash;
use hush_proto::onion::{self, EncType, HopCipher};
use hush_proto::protos::{Content, Envelope, WebSocketMessage};
use hush_proto::{
    AccountId, AccountSeed, Identity, RecoveryPassword, config_crypto, envelope, message, mnemonic,
};
use hush_sodium::Secret;
use hush_sodium::x25519::X25519KeyPair;
use proptest::prelude::*;
use prost::Message;

/// Config data shaped like the objects': their section and field keys, 33-byte IDs, and
/// values of every type, nested.
fn config_dict() -> impl Strategy<Value = hush_proto::config::Dict> {
    use hush_proto::config::{Scalar, Value};
    let key = prop_oneof![
        proptest::sample::select(vec![
            "1", "g", "o", "C", "c", "R", "#", "n", "N", "K", "k", "s", "m", "a", "r", "u", "e",
            "E", "+", "@", "!", "j", "i", "p", "q", "A", "b",
        ])
        .prop_map(|k| k.as_bytes().to_vec()),
        (prop_oneof![Just(3u8), Just(5u8)], proptest::collection::vec(any::<u8>(), 32))
            .prop_map(|(p, rest)| [vec![p], rest].concat()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    let scalar = prop_oneof![
        any::<i64>().prop_map(Scalar::Int),
        prop_oneof![Just(0i64), Just(1), Just(2), Just(3), Just(-1)].prop_map(Scalar::Int),
        proptest::collection::vec(any::<u8>(), 0..110).prop_map(Scalar::Str),
        proptest::collection::vec(any::<u8>(), 32..=33).prop_map(Scalar::Str),
    ];
    let leaf = scalar.clone().prop_map(Value::Scalar);
    let value = leaf.prop_recursive(3, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::btree_map(key.clone(), inner, 0..6).prop_map(Value::Dict),
            proptest::collection::btree_set(scalar.clone(), 0..4).prop_map(Value::Set),
        ]
    });
    proptest::collection::btree_map(
        proptest::sample::select(vec!["1", "g", "o", "C", "c", "n", "p", "q", "+", "e"])
            .prop_map(|k| k.as_bytes().to_vec()),
        value,
        0..6,
    )
}

fn node() -> X25519KeyPair {
    hush_sodium::cryptobox::seed_keypair(&Secret::from_array([4; 32]))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn bencode_and_config_decoders(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(bt) = hush_proto::bencode::Bt::decode(&data) {
            // What decodes re-encodes to the same bytes (the decoder accepts canonical input only).
            prop_assert_eq!(&bt.encode(), &data);
            let _ = hush_proto::config::dict_from_bt(&bt);
        }
        let _ = hush_proto::config::ReceivedConfig::parse(&data);
        let me = Identity::from_seed(&AccountSeed::from_entropy(&[1; 16]).unwrap());
        prop_assert_eq!(&hush_proto::config_wire::unwrap_user_config(&me, &data), &data);
        prop_assert!(hush_proto::config_wire::open(&data, &[7; 32], "Contacts").is_err());
    }

    #[test]
    fn compressed_config_junk(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        // Whatever follows the 'z' of a (validly encrypted) config, opening never panics.
        let sealed =
            hush_proto::config_wire::seal(&[b"z".as_slice(), &data].concat(), &[3; 32], "Contacts")
                .unwrap();
        let _ = hush_proto::config_wire::open(&sealed, &[3; 32], "Contacts");
    }

    #[test]
    fn multipart_config_junk(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        index in 0u8..4,
        count in 0u8..4,
    ) {
        use hush_proto::config_wire::{self, Opened};
        // An 'm' part with junk, or a well-formed part with a junk chunk: no panic, and
        // reassembly of whatever parts opened checks their hash.
        let junk = config_wire::seal(&[b"m".as_slice(), &data].concat(), &[3; 32], "Contacts").unwrap();
        let _ = config_wire::open(&junk, &[3; 32], "Contacts");
        let mut framed = vec![b'm'];
        hush_proto::bencode::Bt::List(vec![
            hush_proto::bencode::Bt::Bytes([9; 32].to_vec()),
            hush_proto::bencode::Bt::Int(i64::from(index)),
            hush_proto::bencode::Bt::Int(i64::from(count)),
            hush_proto::bencode::Bt::Bytes(data),
        ])
        .encode_into(&mut framed);
        let sealed = config_wire::seal(&framed, &[3; 32], "Contacts").unwrap();
        if let Ok(Opened::Part(part)) = config_wire::open(&sealed, &[3; 32], "Contacts") {
            let twice = [part.clone(), part];
            let _ = config_wire::reassemble(&[9; 32], &twice);
        }
    }

    #[test]
    fn config_objects_from_any_data(dict in config_dict()) {
        // Whatever data a config message holds, reading its objects never panics, and what
        // is read can be written back.
        use hush_proto::config_objects as objects;
        use hush_proto::config_user_groups as groups;
        let _ = objects::UserProfile::load(&dict);
        let mut out = dict.clone();
        for c in objects::contacts(&dict) {
            objects::set_contact(&mut out, &c);
        }
        for s in objects::read_states(&dict) {
            objects::set_read_state(&mut out, &s, 1_700_000_000_000);
        }
        for r in objects::community_read_states(&dict) {
            let _ = objects::set_community_read_state(&mut out, &r, 1_700_000_000_000);
        }
        let all = groups::load(&dict);
        for g in &all.groups {
            prop_assert!(groups::set_group(&mut out, g).is_ok());
        }
        for c in &all.communities {
            let _ = groups::set_community(&mut out, c);
        }
        for g in &all.legacy_groups {
            prop_assert!(groups::set_legacy_group(&mut out, g).is_ok());
        }
    }

    #[test]
    fn bencode_of_structured_junk(
        parts in proptest::collection::vec(
            prop_oneof![Just(b"d".to_vec()), Just(b"l".to_vec()), Just(b"e".to_vec()),
                        Just(b"i-1e".to_vec()), Just(b"1:a".to_vec()), Just(b"0:".to_vec()),
                        Just(b"3:".to_vec())],
            0..40)
    ) {
        let data = [b"d1:#i1e".to_vec(), parts.concat()].concat();
        let _ = hush_proto::config::ReceivedConfig::parse(&data);
        let data = parts.concat();
        if let Ok(bt) = hush_proto::bencode::Bt::decode(&data) {
            prop_assert_eq!(&bt.encode(), &data);
            let _ = hush_proto::config::dict_from_bt(&bt);
        }
    }

    #[test]
    fn protobuf_and_envelope_decoders(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Content::decode(data.as_slice());
        let _ = Envelope::decode(data.as_slice());
        let _ = WebSocketMessage::decode(data.as_slice());
        let _ = envelope::unwrap(&data);
        let me = Identity::from_seed(&AccountSeed::from_entropy(&[1; 16]).unwrap());
        prop_assert!(envelope::open_1to1(&me, &data).is_err() || !data.is_empty());
        prop_assert!(message::decrypt(me.x25519(), &data).is_err());
    }

    #[test]
    fn onion_decoders(data in proptest::collection::vec(any::<u8>(), 0..400), hop in any::<u32>()) {
        let n = node();
        let _ = onion::split_layer(&data);
        let _ = onion::decrypt_layer(&data, &n);
        let _ = onion::route(&data, hop);
        let cipher = HopCipher::for_node(EncType::XChaCha20, &n, n.public()).unwrap();
        let _ = onion::decode_final_response(&cipher, &data);
    }

    #[test]
    fn onion_layers_with_json_tails(blob in proptest::collection::vec(any::<u8>(), 0..100), json in "\\{[\"a-z_:0-9, ]{0,120}\\}") {
        let layer = onion::encode_layer(&blob, json.as_bytes()).unwrap();
        let _ = onion::decrypt_layer(&layer, &node());
        let _ = onion::route(&layer, 0);
    }

    #[test]
    fn text_decoders(text in ".{0,200}") {
        let _ = AccountId::parse(&text);
        let _ = MessageHash::parse(&text);
        let _ = RecoveryPassword::parse(&text);
        let words: Vec<&str> = text.split_whitespace().collect();
        let _ = mnemonic::decode(&words);
        let _ = EncType::parse(&text);
    }

    #[test]
    fn word_salad_from_the_list(indices in proptest::collection::vec(0usize..1626, 0..30)) {
        let words: Vec<&str> = indices.iter().map(|&i| mnemonic::words()[i]).collect();
        let _ = mnemonic::decode(&words);
        let _ = RecoveryPassword::parse(&words.join(" "));
    }

    #[test]
    fn config_decrypt(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        prop_assert!(config_crypto::decrypt(&data, &[0; 32], "UserProfile").is_err());
    }
}
