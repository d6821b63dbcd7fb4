//! A circuit breaker with a time-based window, a failure-rate threshold and
//! a slow-call rule, growing open periods and several half-open trials.
//!
//! ```text
//!            ≥ minimum_calls in the window and
//!            (failures + slow calls) / calls ≥ failure_rate
//!   Closed ───────────────────────────────────────────────▶ Open (level 0)
//!     ▲                                                      │ open period over
//!     │ all `half_open_trials` trials succeed                ▼
//!     └──────────────────────────────────────────────── HalfOpen
//!                                 a trial fails: Open (level + 1)
//! ```
//!
//! The open period at level `k` is `min(max_open_for, open_for × 2^k)`,
//! shortened by up to `jitter` (a fraction) so that many instances do not
//! probe a recovering service at the same instant. Closing resets the level.
//!
//! What counts: a call that failed with `Timeout` or `Unavailable` (the
//! service is unwell) is a failure; a call that succeeded but took longer
//! than `slow_call` is a slow call; both are "bad". Anything else (a success,
//! a refusal, an unusable answer, exhausted quota, a permanent 4xx) shows the
//! service is up and counts as good. Quota is never held against a service.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ytvc_domain::media::{MediaError, Service};

use super::Clock;

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// The trailing window the failure rate is computed over.
    pub window: Duration,
    /// The fewest calls in the window before the rate is judged.
    pub minimum_calls: u32,
    /// The share of bad calls (failures and slow calls) that opens the
    /// circuit, in `(0, 1]`.
    pub failure_rate: f64,
    /// A successful call slower than this counts as bad.
    pub slow_call: Duration,
    /// The first open period.
    pub open_for: Duration,
    /// The longest open period (it doubles while trials keep failing).
    pub max_open_for: Duration,
    /// Open periods are shortened by a random share of up to this fraction
    /// (`0.0` for none).
    pub jitter: f64,
    /// Trial calls let through when half-open; all must succeed to close.
    pub half_open_trials: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            minimum_calls: 10,
            failure_rate: 0.5,
            slow_call: Duration::from_secs(30),
            open_for: Duration::from_secs(30),
            max_open_for: Duration::from_secs(300),
            jitter: 0.2,
            half_open_trials: 3,
        }
    }
}

impl BreakerConfig {
    /// The default settings with a slow-call threshold for one service.
    #[must_use]
    pub fn with_slow_call(slow_call: Duration) -> Self {
        Self {
            slow_call,
            ..Self::default()
        }
    }

    /// The open period at `level`, before jitter.
    #[must_use]
    pub fn open_period(&self, level: u32) -> Duration {
        let factor = 1u32.checked_shl(level.min(31)).unwrap_or(u32::MAX);
        self.open_for
            .saturating_mul(factor)
            .min(self.max_open_for.max(self.open_for))
    }
}

/// Where a breaker is (reported by `/health/ready` and `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused with `CircuitOpen` until the open period ends.
    Open,
    /// The open period ended: a few trial calls may go through.
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

    /// A number for gauges: 0 closed, 1 half-open, 2 open.
    #[must_use]
    pub const fn gauge(self) -> u8 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a call went, as the breaker judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The service answered (even with a refusal or a 4xx).
    Good,
    /// The service is unwell (timeout, 5xx, connection refused, capacity).
    Failed,
}

impl Outcome {
    /// The outcome of a call that ended with `error`: `Failed` for
    /// `Timeout` and `Unavailable`, `Good` otherwise (see the module docs).
    #[must_use]
    pub fn of_error(error: &MediaError) -> Self {
        match error {
            MediaError::Timeout { .. } | MediaError::Unavailable { .. } => Outcome::Failed,
            _ => Outcome::Good,
        }
    }
}

/// Counters since the breaker was made (for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BreakerStats {
    /// Calls let through.
    pub calls: u64,
    /// Calls that failed.
    pub failures: u64,
    /// Calls that succeeded slowly.
    pub slow_calls: u64,
    /// Calls refused because the circuit was open.
    pub rejected: u64,
    /// Times the circuit opened.
    pub opened: u64,
}

