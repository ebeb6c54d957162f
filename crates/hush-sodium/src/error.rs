//! The one error type of this crate.

/// What can go wrong in a libsodium call. Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// libsodium could not initialise (no OS random source).
    #[error("libsodium could not be initialised")]
    InitFailed,
    /// A byte string had the wrong length.
    #[error("{what} must be {expected} bytes, got {actual}")]
    InvalidLength {
        /// What the bytes were meant to be.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A length outside an allowed range (output sizes, key sizes, parameters).
    #[error("{what} must be between {min} and {max}, got {actual}")]
    LengthOutOfRange {
        /// What the length was for.
        what: &'static str,
        /// Smallest allowed value.
        min: usize,
        /// Largest allowed value.
        max: usize,
        /// The value given.
        actual: usize,
    },
    /// A signature did not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// Authenticated decryption failed: corrupted, truncated, or for another key.
    #[error("decryption failed: the data is corrupt or not meant for this key")]
    DecryptionFailed,
    /// A public key is not usable (not a curve point, or of small order).
    #[error("invalid public key: not a curve point or of small order")]
    InvalidPublicKey,
    /// A Diffie–Hellman result was all zeros (the peer sent a small-order point).
    #[error("key agreement produced an all-zero secret (small-order peer key)")]
    WeakSharedSecret,
    /// AES-256-GCM needs hardware support this CPU lacks.
    #[error(
        "AES-256-GCM is unavailable: libsodium needs a CPU with AES-NI and PCLMUL (x86-64) or \
         the ARMv8 crypto extensions; use XChaCha20-Poly1305 instead"
    )]
    AesGcmUnavailable,
    /// Argon2id failed, almost always because the memory limit could not be allocated.
    #[error("Argon2id failed: not enough memory for the requested limit")]
    PasswordHashFailed,
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
