//! Key encapsulation: ML-KEM-768 (FIPS 203) and X-Wing (ML-KEM-768 + X25519 hybrid,
//! draft-connolly-cfrg-xwing-kem-06), both from libsodium 1.0.22.

use libsodium_sys as ffi;

use crate::macros::{public_boxed_bytes, secret_bytes};
use crate::{Csprng, Error, Result, Secret, ensure_init};

secret_bytes!(
    /// A KEM shared secret (32 bytes, for both KEMs).
    KemSharedSecret,
    32,
    "KEM shared secret"
);

/// ML-KEM-768 (FIPS 203).
pub mod mlkem768 {
    use super::*;

    /// Seed length: `d ‖ z`.
    pub const SEED_LEN: usize = 64;
    /// Encapsulation randomness length (`m`).
    pub const ENC_SEED_LEN: usize = 32;

    public_boxed_bytes!(
        /// An ML-KEM-768 encapsulation (public) key.
        PublicKey,
        1184,
        "ML-KEM-768 public key"
    );

    public_boxed_bytes!(
        /// An ML-KEM-768 ciphertext.
        Ciphertext,
        1088,
        "ML-KEM-768 ciphertext"
    );

    secret_bytes!(
        /// An expanded ML-KEM-768 decapsulation (secret) key.
        SecretKey,
        2400,
        "ML-KEM-768 secret key"
    );

    /// The keypair for a 64-byte seed `d ‖ z` (`crypto_kem_mlkem768_seed_keypair`).
    pub fn keypair_from_seed(seed: &Secret<SEED_LEN>) -> (PublicKey, SecretKey) {
        ensure_init();
        let mut pk = PublicKey::zeroed();
        let mut sk = Secret::<2400>::zeroed();
        // SAFETY: buffers have the exact sizes libsodium writes (1184, 2400) and reads (64).
        unsafe {
            ffi::crypto_kem_mlkem768_seed_keypair(
                pk.0.as_mut_ptr(),
                sk.expose_mut().as_mut_ptr(),
                seed.expose().as_ptr(),
            );
        }
        (pk, SecretKey::from_secret(sk))
    }

    /// A fresh keypair.
    pub fn generate(rng: &mut impl Csprng) -> (PublicKey, SecretKey) {
        keypair_from_seed(&Secret::random(rng))
    }

    /// Encapsulates a fresh shared secret to `pk`, with randomness from `rng`.
    pub fn encapsulate(
        pk: &PublicKey,
        rng: &mut impl Csprng,
    ) -> Result<(Ciphertext, KemSharedSecret)> {
        encapsulate_deterministic(pk, &Secret::random(rng))
    }

    /// Encapsulation with explicit randomness `m` (`crypto_kem_mlkem768_enc_deterministic`),
    /// for known-answer tests. Fails if `pk` is not a valid encapsulation key.
    pub fn encapsulate_deterministic(
        pk: &PublicKey,
        m: &Secret<ENC_SEED_LEN>,
    ) -> Result<(Ciphertext, KemSharedSecret)> {
        ensure_init();
        let mut ct = Ciphertext::zeroed();
        let mut ss = Secret::<32>::zeroed();
        // SAFETY: buffers have the sizes libsodium writes (1088, 32) and reads (1184, 32).
        let rc = unsafe {
            ffi::crypto_kem_mlkem768_enc_deterministic(
                ct.0.as_mut_ptr(),
                ss.expose_mut().as_mut_ptr(),
                pk.0.as_ptr(),
                m.expose().as_ptr(),
            )
        };
        if rc == 0 {
            Ok((ct, KemSharedSecret::from_secret(ss)))
        } else {
            Err(Error::InvalidPublicKey)
        }
    }

