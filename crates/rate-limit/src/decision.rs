//! The answer to a check or a peek.

use std::time::{Duration, SystemTime};

use crate::time::{format_rfc3339_millis, millis_to_system_time};

/// Why a decision came out the way it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Admitted (for a check, `cost` units were consumed).
    Allowed,
    /// Over the limit; [`Decision::retry_after`] says when the same request
    /// would be admitted (if nothing else is admitted meanwhile).
    Limited,
    /// `cost` is larger than the policy's limit: it can never be admitted.
    /// Nothing was consumed.
    CostExceedsLimit,
    /// The in-memory store is at its key cap and this key is new: refused
    /// (never admitted, so the cap can only under-admit). Nothing was stored.
    KeyCapacity,
}

/// Which store made the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// The configured store (memory or Redis) answered.
    Store,
    /// The shared store failed or timed out; the request was admitted
    /// ([`crate::Degrade::FailOpen`]).
    FailOpen,
    /// The shared store failed or timed out; a process-local limiter decided
    /// ([`crate::Degrade::LocalFallback`]).
    LocalFallback,
}

/// A rate-limit decision.
///
/// Instants are milliseconds since the UNIX epoch on the limiter's clock
/// (Redis `TIME` for the Redis store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decision {
    pub(crate) outcome: Outcome,
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) now_ms: u64,
    pub(crate) reset_at_ms: u64,
    pub(crate) retry_at_ms: Option<u64>,
    pub(crate) source: Source,
}

impl Decision {
    /// Whether the request is admitted.
    #[must_use]
    pub fn allowed(&self) -> bool {
        matches!(self.outcome, Outcome::Allowed)
    }

    /// Why.
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The policy's limit (`X-RateLimit-Limit`).
    #[must_use]
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Units that could still be admitted now, after this decision
    /// (`X-RateLimit-Remaining`).
    #[must_use]
    pub fn remaining(&self) -> u32 {
        self.remaining
    }

    /// The instant the decision was made at (ms since the UNIX epoch).
    #[must_use]
    pub fn now_millis(&self) -> u64 {
        self.now_ms
    }

    /// `X-RateLimit-Reset` in ms since the UNIX epoch: when `remaining` is 0,
    /// the earliest instant one more unit is admitted (a request at this
    /// instant is admitted, one a millisecond earlier is not, assuming nothing
    /// else is admitted meanwhile); otherwise the instant the oldest counted
    /// unit stops counting, so `remaining` next grows. Equals
    /// [`now_millis`](Self::now_millis) when nothing is counted.
    #[must_use]
    pub fn reset_at_millis(&self) -> u64 {
        self.reset_at_ms
    }

    /// [`reset_at_millis`](Self::reset_at_millis) as a [`SystemTime`].
    #[must_use]
    pub fn reset_at(&self) -> SystemTime {
        millis_to_system_time(self.reset_at_ms)
    }

    /// [`reset_at_millis`](Self::reset_at_millis) as RFC 3339 UTC, e.g.
    /// `2026-02-01T00:00:00.250Z`.
    #[must_use]
    pub fn reset_at_rfc3339(&self) -> String {
        format_rfc3339_millis(self.reset_at_ms)
    }

    /// Time from the decision to [`reset_at`](Self::reset_at).
    #[must_use]
    pub fn reset_after(&self) -> Duration {
        Duration::from_millis(self.reset_at_ms.saturating_sub(self.now_ms))
    }

    /// For [`Outcome::Limited`]: how long until the same request (same cost)
    /// is admitted, exactly (assuming nothing else is admitted meanwhile).
    /// `None` for every other outcome.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_at_ms
            .map(|at| Duration::from_millis(at.saturating_sub(self.now_ms)))
    }

    /// The instant (ms since the UNIX epoch) [`retry_after`](Self::retry_after) points at.
    #[must_use]
    pub fn retry_at_millis(&self) -> Option<u64> {
        self.retry_at_ms
    }

    /// `Retry-After` header value: [`retry_after`](Self::retry_after) in whole
    /// seconds, rounded up (at least 1).
    #[must_use]
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_at_ms
            .map(|at| at.saturating_sub(self.now_ms).div_ceil(1000).max(1))
    }

    /// Which store decided.
    #[must_use]
    pub fn source(&self) -> Source {
        self.source
    }

    /// Whether the shared store failed and a degrade policy decided.
    #[must_use]
    pub fn is_degraded(&self) -> bool {
        !matches!(self.source, Source::Store)
    }

    /// IETF draft `RateLimit` header value: `limit=100, remaining=37, reset=12`
    /// (reset in whole seconds, rounded up).
    #[must_use]
    pub fn ratelimit_header(&self) -> String {
        let reset = self.reset_at_ms.saturating_sub(self.now_ms).div_ceil(1000);
        format!(
            "limit={}, remaining={}, reset={reset}",
            self.limit, self.remaining
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(now: u64, reset: u64, retry: Option<u64>) -> Decision {
        Decision {
            outcome: if retry.is_some() {
                Outcome::Limited
            } else {
                Outcome::Allowed
            },
            limit: 10,
            remaining: 0,
            now_ms: now,
            reset_at_ms: reset,
            retry_at_ms: retry,
            source: Source::Store,
        }
    }

    #[test]
    fn retry_after_seconds_round_up() {
        assert_eq!(d(1000, 1001, Some(1001)).retry_after_secs(), Some(1));
        assert_eq!(d(1000, 3000, Some(3000)).retry_after_secs(), Some(2));
        assert_eq!(d(1000, 3001, Some(3001)).retry_after_secs(), Some(3));
        assert_eq!(
            d(1000, 3001, Some(3001)).retry_after(),
            Some(Duration::from_millis(2001))
        );
        assert_eq!(d(1000, 1000, None).retry_after_secs(), None);
        assert_eq!(
            d(1000, 2500, None).ratelimit_header(),
            "limit=10, remaining=0, reset=2"
        );
        assert_eq!(
            d(0, 250, None).reset_at_rfc3339(),
            "1970-01-01T00:00:00.250Z"
        );
    }
}
