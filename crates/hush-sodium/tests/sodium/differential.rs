//! Differential tests: libsodium against independent pure-Rust implementations (RustCrypto,
//! dalek), on inputs chosen by proptest.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use blake2::digest::Mac;
use hush_sodium::aead::{self, AeadKey};
use hush_sodium::ed25519::{Ed25519KeyPair, Ed25519PublicKey, Ed25519Signature};
use hush_sodium::hash::{self, Blake2b};
use hush_sodium::kem::{mlkem768, xwing};
use hush_sodium::pwhash::{self, Argon2Params};
use hush_sodium::x25519::{X25519KeyPair, X25519PublicKey, X25519SecretKey};
use hush_sodium::{Secret, cryptobox};
use ml_kem::kem::{Decapsulate, KeyExport};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 32, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ed25519_keys_and_signatures_equal_dalek(seed in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..300)) {
        let ours = Ed25519KeyPair::from_seed(&Secret::from_array(seed));
        let theirs = ed25519_dalek::SigningKey::from_bytes(&seed);
        prop_assert_eq!(*ours.public().as_bytes(), theirs.verifying_key().to_bytes());
        let sig = ours.sign(&msg);
        use ed25519_dalek::Signer;
        prop_assert_eq!(sig.as_bytes(), &theirs.sign(&msg).to_bytes());
        let dalek_sig = ed25519_dalek::Signature::from_bytes(sig.as_bytes());
        prop_assert!(theirs.verifying_key().verify_strict(&msg, &dalek_sig).is_ok());
        // Ed25519 → X25519 against dalek's birational map and scalar.
        let x = ours.to_x25519().unwrap();
        prop_assert_eq!(x.public().as_bytes(), &theirs.verifying_key().to_montgomery().to_bytes());
        // dalek returns the unclamped hash half; libsodium clamps it (as X25519 itself would).
        let mut scalar = theirs.to_scalar_bytes();
        scalar[0] &= 248;
        scalar[31] &= 127;
        scalar[31] |= 64;
        prop_assert_eq!(*x.secret().expose(), scalar);
    }

    #[test]
    fn dalek_signatures_verify_here(seed in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..300), flip in 0usize..64) {
        use ed25519_dalek::Signer;
        let theirs = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public = Ed25519PublicKey::from_bytes(theirs.verifying_key().to_bytes());
        let mut sig = theirs.sign(&msg).to_bytes();
        prop_assert!(public.verify(&msg, &Ed25519Signature::from_bytes(sig)).is_ok());
        sig[flip] ^= 0x01;
        prop_assert!(public.verify(&msg, &Ed25519Signature::from_bytes(sig)).is_err());
    }

    #[test]
    fn x25519_equals_dalek(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
        let ours = X25519SecretKey::from_slice(&a).unwrap();
        let theirs = x25519_dalek::StaticSecret::from(a);
        prop_assert_eq!(*ours.public_key().as_bytes(), x25519_dalek::PublicKey::from(&theirs).to_bytes());
        let peer = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(b));
        let shared = ours.diffie_hellman(&X25519PublicKey::from_bytes(peer.to_bytes())).unwrap();
        prop_assert_eq!(*shared.expose(), theirs.diffie_hellman(&peer).to_bytes());
    }

    #[test]
    fn sealed_boxes_interoperate_with_rustcrypto(seed in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..500)) {
        let ours = cryptobox::seed_keypair(&Secret::from_array(seed));
        let theirs = crypto_box::SecretKey::from_bytes(*ours.secret().expose());
        prop_assert_eq!(theirs.public_key().to_bytes(), *ours.public().as_bytes());
        // libsodium seals, RustCrypto opens.
        let sealed = cryptobox::seal(&msg, ours.public()).unwrap();
        prop_assert_eq!(&theirs.unseal(&sealed).unwrap(), &msg);
        // RustCrypto seals, libsodium opens.
        let sealed = theirs.public_key().seal(&mut crypto_box::aead::OsRng, &msg).unwrap();
        prop_assert_eq!(cryptobox::seal_open(&sealed, &ours).unwrap(), msg);
    }

    #[test]
    fn box_easy_equals_rustcrypto_salsabox(a in any::<[u8; 32]>(), b in any::<[u8; 32]>(), nonce in any::<[u8; 24]>(), msg in proptest::collection::vec(any::<u8>(), 0..300)) {
        let alice = X25519KeyPair::from_secret(X25519SecretKey::from_slice(&a).unwrap());
        let bob = X25519KeyPair::from_secret(X25519SecretKey::from_slice(&b).unwrap());
        let ours = cryptobox::box_easy(&msg, &nonce, bob.public(), alice.secret()).unwrap();
        let salsa = crypto_box::SalsaBox::new(
            &crypto_box::PublicKey::from(*bob.public().as_bytes()),
            &crypto_box::SecretKey::from_bytes(a),
        );
        use crypto_box::aead::Aead as _;
        let theirs = salsa.encrypt(&nonce.into(), msg.as_slice()).unwrap();
        prop_assert_eq!(&ours, &theirs);
        prop_assert_eq!(cryptobox::box_open_easy(&ours, &nonce, alice.public(), bob.secret()).unwrap(), msg);
    }

    #[test]
    fn xchacha20poly1305_equals_rustcrypto(key in any::<[u8; 32]>(), nonce in any::<[u8; 24]>(), msg in proptest::collection::vec(any::<u8>(), 0..300), ad in proptest::collection::vec(any::<u8>(), 0..40)) {
        let ours = aead::xchacha20poly1305_encrypt(&AeadKey::from_slice(&key).unwrap(), &nonce, &msg, &ad);
        let cipher = chacha20poly1305::XChaCha20Poly1305::new_from_slice(&key).unwrap();
        let theirs = cipher.encrypt(&nonce.into(), Payload { msg: &msg, aad: &ad }).unwrap();
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn aes256gcm_equals_rustcrypto(key in any::<[u8; 32]>(), nonce in any::<[u8; 12]>(), msg in proptest::collection::vec(any::<u8>(), 0..300), ad in proptest::collection::vec(any::<u8>(), 0..40)) {
        prop_assume!(aead::aes256gcm_is_available());
        let ours = aead::aes256gcm_encrypt(&AeadKey::from_slice(&key).unwrap(), &nonce, &msg, &ad).unwrap();
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
        let theirs = cipher.encrypt(&nonce.into(), Payload { msg: &msg, aad: &ad }).unwrap();
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn blake2b_equals_rustcrypto(data in proptest::collection::vec(any::<u8>(), 0..500), key in proptest::collection::vec(any::<u8>(), 1..64), personal in any::<[u8; 16]>()) {
        // Unkeyed, variable length (24 bytes: Session's nonces).
        use blake2::Digest as _;
        let theirs = blake2::Blake2b::<blake2::digest::consts::U24>::digest(&data);
        prop_assert_eq!(&hash::blake2b::<24>(&data)[..], &theirs[..]);
        // Keyed and personalised, 32 bytes.
        let mut mac = blake2::Blake2bMac::<blake2::digest::consts::U32>::new_with_salt_and_personal(Some(&key), &[], &personal).unwrap();
        Mac::update(&mut mac, &data);
        let theirs = mac.finalize().into_bytes();
        let mut ours = Blake2b::<32>::personal(Some(&key), &personal).unwrap();
        ours.update(&data);
        prop_assert_eq!(&ours.finalize()[..], &theirs[..]);
    }

    #[test]
    fn sha2_hmac_sha3_equal_rustcrypto(data in proptest::collection::vec(any::<u8>(), 0..500), key in proptest::collection::vec(any::<u8>(), 0..100)) {
        use sha2::Digest;
        prop_assert_eq!(&hash::sha256(&data)[..], &sha2::Sha256::digest(&data)[..]);
        prop_assert_eq!(&hash::sha512(&data)[..], &sha2::Sha512::digest(&data)[..]);
        prop_assert_eq!(&hash::sha3_256(&data)[..], &sha3::Sha3_256::digest(&data)[..]);
        use hmac::{KeyInit as _, Mac as _};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(&data);
        prop_assert_eq!(&hash::hmac_sha256(&key, &data)[..], &mac.finalize().into_bytes()[..]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn mlkem768_interoperates_with_rustcrypto(seed in any::<[u8; 64]>(), m in any::<[u8; 32]>()) {
        let (pk, sk) = mlkem768::keypair_from_seed(&Secret::from_array(seed));
        let theirs = ml_kem::ml_kem_768::DecapsulationKey::from_seed(seed.into());
        prop_assert_eq!(&pk.as_bytes()[..], &theirs.encapsulation_key().to_bytes()[..]);
        // Same deterministic encapsulation on both sides.
        let (ct, ss) = mlkem768::encapsulate_deterministic(&pk, &Secret::from_array(m)).unwrap();
        let (their_ct, their_ss) = theirs.encapsulation_key().encapsulate_deterministic(&m.into());
        prop_assert_eq!(&ct.as_bytes()[..], &their_ct[..]);
        prop_assert_eq!(&ss.expose()[..], &their_ss[..]);
        // Each decapsulates the other's ciphertext.
        prop_assert_eq!(&theirs.decapsulate(&their_ct)[..], &ss.expose()[..]);
        let ct2 = mlkem768::Ciphertext::from_slice(&their_ct).unwrap();
        prop_assert_eq!(*mlkem768::decapsulate(&sk, &ct2).unwrap().expose(), *ss.expose());
    }

    #[test]
    fn xwing_interoperates_with_rustcrypto(seed in any::<[u8; 32]>(), eseed in any::<[u8; 64]>()) {
        let (pk, sk) = xwing::keypair_from_seed(&Secret::from_array(seed));
        let theirs = x_wing::DecapsulationKey::from(seed);
        use x_wing::Decapsulator;
        prop_assert_eq!(&pk.as_bytes()[..], &theirs.encapsulation_key().to_bytes()[..]);
        let (ct, ss) = xwing::encapsulate_deterministic(&pk, &Secret::from_array(eseed)).unwrap();
        let (their_ct, their_ss) = theirs.encapsulation_key().encapsulate_deterministic(&eseed.into());
        prop_assert_eq!(&ct.as_bytes()[..], &their_ct[..]);
        prop_assert_eq!(&ss.expose()[..], &their_ss[..]);
        use x_wing::Decapsulate as _;
        prop_assert_eq!(&theirs.decapsulate(&their_ct)[..], &ss.expose()[..]);
        prop_assert_eq!(*xwing::decapsulate(&sk, &ct).unwrap().expose(), *ss.expose());
    }
}

#[test]
fn argon2id_equals_rustcrypto() {
    let password = b"correct horse battery staple";
    let salt = [7u8; 16];
    let params = Argon2Params { passes: 2, memory_bytes: 1 << 20 };
    let mut ours = [0u8; 32];
    pwhash::argon2id(&mut ours, password, &salt, params).unwrap();
    let theirs_params = argon2::Params::new(1024, 2, 1, Some(32)).unwrap();
    let argon =
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, theirs_params);
    let mut theirs = [0u8; 32];
    argon.hash_password_into(password, &salt, &mut theirs).unwrap();
    assert_eq!(ours, theirs);
}
