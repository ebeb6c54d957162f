//! One share as words: its fields, the word encoding and the checks made when reading one.
//!
//! ```text
//! id 15 ‖ extendable 1 ‖ iteration exponent 4 ‖ group index 4 ‖ group threshold−1 4 ‖
//! group count−1 4 ‖ member index 4 ‖ member threshold−1 4 ‖ value (left-padded to a multiple
//! of 10 bits) ‖ RS1024 checksum 30
//! ```

use zeroize::Zeroizing;

use super::{rs1024, wordlist};
use crate::{Error, Result};

/// Words before the value: id/flag/exponent (2) and the group and member fields (2).
const PREFIX_WORDS: usize = 4;
/// Checksum words.
const CHECKSUM_WORDS: usize = 3;
/// The shortest share (a 128-bit secret).
pub(super) const MIN_WORDS: usize = PREFIX_WORDS + 13 + CHECKSUM_WORDS;
/// The longest share read (a 512-bit secret; SLIP-39 needs 128 and 256).
const MAX_WORDS: usize = PREFIX_WORDS + 52 + CHECKSUM_WORDS;

/// A parsed share. `Debug` does not show its value.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Share {
    pub(super) identifier: u16,
    pub(super) extendable: bool,
    pub(super) exponent: u8,
    pub(super) group_index: u8,
    pub(super) group_threshold: u8,
    pub(super) group_count: u8,
    pub(super) member_index: u8,
    pub(super) member_threshold: u8,
    pub(super) value: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Share")
            .field("group_index", &self.group_index)
            .field("member_index", &self.member_index)
            .finish_non_exhaustive()
    }
}

pub(super) fn customization(extendable: bool) -> &'static [u8] {
    if extendable { b"shamir_extendable" } else { b"shamir" }
}

/// Big-endian bits into 10-bit words.
fn to_words(value: &[u8], word_count: usize) -> Zeroizing<Vec<u16>> {
    let mut words = Zeroizing::new(vec![0u16; word_count]);
    let total_bits = word_count * 10;
    let value_bits = value.len() * 8;
    for bit in 0..value_bits {
        let set = (value[bit / 8] >> (7 - bit % 8)) & 1 == 1;
        if set {
            let pos = total_bits - value_bits + bit;
            words[pos / 10] |= 1 << (9 - pos % 10);
        }
    }
    words
}

impl Share {
    /// The share's words.
    pub(super) fn words(&self) -> Zeroizing<Vec<u16>> {
        let id_exp = (u32::from(self.identifier) << 5)
            | (u32::from(self.extendable) << 4)
            | u32::from(self.exponent);
        let params = (u32::from(self.group_index) << 16)
            | (u32::from(self.group_threshold - 1) << 12)
            | (u32::from(self.group_count - 1) << 8)
            | (u32::from(self.member_index) << 4)
            | u32::from(self.member_threshold - 1);
        let ten = |v: u32, shift: u32| u16::try_from((v >> shift) & 1023).unwrap_or(0);
        let mut words =
            Zeroizing::new(vec![ten(id_exp, 10), ten(id_exp, 0), ten(params, 10), ten(params, 0)]);
        words.extend_from_slice(&to_words(&self.value, (self.value.len() * 8).div_ceil(10)));
        let sum = rs1024::checksum(customization(self.extendable), &words);
        words.extend_from_slice(&sum);
        words
    }

    /// The share as a line of words.
    pub(super) fn mnemonic(&self) -> Zeroizing<String> {
        let words: Vec<&str> = self.words().iter().map(|&w| wordlist::word(w)).collect();
        Zeroizing::new(words.join(" "))
    }

    /// Reads share number `n` (1-based, for messages) from its words.
    pub(super) fn parse(n: usize, mnemonic: &str) -> Result<Self> {
        let typed: Zeroizing<Vec<String>> =
            Zeroizing::new(mnemonic.split_whitespace().map(str::to_lowercase).collect());
        let mut words = Zeroizing::new(Vec::with_capacity(typed.len()));
        for (i, w) in typed.iter().enumerate() {
            let index = wordlist::index(w).ok_or_else(|| {
                Error::Shares(format!("share {n}, word {}: {w:?} is not a SLIP-39 word", i + 1))
            })?;
            words.push(index);
        }
        let len = words.len();
        let value_words = len.saturating_sub(PREFIX_WORDS + CHECKSUM_WORDS);
        let padding = (10 * value_words) % 16;
        if len < MIN_WORDS || padding > 8 || len > MAX_WORDS {
            return Err(Error::Shares(format!(
                "share {n} has {len} words; a share has 20 words (33 for a 256-bit secret)"
            )));
        }
        let extendable = (words[1] >> 4) & 1 == 1;
        if !rs1024::verify(customization(extendable), &words) {
            let custom_of = |w: &[u16]| customization((w[1] >> 4) & 1 == 1);
            let hint = match rs1024::suspect_position(custom_of, &words) {
                Some(i) => format!(": word {} ({:?}) looks wrong", i + 1, typed[i]),
                None => ": more than one word is wrong, or words are out of order".to_owned(),
            };
            return Err(Error::Shares(format!("share {n} fails its checksum{hint}")));
        }
        let id_exp = (u32::from(words[0]) << 10) | u32::from(words[1]);
        let params = (u32::from(words[2]) << 10) | u32::from(words[3]);
        let nibble = |shift: u32| u8::try_from((params >> shift) & 15).unwrap_or(0);
        let share = Self {
            identifier: u16::try_from(id_exp >> 5).unwrap_or(0),
            extendable,
            exponent: u8::try_from(id_exp & 15).unwrap_or(0),
            group_index: nibble(16),
            group_threshold: nibble(12) + 1,
            group_count: nibble(8) + 1,
            member_index: nibble(4),
            member_threshold: nibble(0) + 1,
            value: Zeroizing::new(Vec::new()),
        };
        if share.group_threshold > share.group_count {
            return Err(Error::Shares(format!(
                "share {n} says {} groups are needed of only {}",
                share.group_threshold, share.group_count
            )));
        }
        // The value: its bits after the left padding, which must be zero.
        let value_bits = 10 * value_words - padding;
        let bit_of = |pos: usize| (words[PREFIX_WORDS + pos / 10] >> (9 - pos % 10)) & 1;
        if (0..padding).any(|p| bit_of(p) == 1) {
            return Err(Error::Shares(format!("share {n} has invalid padding")));
        }
        let mut value = Zeroizing::new(vec![0u8; value_bits / 8]);
        for bit in 0..value_bits {
            if bit_of(padding + bit) == 1 {
                value[bit / 8] |= 1 << (7 - bit % 8);
            }
        }
        Ok(Self { value, ..share })
    }
}
