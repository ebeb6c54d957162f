//! Bad input gives clear errors, never panics: wrong lengths, tampering, wrong keys, weak keys.

use hush_sodium::aead::{self, AeadKey};
use hush_sodium::ed25519::{Ed25519KeyPair, Ed25519PublicKey};
use hush_sodium::hash::Blake2b;
use hush_sodium::kem::mlkem768;
use hush_sodium::x25519::{X25519PublicKey, X25519SecretKey};
use hush_sodium::{Error, Secret, SystemRng, cryptobox};
use proptest::prelude::*;

#[test]
fn wrong_lengths_name_the_problem() {
    let err = Ed25519PublicKey::from_slice(&[0u8; 31]).unwrap_err();
    assert_eq!(err, Error::InvalidLength { what: "Ed25519 public key", expected: 32, actual: 31 });
    assert_eq!(err.to_string(), "Ed25519 public key must be 32 bytes, got 31");
    assert!(AeadKey::from_slice(&[0u8; 33]).is_err());
    assert!(mlkem768::PublicKey::from_slice(&[0u8; 1183]).is_err());
    assert!(Blake2b::<32>::keyed(&[0u8; 65]).is_err());
    assert!(Blake2b::<32>::keyed(&[]).is_err());
}

#[test]
fn small_order_keys_are_rejected() {
    // A point of order 8 (libsodium's test small_order_p).
    let small = X25519PublicKey::from_bytes([
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ]);
    let ours = X25519SecretKey::random(&mut SystemRng);
    assert_eq!(ours.diffie_hellman(&small).unwrap_err(), Error::WeakSharedSecret);
    let zero = X25519PublicKey::from_bytes([0; 32]);
    assert!(cryptobox::box_easy(b"x", &[0; 24], &zero, &ours).is_err());
    // The Ed25519 identity point cannot be converted or used to verify.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let identity = Ed25519PublicKey::from_bytes(identity);
    assert_eq!(identity.to_x25519().unwrap_err(), Error::InvalidPublicKey);
}

#[test]
fn secrets_print_redacted() {
    let keys = Ed25519KeyPair::generate(&mut SystemRng);
    let shown = format!("{keys:?}");
    assert!(shown.contains("REDACTED"), "{shown}");
    let seed_hex: String = keys.seed().expose().iter().map(|b| format!("{b:02x}")).collect();
    assert!(!shown.contains(&seed_hex));
    assert!(format!("{:?}", Secret::from_array([1u8; 8])).contains("REDACTED"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn opening_arbitrary_bytes_fails_cleanly(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let keys = cryptobox::seed_keypair(&Secret::from_array([1; 32]));
        prop_assert!(cryptobox::seal_open(&data, &keys).is_err());
        prop_assert!(cryptobox::box_open_easy(&data, &[0; 24], keys.public(), keys.secret()).is_err());
        let key = AeadKey::from_slice(&[2; 32]).unwrap();
        prop_assert_eq!(aead::xchacha20poly1305_decrypt(&key, &[0; 24], &data, b""), Err(Error::DecryptionFailed));
        if aead::aes256gcm_is_available() {
            prop_assert!(aead::aes256gcm_decrypt(&key, &[0; 12], &data, b"").is_err());
        }
    }

    #[test]
    fn any_bit_flip_breaks_authentication(msg in proptest::collection::vec(any::<u8>(), 1..100), bit in any::<prop::sample::Index>()) {
        let keys = cryptobox::seed_keypair(&Secret::from_array([1; 32]));
        let mut sealed = cryptobox::seal(&msg, keys.public()).unwrap();
        let i = bit.index(sealed.len() * 8);
        sealed[i / 8] ^= 1 << (i % 8);
        prop_assert!(cryptobox::seal_open(&sealed, &keys).is_err());

        let key = AeadKey::from_slice(&[3; 32]).unwrap();
        let mut ct = aead::xchacha20poly1305_encrypt(&key, &[4; 24], &msg, b"ad");
        let i = bit.index(ct.len() * 8);
        ct[i / 8] ^= 1 << (i % 8);
        prop_assert!(aead::xchacha20poly1305_decrypt(&key, &[4; 24], &ct, b"ad").is_err());
    }

    #[test]
    fn signatures_bind_the_message(msg in proptest::collection::vec(any::<u8>(), 1..100), other in proptest::collection::vec(any::<u8>(), 1..100)) {
        prop_assume!(msg != other);
        let keys = Ed25519KeyPair::from_seed(&Secret::from_array([8; 32]));
        let sig = keys.sign(&msg);
        prop_assert_eq!(keys.public().verify(&other, &sig), Err(Error::BadSignature));
    }
}
