//! Ed25519: seed keypairs, detached signatures, conversion to X25519, and the few point and
//! scalar operations Session's blinded IDs need.

use libsodium_sys as ffi;

use crate::macros::{public_bytes, secret_bytes};
use crate::x25519::{X25519KeyPair, X25519PublicKey, X25519SecretKey};
use crate::{Csprng, Error, Result, Secret, ensure_init, len_u64};

public_bytes!(
    /// An Ed25519 public key (compressed Edwards point).
    Ed25519PublicKey,
    32,
    "Ed25519 public key"
);

public_bytes!(
    /// A detached Ed25519 signature (`R ‖ S`).
    Ed25519Signature,
    64,
    "Ed25519 signature"
);

secret_bytes!(
    /// libsodium's 64-byte Ed25519 secret key: `seed ‖ public key`.
    Ed25519SecretKey,
    64,
    "Ed25519 secret key"
);

/// An Ed25519 keypair derived from a 32-byte seed (RFC 8032; `crypto_sign_seed_keypair`).
#[derive(Clone, Debug)]
pub struct Ed25519KeyPair {
    secret: Ed25519SecretKey,
    public: Ed25519PublicKey,
}

impl Ed25519KeyPair {
    /// The keypair for `seed`.
    pub fn from_seed(seed: &Secret<32>) -> Self {
        ensure_init();
        let mut public = [0u8; 32];
        let mut secret = Secret::<64>::zeroed();
        // SAFETY: `public` has 32 writable bytes, `secret` 64, `seed` 32 readable bytes:
        // the sizes `crypto_sign_ed25519_seed_keypair` uses. It cannot fail.
        unsafe {
            ffi::crypto_sign_ed25519_seed_keypair(
                public.as_mut_ptr(),
                secret.expose_mut().as_mut_ptr(),
                seed.expose().as_ptr(),
            );
        }
        Self { secret: Ed25519SecretKey::from_secret(secret), public: Ed25519PublicKey(public) }
    }

    /// A fresh random keypair.
    pub fn generate(rng: &mut impl Csprng) -> Self {
        Self::from_seed(&Secret::random(rng))
    }

    /// The public key.
    pub fn public(&self) -> &Ed25519PublicKey {
        &self.public
    }

    /// The 64-byte secret key (`seed ‖ public key`).
    pub fn secret(&self) -> &Ed25519SecretKey {
        &self.secret
    }

    /// The 32-byte seed this keypair was derived from.
    pub fn seed(&self) -> Secret<32> {
        let mut seed = Secret::<32>::zeroed();
        seed.expose_mut().copy_from_slice(&self.secret.expose()[..32]);
        seed
    }

    /// Signs `message` (`crypto_sign_ed25519_detached`).
    pub fn sign(&self, message: &[u8]) -> Ed25519Signature {
        let mut sig = [0u8; 64];
        // SAFETY: `sig` has 64 writable bytes; a null length pointer is allowed; `message` is
        // valid for its length; the secret key is 64 readable bytes.
        unsafe {
            ffi::crypto_sign_ed25519_detached(
                sig.as_mut_ptr(),
                std::ptr::null_mut(),
                message.as_ptr(),
                len_u64(message),
                self.secret.expose().as_ptr(),
            );
        }
        Ed25519Signature(sig)
    }

    /// The X25519 keypair for the same secret (`crypto_sign_ed25519_sk_to_curve25519`, i.e.
    /// the clamped first half of SHA-512(seed), and `…_pk_to_curve25519` for the public key).
    pub fn to_x25519(&self) -> Result<X25519KeyPair> {
        let mut secret = Secret::<32>::zeroed();
        // SAFETY: `secret` has 32 writable bytes; the Ed25519 secret key has 64 readable.
        let rc = unsafe {
            ffi::crypto_sign_ed25519_sk_to_curve25519(
                secret.expose_mut().as_mut_ptr(),
                self.secret.expose().as_ptr(),
            )
        };
        if rc != 0 {
            return Err(Error::InvalidPublicKey);
        }
        let public = self.public.to_x25519()?;
        Ok(X25519KeyPair::from_parts(X25519SecretKey::from_secret(secret), public))
    }
}

