//! Property-based round trips of every codec and cipher.

use hush_proto::envelope;
use hush_proto::onion::{self, EncType, NextHop};
use hush_proto::protos::{Content, DataMessage, LokiProfile};
use hush_proto::{
    AccountId, AccountSeed, Identity, RecoveryPassword, Timestamp, config_crypto, message,
    mnemonic, padding,
};
use hush_sodium::ed25519::Ed25519KeyPair;
use hush_sodium::rng::DeterministicRng;
use proptest::prelude::*;

fn identity(seed: [u8; 16]) -> Identity {
    Identity::from_seed(&AccountSeed::from_entropy(&seed).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn recovery_password_round_trips(entropy in any::<[u8; 16]>(), legacy in any::<[u8; 32]>()) {
        for bytes in [&entropy[..], &legacy[..]] {
            let seed = AccountSeed::from_entropy(bytes).unwrap();
            let words = seed.recovery_password();
            let count = words.expose().split(' ').count();
            prop_assert_eq!(count, if bytes.len() == 16 { 13 } else { 25 });
            let back = RecoveryPassword::parse(words.expose()).unwrap();
            prop_assert_eq!(back.entropy(), bytes);
            // Any case and 3-letter prefixes decode the same.
            let short: Vec<String> = words.expose().split(' ').map(|w| w[..3].to_uppercase()).collect();
            let again = RecoveryPassword::parse(&short.join("  ")).unwrap();
            prop_assert_eq!(again.entropy(), bytes);
        }
    }

    #[test]
    fn word_codec_round_trips_any_multiple_of_4(bytes in proptest::collection::vec(any::<u8>(), 0..16).prop_map(|mut v| { v.truncate(v.len() / 4 * 4); v }), checksum in any::<bool>()) {
        let words = mnemonic::encode(&bytes, checksum).unwrap();
        if bytes.is_empty() {
            prop_assert!(mnemonic::decode(&words).is_err());
        } else {
            prop_assert_eq!(&*mnemonic::decode(&words).unwrap(), &bytes);
        }
    }

    #[test]
    fn changing_one_word_is_caught(entropy in any::<[u8; 16]>(), position in 0usize..13, replacement in 0usize..1626) {
        let words = AccountSeed::from_entropy(&entropy).unwrap().recovery_password();
        let mut list: Vec<&str> = words.expose().split(' ').collect();
        prop_assume!(list[position] != mnemonic::words()[replacement]);
        list[position] = mnemonic::words()[replacement];
        // A changed data word either changes the checksum, fails to decode, or (rarely, when
        // the checksum word is the one changed back to a matching word) is caught as well:
        // every single-word change must be rejected or decode to different entropy.
        match RecoveryPassword::parse(&list.join(" ")) {
            Err(_) => {}
            Ok(seed) => prop_assert_ne!(seed.entropy(), &entropy[..]),
        }
    }

    #[test]
    fn padding_round_trips(content in proptest::collection::vec(any::<u8>(), 0..700)) {
        let padded = padding::pad(&content);
        prop_assert_eq!(padded.len() % padding::BLOCK, 0);
        prop_assert!(padded.len() > content.len());
        // Content that itself ends in zero bytes cannot be recovered: protobuf never ends so.
        if content.last() != Some(&0) {
            prop_assert_eq!(padding::unpad(&padded), &content[..]);
        }
    }

    #[test]
    fn v1_messages_round_trip_and_bind_the_recipient(sender_seed in any::<[u8; 16]>(), recipient_seed in any::<[u8; 16]>(), other_seed in any::<[u8; 16]>(), msg in proptest::collection::vec(any::<u8>(), 0..400), rng_seed in any::<[u8; 32]>()) {
        prop_assume!(recipient_seed != other_seed);
        let sender = identity(sender_seed);
        let recipient = identity(recipient_seed);
        let mut rng = DeterministicRng::from_seed(rng_seed);
        let ct = message::encrypt(sender.ed25519(), recipient.x25519().public(), &msg, &mut rng).unwrap();
        prop_assert_eq!(ct.len(), msg.len() + message::OVERHEAD);
        let opened = message::decrypt(recipient.x25519(), &ct).unwrap();
        prop_assert_eq!(&*opened.plaintext, &msg);
        prop_assert_eq!(&opened.sender, sender.account_id());
        prop_assert!(message::decrypt(identity(other_seed).x25519(), &ct).is_err());
        // Deterministic variant: same inputs, same bytes; opens the same way.
        let d1 = message::encrypt_deterministic(sender.ed25519(), recipient.x25519().public(), &msg).unwrap();
        let d2 = message::encrypt_deterministic(sender.ed25519(), recipient.x25519().public(), &msg).unwrap();
        prop_assert_eq!(&d1, &d2);
        prop_assert_eq!(&*message::decrypt(recipient.x25519(), &d1).unwrap().plaintext, &msg);
    }

    #[test]
    fn one_to_one_envelopes_round_trip(sender_seed in any::<[u8; 16]>(), recipient_seed in any::<[u8; 16]>(), body in ".{0,200}", name in "[a-zA-Z ]{0,30}", sent in 1u64..4_000_000_000_000) {
        let sender = identity(sender_seed);
        let recipient = identity(recipient_seed);
        let content = Content {
            data_message: Some(DataMessage {
                body: Some(body.clone()),
                profile: Some(LokiProfile { display_name: Some(name.clone()), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut rng = DeterministicRng::from_seed([3; 32]);
        let sent_at = Timestamp::from_millis(sent);
        let bytes = envelope::seal_1to1(&sender, recipient.account_id(), content, sent_at, &mut rng).unwrap();
        let got = envelope::open_1to1(&recipient, &bytes).unwrap();
        prop_assert_eq!(&got.sender, sender.account_id());
        prop_assert_eq!(got.sent_at, sent_at);
        prop_assert!(got.sent_at_signed);
        prop_assert_eq!(got.content.sig_timestamp, Some(sent));
        let data = got.content.data_message.unwrap();
        prop_assert_eq!(data.body.as_deref(), Some(body.as_str()));
        prop_assert_eq!(data.profile.unwrap().display_name, Some(name));
        let envelope = envelope::unwrap(&bytes).unwrap();
        prop_assert_eq!(envelope.pro_sig.map(|s| s.len()), Some(64));
        prop_assert_eq!(envelope.source_device, Some(1));
    }

    #[test]
    fn config_encryption_round_trips(msg in proptest::collection::vec(any::<u8>(), 0..600), key in any::<[u8; 32]>(), domain in "[A-Za-z:]{1,32}") {
        let ct = config_crypto::encrypt(&msg, &key, &domain).unwrap();
        prop_assert_eq!(ct.len(), msg.len() + config_crypto::ENCRYPTION_OVERHEAD);
        prop_assert_eq!(&*config_crypto::decrypt(&ct, &key, &domain).unwrap(), &msg);
        let mut tampered = ct;
        tampered[0] ^= 1;
        prop_assert!(config_crypto::decrypt(&tampered, &key, &domain).is_err());
    }

    #[test]
    fn padded_size_is_aligned_and_minimal(len in 0usize..60_000, overhead in 0usize..300) {
        let padded = config_crypto::padded_size(len, overhead);
        prop_assert!(padded >= len);
        let total = padded + overhead;
        let chunk = if len + overhead < 5_120 { 256 } else if len + overhead < 20_480 { 1_024 } else if len + overhead < 40_960 { 2_048 } else { 5_120 };
        prop_assert_eq!(total % chunk, 0);
        prop_assert!(total - (len + overhead) < chunk);
    }

    #[test]
    fn onion_requests_round_trip_for_any_path_length(hops in 0usize..5, xchacha in any::<bool>(), request in proptest::collection::vec(any::<u8>(), 0..300), seed in any::<[u8; 32]>()) {
        let mut rng = DeterministicRng::from_seed(seed);
        let enc = if xchacha { EncType::XChaCha20 } else { EncType::AesGcm };
        let keys: Vec<_> = (0..=hops).map(|_| Ed25519KeyPair::generate(&mut rng)).collect();
        let xs: Vec<_> = keys.iter().map(|k| k.to_x25519().unwrap()).collect();
        let node = |i: usize| onion::OnionNode { ed25519: *keys[i].public(), x25519: *xs[i].public() };
        let path: Vec<_> = (0..hops).map(node).collect();
        let built = onion::build_request(&path, &node(hops), &request, enc, &mut rng).unwrap();
        let mut layer = built.payload;
        for i in 0..hops {
            let d = onion::decrypt_layer(&layer, &xs[i]).unwrap();
            let NextHop::Relay { destination, layer: next } = onion::route(&d.plaintext, d.hop_no).unwrap() else {
                return Err(TestCaseError::fail("expected relay"));
            };
            prop_assert_eq!(&destination, keys[i + 1].public());
            layer = next;
        }
        let d = onion::decrypt_layer(&layer, &xs[hops]).unwrap();
        prop_assert_eq!(d.hop_no as usize, hops);
        let NextHop::Final { request: got, .. } = onion::route(&d.plaintext, d.hop_no).unwrap() else {
            return Err(TestCaseError::fail("expected final"));
        };
        prop_assert_eq!(got, request);
        // A node that is not on the path cannot peel the layer.
        if hops > 0 {
            let stranger = Ed25519KeyPair::generate(&mut rng).to_x25519().unwrap();
            prop_assert!(onion::decrypt_layer(&layer, &stranger).is_err());
        }
    }

    #[test]
    fn account_ids_round_trip_through_hex(prefix in prop::sample::select(vec![0x05u8, 0x03, 0x15, 0x25]), key in any::<[u8; 32]>()) {
        let mut bytes = [0u8; 33];
        bytes[0] = prefix;
        bytes[1..].copy_from_slice(&key);
        let id = AccountId::from_bytes(bytes).unwrap();
        prop_assert_eq!(AccountId::parse(&id.to_string()).unwrap(), id);
    }
}

/// Builds stored bytes by hand, with `sig_timestamp` as given, to test the receiver's checks.
fn hand_made(
    sender: &Identity,
    recipient: &Identity,
    sig: Option<u64>,
    envelope_ts: u64,
) -> Vec<u8> {
    use hush_proto::protos::Envelope;
    use prost::Message;
    let content = Content { sig_timestamp: sig, ..Default::default() };
    let padded = padding::pad(&content.encode_to_vec());
    let mut rng = DeterministicRng::from_seed([5; 32]);
    let ct =
        message::encrypt(sender.ed25519(), recipient.x25519().public(), &padded, &mut rng).unwrap();
    envelope::wrap(&Envelope {
        r#type: 6,
        timestamp: envelope_ts,
        content: Some(ct),
        ..Default::default()
    })
}

#[test]
fn envelope_timestamps_are_checked_against_the_signed_one() {
    let (alice, bob) = (identity([1; 16]), identity([2; 16]));
    let ok = envelope::open_1to1(&bob, &hand_made(&alice, &bob, Some(1000), 1000)).unwrap();
    assert!(ok.sent_at_signed);
    let unsigned = envelope::open_1to1(&bob, &hand_made(&alice, &bob, None, 1000)).unwrap();
    assert!(!unsigned.sent_at_signed);
    assert_eq!(unsigned.sent_at, Timestamp::from_millis(1000));
    let forged = envelope::open_1to1(&bob, &hand_made(&alice, &bob, Some(1000), 999));
    assert!(matches!(forged, Err(hush_proto::Error::TimestampMismatch)));
    // Debug output never shows the content.
    assert!(!format!("{ok:?}").contains("content"));
}
