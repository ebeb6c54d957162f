//! Argon2id password hashing (`crypto_pwhash` with `ALG_ARGON2ID13`), for keys derived from
//! passphrases.

use libsodium_sys as ffi;

use crate::{Error, Result, ensure_init, len_u64};

/// Salt length.
pub const SALT_LEN: usize = 16;

/// Cost parameters: passes over memory and memory in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// Number of passes (`opslimit`), at least 1.
    pub passes: u64,
    /// Memory in bytes (`memlimit`), at least 8 KiB.
    pub memory_bytes: usize,
}

impl Argon2Params {
    /// libsodium's "interactive" limits: 2 passes, 64 MiB.
    pub const INTERACTIVE: Self = Self { passes: 2, memory_bytes: 64 << 20 };
    /// libsodium's "moderate" limits: 3 passes, 256 MiB (about 0.7 s on one core here).
    pub const MODERATE: Self = Self { passes: 3, memory_bytes: 256 << 20 };
}

/// Fills `out` (16 bytes or more) with Argon2id(password, salt) under `params`.
pub fn argon2id(
    out: &mut [u8],
    password: &[u8],
    salt: &[u8; SALT_LEN],
    params: Argon2Params,
) -> Result<()> {
    ensure_init();
    if out.len() < 16 {
        return Err(Error::LengthOutOfRange {
            what: "Argon2id output",
            min: 16,
            max: usize::MAX,
            actual: out.len(),
        });
    }
    // SAFETY: `out`, `password` and the 16-byte salt are valid for their lengths; libsodium
    // validates the limits and returns -1 for unsupported values or failed allocation.
    let rc = unsafe {
        ffi::crypto_pwhash(
            out.as_mut_ptr(),
            len_u64(out),
            password.as_ptr().cast(),
            len_u64(password),
            salt.as_ptr(),
            params.passes,
            params.memory_bytes,
            ffi::crypto_pwhash_ALG_ARGON2ID13 as i32,
        )
    };
    if rc == 0 { Ok(()) } else { Err(Error::PasswordHashFailed) }
}
