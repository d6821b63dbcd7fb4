//! Resilience for the HTTP adapters: a [`CircuitBreaker`] per service, the
//! [`Backoff`] of bounded retries, and [`ServiceGuard`], which runs every
//! external call through both. Time is injected ([`Clock`], a sleep
//! function), so all of it is tested without waiting.

mod breaker;
mod guard;
mod retry;

pub use breaker::{
    BreakerConfig, BreakerState, BreakerStats, CircuitBreaker, Jitter, Outcome, Permit,
    TransitionHook,
};
pub use guard::{JitterSource, ServiceGuard, ServiceGuards, Sleeper};
pub use retry::{Backoff, Failure};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A monotonic clock: time elapsed since an arbitrary origin.
pub trait Clock: Send + Sync {
    /// Time since the clock's origin; never goes back.
    fn elapsed(&self) -> Duration;
}

/// The real monotonic clock ([`Instant`]).
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Clock for MonotonicClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that moves only when told to (tests). Clones share the time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    millis: Arc<AtomicU64>,
}

impl ManualClock {
    /// Moves the clock forward (whole milliseconds).
    pub fn advance(&self, by: Duration) {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.millis.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn elapsed(&self) -> Duration {
        Duration::from_millis(self.millis.load(Ordering::SeqCst))
    }
}