    /// Decapsulates. A tampered ciphertext yields an unrelated secret (implicit rejection),
    /// not an error; libsodium only fails on a malformed secret key.
    pub fn decapsulate(sk: &SecretKey, ct: &Ciphertext) -> Result<KemSharedSecret> {
        ensure_init();
        let mut ss = Secret::<32>::zeroed();
        // SAFETY: buffers have the sizes libsodium writes (32) and reads (1088, 2400).
        let rc = unsafe {
            ffi::crypto_kem_mlkem768_dec(
                ss.expose_mut().as_mut_ptr(),
                ct.0.as_ptr(),
                sk.expose().as_ptr(),
            )
        };
        if rc == 0 { Ok(KemSharedSecret::from_secret(ss)) } else { Err(Error::DecryptionFailed) }
    }
}

/// X-Wing: the hybrid of ML-KEM-768 and X25519 (libsodium's default `crypto_kem`).
pub mod xwing {
    use super::*;

    /// Encapsulation randomness length.
    pub const ENC_SEED_LEN: usize = 64;

    public_boxed_bytes!(
        /// An X-Wing public key (ML-KEM-768 key ‖ X25519 key).
        PublicKey,
        1216,
        "X-Wing public key"
    );

    public_boxed_bytes!(
        /// An X-Wing ciphertext.
        Ciphertext,
        1120,
        "X-Wing ciphertext"
    );

    secret_bytes!(
        /// An X-Wing secret key: a 32-byte seed, expanded on use.
        SecretKey,
        32,
        "X-Wing secret key"
    );

    /// The public key for a 32-byte secret seed (`crypto_kem_xwing_seed_keypair`).
    pub fn keypair_from_seed(seed: &Secret<32>) -> (PublicKey, SecretKey) {
        ensure_init();
        let mut pk = PublicKey::zeroed();
        let mut sk = Secret::<32>::zeroed();
        // SAFETY: buffers have the sizes libsodium writes (1216, 32) and reads (32).
        unsafe {
            ffi::crypto_kem_xwing_seed_keypair(
                pk.0.as_mut_ptr(),
                sk.expose_mut().as_mut_ptr(),
                seed.expose().as_ptr(),
            );
        }
        (pk, SecretKey::from_secret(sk))
    }

    /// A fresh keypair.
    pub fn generate(rng: &mut impl Csprng) -> (PublicKey, SecretKey) {
        keypair_from_seed(&Secret::random(rng))
    }

    /// Encapsulates a fresh shared secret to `pk`, with randomness from `rng`.
    pub fn encapsulate(
        pk: &PublicKey,
        rng: &mut impl Csprng,
    ) -> Result<(Ciphertext, KemSharedSecret)> {
        encapsulate_deterministic(pk, &Secret::random(rng))
    }

    /// Encapsulation with explicit 64-byte randomness, for known-answer tests.
    pub fn encapsulate_deterministic(
        pk: &PublicKey,
        eseed: &Secret<ENC_SEED_LEN>,
    ) -> Result<(Ciphertext, KemSharedSecret)> {
        ensure_init();
        let mut ct = Ciphertext::zeroed();
        let mut ss = Secret::<32>::zeroed();
        // SAFETY: buffers have the sizes libsodium writes (1120, 32) and reads (1216, 64).
        let rc = unsafe {
            ffi::crypto_kem_xwing_enc_deterministic(
                ct.0.as_mut_ptr(),
                ss.expose_mut().as_mut_ptr(),
                pk.0.as_ptr(),
                eseed.expose().as_ptr(),
            )
        };
        if rc == 0 {
            Ok((ct, KemSharedSecret::from_secret(ss)))
        } else {
            Err(Error::InvalidPublicKey)
        }
    }

    /// Decapsulates (implicit rejection: a tampered ciphertext gives an unrelated secret).
    pub fn decapsulate(sk: &SecretKey, ct: &Ciphertext) -> Result<KemSharedSecret> {
        ensure_init();
        let mut ss = Secret::<32>::zeroed();
        // SAFETY: buffers have the sizes libsodium writes (32) and reads (1120, 32).
        let rc = unsafe {
            ffi::crypto_kem_xwing_dec(
                ss.expose_mut().as_mut_ptr(),
                ct.0.as_ptr(),
                sk.expose().as_ptr(),
            )
        };
        if rc == 0 { Ok(KemSharedSecret::from_secret(ss)) } else { Err(Error::DecryptionFailed) }
    }
}
