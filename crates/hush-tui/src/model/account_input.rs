//! Starting a conversation: an Account ID pasted or typed, validated as it is written.

use hush_client::AccountId;
use hush_proto::IdPrefix;

/// Where the Account ID being typed stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdCheck {
    /// Nothing typed.
    Empty,
    /// So far so good: `typed` of 66 hex characters.
    Partial {
        /// Characters typed.
        typed: usize,
    },
    /// A complete Account ID that can be messaged.
    Valid(AccountId),
    /// Wrong, and why.
    Invalid(String),
}

/// Checks an Account ID as typed (spaces around it ignored).
pub fn check_account_id(input: &str) -> IdCheck {
    let s = input.trim();
    if s.is_empty() {
        return IdCheck::Empty;
    }
    if let Some(bad) = s.chars().find(|c| !c.is_ascii_hexdigit()) {
        return IdCheck::Invalid(format!("{bad:?} is not a hex digit"));
    }
    if !"05".starts_with(&s[..s.len().min(2)]) {
        return IdCheck::Invalid("Account IDs start with 05".to_owned());
    }
    match s.len() {
        n if n < 66 => IdCheck::Partial { typed: n },
        66 => match s.parse::<AccountId>() {
            Ok(id) if id.prefix() == IdPrefix::Standard => IdCheck::Valid(id),
            Ok(_) => IdCheck::Invalid("not a 05 Account ID".to_owned()),
            Err(e) => IdCheck::Invalid(e.to_string()),
        },
        n => IdCheck::Invalid(format!("{n} characters; an Account ID has 66")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_as_they_are_typed() {
        let id = "05d871fc80ca007eed9b2f4df72853e2a2d5465a92fcb1889fb5c84aa2833b3b40";
        assert_eq!(check_account_id(""), IdCheck::Empty);
        assert_eq!(check_account_id("0"), IdCheck::Partial { typed: 1 });
        assert_eq!(check_account_id(&id[..20]), IdCheck::Partial { typed: 20 });
        assert!(
            matches!(check_account_id(&format!(" {id} ")), IdCheck::Valid(v) if v.to_string() == id)
        );
        assert!(matches!(check_account_id("15ab"), IdCheck::Invalid(_)));
        assert!(matches!(check_account_id("05xy"), IdCheck::Invalid(_)));
        assert!(matches!(check_account_id(&format!("{id}0")), IdCheck::Invalid(_)));
        assert!(matches!(check_account_id(&format!("03{}", &id[2..])), IdCheck::Invalid(_)));
    }
}
