//! Account IDs, account seeds and the keys derived from them (session-protocol.md §1).
//!
//! A Session account is a 16-byte random seed. Padded with 16 zero bytes it is an Ed25519
//! seed; the Ed25519 key converts to an X25519 key; the Account ID is `05 ‖ X25519 public key`.

use std::fmt;
use std::str::FromStr;

use hush_sodium::ed25519::{Ed25519KeyPair, Ed25519PublicKey};
use hush_sodium::x25519::{X25519KeyPair, X25519PublicKey};
use hush_sodium::{Csprng, Secret};

use crate::mnemonic::RecoveryPassword;
use crate::{Error, Result};

/// The first byte of a 33-byte ID: what kind of key the remaining 32 bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum IdPrefix {
    /// `05`: a standard account; the key is X25519.
    Standard = 0x05,
    /// `03`: a group (v2); the key is the group's Ed25519 key.
    Group = 0x03,
    /// `15`: a community-blinded ID (legacy blinding); the key is Ed25519.
    Blinded15 = 0x15,
    /// `25`: a community-blinded ID; the key is Ed25519.
    Blinded25 = 0x25,
}

impl IdPrefix {
    /// The prefix for a byte, if known.
    pub fn from_byte(b: u8) -> Result<Self> {
        match b {
            0x05 => Ok(Self::Standard),
            0x03 => Ok(Self::Group),
            0x15 => Ok(Self::Blinded15),
            0x25 => Ok(Self::Blinded25),
            other => Err(Error::AccountIdPrefix(other)),
        }
    }

    /// The prefix byte.
    pub fn byte(self) -> u8 {
        self as u8
    }
}

/// A 33-byte Session ID: a [`IdPrefix`] byte and a 32-byte public key, written as 66 lowercase
/// hex characters.
///
/// `Display` prints the full hex (for users); `Debug` prints only a prefix so that an ID that
/// slips into a log line does not identify anyone.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 33]);

impl AccountId {
    /// Length in bytes.
    pub const LEN: usize = 33;

    /// Validates the prefix of 33 raw bytes.
    pub fn from_bytes(bytes: [u8; 33]) -> Result<Self> {
        IdPrefix::from_byte(bytes[0])?;
        Ok(Self(bytes))
    }

    /// Validates a 33-byte slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; 33] =
            bytes.try_into().map_err(|_| Error::AccountIdLength(bytes.len() * 2))?;
        Self::from_bytes(bytes)
    }

    /// An ID from its parts.
    pub fn new(prefix: IdPrefix, key: [u8; 32]) -> Self {
        let mut bytes = [0u8; 33];
        bytes[0] = prefix.byte();
        bytes[1..].copy_from_slice(&key);
        Self(bytes)
    }

    /// The standard (`05`) Account ID of an X25519 public key.
    pub fn from_x25519(key: &X25519PublicKey) -> Self {
        Self::new(IdPrefix::Standard, *key.as_bytes())
    }

    /// Parses 66 hex characters (either case).
    pub fn parse(s: &str) -> Result<Self> {
        if s.len() != 66 {
            return Err(Error::AccountIdLength(s.chars().count()));
        }
        let mut bytes = [0u8; 33];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| Error::AccountIdNotHex)?;
        Self::from_bytes(bytes)
    }

    /// The kind of ID.
    pub fn prefix(&self) -> IdPrefix {
        IdPrefix::from_byte(self.0[0]).expect("invariant: validated at construction")
    }

    /// All 33 bytes.
    pub fn as_bytes(&self) -> &[u8; 33] {
        &self.0
    }

    /// The 32-byte key after the prefix.
    pub fn key_bytes(&self) -> &[u8; 32] {
        self.0[1..].try_into().expect("invariant: 33 - 1 = 32")
    }

    /// The X25519 key of a standard (`05`) account.
    pub fn x25519(&self) -> Result<X25519PublicKey> {
        self.expect_prefix(IdPrefix::Standard)?;
        Ok(X25519PublicKey::from_bytes(*self.key_bytes()))
    }

    /// Fails unless the ID has `prefix`.
    pub fn expect_prefix(&self, prefix: IdPrefix) -> Result<()> {
        if self.0[0] == prefix.byte() {
            Ok(())
        } else {
            Err(Error::WrongAccountKind { expected: prefix.byte(), actual: self.0[0] })
        }
    }

    /// Lowercase hex, 66 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({}…)", &self.to_hex()[..8])
    }
}

impl FromStr for AccountId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// The secret an account is made of: 16 random bytes (32 for accounts from legacy 25-word
/// recovery passwords). Wiped on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct AccountSeed {
    /// The Ed25519 seed: the entropy, zero-padded to 32 bytes.
    ed25519_seed: Secret<32>,
    /// 16 or 32: how many bytes of `ed25519_seed` are entropy.
    len: usize,
}

