//! Recovery passwords: Session's mnemonic word encoding (session-protocol.md §2).
//!
//! Every 4 bytes (a little-endian `u32`) become 3 words of a 1626-word list; a 13th word
//! repeats one of the 12 data words, chosen by a CRC-32 of their 3-letter prefixes, as a
//! checksum. Words are recognised by their first three letters, case-insensitively, so
//! "Amazing" and "ama" both mean "amaze".

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use zeroize::{Zeroize, Zeroizing};

use crate::account::AccountSeed;
use crate::{Error, Result};

/// Number of words in the list.
pub const WORD_COUNT: usize = 1626;
/// Letters that identify a word.
pub const PREFIX_LEN: usize = 3;
/// Words in a standard recovery password (16-byte seed).
pub const RECOVERY_PASSWORD_WORDS: usize = 13;
/// Words in a legacy recovery password (32-byte seed).
pub const LEGACY_RECOVERY_PASSWORD_WORDS: usize = 25;

const N: u64 = WORD_COUNT as u64;

/// The English word list, in order.
pub fn words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let list: Vec<&str> = include_str!("mnemonic/english.txt").lines().collect();
        assert_eq!(list.len(), WORD_COUNT, "invariant: the bundled word list has 1626 words");
        list
    })
}

/// Word index by 3-letter prefix.
fn index_by_prefix() -> &'static HashMap<&'static str, u16> {
    static INDEX: OnceLock<HashMap<&'static str, u16>> = OnceLock::new();
    INDEX.get_or_init(|| {
        words()
            .iter()
            .enumerate()
            .map(|(i, w)| (&w[..PREFIX_LEN], u16::try_from(i).expect("invariant: 1626 < 2^16")))
            .collect()
    })
}

/// The index of `word`, matched by its first three letters (case-insensitive).
fn lookup(word: &str) -> Option<u16> {
    let lower = Zeroizing::new(word.to_ascii_lowercase());
    let prefix = lower.get(..PREFIX_LEN)?;
    index_by_prefix().get(prefix).copied()
}

/// Which data word the checksum word repeats: CRC-32 of the data words' 3-letter prefixes,
/// modulo their number. `data` is not empty.
fn checksum_index(data: &[u16]) -> usize {
    let list = words();
    let mut prefixes = Zeroizing::new(String::with_capacity(data.len() * PREFIX_LEN));
    for &i in data {
        prefixes.push_str(&list[usize::from(i)][..PREFIX_LEN]);
    }
    let crc = crc32fast::hash(prefixes.as_bytes());
    // usize is at least 32 bits on every supported target.
    crc as usize % data.len()
}

/// Word indices for `bytes` (a multiple of 4), with the checksum index if `with_checksum`.
fn encode_indices(bytes: &[u8], with_checksum: bool) -> Result<Zeroizing<Vec<u16>>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(Error::MnemonicInputLength(bytes.len()));
    }
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len() / 4 * 3 + 1));
    for chunk in bytes.chunks_exact(4) {
        let mut x = u64::from(u32::from_le_bytes(chunk.try_into().expect("chunks_exact(4)")));
        let w1 = x % N;
        x /= N;
        let w2 = (x + w1) % N;
        x /= N;
        let w3 = (x + w2) % N;
        x.zeroize();
        // Indices are < 1626, so the conversions cannot fail.
        out.extend([w1, w2, w3].map(|w| u16::try_from(w).expect("index < 1626")));
    }
    if with_checksum && !out.is_empty() {
        let checksum = out[checksum_index(&out)];
        out.push(checksum);
    }
    Ok(out)
}

/// Encodes `bytes` (a multiple of 4) as words, with the checksum word if `with_checksum`.
pub fn encode(bytes: &[u8], with_checksum: bool) -> Result<Vec<&'static str>> {
    let list = words();
    Ok(encode_indices(bytes, with_checksum)?.iter().map(|&i| list[usize::from(i)]).collect())
}

