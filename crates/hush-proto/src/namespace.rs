//! Storage namespaces: signed 16-bit numbers that partition an account's messages, with rules
//! about who may store and read (session-protocol.md §5.3).

use std::fmt;

/// A storage namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Namespace(pub i16);

impl Namespace {
    /// 0: 1:1 messages and their sync copies (public inbox).
    pub const DEFAULT: Self = Self(0);
    /// 2: UserProfile config.
    pub const USER_PROFILE: Self = Self(2);
    /// 3: Contacts config.
    pub const CONTACTS: Self = Self(3);
    /// 4: ConvoInfoVolatile config.
    pub const CONVO_INFO_VOLATILE: Self = Self(4);
    /// 5: UserGroups config.
    pub const USER_GROUPS: Self = Self(5);
    /// 11: group (v2) messages.
    pub const GROUP_MESSAGES: Self = Self(11);
    /// 12: group keys config.
    pub const GROUP_KEYS: Self = Self(12);
    /// 13: group info config.
    pub const GROUP_INFO: Self = Self(13);
    /// 14: group members config.
    pub const GROUP_MEMBERS: Self = Self(14);
    /// −10: legacy closed-group messages (unauthenticated; deprecated).
    pub const LEGACY_CLOSED_GROUP: Self = Self(-10);
    /// −11: group messages revoked members may still read.
    pub const REVOKED_RETRIEVABLE_GROUP_MESSAGES: Self = Self(-11);

    /// Anyone may store here without authentication (`ns % 10 == 0`).
    pub fn is_public_inbox(self) -> bool {
        self.0 % 10 == 0
    }

    /// A single-message slot readable without authentication (`ns < 0 && −ns % 20 == 1`).
    pub fn is_public_outbox(self) -> bool {
        self.0 < 0 && (-i32::from(self.0)) % 20 == 1
    }

    /// Revoked subaccounts may still read here (`ns < 0 && −ns % 100 == 11`).
    pub fn is_unrevocable(self) -> bool {
        self.0 < 0 && (-i32::from(self.0)) % 100 == 11
    }

    /// Reading needs no authentication: −10 and public outboxes.
    pub fn is_public_read(self) -> bool {
        self == Self::LEGACY_CLOSED_GROUP || self.is_public_outbox()
    }

    /// The namespace as it appears in signed strings and message hashes: empty for 0, the
    /// decimal number otherwise.
    pub fn signature_part(self) -> String {
        if self.0 == 0 { String::new() } else { self.0.to_string() }
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Namespace;

    #[test]
    fn rules_match_the_storage_server() {
        assert!(Namespace(0).is_public_inbox());
        assert!(Namespace(-10).is_public_inbox());
        assert!(!Namespace(2).is_public_inbox());
        assert!(Namespace(-21).is_public_outbox());
        assert!(Namespace(-1).is_public_outbox());
        assert!(!Namespace(-11).is_public_outbox());
        assert!(Namespace(-11).is_unrevocable());
        assert!(Namespace(-111).is_unrevocable());
        assert!(!Namespace(11).is_unrevocable());
        assert!(Namespace(-10).is_public_read());
        assert!(Namespace(i16::MIN).is_public_inbox() == (i16::MIN % 10 == 0));
        assert_eq!(Namespace(0).signature_part(), "");
        assert_eq!(Namespace(-11).signature_part(), "-11");
    }
}
