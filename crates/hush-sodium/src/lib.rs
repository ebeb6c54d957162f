//! Safe, typed wrappers over libsodium 1.0.22.
//!
//! libsodium is bundled by `libsodium-sys-stable` and built from the crate's own signed
//! tarball: never the system library, never a download. This is the **only** crate of hush
//! that contains `unsafe` code; every block says why it is sound in a `// SAFETY:` line.
//!
//! What it offers, one module per family:
//!
//! | module | primitives |
//! |---|---|
//! | [`rng`] | libsodium's CSPRNG ([`SystemRng`]) and a seeded stream for reproducible tests |
//! | [`ed25519`] | seed keypairs, detached signatures, Ed25519→X25519 conversion, scalar ops for blinding |
//! | [`x25519`] | keypairs and Diffie–Hellman |
//! | [`cryptobox`] | `crypto_box_seal`/`_open`, `crypto_box_seed_keypair`, `crypto_box_easy` |
//! | [`aead`] | XChaCha20-Poly1305-IETF, AES-256-GCM (hardware only, with a clear error otherwise) |
//! | [`hash`] | BLAKE2b (key, personalisation, 1–64 byte output), SHA-256/512, HMAC-SHA256, SHA3-256, SHAKE256 |
//! | [`pwhash`] | Argon2id |
//! | [`kem`] | ML-KEM-768 and X-Wing |
//!
//! Key material has fixed-size types. Secret types ([`Secret`] and everything built on it)
//! are boxed, wiped with `sodium_memzero` on drop, and print `[REDACTED]` in `Debug`.
//!
//! # Not in this crate
//!
//! - Protocol logic (Session's padding, sign-then-seal, onion layers…): that is `hush-proto`.
//! - I/O of any kind besides libsodium's own use of the OS random source.
//!
//! # Example
//!
//! ```
//! use hush_sodium::{ed25519::Ed25519KeyPair, Secret};
//!
//! let seed = Secret::from_array([7u8; 32]);
//! let keys = Ed25519KeyPair::from_seed(&seed);
//! let signature = keys.sign(b"hello");
//! keys.public().verify(b"hello", &signature)?;
//! let x25519 = keys.to_x25519()?; // the account key Session derives from the same seed
//! assert_eq!(x25519.public(), &keys.public().to_x25519()?);
//! # Ok::<(), hush_sodium::Error>(())
//! ```

pub mod aead;
pub mod cryptobox;
pub mod ed25519;
mod error;
pub mod hash;
pub mod kem;
mod macros;
pub mod pwhash;
pub mod rng;
mod secret;
pub mod x25519;

use std::sync::OnceLock;

use libsodium_sys as ffi;

pub use error::{Error, Result};
pub use rng::{Csprng, SystemRng};
pub use secret::Secret;

/// Initialises libsodium (CPU feature detection, RNG). Idempotent and thread-safe.
///
/// Every function of this crate calls it first, so callers never need to; it is public so
/// that a program can fail early and clearly if the library cannot start.
pub fn init() -> Result<()> {
    static STATE: OnceLock<bool> = OnceLock::new();
    // SAFETY: `sodium_init` takes no arguments, is documented as thread-safe and idempotent,
    // and returns 0 (initialised), 1 (already initialised) or -1 (failure).
    let ok = *STATE.get_or_init(|| unsafe { ffi::sodium_init() } >= 0);
    if ok { Ok(()) } else { Err(Error::InitFailed) }
}

/// Calls [`init`] and aborts with a message if libsodium cannot start: nothing in this crate
/// is usable without it, and the failure only happens when the OS random source is missing.
pub(crate) fn ensure_init() {
    if init().is_err() {
        // A broken platform, not remote input: there is no meaningful way to continue.
        std::process::abort();
    }
}

/// The version of the linked libsodium, e.g. `"1.0.22"`.
pub fn version() -> &'static str {
    ensure_init();
    // SAFETY: `sodium_version_string` returns a pointer to a static NUL-terminated string.
    let c = unsafe { std::ffi::CStr::from_ptr(ffi::sodium_version_string()) };
    c.to_str().unwrap_or("unknown")
}

/// Overwrites `buf` with zeros in a way the compiler cannot optimise away (`sodium_memzero`).
pub fn memzero(buf: &mut [u8]) {
    // SAFETY: the pointer and length describe one valid, writable slice.
    unsafe { ffi::sodium_memzero(buf.as_mut_ptr().cast(), buf.len()) }
}

/// Compares two byte strings in constant time (for equal lengths; `sodium_memcmp`).
/// Strings of different lengths are unequal, which reveals only the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // SAFETY: both pointers are valid for `a.len()` bytes (the lengths are equal).
    unsafe { ffi::sodium_memcmp(a.as_ptr().cast(), b.as_ptr().cast(), a.len()) == 0 }
}

/// Converts a slice into an array of the expected size, or names what was wrong.
pub(crate) fn to_array<const N: usize>(what: &'static str, bytes: &[u8]) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| Error::InvalidLength { what, expected: N, actual: bytes.len() })
}

/// `u64` view of a buffer length for libsodium's `unsigned long long` parameters.
pub(crate) fn len_u64(bytes: &[u8]) -> u64 {
    // usize is at most 64 bits on every supported platform.
    bytes.len() as u64
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_the_bundled_libsodium_1_0_22() {
        assert_eq!(super::version(), "1.0.22");
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(super::constant_time_eq(b"abc", b"abc"));
        assert!(!super::constant_time_eq(b"abc", b"abd"));
        assert!(!super::constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn memzero_wipes() {
        let mut b = [0xAAu8; 17];
        super::memzero(&mut b);
        assert_eq!(b, [0u8; 17]);
    }
}
