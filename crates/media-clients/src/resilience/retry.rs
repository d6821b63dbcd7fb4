//! Bounded retries with full-jitter exponential backoff that honour the
//! server's `Retry-After` / `RetryInfo`: the settings ([`Backoff`]) and what
//! one failed attempt reports ([`Failure`]). The loop itself is
//! [`ServiceGuard::run`](super::ServiceGuard::run).

use std::time::Duration;

use ytvc_domain::media::MediaError;

/// A failed attempt: the error, whether a retry may help, and the wait the
/// server asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong.
    pub error: MediaError,
    /// How long the server asked us to wait (`Retry-After`, `RetryInfo`).
    pub retry_after: Option<Duration>,
    /// Never retried (a 4xx other than 408 / 429, exhausted quota, a safety
    /// block), whatever the catalog says of its code.
    pub permanent: bool,
    /// The failure is not the service's (e.g. the OAuth token endpoint
    /// failed before the service was called): its breaker does not count
    /// the attempt at all.
    pub elsewhere: bool,
}

impl Failure {
    /// A failure that may be retried (when [`MediaError::retryable`]).
    #[must_use]
    pub fn transient(error: MediaError) -> Self {
        Self {
            error,
            retry_after: None,
            permanent: false,
            elsewhere: false,
        }
    }

    /// A failure that is never retried.
    #[must_use]
    pub fn permanent(error: MediaError) -> Self {
        Self {
            error,
            retry_after: None,
            permanent: true,
            elsewhere: false,
        }
    }

    /// Marks the failure as not the service's: the breaker ignores the
    /// attempt (retries still apply).
    #[must_use]
    pub fn elsewhere(mut self) -> Self {
        self.elsewhere = true;
        self
    }

    /// The wait the server asked for.
    #[must_use]
    pub fn retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    /// Whether another attempt may help: not permanent, a retryable code,
    /// not an open circuit, not exhausted quota.
    #[must_use]
    pub fn may_retry(&self) -> bool {
        !self.permanent
            && self.error.retryable()
            && !matches!(
                self.error,
                MediaError::CircuitOpen { .. } | MediaError::QuotaExhausted { .. }
            )
    }
}

impl From<MediaError> for Failure {
    fn from(error: MediaError) -> Self {
        Self::transient(error)
    }
}

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all (the first one included), at least 1.
    pub max_attempts: u32,
    /// The backoff before the first retry (before jitter).
    pub base: Duration,
    /// The largest backoff (before jitter).
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the error is
    /// returned at once.
    pub max_retry_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (1 for the first retry), given a
    /// `jitter` in `[0, 1)`: `Retry-After` when the server sent one (`None`
    /// if it is longer than `max_retry_after`), else a full-jitter delay
    /// `jitter × min(max_delay, base × 2^(retry-1))`.
    #[must_use]
    pub fn delay(
        &self,
        retry: u32,
        jitter: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if let Some(after) = retry_after {
            return (after <= self.max_retry_after).then_some(after);
        }
        let exp = self
            .base
            .saturating_mul(
                1u32.checked_shl(retry.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max_delay);
        Some(exp.mul_f64(jitter.clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use ytvc_domain::media::Service;

    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn delays() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 0.5, None), Some(MS(250)));
        assert_eq!(b.delay(3, 0.5, None), Some(MS(1000)));
        assert_eq!(
            b.delay(10, 0.5, None),
            Some(MS(4000)),
            "capped at max_delay"
        );
        assert_eq!(b.delay(40, 1.0, None), Some(MS(8000)));
        assert_eq!(b.delay(1, 0.0, None), Some(MS(0)));
        assert_eq!(
            b.delay(1, 0.3, Some(MS(2000))),
            Some(MS(2000)),
            "Retry-After wins"
        );
        assert_eq!(b.delay(1, 0.3, Some(Duration::from_secs(31))), None);
    }

    #[test]
    fn what_may_be_retried() {
        let down = MediaError::Unavailable {
            service: Service::Veo,
            reason: "503".into(),
        };
        assert!(Failure::transient(down.clone()).may_retry());
        assert!(!Failure::permanent(down).may_retry());
        for error in [
            MediaError::QuotaExhausted {
                service: Service::Veo,
            },
            MediaError::CircuitOpen {
                service: Service::Veo,
            },
            MediaError::Refused {
                service: Service::Llm,
                reason: String::new(),
            },
        ] {
            assert!(!Failure::transient(error.clone()).may_retry(), "{error}");
        }
    }
}