/// Called on every state change: `(service, from, to)`.
pub type TransitionHook = Arc<dyn Fn(Service, BreakerState, BreakerState) + Send + Sync>;

/// A source of numbers in `[0, 1)` (the open-period jitter).
pub type Jitter = Arc<dyn Fn() -> f64 + Send + Sync>;

/// One bucket of the window: calls that ended in `[start, start + width)`.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    start_ms: u64,
    calls: u32,
    bad: u32,
}

const BUCKETS: usize = 20;

#[derive(Debug)]
enum Phase {
    Closed,
    Open {
        until: Duration,
        level: u32,
    },
    HalfOpen {
        level: u32,
        admitted: u32,
        passed: u32,
        /// Which half-open period this is: a trial admitted in an earlier
        /// one that ends now is stale and counts nowhere.
        period: u64,
    },
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    /// Half-open periods so far.
    periods: u64,
    buckets: [Bucket; BUCKETS],
    stats: BreakerStats,
}

/// One breaker per external service. Share it as `Arc<CircuitBreaker>`.
pub struct CircuitBreaker {
    service: Service,
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    jitter: Jitter,
    on_transition: Option<TransitionHook>,
    inner: Mutex<Inner>,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("service", &self.service)
            .field("config", &self.config)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Leave to make one call, from [`CircuitBreaker::acquire`]. Give the
/// outcome back with [`Permit::record`]; a permit dropped without an
/// outcome (the call was cancelled) frees its trial slot and counts
/// nothing.
#[must_use = "record the call's outcome with Permit::record"]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    /// The half-open period this trial belongs to (`None`: not a trial).
    trial: Option<u64>,
    started: Duration,
    recorded: bool,
}

impl Permit<'_> {
    /// Records how the call went; its duration is measured from
    /// [`CircuitBreaker::acquire`] for the slow-call rule.
    pub fn record(mut self, outcome: Outcome) {
        self.recorded = true;
        let elapsed = self.breaker.clock.elapsed().saturating_sub(self.started);
        self.breaker.record(self.trial, outcome, elapsed);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let (Some(trial), false) = (self.trial, self.recorded) {
            let mut inner = self.breaker.lock();
            if let Phase::HalfOpen {
                admitted, period, ..
            } = &mut inner.phase
                && *period == trial
            {
                *admitted = admitted.saturating_sub(1);
            }
        }
    }
}

