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

/// Fewest nodes in a swarm (when the network has at least this many).
pub const MIN_SWARM_SIZE: usize = 5;
/// The size swarms aim for.
pub const IDEAL_SWARM_SIZE: usize = 7;
/// Most nodes in a swarm.
pub const MAX_SWARM_SIZE: usize = 10;
/// The largest valid node swarm ID (`u64::MAX` is [`SwarmId::INVALID`]).
const MAX_ID: u64 = u64::MAX - 1;

/// The ID for a new swarm given the existing ones (ascending): 0 for the first, then the
/// middle of the largest gap between neighbours, counting the gap that wraps from the last to
/// the first (0 and `MAX_ID` are one apart). This is oxend's rule, so the second swarm is
/// (2⁶⁴ − 2) / 2.
pub fn new_swarm_id(sorted_ids: &[SwarmId]) -> SwarmId {
    let (Some(first), Some(last)) = (sorted_ids.first(), sorted_ids.last()) else {
        return SwarmId(0);
    };
    let mut max_dist = 0u64;
    let mut best = 0usize;
    for (i, pair) in sorted_ids.windows(2).enumerate() {
        let dist = pair[1].0 - pair[0].0;
        if dist > max_dist {
            max_dist = dist;
            best = i;
        }
    }
    let wrap = MAX_ID - last.0 + first.0 + 1;
    if wrap > max_dist {
        max_dist = wrap;
        best = sorted_ids.len() - 1;
    }
    let diff = max_dist / 2;
    let to_max = MAX_ID - sorted_ids[best].0;
    if diff > to_max { SwarmId(diff - to_max - 1) } else { SwarmId(sorted_ids[best].0 + diff) }
}

/// How many swarms `nodes` nodes form: one below [`MIN_SWARM_SIZE`] nodes; otherwise the
/// count nearest to [`IDEAL_SWARM_SIZE`] nodes per swarm that keeps every swarm within
/// [`MIN_SWARM_SIZE`]..=[`MAX_SWARM_SIZE`].
pub fn swarm_count(nodes: usize) -> usize {
    if nodes < MIN_SWARM_SIZE {
        return 1;
    }
    let ideal = (nodes + IDEAL_SWARM_SIZE / 2) / IDEAL_SWARM_SIZE;
    ideal.clamp(nodes.div_ceil(MAX_SWARM_SIZE), nodes / MIN_SWARM_SIZE).max(1)
}

/// The swarm of each of `nodes` nodes, in registry order: [`swarm_count`] swarms whose IDs
/// are made one after the other by [`new_swarm_id`], dealt round-robin (node `i` joins swarm
/// `i mod k`), so sizes differ by at most one and no swarm is empty. Every node computes the
/// same assignment from the same registry.
pub fn assign(nodes: usize) -> Vec<SwarmId> {
    if nodes == 0 {
        return Vec::new();
    }
    let k = swarm_count(nodes);
    let mut created: Vec<SwarmId> = Vec::with_capacity(k);
    let mut sorted: Vec<SwarmId> = Vec::with_capacity(k);
    for _ in 0..k {
        let id = new_swarm_id(&sorted);
        created.push(id);
        let at = sorted.partition_point(|s| s < &id);
        sorted.insert(at, id);
    }
    (0..nodes).map(|i| created[i % k]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_swarm_ids_follow_the_largest_gap() {
        assert_eq!(new_swarm_id(&[]), SwarmId(0));
        assert_eq!(new_swarm_id(&[SwarmId(0)]), SwarmId((u64::MAX - 1) / 2));
        let two = [SwarmId(0), SwarmId((u64::MAX - 1) / 2)];
        // The wrapping gap (2^63 - 1 .. 2^64 - 2, then 0) is the largest by one.
        let third = new_swarm_id(&two);
        assert!(third.0 > two[1].0);
        assert_eq!(third, SwarmId(two[1].0 + (u64::MAX - two[1].0) / 2));
    }

    #[test]
    fn swarms_stay_within_bounds_and_are_never_empty() {
        for n in 1..=300 {
            let assignment = assign(n);
            assert_eq!(assignment.len(), n);
            let mut sizes = std::collections::BTreeMap::new();
            for s in &assignment {
                *sizes.entry(*s).or_insert(0usize) += 1;
            }
            assert_eq!(sizes.len(), swarm_count(n), "n = {n}");
            for (&id, &size) in &sizes {
                assert_ne!(id, SwarmId::INVALID);
                if n >= MIN_SWARM_SIZE {
                    assert!((MIN_SWARM_SIZE..=MAX_SWARM_SIZE).contains(&size), "n = {n}: {size}");
                } else {
                    assert_eq!(size, n);
                }
            }
            assert_eq!(assign(n), assignment, "deterministic");
        }
        assert_eq!(swarm_count(12), 2);
        assert_eq!(swarm_count(18), 3);
        assert_eq!(swarm_count(3), 1);
    }
}
