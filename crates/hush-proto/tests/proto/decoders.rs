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
