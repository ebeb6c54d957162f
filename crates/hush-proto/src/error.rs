//! The one error type of hush-proto.
//!
//! Messages name the problem precisely enough for a user to fix it, and never contain keys,
//! plaintext or full Account IDs.

/// Everything that can go wrong while encoding, decoding, encrypting or decrypting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An Account ID string is not 66 characters long.
    #[error("an Account ID is 66 hex characters (33 bytes), got {0} characters")]
    AccountIdLength(usize),
    /// An Account ID contains a non-hex character.
    #[error("an Account ID contains only hex digits 0-9 and a-f")]
    AccountIdNotHex,
    /// The first byte of an Account ID is not a known prefix.
    #[error("unknown Account ID prefix {0:02x} (expected 05, 03, 15 or 25)")]
    AccountIdPrefix(u8),
    /// An Account ID of one kind was given where another was needed.
    #[error(
        "expected an Account ID starting with {expected:02x}, got one starting with {actual:02x}"
    )]
    WrongAccountKind {
        /// Required prefix.
        expected: u8,
        /// Given prefix.
        actual: u8,
    },
    /// An account seed has the wrong length.
    #[error("an account seed is 16 bytes (32 for legacy accounts), got {0}")]
    SeedLength(usize),

    /// A recovery-password word is not in the word list.
    #[error("word {position} ({word:?}) is not in the recovery password word list")]
    UnknownWord {
        /// 1-based position of the word.
        position: usize,
        /// The word as typed (lower-cased).
        word: String,
    },
    /// A recovery password has the wrong number of words.
    #[error("a recovery password has 13 words (25 for legacy accounts), got {0}")]
    WordCount(usize),
    /// The last (checksum) word is missing.
    #[error("{0} words: the last word of the recovery password (a checksum) is missing")]
    MissingChecksumWord(usize),
    /// The checksum word does not match the other words.
    #[error(
        "the recovery password's checksum does not match: a word is wrong, or two words are \
         swapped"
    )]
    ChecksumMismatch,
    /// Three consecutive words do not encode a 32-bit value.
    #[error("words {position} to {} do not form a valid group of three", position + 2)]
    InvalidWordGroup {
        /// 1-based position of the group's first word.
        position: usize,
    },
    /// Bytes to encode as words are not a multiple of 4.
    #[error("only whole 4-byte groups can be encoded as words, got {0} bytes")]
    MnemonicInputLength(usize),

    /// A V1 message could not be opened: not for us, or corrupted.
    #[error("message decryption failed: it is not for this account, or it is corrupted")]
    DecryptionFailed,
    /// A signature did not verify.
    #[error("the sender's signature does not verify")]
    BadSignature,
    /// Input ended before a fixed-size part.
    #[error("{0} is truncated")]
    Truncated(&'static str),
    /// Input exceeds a protocol limit.
    #[error("{what} is too large: {actual} bytes, the limit is {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit.
        max: usize,
        /// The size given.
        actual: usize,
    },

    /// A protobuf could not be decoded.
    #[error("malformed {what} protobuf")]
    Protobuf {
        /// Which message type.
        what: &'static str,
        /// The decoder's complaint.
        #[source]
        source: prost::DecodeError,
    },
    /// An envelope or its wrapper is structurally wrong.
    #[error("invalid envelope: {0}")]
    InvalidEnvelope(&'static str),
    /// `Content.sigTimestamp` disagrees with `Envelope.timestamp`.
    #[error("the signed timestamp does not match the envelope timestamp")]
    TimestampMismatch,

    /// An onion layer is malformed.
    #[error("malformed onion layer: {0}")]
    OnionLayer(&'static str),
    /// An onion layer names an encryption type we do not speak.
    #[error("unsupported onion encryption type {0:?}")]
    UnsupportedEncType(String),

    /// A config encryption domain is empty or too long.
    #[error("a config encryption domain is 1 to 32 bytes, got {0}")]
    ConfigDomain(usize),

    /// A network registry is malformed, badly signed or inconsistent.
    #[error("invalid network registry: {0}")]
    InvalidRegistry(&'static str),

    /// A message hash is not 43 characters of unpadded base64.
    #[error("a message hash is 43 characters of unpadded base64")]
    InvalidMessageHash,

    /// Bencoded data (a config message) is malformed.
    #[error("malformed bencode: {0}")]
    Bencode(&'static str),
    /// SLIP-39 shares are malformed, inconsistent or too few; the text names the share (by
    /// its 1-based position in the input), the word and what is missing.
    #[error("{0}")]
    Shares(String),
    /// SLIP-39 shares are fine so far but not enough: the text says how many more, per group.
    #[error("not enough shares: {0}")]
    SharesMissing(String),
    /// A SLIP-39 split was asked with impossible parameters.
    #[error("{0}")]
    ShareScheme(String),

    /// A primitive failed (bad key, wrong length, failed authentication).
    #[error(transparent)]
    Crypto(#[from] hush_sodium::Error),
}

/// `Result` with hush-proto's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
