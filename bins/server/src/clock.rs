//! The server's clock: the system clock, or a manual one that tests move.
//! One value implements the clock ports of both the quota and the rate-limit
//! crates, so windows and billing cycles move together.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};

/// System time, or a shared manual time (milliseconds since the epoch).
#[derive(Debug, Clone, Default)]
pub struct AppClock {
    manual: Option<Arc<AtomicI64>>,
}

impl AppClock {
    /// The system clock.
    #[must_use]
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A manual clock starting at `start`; clones share it.
    #[must_use]
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self {
            manual: Some(Arc::new(AtomicI64::new(start.timestamp_millis()))),
        }
    }

    /// Moves a manual clock forward (no-op on the system clock).
    pub fn advance(&self, by: std::time::Duration) {
        if let Some(m) = &self.manual {
            m.fetch_add(
                i64::try_from(by.as_millis()).unwrap_or(i64::MAX),
                Ordering::SeqCst,
            );
        }
    }

    /// Sets a manual clock (no-op on the system clock).
    pub fn set(&self, to: DateTime<Utc>) {
        if let Some(m) = &self.manual {
            m.store(to.timestamp_millis(), Ordering::SeqCst);
        }
    }

    /// Whether this is a manual clock.
    #[must_use]
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    fn millis(&self) -> i64 {
        match &self.manual {
            Some(m) => m.load(Ordering::SeqCst),
            None => Utc::now().timestamp_millis(),
        }
    }
}

/// Wall-clock milliseconds since the epoch, for liveness only (the worker's
/// heartbeat and its age in `/health/ready`): whether a loop still runs is a
/// question of real time, even when tests drive every rule with a manual
/// [`AppClock`].
#[must_use]
pub fn liveness_millis() -> i64 {
    Utc::now().timestamp_millis()
}

impl ytvc_quota::Clock for AppClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.millis())
            .single()
            .unwrap_or_else(Utc::now)
    }
}

/// The breakers' clock: time since the epoch. The server uses it only when
/// the clock is manual (tests move breakers with it); the system case uses a
/// monotonic clock instead.
impl ytvc_media_clients::resilience::Clock for AppClock {
    fn elapsed(&self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::try_from(self.millis()).unwrap_or(0))
    }
}

impl ytvc_rate_limit::Clock for AppClock {
    fn now_millis(&self) -> u64 {
        u64::try_from(self.millis()).unwrap_or(0)
    }
}
