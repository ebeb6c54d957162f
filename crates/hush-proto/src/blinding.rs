//! Community-blinded IDs (session-protocol.md §1.3): the `15…` and `25…` IDs under which an
//! account appears on a community server, unlinkable across servers.

use hush_sodium::ed25519::{self, Ed25519PublicKey};
use hush_sodium::hash::Blake2b;

use crate::Result;
use crate::account::{AccountId, IdPrefix};

/// `k = BLAKE2b-512(server key) mod L`: the 15-blinding factor, the same for every account.
fn blind15_factor(server_pk: &[u8; 32]) -> [u8; 32] {
    let mut h = Blake2b::<64>::new();
    h.update(server_pk);
    ed25519::scalar_reduce(&h.finalize())
}

/// `k = BLAKE2b-512(05 ‖ account key ‖ server key) mod L`: the per-account 25-blinding factor.
fn blind25_factor(account: &AccountId, server_pk: &[u8; 32]) -> [u8; 32] {
    let mut h = Blake2b::<64>::new();
    h.update(account.as_bytes()).update(server_pk);
    ed25519::scalar_reduce(&h.finalize())
}

/// The Ed25519 point of the account's X25519 key with the sign bit cleared.
fn positive_point(account: &AccountId) -> Result<Ed25519PublicKey> {
    Ok(Ed25519PublicKey::from_x25519_positive(&account.x25519()?)?)
}

/// The `15…` blinded ID of a standard account on the community with key `server_pk`, and its
/// sign-flipped twin (the X25519 Account ID fixes the Ed25519 key only up to sign, so either
/// may be the one the account signs with).
pub fn blind15_ids(account: &AccountId, server_pk: &[u8; 32]) -> Result<[AccountId; 2]> {
    let blinded = positive_point(account)?.mul_noclamp(&blind15_factor(server_pk))?;
    let id = AccountId::new(IdPrefix::Blinded15, *blinded.as_bytes());
    let mut flipped = *blinded.as_bytes();
    flipped[31] ^= 0x80;
    Ok([id, AccountId::new(IdPrefix::Blinded15, flipped)])
}

/// The `25…` blinded ID of a standard account on the community with key `server_pk`.
pub fn blind25_id(account: &AccountId, server_pk: &[u8; 32]) -> Result<AccountId> {
    let blinded = positive_point(account)?.mul_noclamp(&blind25_factor(account, server_pk))?;
    Ok(AccountId::new(IdPrefix::Blinded25, *blinded.as_bytes()))
}
