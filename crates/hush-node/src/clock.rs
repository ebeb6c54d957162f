//! The node's clock: the system clock in production, a settable one in tests (the expiry sweep
//! and timestamp checks are tested by moving time, not by sleeping).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hush_proto::Timestamp;

/// Where the node reads the time from.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands still at `start` until [`Clock::set`] or [`Clock::advance`] moves it.
    pub fn manual(start: Timestamp) -> Self {
        Self { manual: Some(Arc::new(AtomicU64::new(start.as_millis()))) }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match &self.manual {
            Some(ms) => Timestamp::from_millis(ms.load(Ordering::Relaxed)),
            None => system_now(),
        }
    }

    /// Sets a manual clock (no effect on the system clock).
    pub fn set(&self, t: Timestamp) {
        if let Some(ms) = &self.manual {
            ms.store(t.as_millis(), Ordering::Relaxed);
        }
    }

    /// Moves a manual clock forward by `ms` milliseconds.
    pub fn advance(&self, ms: u64) {
        if let Some(m) = &self.manual {
            m.fetch_add(ms, Ordering::Relaxed);
        }
    }
}

#[allow(clippy::disallowed_methods, reason = "the node's one read of the wall clock")]
fn system_now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Timestamp::from_millis(ms)
}
