//! Hash functions: BLAKE2b (keyed, personalised, 1–64 byte output), SHA-256, SHA-512,
//! HMAC-SHA256, SHA3-256 and SHAKE256.

use std::mem::MaybeUninit;

use libsodium_sys as ffi;

use crate::{Error, Result, ensure_init, len_u64};

/// Marks libsodium's hash states: `#[repr(C)]` structs of plain bytes (bindgen's `opaque`
/// arrays, or nested SHA-256 states), for which all-zero bytes are a valid value.
///
/// # Safety
///
/// Implement only for types made entirely of integers, with no padding and no pointers.
unsafe trait PlainState: Sized {}

// SAFETY: bindgen generates this as a `#[repr(C)]` struct of one `u8` array.
unsafe impl PlainState for ffi::crypto_generichash_blake2b_state {}
// SAFETY: as above.
unsafe impl PlainState for ffi::crypto_xof_shake256_state {}
// SAFETY: two SHA-256 states, each a `#[repr(C)]` struct of `[u32; 8]`, `u64` and `[u8; 64]`
// (no padding: 32 + 8 + 64 bytes, all 8-byte aligned).
unsafe impl PlainState for ffi::crypto_auth_hmacsha256_state {}

/// A heap-allocated, all-zero state: every byte initialised before libsodium sees it.
fn zeroed_state<T: PlainState>() -> Box<T> {
    let zeroed: Box<MaybeUninit<T>> = Box::new_zeroed();
    // SAFETY: `T: PlainState`, so the all-zero bit pattern is a valid `T`.
    unsafe { zeroed.assume_init() }
}

/// Overwrites a state with zeros (it may hold key material).
fn wipe_state<T: PlainState>(state: &mut T) {
    // SAFETY: `T: PlainState` is plain initialised bytes; the slice covers exactly `*state`,
    // which stays mutably borrowed while the slice lives.
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(std::ptr::from_mut(state).cast::<u8>(), size_of::<T>())
    };
    crate::memzero(bytes);
}

/// Longest BLAKE2b key (bytes).
pub const BLAKE2B_KEY_MAX: usize = 64;
/// BLAKE2b personalisation length (bytes).
pub const BLAKE2B_PERSONAL_LEN: usize = 16;

/// Incremental BLAKE2b with an `N`-byte output (1 ≤ N ≤ 64), optionally keyed and
/// personalised (libsodium `crypto_generichash_blake2b_*`).
///
/// Session uses every variant: unkeyed 32-byte hashes for nonces and keys, keyed hashes with
/// ASCII keys ("SessionBoxEphemeralHashKey"), 2-byte personalised hashes ("Session-Msg-KISS").
pub struct Blake2b<const N: usize> {
    state: Box<ffi::crypto_generichash_blake2b_state>,
}

impl<const N: usize> Blake2b<N> {
    const VALID_LEN: () = assert!(N >= 1 && N <= 64, "BLAKE2b output must be 1..=64 bytes");

    /// Unkeyed BLAKE2b.
    pub fn new() -> Self {
        Self::init(None, None).expect("invariant: no key, so no key length to reject")
    }

    /// Keyed BLAKE2b (MAC mode); `key` is 1..=64 bytes.
    pub fn keyed(key: &[u8]) -> Result<Self> {
        if key.is_empty() {
            return Err(Error::LengthOutOfRange {
                what: "BLAKE2b key",
                min: 1,
                max: BLAKE2B_KEY_MAX,
                actual: 0,
            });
        }
        Self::init(Some(key), None)
    }

    /// BLAKE2b with a 16-byte personalisation string and an optional key (salt all zeros).
    pub fn personal(key: Option<&[u8]>, personal: &[u8; BLAKE2B_PERSONAL_LEN]) -> Result<Self> {
        Self::init(key, Some(personal))
    }

    fn init(key: Option<&[u8]>, personal: Option<&[u8; BLAKE2B_PERSONAL_LEN]>) -> Result<Self> {
        let () = Self::VALID_LEN;
        ensure_init();
        let key = key.unwrap_or(&[]);
        if key.len() > BLAKE2B_KEY_MAX {
            return Err(Error::LengthOutOfRange {
                what: "BLAKE2b key",
                min: 0,
                max: BLAKE2B_KEY_MAX,
                actual: key.len(),
            });
        }
        let key_ptr = if key.is_empty() { std::ptr::null() } else { key.as_ptr() };
        let mut state = zeroed_state::<ffi::crypto_generichash_blake2b_state>();
        let rc = match personal {
            // SAFETY: `state` is a valid, aligned, writable state; `key_ptr` is null or valid
            // for `key.len()` ≤ 64 bytes; `personal` points to 16 readable bytes; a null salt
            // means all zeros.
            Some(personal) => unsafe {
                ffi::crypto_generichash_blake2b_init_salt_personal(
                    &mut *state,
                    key_ptr,
                    key.len(),
                    N,
                    std::ptr::null(),
                    personal.as_ptr(),
                )
            },
            // SAFETY: as above, without salt and personalisation.
            None => unsafe {
                ffi::crypto_generichash_blake2b_init(&mut *state, key_ptr, key.len(), N)
            },
        };
        if rc != 0 {
            return Err(Error::LengthOutOfRange {
                what: "BLAKE2b key",
                min: 1,
                max: BLAKE2B_KEY_MAX,
                actual: key.len(),
            });
        }
        Ok(Self { state })
    }

