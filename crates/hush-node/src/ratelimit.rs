//! Per-address token buckets: `rate` requests per second sustained, `burst` at once. The table
//! is bounded: when it is full, buckets idle long enough to be full again are dropped, and if
//! none are, the least recently used half is.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// Most addresses tracked at once.
const MAX_TRACKED: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Duration,
}

/// A rate limiter keyed by client address. Time is passed in (monotonic, since start).
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    /// `rate` per second sustained (0 disables the limiter) and `burst` extra.
    pub(crate) fn new(rate: u32, burst: u32) -> Self {
        Self {
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a request from `ip` at time `now` may proceed (takes a token if so).
    pub(crate) fn allow(&self, ip: IpAddr, now: Duration) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let ip = client_key(ip);
        let Ok(mut buckets) = self.buckets.lock() else { return true };
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&ip) {
            let full_after = Duration::from_secs_f64(self.burst / self.rate);
            buckets.retain(|_, b| now.saturating_sub(b.last) < full_after);
            if buckets.len() >= MAX_TRACKED {
                let mut ages: Vec<Duration> = buckets.values().map(|b| b.last).collect();
                ages.sort_unstable();
                let cutoff = ages[ages.len() / 2];
                buckets.retain(|_, b| b.last > cutoff);
            }
        }
        let bucket = buckets.entry(ip).or_insert(Bucket { tokens: self.burst, last: now });
        let elapsed = now.saturating_sub(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The address a limit applies to: the IPv4 address, or the IPv6 /64 (one IPv6 host
/// usually holds a whole /64).
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1)))
        }
        v4 => v4,
    }
}

/// Open connections per client address, capped.
#[derive(Debug, Default)]
pub(crate) struct ConnectionCounts {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One counted connection; uncounted when dropped.
#[derive(Debug)]
pub(crate) struct Counted {
    counts: std::sync::Arc<ConnectionCounts>,
    key: IpAddr,
}

impl ConnectionCounts {
    /// Counts a connection from `ip` unless `max` are open from its address already.
    pub(crate) fn enter(self: &std::sync::Arc<Self>, ip: IpAddr, max: usize) -> Option<Counted> {
        let key = client_key(ip);
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(key).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Counted { counts: self.clone(), key })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let rl = RateLimiter::new(10, 5);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Duration::from_secs(100);
        assert!((0..5).all(|_| rl.allow(ip, t0)));
        assert!(!rl.allow(ip, t0));
        // 100 ms later one token is back.
        assert!(rl.allow(ip, t0 + Duration::from_millis(100)));
        assert!(!rl.allow(ip, t0 + Duration::from_millis(100)));
        // Another address is independent.
        assert!(rl.allow("192.0.2.2".parse().unwrap(), t0));
    }

    #[test]
    fn ipv6_is_limited_per_64() {
        let rl = RateLimiter::new(1, 2);
        let t = Duration::from_secs(1);
        assert!(rl.allow("2001:db8::1".parse().unwrap(), t));
        assert!(rl.allow("2001:db8::2".parse().unwrap(), t));
        assert!(!rl.allow("2001:db8::ffff".parse().unwrap(), t));
        assert!(rl.allow("2001:db8:0:1::1".parse().unwrap(), t));
    }

    #[test]
    fn zero_rate_disables() {
        let rl = RateLimiter::new(0, 0);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..10_000).all(|_| rl.allow(ip, Duration::ZERO)));
    }
}
