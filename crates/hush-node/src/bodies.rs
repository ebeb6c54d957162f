//! Memory for request bodies: taken as the bytes arrive, shared fairly between addresses.
//!
//! A body costs the node what it has actually received, not what its `Content-Length`
//! declares: a connection that declares 10 MiB and sends nothing holds nothing, so stalled or
//! trickling uploads cannot reserve the budget away from everyone else. Three limits apply to
//! every chunk as it arrives, and a chunk that would break one fails its request at once
//! (503) — nobody waits in line behind a slow sender:
//!
//! - the node's total (`max_inflight_body_bytes`);
//! - a share per client address (`max_inflight_body_bytes_per_ip`, an IPv6 /64 counting as
//!   one address), so a few addresses cannot take the whole budget; other nodes of the
//!   network, which relay for many clients, are held to the total only;
//! - a reserve of an eighth of the total that only small bodies (up to [`SMALL_BODY`], which
//!   every client request is: a stored message is at most 76.8 kB) may use, so that even a
//!   budget filled with large uploads leaves room for ordinary requests.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::ratelimit::client_key;

/// Bodies up to this size may use the reserve.
pub(crate) const SMALL_BODY: usize = 256 << 10;

/// The node's body budget.
#[derive(Debug)]
pub(crate) struct BodyBudget {
    total: usize,
    per_address: usize,
    reserve: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    used: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Why a chunk was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The node holds as much as it may.
    Full,
    /// This address holds its share.
    AddressShare,
}

/// The bytes one request holds; given back when dropped.
#[derive(Debug)]
pub(crate) struct Charge {
    budget: Arc<BodyBudget>,
    /// The client address, or `None` for another node of the network.
    address: Option<IpAddr>,
    bytes: usize,
}

impl BodyBudget {
    /// A budget of `total` bytes, at most `per_address` of them for one client address.
    pub(crate) fn new(total: usize, per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            total,
            per_address: per_address.min(total),
            reserve: total / 8,
            state: Mutex::default(),
        })
    }

    /// An empty charge for a request from `address` (`None`: another node).
    pub(crate) fn charge(self: &Arc<Self>, address: Option<IpAddr>) -> Charge {
        Charge { budget: self.clone(), address: address.map(client_key), bytes: 0 }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bytes held now, in all (for tests and metrics).
    pub(crate) fn used(&self) -> usize {
        self.state().used
    }
}

impl Charge {
    /// Takes `n` more bytes for this request, or refuses them.
    pub(crate) fn add(&mut self, n: usize) -> Result<(), Refused> {
        let budget = &self.budget;
        let mut state = budget.state();
        let after = self.bytes + n;
        let limit = if after > SMALL_BODY { budget.total - budget.reserve } else { budget.total };
        if state.used + n > limit {
            return Err(Refused::Full);
        }
        if let Some(address) = self.address {
            let held = state.by_address.get(&address).copied().unwrap_or(0);
            if held + n > budget.per_address {
                return Err(Refused::AddressShare);
            }
            state.by_address.insert(address, held + n);
        }
        state.used += n;
        self.bytes = after;
        Ok(())
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let mut state = self.budget.state();
        state.used -= self.bytes;
        if let Some(address) = self.address
            && let Some(held) = state.by_address.get_mut(&address)
        {
            *held -= self.bytes;
            if *held == 0 {
                state.by_address.remove(&address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn bytes_are_taken_as_they_arrive_and_given_back() {
        let budget = BodyBudget::new(32 << 20, 11 << 20);
        let mut a = budget.charge(ip("192.0.2.1"));
        a.add(1000).unwrap();
        assert_eq!(budget.used(), 1000);
        drop(a);
        assert_eq!(budget.used(), 0);
        // Declaring means nothing: a thousand requests that sent nothing hold nothing.
        let idle: Vec<Charge> = (0..1000).map(|_| budget.charge(ip("192.0.2.2"))).collect();
        assert_eq!(budget.used(), 0);
        drop(idle);
    }

    #[test]
    fn one_address_holds_its_share_and_no_more() {
        let budget = BodyBudget::new(32 << 20, 11 << 20);
        let mut big = budget.charge(ip("192.0.2.1"));
        big.add(10 << 20).unwrap();
        let mut second = budget.charge(ip("192.0.2.1"));
        assert_eq!(second.add(2 << 20), Err(Refused::AddressShare));
        // The same /64 is the same address; another address is not held back.
        let mut v6 = budget.charge(ip("2001:db8::1"));
        v6.add(10 << 20).unwrap();
        assert_eq!(budget.charge(ip("2001:db8::2")).add(2 << 20), Err(Refused::AddressShare));
        budget.charge(ip("192.0.2.9")).add(1 << 20).unwrap();
        // Nodes are held to the total only.
        let mut node = budget.charge(None);
        assert_eq!(node.add(20 << 20), Err(Refused::Full));
        node.add(5 << 20).unwrap();
    }

    #[test]
    fn large_bodies_leave_the_reserve_to_small_ones() {
        let budget = BodyBudget::new(32 << 20, 11 << 20);
        let mut large = Vec::new();
        for i in 1..=3u8 {
            let mut c = budget.charge(ip(&format!("192.0.2.{i}")));
            c.add(9 << 20).unwrap();
            large.push(c);
        }
        // 27 MiB held; the fourth large body would reach into the last eighth (4 MiB).
        let mut fourth = budget.charge(ip("192.0.2.4"));
        assert_eq!(fourth.add(2 << 20), Err(Refused::Full));
        // Small requests still fit, up to the whole total.
        for i in 10..30u8 {
            budget.charge(ip(&format!("192.0.2.{i}"))).add(100_000).unwrap();
        }
        let held: Vec<Charge> = (40..80u8)
            .map(|i| {
                let mut c = budget.charge(ip(&format!("192.0.2.{i}")));
                c.add(100_000).unwrap();
                c
            })
            .collect();
        assert!(budget.used() > 30 << 20);
        drop(held);
        drop(large);
        assert_eq!(budget.used(), 0);
    }
}