    /// Absorbs more input.
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        // SAFETY: the state is initialised; `data` is valid for its length.
        let rc = unsafe {
            ffi::crypto_generichash_blake2b_update(&mut *self.state, data.as_ptr(), len_u64(data))
        };
        debug_assert_eq!(rc, 0, "blake2b update only fails after finalisation");
        self
    }

    /// The `N`-byte digest.
    pub fn finalize(mut self) -> [u8; N] {
        let mut out = [0u8; N];
        // SAFETY: the state is initialised and finalised once (this consumes `self`); `out`
        // has exactly the output length the state was initialised with.
        let rc =
            unsafe { ffi::crypto_generichash_blake2b_final(&mut *self.state, out.as_mut_ptr(), N) };
        debug_assert_eq!(rc, 0, "blake2b final with the initialised length cannot fail");
        out
    }
}

impl<const N: usize> Default for Blake2b<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Drop for Blake2b<N> {
    fn drop(&mut self) {
        // The state may hold key material.
        wipe_state(&mut *self.state);
    }
}

impl<const N: usize> std::fmt::Debug for Blake2b<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blake2b<{N}>")
    }
}

/// One-shot unkeyed BLAKE2b with an `N`-byte output.
pub fn blake2b<const N: usize>(data: &[u8]) -> [u8; N] {
    let mut h = Blake2b::<N>::new();
    h.update(data);
    h.finalize()
}

/// One-shot keyed BLAKE2b with an `N`-byte output; `key` is 1..=64 bytes.
pub fn blake2b_keyed<const N: usize>(key: &[u8], data: &[u8]) -> Result<[u8; N]> {
    let mut h = Blake2b::<N>::keyed(key)?;
    h.update(data);
    Ok(h.finalize())
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    ensure_init();
    let mut out = [0u8; 32];
    // SAFETY: `out` has the 32 bytes `crypto_hash_sha256` writes; `data` is valid.
    unsafe { ffi::crypto_hash_sha256(out.as_mut_ptr(), data.as_ptr(), len_u64(data)) };
    out
}

/// SHA-512.
pub fn sha512(data: &[u8]) -> [u8; 64] {
    ensure_init();
    let mut out = [0u8; 64];
    // SAFETY: `out` has the 64 bytes `crypto_hash_sha512` writes; `data` is valid.
    unsafe { ffi::crypto_hash_sha512(out.as_mut_ptr(), data.as_ptr(), len_u64(data)) };
    out
}

/// HMAC-SHA256 with a key of any length (Session's onion layers use the 4-byte key "LOKI").
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    ensure_init();
    let mut state = zeroed_state::<ffi::crypto_auth_hmacsha256_state>();
    let mut out = [0u8; 32];
    // SAFETY: `state` is a valid, aligned, writable state, initialised by `_init` before
    // `_update` and `_final` use it; key, data and out are valid for their lengths (`out`
    // holds the 32-byte MAC).
    unsafe {
        ffi::crypto_auth_hmacsha256_init(&mut *state, key.as_ptr(), key.len());
        ffi::crypto_auth_hmacsha256_update(&mut *state, data.as_ptr(), len_u64(data));
        ffi::crypto_auth_hmacsha256_final(&mut *state, out.as_mut_ptr());
    }
    wipe_state(&mut *state);
    out
}

/// SHA3-256 (FIPS 202).
pub fn sha3_256(data: &[u8]) -> [u8; 32] {
    ensure_init();
    let mut out = [0u8; 32];
    // SAFETY: `out` has the 32 bytes `crypto_hash_sha3256` writes; `data` is valid.
    unsafe { ffi::crypto_hash_sha3256(out.as_mut_ptr(), data.as_ptr(), len_u64(data)) };
    out
}

/// Incremental SHAKE256 (FIPS 202): absorb with [`Shake256::update`], then squeeze any amount.
pub struct Shake256 {
    state: Box<ffi::crypto_xof_shake256_state>,
    squeezing: bool,
}

impl Shake256 {
    /// A fresh SHAKE256 state.
    pub fn new() -> Self {
        ensure_init();
        let mut state = zeroed_state::<ffi::crypto_xof_shake256_state>();
        // SAFETY: `state` is a valid, aligned, writable state.
        unsafe { ffi::crypto_xof_shake256_init(&mut *state) };
        Self { state, squeezing: false }
    }

    /// Absorbs input. Absorbing after squeezing started is a logic error and panics in
    /// debug builds; it is ignored in release builds.
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        debug_assert!(!self.squeezing, "SHAKE256: update after squeeze");
        if !self.squeezing {
            // SAFETY: the state is initialised; `data` is valid for its length.
            unsafe {
                ffi::crypto_xof_shake256_update(&mut *self.state, data.as_ptr(), len_u64(data))
            };
        }
        self
    }

    /// Squeezes the next `out.len()` bytes of output.
    pub fn squeeze(&mut self, out: &mut [u8]) {
        self.squeezing = true;
        // SAFETY: the state is initialised; `out` is a valid writable slice.
        unsafe { ffi::crypto_xof_shake256_squeeze(&mut *self.state, out.as_mut_ptr(), out.len()) };
    }
}

impl Default for Shake256 {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Shake256 {
    fn drop(&mut self) {
        wipe_state(&mut *self.state);
    }
}

impl std::fmt::Debug for Shake256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shake256")
    }
}

/// One-shot SHAKE256 filling `out`.
pub fn shake256(data: &[u8], out: &mut [u8]) {
    ensure_init();
    // SAFETY: `out` and `data` are valid for their lengths.
    unsafe { ffi::crypto_xof_shake256(out.as_mut_ptr(), out.len(), data.as_ptr(), len_u64(data)) };
}
