//! The storage server's message hash (session-protocol.md §5.7): how a stored message is named
//! in `retrieve` (`last_hash`), `delete`, `expire` and replication.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hush_sodium::hash::Blake2b;

use crate::account::AccountId;
use crate::namespace::Namespace;
use crate::{Error, Result};

/// `base64_nopad(BLAKE2b-32(account ID (33 bytes) ‖ namespace string ‖ data))`: 43 characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageHash(String);

impl MessageHash {
    /// Length in characters.
    pub const LEN: usize = 43;

    /// The hash of `data` stored for `account` in `namespace`.
    pub fn compute(account: &AccountId, namespace: Namespace, data: &[u8]) -> Self {
        let mut hash = Blake2b::<32>::new();
        hash.update(account.as_bytes()).update(namespace.signature_part().as_bytes()).update(data);
        Self(STANDARD_NO_PAD.encode(hash.finalize()))
    }

    /// Validates a hash received from elsewhere: 43 characters that decode to 32 bytes.
    pub fn parse(s: &str) -> Result<Self> {
        if s.len() != Self::LEN {
            return Err(Error::InvalidMessageHash);
        }
        let mut raw = [0u8; 33];
        match STANDARD_NO_PAD.decode_slice(s, &mut raw) {
            Ok(32) => Ok(Self(s.to_owned())),
            _ => Err(Error::InvalidMessageHash),
        }
    }

    /// The 43-character string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageHash({})", self.0)
    }
}

impl FromStr for MessageHash {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::MessageHash;

    #[test]
    fn parse_accepts_only_43_char_unpadded_base64() {
        assert!(MessageHash::parse("MNMvcJftLpEmkC5rcENyXu/R0gqOJ1eW24SiC5ZVC3c").is_ok());
        assert!(MessageHash::parse("MNMvcJftLpEmkC5rcENyXu/R0gqOJ1eW24SiC5ZVC3").is_err());
        assert!(MessageHash::parse("MNMvcJftLpEmkC5rcENyXu/R0gqOJ1eW24SiC5ZVC3=").is_err());
        assert!(MessageHash::parse("MNMvcJftLpEmkC5rcENyXu/R0gqOJ1eW24SiC5ZVC3!").is_err());
        assert!(MessageHash::parse("").is_err());
    }
}
