//! Request authentication (session-protocol.md §5.4): Ed25519 signatures by the account's
//! key, or by a subaccount key holding a token signed by the account's key.

use hush_proto::namespace::Namespace;
use hush_proto::{AccountId, IdPrefix};
use hush_sodium::ed25519::Ed25519PublicKey;

use super::params::Auth;
use crate::store::Store;

/// Subaccount permission flags (token byte 1).
pub(crate) mod flags {
    /// May retrieve.
    pub(crate) const READ: u8 = 0x01;
    /// May store and extend expiries.
    pub(crate) const WRITE: u8 = 0x02;
    /// May delete and shorten expiries.
    pub(crate) const DELETE: u8 = 0x04;
    /// The token's prefix need not match the account's.
    pub(crate) const ANY_PREFIX: u8 = 0x08;
}

/// What a request is allowed to do, for the checks that depend on it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Need {
    /// Permission flags a subaccount must have.
    pub(crate) flags: u8,
    /// Whether subaccounts may be used at all (revocation requests: main key only).
    pub(crate) subaccounts: bool,
    /// The namespace, if the request reads one (revoked subaccounts may still read
    /// unrevocable namespaces).
    pub(crate) read_namespace: Option<Namespace>,
}

/// The key that speaks for the account itself: for a 05 account the `pubkey_ed25519` (which
/// must convert to the Account ID's X25519 key), otherwise the 32 bytes after the prefix.
fn main_key(account: &AccountId, auth: &Auth) -> Option<Ed25519PublicKey> {
    if account.prefix() == IdPrefix::Standard {
        let ed = auth.pubkey_ed25519?;
        let x = ed.to_x25519().ok()?;
        (x.as_bytes() == account.key_bytes()).then_some(ed)
    } else {
        Some(Ed25519PublicKey::from_bytes(*account.key_bytes()))
    }
}

/// Checks the request's signature over `message`. Every failure is the same `false`: the
/// client learns nothing about which check failed.
pub(crate) async fn verify(
    store: &Store,
    account: &AccountId,
    auth: &Auth,
    message: &[u8],
    need: Need,
) -> bool {
    let Some(signature) = auth.signature else { return false };
    let Some(main) = main_key(account, auth) else { return false };
    let Some((token, token_sig)) = auth.subaccount.filter(|_| need.subaccounts) else {
        return main.verify(message, &signature).is_ok();
    };
    let exempt_from_revocation = need.read_namespace.is_some_and(Namespace::is_unrevocable);
    if !exempt_from_revocation && store.is_revoked(*account, token).await.unwrap_or(true) {
        return false;
    }
    let token_flags = token[1];
    if token[0] != account.prefix().byte() && token_flags & flags::ANY_PREFIX == 0 {
        return false;
    }
    if token_flags & need.flags != need.flags {
        return false;
    }
    if main.verify(&token, &token_sig).is_err() {
        return false;
    }
    let sub_key =
        Ed25519PublicKey::from_bytes(token[4..36].try_into().expect("a token is 36 bytes"));
    sub_key.verify(message, &signature).is_ok()
}

/// The flags of a subaccount token, if the request carries one.
pub(crate) fn subaccount_flags(auth: &Auth) -> Option<u8> {
    auth.subaccount.map(|(token, _)| token[1])
}
