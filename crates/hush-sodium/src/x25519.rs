//! X25519 keys and Diffie–Hellman (`crypto_scalarmult_curve25519`).

use libsodium_sys as ffi;

use crate::macros::{public_bytes, secret_bytes};
use crate::{Csprng, Error, Result, Secret, ensure_init};

public_bytes!(
    /// An X25519 public key (Montgomery u-coordinate).
    X25519PublicKey,
    32,
    "X25519 public key"
);

secret_bytes!(
    /// An X25519 secret scalar.
    X25519SecretKey,
    32,
    "X25519 secret key"
);

secret_bytes!(
    /// The 32-byte output of an X25519 key agreement. Hash it before use as a key.
    SharedSecret,
    32,
    "X25519 shared secret"
);

impl X25519SecretKey {
    /// The matching public key (`crypto_scalarmult_curve25519_base`).
    pub fn public_key(&self) -> X25519PublicKey {
        ensure_init();
        let mut out = [0u8; 32];
        // SAFETY: `out` has 32 writable bytes and the scalar 32 readable bytes.
        unsafe { ffi::crypto_scalarmult_curve25519_base(out.as_mut_ptr(), self.expose().as_ptr()) };
        X25519PublicKey::from_bytes(out)
    }

    /// X25519(self, their_public). Fails when the peer key has small order (all-zero result).
    pub fn diffie_hellman(&self, their_public: &X25519PublicKey) -> Result<SharedSecret> {
        ensure_init();
        let mut out = Secret::<32>::zeroed();
        // SAFETY: `out` has 32 writable bytes; scalar and point are 32 readable bytes each.
        let rc = unsafe {
            ffi::crypto_scalarmult_curve25519(
                out.expose_mut().as_mut_ptr(),
                self.expose().as_ptr(),
                their_public.as_bytes().as_ptr(),
            )
        };
        if rc == 0 { Ok(SharedSecret::from_secret(out)) } else { Err(Error::WeakSharedSecret) }
    }
}

/// An X25519 secret key with its public key.
#[derive(Clone, Debug)]
pub struct X25519KeyPair {
    secret: X25519SecretKey,
    public: X25519PublicKey,
}

impl X25519KeyPair {
    /// A fresh random keypair.
    pub fn generate(rng: &mut impl Csprng) -> Self {
        Self::from_secret(X25519SecretKey::random(rng))
    }

    /// The keypair for a secret scalar.
    pub fn from_secret(secret: X25519SecretKey) -> Self {
        let public = secret.public_key();
        Self { secret, public }
    }

    /// Pairs a secret with a public key already known to match it.
    pub(crate) fn from_parts(secret: X25519SecretKey, public: X25519PublicKey) -> Self {
        Self { secret, public }
    }

    /// The secret key.
    pub fn secret(&self) -> &X25519SecretKey {
        &self.secret
    }

    /// The public key.
    pub fn public(&self) -> &X25519PublicKey {
        &self.public
    }

    /// X25519(own secret, their_public).
    pub fn diffie_hellman(&self, their_public: &X25519PublicKey) -> Result<SharedSecret> {
        self.secret.diffie_hellman(their_public)
    }
}
