//! Swarm math (session-protocol.md §7): where on the 64-bit ring an account lives, and which
//! swarm is responsible for it.

use std::fmt;

use crate::account::AccountId;

/// A swarm's position on the 64-bit ring. `u64::MAX` is never a node swarm ID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SwarmId(pub u64);

impl SwarmId {
    /// The value oxend uses for "no swarm".
    pub const INVALID: Self = Self(u64::MAX);
}

impl fmt::Debug for SwarmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SwarmId({:016x})", self.0)
    }
}

impl fmt::Display for SwarmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The account's point on the ring: the 32 key bytes (after the prefix) as four big-endian
/// `u64`s, XORed together.
pub fn swarm_space(account: &AccountId) -> u64 {
    account
        .key_bytes()
        .chunks_exact(8)
        .map(|c| u64::from_be_bytes(c.try_into().expect("chunks_exact(8)")))
        .fold(0, |acc, word| acc ^ word)
}

/// The swarm responsible for ring point `space`, among `sorted_ids` (ascending, no
/// duplicates): the nearer of the first swarm at or after `space` and its predecessor, with
/// distances measured around the ring and ties going to the predecessor. `None` when there
/// are no swarms.
pub fn select_swarm(space: u64, sorted_ids: &[SwarmId]) -> Option<SwarmId> {
    let first = *sorted_ids.first()?;
    let last = *sorted_ids.last()?;
    let right_index = sorted_ids.partition_point(|id| id.0 < space);
    let (left, right) = match right_index {
        // Beyond the last swarm: wrap around to the first.
        i if i == sorted_ids.len() => (last, first),
        0 => (last, first),
        i => (sorted_ids[i - 1], sorted_ids[i]),
    };
    let to_right = right.0.wrapping_sub(space);
    let from_left = space.wrapping_sub(left.0);
    Some(if to_right < from_left { right } else { left })
}

/// The swarm of `account` among `sorted_ids`.
pub fn swarm_for(account: &AccountId, sorted_ids: &[SwarmId]) -> Option<SwarmId> {
    select_swarm(swarm_space(account), sorted_ids)
}