impl AccountSeed {
    /// A fresh 16-byte seed.
    pub fn generate(rng: &mut impl Csprng) -> Self {
        let entropy = Secret::<16>::random(rng);
        Self::from_entropy(entropy.expose()).expect("invariant: 16 bytes")
    }

    /// From 16 bytes (standard) or 32 bytes (legacy).
    pub fn from_entropy(entropy: &[u8]) -> Result<Self> {
        if entropy.len() != 16 && entropy.len() != 32 {
            return Err(Error::SeedLength(entropy.len()));
        }
        let mut ed25519_seed = Secret::<32>::zeroed();
        ed25519_seed.expose_mut()[..entropy.len()].copy_from_slice(entropy);
        Ok(Self { ed25519_seed, len: entropy.len() })
    }

    /// The entropy: 16 bytes, or 32 for legacy accounts. Secret.
    pub fn entropy(&self) -> &[u8] {
        &self.ed25519_seed.expose()[..self.len]
    }

    /// Whether this is a legacy 32-byte seed.
    pub fn is_legacy(&self) -> bool {
        self.len == 32
    }

    /// The 32-byte Ed25519 seed (the entropy padded with zero bytes).
    pub fn ed25519_seed(&self) -> &Secret<32> {
        &self.ed25519_seed
    }

    /// The recovery password that encodes this seed (13 words, or 25 for legacy seeds).
    pub fn recovery_password(&self) -> RecoveryPassword {
        RecoveryPassword::from_seed(self)
    }
}

impl fmt::Debug for AccountSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountSeed({} bytes, [REDACTED])", self.len)
    }
}

/// An account's keys: Ed25519 (signing), X25519 (encryption) and the Account ID.
#[derive(Clone, Debug)]
pub struct Identity {
    ed25519: Ed25519KeyPair,
    x25519: X25519KeyPair,
    account_id: AccountId,
}

impl Identity {
    /// Derives the keys of the account `seed`.
    pub fn from_seed(seed: &AccountSeed) -> Self {
        let ed25519 = Ed25519KeyPair::from_seed(seed.ed25519_seed());
        let x25519 = ed25519
            .to_x25519()
            .expect("invariant: the public key of a seed keypair is a valid point");
        let account_id = AccountId::from_x25519(x25519.public());
        Self { ed25519, x25519, account_id }
    }

    /// The Ed25519 keypair (signs messages and storage requests).
    pub fn ed25519(&self) -> &Ed25519KeyPair {
        &self.ed25519
    }

    /// The Ed25519 public key.
    pub fn ed25519_public(&self) -> &Ed25519PublicKey {
        self.ed25519.public()
    }

    /// The X25519 keypair (opens messages addressed to the account).
    pub fn x25519(&self) -> &X25519KeyPair {
        &self.x25519
    }

    /// The `05…` Account ID.
    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_validates_length_hex_and_prefix() {
        let ok = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
        let id: AccountId = ok.parse().unwrap();
        assert_eq!(id.prefix(), IdPrefix::Standard);
        assert_eq!(id.to_string(), ok);
        assert_eq!(AccountId::parse(&ok.to_uppercase()).unwrap(), id);
        assert!(matches!(AccountId::parse(&ok[..64]), Err(Error::AccountIdLength(64))));
        let not_hex = format!("{}zz", &ok[..64]);
        assert!(matches!(AccountId::parse(&not_hex), Err(Error::AccountIdNotHex)));
        let bad_prefix = format!("07{}", &ok[2..]);
        assert!(matches!(AccountId::parse(&bad_prefix), Err(Error::AccountIdPrefix(0x07))));
        for p in ["03", "15", "25"] {
            assert!(AccountId::parse(&format!("{p}{}", &ok[2..])).is_ok());
        }
        assert!(matches!(
            AccountId::parse(&format!("03{}", &ok[2..])).unwrap().x25519(),
            Err(Error::WrongAccountKind { expected: 0x05, actual: 0x03 })
        ));
    }

    #[test]
    fn debug_hides_most_of_the_id() {
        let id = AccountId::new(IdPrefix::Standard, [0xab; 32]);
        assert_eq!(format!("{id:?}"), "AccountId(05ababab…)");
    }

    #[test]
    fn seeds_are_16_or_32_bytes_and_redacted() {
        assert!(matches!(AccountSeed::from_entropy(&[0; 15]), Err(Error::SeedLength(15))));
        let s = AccountSeed::from_entropy(&[7; 16]).unwrap();
        assert_eq!(&s.ed25519_seed().expose()[..16], &[7; 16]);
        assert_eq!(&s.ed25519_seed().expose()[16..], &[0; 16]);
        assert!(!s.is_legacy());
        assert_eq!(format!("{s:?}"), "AccountSeed(16 bytes, [REDACTED])");
        assert!(AccountSeed::from_entropy(&[7; 32]).unwrap().is_legacy());
    }
}