impl Ed25519PublicKey {
    /// Checks a detached signature over `message` (`crypto_sign_ed25519_verify_detached`,
    /// which rejects non-canonical encodings and small-order keys).
    pub fn verify(&self, message: &[u8], signature: &Ed25519Signature) -> Result<()> {
        ensure_init();
        // SAFETY: the signature is 64 readable bytes, the key 32; `message` is valid.
        let rc = unsafe {
            ffi::crypto_sign_ed25519_verify_detached(
                signature.0.as_ptr(),
                message.as_ptr(),
                len_u64(message),
                self.0.as_ptr(),
            )
        };
        if rc == 0 { Ok(()) } else { Err(Error::BadSignature) }
    }

    /// The X25519 (Montgomery) form of this key: u = (1 + y) / (1 − y).
    /// Fails for keys that are not valid points or have small order.
    pub fn to_x25519(&self) -> Result<X25519PublicKey> {
        ensure_init();
        let mut out = [0u8; 32];
        // SAFETY: `out` has 32 writable bytes, the key 32 readable.
        let rc =
            unsafe { ffi::crypto_sign_ed25519_pk_to_curve25519(out.as_mut_ptr(), self.0.as_ptr()) };
        if rc == 0 { Ok(X25519PublicKey::from_bytes(out)) } else { Err(Error::InvalidPublicKey) }
    }

    /// The Ed25519 point with sign bit 0 whose Montgomery form is `x` ("XEd25519" conversion,
    /// y = (u − 1) / (u + 1)). An X25519 key only fixes a point up to sign, so Session's blinded
    /// IDs are defined on this "positive" point.
    ///
    /// libsodium has no public field arithmetic, so this conversion uses `curve25519-dalek`.
    pub fn from_x25519_positive(x: &X25519PublicKey) -> Result<Self> {
        let point = curve25519_dalek::montgomery::MontgomeryPoint(*x.as_bytes())
            .to_edwards(0)
            .ok_or(Error::InvalidPublicKey)?;
        Ok(Self(point.compress().to_bytes()))
    }

    /// `scalar · self` without clamping (`crypto_scalarmult_ed25519_noclamp`). Fails if the
    /// point is invalid, of small order, or the result is the identity.
    pub fn mul_noclamp(&self, scalar: &[u8; 32]) -> Result<Self> {
        ensure_init();
        let mut out = [0u8; 32];
        // SAFETY: `out` has 32 writable bytes; scalar and point are 32 readable bytes each.
        let rc = unsafe {
            ffi::crypto_scalarmult_ed25519_noclamp(
                out.as_mut_ptr(),
                scalar.as_ptr(),
                self.0.as_ptr(),
            )
        };
        if rc == 0 { Ok(Self(out)) } else { Err(Error::InvalidPublicKey) }
    }
}

/// `scalar · B` for the Ed25519 base point B, without clamping
/// (`crypto_scalarmult_ed25519_base_noclamp`). Fails for a zero scalar.
pub fn scalarmult_base_noclamp(scalar: &[u8; 32]) -> Result<Ed25519PublicKey> {
    ensure_init();
    let mut out = [0u8; 32];
    // SAFETY: `out` has 32 writable bytes and `scalar` 32 readable bytes.
    let rc =
        unsafe { ffi::crypto_scalarmult_ed25519_base_noclamp(out.as_mut_ptr(), scalar.as_ptr()) };
    if rc == 0 { Ok(Ed25519PublicKey(out)) } else { Err(Error::InvalidPublicKey) }
}

/// Reduces a 64-byte little-endian integer modulo the group order L
/// (`crypto_core_ed25519_scalar_reduce`).
pub fn scalar_reduce(wide: &[u8; 64]) -> [u8; 32] {
    ensure_init();
    let mut out = [0u8; 32];
    // SAFETY: `out` has 32 writable bytes and `wide` 64 readable bytes.
    unsafe { ffi::crypto_core_ed25519_scalar_reduce(out.as_mut_ptr(), wide.as_ptr()) };
    out
}
