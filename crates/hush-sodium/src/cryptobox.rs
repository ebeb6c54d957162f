//! `crypto_box` (X25519 + XSalsa20-Poly1305): anonymous sealed boxes, seeded box keypairs and
//! the nonce-explicit `crypto_box_easy` that Session's deterministic encryption is built on.

use libsodium_sys as ffi;

use crate::x25519::{X25519KeyPair, X25519PublicKey, X25519SecretKey};
use crate::{Error, Result, Secret, ensure_init, len_u64};

/// Bytes a sealed box adds: the ephemeral public key (32) and the Poly1305 tag (16).
pub const SEAL_OVERHEAD: usize = 48;
/// Bytes `crypto_box_easy` adds: the Poly1305 tag.
pub const BOX_MAC_LEN: usize = 16;
/// `crypto_box` nonce length.
pub const BOX_NONCE_LEN: usize = 24;

/// Encrypts `message` anonymously to `recipient` with a fresh ephemeral key from libsodium's
/// RNG (`crypto_box_seal`). Output: `ephemeral pk ‖ tag ‖ ciphertext`.
pub fn seal(message: &[u8], recipient: &X25519PublicKey) -> Result<Vec<u8>> {
    ensure_init();
    let mut out = vec![0u8; message.len() + SEAL_OVERHEAD];
    // SAFETY: `out` has room for mlen + 48 bytes; `message` and the 32-byte key are readable.
    let rc = unsafe {
        ffi::crypto_box_seal(
            out.as_mut_ptr(),
            message.as_ptr(),
            len_u64(message),
            recipient.as_bytes().as_ptr(),
        )
    };
    if rc == 0 { Ok(out) } else { Err(Error::InvalidPublicKey) }
}

/// Opens a sealed box addressed to `recipient` (`crypto_box_seal_open`).
pub fn seal_open(sealed: &[u8], recipient: &X25519KeyPair) -> Result<Vec<u8>> {
    ensure_init();
    if sealed.len() < SEAL_OVERHEAD {
        return Err(Error::DecryptionFailed);
    }
    let mut out = vec![0u8; sealed.len() - SEAL_OVERHEAD];
    // SAFETY: `out` has clen − 48 writable bytes; `sealed` is readable for its length ≥ 48;
    // both keys are 32 readable bytes.
    let rc = unsafe {
        ffi::crypto_box_seal_open(
            out.as_mut_ptr(),
            sealed.as_ptr(),
            len_u64(sealed),
            recipient.public().as_bytes().as_ptr(),
            recipient.secret().expose().as_ptr(),
        )
    };
    if rc == 0 { Ok(out) } else { Err(Error::DecryptionFailed) }
}

/// The box keypair for a 32-byte seed (`crypto_box_seed_keypair`: secret = SHA-512(seed)[..32]).
pub fn seed_keypair(seed: &Secret<32>) -> X25519KeyPair {
    ensure_init();
    let mut public = [0u8; 32];
    let mut secret = Secret::<32>::zeroed();
    // SAFETY: 32 writable bytes for each key and 32 readable bytes of seed.
    unsafe {
        ffi::crypto_box_seed_keypair(
            public.as_mut_ptr(),
            secret.expose_mut().as_mut_ptr(),
            seed.expose().as_ptr(),
        );
    }
    X25519KeyPair::from_parts(
        X25519SecretKey::from_secret(secret),
        X25519PublicKey::from_bytes(public),
    )
}

/// Authenticated encryption from `our_secret` to `their_public` under an explicit nonce
/// (`crypto_box_easy`). Output: `tag ‖ ciphertext`. Never reuse a nonce for one key pair.
pub fn box_easy(
    message: &[u8],
    nonce: &[u8; BOX_NONCE_LEN],
    their_public: &X25519PublicKey,
    our_secret: &X25519SecretKey,
) -> Result<Vec<u8>> {
    let mut out = vec![0u8; message.len() + BOX_MAC_LEN];
    box_easy_into(&mut out, message, nonce, their_public, our_secret)?;
    Ok(out)
}

/// [`box_easy`] writing into `out`, which must be exactly `message.len() + 16` bytes.
pub fn box_easy_into(
    out: &mut [u8],
    message: &[u8],
    nonce: &[u8; BOX_NONCE_LEN],
    their_public: &X25519PublicKey,
    our_secret: &X25519SecretKey,
) -> Result<()> {
    ensure_init();
    if out.len() != message.len() + BOX_MAC_LEN {
        return Err(Error::InvalidLength {
            what: "crypto_box output buffer",
            expected: message.len() + BOX_MAC_LEN,
            actual: out.len(),
        });
    }
    // SAFETY: `out` has mlen + 16 writable bytes (checked above); message, 24-byte nonce and
    // 32-byte keys are readable.
    let rc = unsafe {
        ffi::crypto_box_easy(
            out.as_mut_ptr(),
            message.as_ptr(),
            len_u64(message),
            nonce.as_ptr(),
            their_public.as_bytes().as_ptr(),
            our_secret.expose().as_ptr(),
        )
    };
    if rc == 0 { Ok(()) } else { Err(Error::WeakSharedSecret) }
}

/// Opens a [`box_easy`] ciphertext (`crypto_box_open_easy`).
pub fn box_open_easy(
    ciphertext: &[u8],
    nonce: &[u8; BOX_NONCE_LEN],
    their_public: &X25519PublicKey,
    our_secret: &X25519SecretKey,
) -> Result<Vec<u8>> {
    ensure_init();
    if ciphertext.len() < BOX_MAC_LEN {
        return Err(Error::DecryptionFailed);
    }
    let mut out = vec![0u8; ciphertext.len() - BOX_MAC_LEN];
    // SAFETY: `out` has clen − 16 writable bytes; the ciphertext (≥ 16 bytes), nonce and keys
    // are readable.
    let rc = unsafe {
        ffi::crypto_box_open_easy(
            out.as_mut_ptr(),
            ciphertext.as_ptr(),
            len_u64(ciphertext),
            nonce.as_ptr(),
            their_public.as_bytes().as_ptr(),
            our_secret.expose().as_ptr(),
        )
    };
    if rc == 0 { Ok(out) } else { Err(Error::DecryptionFailed) }
}