impl CircuitBreaker {
    /// A closed breaker for `service`.
    #[must_use]
    pub fn new(service: Service, config: BreakerConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            service,
            config,
            clock,
            jitter: Arc::new(rand::random::<f64>),
            on_transition: None,
            inner: Mutex::new(Inner {
                phase: Phase::Closed,
                periods: 0,
                buckets: [Bucket::default(); BUCKETS],
                stats: BreakerStats::default(),
            }),
        }
    }

    /// Replaces the jitter source (tests: `Arc::new(|| 0.0)`).
    #[must_use]
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Calls `hook` on every state change (e.g. to log it).
    #[must_use]
    pub fn on_transition(mut self, hook: TransitionHook) -> Self {
        self.on_transition = Some(hook);
        self
    }

    /// The service this breaker guards.
    #[must_use]
    pub fn service(&self) -> Service {
        self.service
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current state (an open circuit whose period is over reads as
    /// half-open).
    #[must_use]
    pub fn state(&self) -> BreakerState {
        let now = self.clock.elapsed();
        match self.lock().phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until, .. } if now < until => BreakerState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> BreakerStats {
        self.lock().stats
    }

    /// Leave to make one call, or `CircuitOpen` at once when the circuit is
    /// open (or half-open with every trial slot taken).
    ///
    /// # Errors
    ///
    /// `MediaError::CircuitOpen` for this breaker's service.
    pub fn acquire(&self) -> Result<Permit<'_>, MediaError> {
        let now = self.clock.elapsed();
        let mut transition = None;
        let trial = {
            let mut inner = self.lock();
            if let Phase::Open { until, level } = inner.phase
                && now >= until
            {
                inner.periods += 1;
                inner.phase = Phase::HalfOpen {
                    level,
                    admitted: 0,
                    passed: 0,
                    period: inner.periods,
                };
                transition = Some((BreakerState::Open, BreakerState::HalfOpen));
            }
            let trial = match &mut inner.phase {
                Phase::Closed => Ok(None),
                Phase::Open { .. } => Err(()),
                Phase::HalfOpen {
                    admitted, period, ..
                } => {
                    if *admitted < self.config.half_open_trials.max(1) {
                        *admitted += 1;
                        Ok(Some(*period))
                    } else {
                        Err(())
                    }
                }
            };
            match trial {
                Ok(_) => inner.stats.calls += 1,
                Err(()) => inner.stats.rejected += 1,
            }
            trial
        };
        self.notify(transition);
        match trial {
            Ok(trial) => Ok(Permit {
                breaker: self,
                trial,
                started: now,
                recorded: false,
            }),
            Err(()) => Err(MediaError::CircuitOpen {
                service: self.service,
            }),
        }
    }

    fn notify(&self, transition: Option<(BreakerState, BreakerState)>) {
        if let (Some((from, to)), Some(hook)) = (transition, &self.on_transition) {
            hook(self.service, from, to);
        }
    }

    fn record(&self, trial: Option<u64>, outcome: Outcome, elapsed: Duration) {
        let now = self.clock.elapsed();
        let slow = outcome == Outcome::Good && elapsed >= self.config.slow_call;
        let bad = outcome == Outcome::Failed || slow;
        let mut transition = None;
        {
            let mut inner = self.lock();
            match outcome {
                Outcome::Failed => inner.stats.failures += 1,
                Outcome::Good if slow => inner.stats.slow_calls += 1,
                Outcome::Good => {}
            }
            match inner.phase {
                Phase::Closed => {
                    self.count(&mut inner, now, bad);
                    let (calls, bad_calls) = self.totals(&inner, now);
                    if calls >= self.config.minimum_calls.max(1)
                        && f64::from(bad_calls) >= self.config.failure_rate * f64::from(calls)
                    {
                        self.open(&mut inner, now, 0);
                        transition = Some((BreakerState::Closed, BreakerState::Open));
                    }
                }
                Phase::HalfOpen {
                    level,
                    ref mut passed,
                    period,
                    ..
                } if trial == Some(period) => {
                    if bad {
                        self.open(&mut inner, now, level.saturating_add(1));
                        transition = Some((BreakerState::HalfOpen, BreakerState::Open));
                    } else {
                        *passed += 1;
                        if *passed >= self.config.half_open_trials.max(1) {
                            inner.phase = Phase::Closed;
                            inner.buckets = [Bucket::default(); BUCKETS];
                            transition = Some((BreakerState::HalfOpen, BreakerState::Closed));
                        }
                    }
                }
                // A call admitted before the circuit opened (or in an
                // earlier half-open period), ending now: its outcome is
                // stale.
                Phase::HalfOpen { .. } | Phase::Open { .. } => {}
            }
        }
        self.notify(transition);
    }

    fn open(&self, inner: &mut Inner, now: Duration, level: u32) {
        let period = self.config.open_period(level);
        let cut = (self.jitter)().clamp(0.0, 1.0) * self.config.jitter.clamp(0.0, 1.0);
        inner.phase = Phase::Open {
            until: now + period.mul_f64(1.0 - cut),
            level,
        };
        inner.stats.opened += 1;
    }

    fn bucket_width_ms(&self) -> u64 {
        let window = u64::try_from(self.config.window.as_millis()).unwrap_or(u64::MAX);
        (window / BUCKETS as u64).max(1)
    }

    fn count(&self, inner: &mut Inner, now: Duration, bad: bool) {
        let width = self.bucket_width_ms();
        let now_ms = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
        let start = now_ms - now_ms % width;
        let slot = &mut inner.buckets[((start / width) % BUCKETS as u64) as usize];
        if slot.start_ms != start || slot.calls == 0 {
            *slot = Bucket {
                start_ms: start,
                calls: 0,
                bad: 0,
            };
        }
        slot.calls += 1;
        slot.bad += u32::from(bad);
    }

    /// Calls and bad calls in the buckets still inside the window.
    fn totals(&self, inner: &Inner, now: Duration) -> (u32, u32) {
        let width = self.bucket_width_ms();
        let now_ms = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
        let current = now_ms - now_ms % width;
        let oldest = current.saturating_sub(width * (BUCKETS as u64 - 1));
        inner
            .buckets
            .iter()
            .filter(|b| b.calls > 0 && b.start_ms >= oldest && b.start_ms <= current)
            .fold((0, 0), |(c, f), b| (c + b.calls, f + b.bad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::ManualClock;

    fn breaker(clock: &ManualClock) -> CircuitBreaker {
        CircuitBreaker::new(
            Service::Veo,
            BreakerConfig::default(),
            Arc::new(clock.clone()),
        )
        .with_jitter(Arc::new(|| 0.0))
    }

    fn calls(b: &CircuitBreaker, outcome: Outcome, n: u32) {
        for _ in 0..n {
            b.acquire().expect("admitted").record(outcome);
        }
    }

    #[test]
    fn needs_minimum_calls_before_judging() {
        let clock = ManualClock::default();
        let b = breaker(&clock);
        calls(&b, Outcome::Failed, 9);
        assert_eq!(b.state(), BreakerState::Closed);
        calls(&b, Outcome::Failed, 1);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(matches!(
            b.acquire().err(),
            Some(MediaError::CircuitOpen {
                service: Service::Veo
            })
        ));
        assert_eq!(b.stats().rejected, 1);
        assert_eq!(b.stats().opened, 1);
    }

    #[test]
    fn opens_at_the_failure_rate_not_below() {
        let clock = ManualClock::default();
        let b = breaker(&clock);
        calls(&b, Outcome::Good, 6);
        calls(&b, Outcome::Failed, 4);
        assert_eq!(b.state(), BreakerState::Closed, "4 of 10 is under 50 %");
        calls(&b, Outcome::Failed, 1);
        assert_eq!(b.state(), BreakerState::Closed, "5 of 11 is under 50 %");
        calls(&b, Outcome::Failed, 1);
        assert_eq!(b.state(), BreakerState::Open, "6 of 12 is 50 %");
    }

    #[test]
    fn old_calls_leave_the_window() {
        let clock = ManualClock::default();
        let b = breaker(&clock);
        calls(&b, Outcome::Failed, 9);
        clock.advance(Duration::from_secs(61));
        calls(&b, Outcome::Failed, 1);
        assert_eq!(b.state(), BreakerState::Closed, "the 9 failures expired");
        calls(&b, Outcome::Failed, 8);
        assert_eq!(b.state(), BreakerState::Closed);
        calls(&b, Outcome::Failed, 1);
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn slow_successes_count_as_bad() {
        let clock = ManualClock::default();
        let b = breaker(&clock);
        let permits: Vec<_> = (0..10).map(|_| b.acquire().unwrap()).collect();
        clock.advance(Duration::from_secs(31));
        for permit in permits {
            permit.record(Outcome::Good);
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.stats().slow_calls, 10);
    }

    #[test]
    fn quota_and_refusals_are_not_failures() {
        assert_eq!(
            Outcome::of_error(&MediaError::QuotaExhausted {
                service: Service::Veo
            }),
            Outcome::Good
        );
        assert_eq!(
            Outcome::of_error(&MediaError::Refused {
                service: Service::Veo,
                reason: String::new()
            }),
            Outcome::Good
        );
        assert_eq!(
            Outcome::of_error(&MediaError::Timeout {
                service: Service::Veo
            }),
            Outcome::Failed
        );
    }

    #[test]
    fn half_open_needs_every_trial_to_pass_and_periods_grow_to_the_cap() {
        let clock = ManualClock::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let b = breaker(&clock).on_transition(Arc::new(move |_, from, to| {
            log.lock().unwrap().push((from, to));
        }));
        calls(&b, Outcome::Failed, 10);
        // 30 s, 60, 120, 240, then capped at 300.
        for period in [30, 60, 120, 240, 300, 300] {
            clock.advance(Duration::from_secs(period - 1));
            assert_eq!(b.state(), BreakerState::Open, "period {period}");
            clock.advance(Duration::from_secs(1));
            assert_eq!(b.state(), BreakerState::HalfOpen);
            let trial = b.acquire().unwrap();
            trial.record(Outcome::Failed);
        }
        clock.advance(Duration::from_secs(300));
        let trials: Vec<_> = (0..3).map(|_| b.acquire().unwrap()).collect();
        assert!(b.acquire().is_err(), "only 3 trials at once");
        let mut trials = trials.into_iter();
        trials.next().unwrap().record(Outcome::Good);
        trials.next().unwrap().record(Outcome::Good);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        trials.next().unwrap().record(Outcome::Good);
        assert_eq!(b.state(), BreakerState::Closed);
        // Closing reset the level: the next open period is 30 s again.
        calls(&b, Outcome::Failed, 10);
        clock.advance(Duration::from_secs(30));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.first(),
            Some(&(BreakerState::Closed, BreakerState::Open))
        );
        assert!(seen.contains(&(BreakerState::HalfOpen, BreakerState::Closed)));
        assert_eq!(
            seen.iter()
                .filter(|t| **t == (BreakerState::HalfOpen, BreakerState::Open))
                .count(),
            6
        );
    }

    #[test]
    fn a_trial_from_an_earlier_half_open_period_counts_nowhere() {
        let clock = ManualClock::default();
        let b = breaker(&clock);
        calls(&b, Outcome::Failed, 10);
        clock.advance(Duration::from_secs(30));
        let slow_trial = b.acquire().unwrap();
        b.acquire().unwrap().record(Outcome::Failed); // reopens, level 1
        clock.advance(Duration::from_secs(60));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let fresh: Vec<_> = (0..3).map(|_| b.acquire().unwrap()).collect();
        // The old trial ends now: it neither passes a new trial nor frees a
        // new slot.
        slow_trial.record(Outcome::Good);
        assert!(b.acquire().is_err(), "still only 3 trials at once");
        let mut fresh = fresh.into_iter();
        fresh.next().unwrap().record(Outcome::Good);
        fresh.next().unwrap().record(Outcome::Good);
        assert_eq!(b.state(), BreakerState::HalfOpen, "2 fresh passes of 3");
        fresh.next().unwrap().record(Outcome::Good);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_dropped_trial_frees_its_slot() {
        let clock = ManualClock::default();
        let b = breaker(&clock);
        calls(&b, Outcome::Failed, 10);
        clock.advance(Duration::from_secs(30));
        let held: Vec<_> = (0..3).map(|_| b.acquire().unwrap()).collect();
        assert!(b.acquire().is_err());
        drop(held);
        calls(&b, Outcome::Good, 3);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn jitter_only_shortens_the_period() {
        let clock = ManualClock::default();
        let b = CircuitBreaker::new(
            Service::Tts,
            BreakerConfig::default(),
            Arc::new(clock.clone()),
        )
        .with_jitter(Arc::new(|| 0.999));
        calls(&b, Outcome::Failed, 10);
        // 30 s × (1 − 0.2 × 0.999) ≈ 24.006 s.
        clock.advance(Duration::from_millis(24_000));
        assert_eq!(b.state(), BreakerState::Open);
        clock.advance(Duration::from_millis(10));
        assert_eq!(b.state(), BreakerState::HalfOpen);
    }
}