/// Decodes words back into bytes. A count divisible by 3 has no checksum word; one more than
/// a multiple of 3 ends with a checksum word, which must match.
pub fn decode(input: &[&str]) -> Result<Zeroizing<Vec<u8>>> {
    let with_checksum = input.len() % 3 == 1;
    if input.len() < 3 || input.len() % 3 == 2 {
        return Err(Error::WordCount(input.len()));
    }
    let mut indices = Zeroizing::new(Vec::with_capacity(input.len()));
    for (i, word) in input.iter().enumerate() {
        let index = lookup(word).ok_or_else(|| Error::UnknownWord {
            position: i + 1,
            word: word.to_ascii_lowercase(),
        })?;
        indices.push(index);
    }
    let data_len = if with_checksum { input.len() - 1 } else { input.len() };
    if with_checksum && indices[data_len] != indices[checksum_index(&indices[..data_len])] {
        return Err(Error::ChecksumMismatch);
    }
    let mut out = Zeroizing::new(Vec::with_capacity(data_len / 3 * 4));
    for (group, triple) in indices[..data_len].chunks_exact(3).enumerate() {
        let [a, b, c] = [triple[0], triple[1], triple[2]].map(u64::from);
        let mut x = a + N * ((N - a + b) % N) + N * N * ((N - b + c) % N);
        let value =
            u32::try_from(x).map_err(|_| Error::InvalidWordGroup { position: group * 3 + 1 });
        x.zeroize();
        out.extend_from_slice(&value?.to_le_bytes());
    }
    Ok(out)
}

/// A validated recovery password: 13 words (or 25 for legacy accounts), lower case, single
/// spaces. Secret: wiped on drop, redacted in `Debug`.
#[derive(Clone)]
pub struct RecoveryPassword(Zeroizing<String>);

impl RecoveryPassword {
    /// The recovery password of `seed`.
    pub fn from_seed(seed: &AccountSeed) -> Self {
        let indices =
            encode_indices(seed.entropy(), true).expect("invariant: seeds are 16 or 32 bytes");
        let list = words();
        // Sized exactly, so the string never reallocates and leaves no stray copy behind.
        let len = indices.iter().map(|&i| list[usize::from(i)].len() + 1).sum::<usize>() - 1;
        let mut phrase = Zeroizing::new(String::with_capacity(len));
        for (n, &i) in indices.iter().enumerate() {
            if n > 0 {
                phrase.push(' ');
            }
            phrase.push_str(list[usize::from(i)]);
        }
        Self(phrase)
    }

    /// Parses what a user typed: any case, any whitespace between words; words may be given
    /// by their first three letters. Returns the account seed.
    pub fn parse(input: &str) -> Result<AccountSeed> {
        let words: Vec<&str> = input.split_whitespace().collect();
        match words.len() {
            RECOVERY_PASSWORD_WORDS | LEGACY_RECOVERY_PASSWORD_WORDS => {}
            n @ (12 | 24) => return Err(Error::MissingChecksumWord(n)),
            n => return Err(Error::WordCount(n)),
        }
        let entropy = decode(&words)?;
        AccountSeed::from_entropy(&entropy)
    }

    /// The words, separated by single spaces. Show this only when the user asks for it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RecoveryPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryPassword([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_list_has_unique_three_letter_prefixes() {
        assert_eq!(words().len(), WORD_COUNT);
        assert_eq!(index_by_prefix().len(), WORD_COUNT);
        assert_eq!(words()[0], "abbey");
        assert_eq!(words()[WORD_COUNT - 1], "zoom");
    }

    #[test]
    fn rejects_wrong_counts_and_unknown_words() {
        assert!(matches!(RecoveryPassword::parse(""), Err(Error::WordCount(0))));
        assert!(matches!(
            RecoveryPassword::parse(&"abbey ".repeat(12)),
            Err(Error::MissingChecksumWord(12))
        ));
        assert!(matches!(RecoveryPassword::parse(&"abbey ".repeat(14)), Err(Error::WordCount(14))));
        let err =
            RecoveryPassword::parse(&format!("{}xylophone", "abbey ".repeat(12))).unwrap_err();
        assert!(matches!(&err, Error::UnknownWord { position: 13, word } if word == "xylophone"));
        assert_eq!(
            err.to_string(),
            "word 13 (\"xylophone\") is not in the recovery password word list"
        );
        // Words shorter than the prefix cannot be matched.
        assert!(matches!(
            RecoveryPassword::parse(&format!("ab {}", "abbey ".repeat(12))),
            Err(Error::UnknownWord { position: 1, .. })
        ));
    }

    #[test]
    fn triples_that_overflow_32_bits_are_rejected() {
        // a = 1625, b = 1624, c = 1623 gives x = 1625 + N·1625 + N²·1625 > 2³² − 1.
        let list = words();
        let w = [list[1625], list[1624], list[1623]];
        assert!(matches!(decode(&w), Err(Error::InvalidWordGroup { position: 1 })));
    }

    #[test]
    fn debug_is_redacted() {
        let seed = AccountSeed::from_entropy(&[1; 16]).unwrap();
        assert_eq!(format!("{:?}", seed.recovery_password()), "RecoveryPassword([REDACTED])");
    }
}
