//! Authenticated encryption with associated data: XChaCha20-Poly1305-IETF (24-byte nonces,
//! safe to pick at random) and AES-256-GCM (12-byte nonces; hardware only).
//!
//! Ciphertexts are `ciphertext ‖ 16-byte tag` ("combined mode"); nonces are separate.

use libsodium_sys as ffi;

use crate::macros::secret_bytes;
use crate::{Error, Result, ensure_init, len_u64};

secret_bytes!(
    /// A 256-bit symmetric key for either AEAD.
    AeadKey,
    32,
    "AEAD key"
);

/// Authentication tag length of both AEADs.
pub const TAG_LEN: usize = 16;
/// XChaCha20-Poly1305 nonce length.
pub const XCHACHA20_NONCE_LEN: usize = 24;
/// AES-256-GCM nonce length.
pub const AES256GCM_NONCE_LEN: usize = 12;

/// Which AEAD function to run (both have the same calling convention).
#[derive(Clone, Copy)]
enum Algorithm {
    XChaCha20Poly1305,
    Aes256Gcm,
}

impl Algorithm {
    fn nonce_len(self) -> usize {
        match self {
            Self::XChaCha20Poly1305 => XCHACHA20_NONCE_LEN,
            Self::Aes256Gcm => AES256GCM_NONCE_LEN,
        }
    }
}

fn encrypt(alg: Algorithm, key: &AeadKey, nonce: &[u8], plaintext: &[u8], ad: &[u8]) -> Vec<u8> {
    assert_eq!(nonce.len(), alg.nonce_len(), "invariant: public functions take typed nonces");
    let mut out = vec![0u8; plaintext.len() + TAG_LEN];
    let mut written: u64 = 0;
    let f = match alg {
        Algorithm::XChaCha20Poly1305 => ffi::crypto_aead_xchacha20poly1305_ietf_encrypt,
        Algorithm::Aes256Gcm => ffi::crypto_aead_aes256gcm_encrypt,
    };
    // SAFETY: `out` has mlen + 16 writable bytes; plaintext, ad, the nonce (its length was
    // fixed by the caller's array type) and the 32-byte key are readable; nsec must be null.
    unsafe {
        f(
            out.as_mut_ptr(),
            &mut written,
            plaintext.as_ptr(),
            len_u64(plaintext),
            ad.as_ptr(),
            len_u64(ad),
            std::ptr::null(),
            nonce.as_ptr(),
            key.expose().as_ptr(),
        );
    }
    debug_assert_eq!(written, len_u64(&out));
    out
}

fn decrypt(
    alg: Algorithm,
    key: &AeadKey,
    nonce: &[u8],
    ciphertext: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>> {
    assert_eq!(nonce.len(), alg.nonce_len(), "invariant: public functions take typed nonces");
    if ciphertext.len() < TAG_LEN {
        return Err(Error::DecryptionFailed);
    }
    let mut out = vec![0u8; ciphertext.len() - TAG_LEN];
    let mut written: u64 = 0;
    let f = match alg {
        Algorithm::XChaCha20Poly1305 => ffi::crypto_aead_xchacha20poly1305_ietf_decrypt,
        Algorithm::Aes256Gcm => ffi::crypto_aead_aes256gcm_decrypt,
    };
    // SAFETY: `out` has clen − 16 writable bytes; ciphertext (≥ 16 bytes), ad, nonce and key
    // are readable; nsec must be null.
    let rc = unsafe {
        f(
            out.as_mut_ptr(),
            &mut written,
            std::ptr::null_mut(),
            ciphertext.as_ptr(),
            len_u64(ciphertext),
            ad.as_ptr(),
            len_u64(ad),
            nonce.as_ptr(),
            key.expose().as_ptr(),
        )
    };
    if rc == 0 { Ok(out) } else { Err(Error::DecryptionFailed) }
}

/// XChaCha20-Poly1305-IETF encryption; returns `ciphertext ‖ tag`.
pub fn xchacha20poly1305_encrypt(
    key: &AeadKey,
    nonce: &[u8; XCHACHA20_NONCE_LEN],
    plaintext: &[u8],
    ad: &[u8],
) -> Vec<u8> {
    ensure_init();
    encrypt(Algorithm::XChaCha20Poly1305, key, nonce, plaintext, ad)
}

/// XChaCha20-Poly1305-IETF decryption of `ciphertext ‖ tag`.
pub fn xchacha20poly1305_decrypt(
    key: &AeadKey,
    nonce: &[u8; XCHACHA20_NONCE_LEN],
    ciphertext: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>> {
    ensure_init();
    decrypt(Algorithm::XChaCha20Poly1305, key, nonce, ciphertext, ad)
}

/// Whether this CPU can run libsodium's AES-256-GCM (AES-NI + PCLMUL, or ARMv8 crypto).
pub fn aes256gcm_is_available() -> bool {
    ensure_init();
    // SAFETY: a pure query of the CPU features detected by `sodium_init`.
    unsafe { ffi::crypto_aead_aes256gcm_is_available() == 1 }
}

/// AES-256-GCM encryption; returns `ciphertext ‖ tag`, or
/// [`Error::AesGcmUnavailable`] on CPUs without hardware AES.
pub fn aes256gcm_encrypt(
    key: &AeadKey,
    nonce: &[u8; AES256GCM_NONCE_LEN],
    plaintext: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>> {
    if !aes256gcm_is_available() {
        return Err(Error::AesGcmUnavailable);
    }
    Ok(encrypt(Algorithm::Aes256Gcm, key, nonce, plaintext, ad))
}

/// AES-256-GCM decryption of `ciphertext ‖ tag`.
pub fn aes256gcm_decrypt(
    key: &AeadKey,
    nonce: &[u8; AES256GCM_NONCE_LEN],
    ciphertext: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>> {
    if !aes256gcm_is_available() {
        return Err(Error::AesGcmUnavailable);
    }
    decrypt(Algorithm::Aes256Gcm, key, nonce, ciphertext, ad)
}
