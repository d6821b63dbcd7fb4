//! A circuit breaker: closed → (N consecutive failures) → open → (after a
//! cool-down) half-open → one trial call → closed on success, open again on
//! failure.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use ytvc_domain::media::{MediaError, Service};

use super::Clock;

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: u32,
    /// How long the circuit stays open before a trial call is let through.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(30),
        }
    }
}

/// Where a breaker is (reported by `/health/ready`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused with `CircuitOpen` until the cool-down ends.
    Open,
    /// The cool-down ended: one trial call may go through.
    HalfOpen,
}

impl BreakerState {
    /// `"closed"`, `"open"` or `"half_open"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
struct Inner {
    failures: u32,
    /// When the circuit opened, on the clock; `None` when closed.
    opened_at: Option<Duration>,
    trial_in_flight: bool,
}

/// One breaker per external service.
#[derive(Debug)]
pub struct CircuitBreaker<C> {
    service: Service,
    config: BreakerConfig,
    clock: C,
    inner: Mutex<Inner>,
}

impl<C: Clock> CircuitBreaker<C> {
    /// A closed breaker for `service`.
    #[must_use]
    pub fn new(service: Service, config: BreakerConfig, clock: C) -> Self {
        Self {
            service,
            config,
            clock,
            inner: Mutex::new(Inner {
                failures: 0,
                opened_at: None,
                trial_in_flight: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current state.
    #[must_use]
    pub fn state(&self) -> BreakerState {
        let inner = self.lock();
        match inner.opened_at {
            None => BreakerState::Closed,
            Some(at) if self.clock.elapsed() < at + self.config.open_for => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    /// Whether the error says the service is unwell (it counts as a
    /// failure): timeouts, unavailability, quota. Unusable answers and
    /// refusals come from a working service and do not count.
    #[must_use]
    pub fn counts_as_failure(error: &MediaError) -> bool {
        matches!(
            error,
            MediaError::Timeout { .. }
                | MediaError::Unavailable { .. }
                | MediaError::QuotaExhausted { .. }
        )
    }

    /// Runs `call` unless the circuit is open (then `CircuitOpen` at once),
    /// and records its outcome. In the half-open state only one trial call
    /// runs at a time; the others are refused.
    ///
    /// # Errors
    ///
    /// `CircuitOpen` for this breaker's service, or the call's error.
    pub async fn call<T, F, Fut>(&self, call: F) -> Result<T, MediaError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, MediaError>>,
    {
        let trial = self.admit()?;
        // Releases the trial slot if the future is dropped mid-call.
        let mut guard = TrialGuard {
            breaker: self,
            trial,
            done: false,
        };
        let result = call().await;
        guard.done = true;
        match &result {
            Err(e) if Self::counts_as_failure(e) => self.record_failure(trial),
            _ => self.record_success(),
        }
        result
    }

    /// Admits a call: `Ok(is_trial)`.
    fn admit(&self) -> Result<bool, MediaError> {
        let mut inner = self.lock();
        match inner.opened_at {
            None => Ok(false),
            Some(at) if self.clock.elapsed() < at + self.config.open_for => {
                Err(MediaError::CircuitOpen {
                    service: self.service,
                })
            }
            Some(_) if inner.trial_in_flight => Err(MediaError::CircuitOpen {
                service: self.service,
            }),
            Some(_) => {
                inner.trial_in_flight = true;
                Ok(true)
            }
        }
    }

    fn record_success(&self) {
        let mut inner = self.lock();
        inner.failures = 0;
        inner.opened_at = None;
        inner.trial_in_flight = false;
    }

    fn record_failure(&self, trial: bool) {
        let mut inner = self.lock();
        inner.failures = inner.failures.saturating_add(1);
        if trial || (inner.opened_at.is_none() && inner.failures >= self.config.failure_threshold) {
            inner.opened_at = Some(self.clock.elapsed());
        }
        if trial {
            inner.trial_in_flight = false;
        }
    }
}

struct TrialGuard<'a, C: Clock> {
    breaker: &'a CircuitBreaker<C>,
    trial: bool,
    done: bool,
}

impl<C: Clock> Drop for TrialGuard<'_, C> {
    fn drop(&mut self) {
        if self.trial && !self.done {
            self.breaker.lock().trial_in_flight = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::ManualClock;

    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }

    fn down() -> MediaError {
        MediaError::Unavailable {
            service: Service::Veo,
            reason: "503".into(),
        }
    }

    fn breaker(clock: &ManualClock) -> CircuitBreaker<ManualClock> {
        let config = BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(10),
        };
        CircuitBreaker::new(Service::Veo, config, clock.clone())
    }

    #[test]
    fn opens_after_consecutive_failures_and_recovers() {
        let clock = ManualClock::default();
        let b = breaker(&clock);
        for _ in 0..2 {
            assert!(block_on(b.call(|| async { Err::<(), _>(down()) })).is_err());
        }
        // A success resets the count.
        block_on(b.call(|| async { Ok::<_, MediaError>(()) })).unwrap();
        for _ in 0..3 {
            let _ = block_on(b.call(|| async { Err::<(), _>(down()) }));
        }
        assert_eq!(b.state(), BreakerState::Open);
        let mut ran = false;
        let e = block_on(b.call(|| {
            ran = true;
            async { Ok::<_, MediaError>(()) }
        }))
        .unwrap_err();
        assert_eq!(
            e,
            MediaError::CircuitOpen {
                service: Service::Veo
            }
        );
        assert_eq!(e.code().as_str(), "MEDIA_001");
        assert!(!ran, "an open circuit does not call");

        clock.advance(Duration::from_secs(10));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        // The trial fails: open again for a full cool-down.
        let _ = block_on(b.call(|| async { Err::<(), _>(down()) }));
        assert_eq!(b.state(), BreakerState::Open);
        clock.advance(Duration::from_secs(9));
        assert_eq!(b.state(), BreakerState::Open);
        clock.advance(Duration::from_secs(1));
        // The trial succeeds: closed.
        block_on(b.call(|| async { Ok::<_, MediaError>(()) })).unwrap();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn one_trial_at_a_time_and_answers_do_not_count() {
        let clock = ManualClock::default();
        let b = breaker(&clock);
        for _ in 0..5 {
            let bad = MediaError::BadResponse {
                service: Service::Veo,
                reason: "json".into(),
            };
            let _ = block_on(b.call(|| async { Err::<(), _>(bad) }));
        }
        assert_eq!(b.state(), BreakerState::Closed);
        for _ in 0..3 {
            let _ = block_on(b.call(|| async { Err::<(), _>(down()) }));
        }
        clock.advance(Duration::from_secs(10));
        assert!(b.admit().unwrap(), "first caller is the trial");
        assert!(b.admit().is_err(), "second is refused while the trial runs");
        // A trial dropped before finishing frees its slot.
        drop(TrialGuard {
            breaker: &b,
            trial: true,
            done: false,
        });
        assert!(b.admit().unwrap());
        assert_eq!(BreakerState::HalfOpen.as_str(), "half_open");
    }
}
