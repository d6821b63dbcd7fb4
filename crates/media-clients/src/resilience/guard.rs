//! [`ServiceGuard`]: one service's circuit breaker and retry loop together,
//! the way every HTTP adapter calls out; [`ServiceGuards`]: the four a
//! provider needs.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ytvc_domain::media::{BoxFuture, MediaError, Service};

use super::{
    Backoff, BreakerConfig, BreakerState, CircuitBreaker, Clock, Failure, ManualClock,
    MonotonicClock, Outcome,
};

/// How the guard waits between attempts.
pub type Sleeper = Arc<dyn Fn(Duration) -> BoxFuture<'static, ()> + Send + Sync>;

/// A source of numbers in `[0, 1)` (the backoff's full jitter).
pub type JitterSource = Arc<dyn Fn() -> f64 + Send + Sync>;

/// A circuit breaker plus bounded retries for one service. Share it as
/// `Arc<ServiceGuard>`.
pub struct ServiceGuard {
    breaker: CircuitBreaker,
    backoff: Backoff,
    sleep: Sleeper,
    jitter: JitterSource,
}

impl std::fmt::Debug for ServiceGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceGuard")
            .field("breaker", &self.breaker)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

/// `tokio::time::sleep`, boxed.
fn tokio_sleep() -> Sleeper {
    Arc::new(|d| Box::pin(tokio::time::sleep(d)))
}

impl ServiceGuard {
    /// A guard over `breaker`, retrying with `backoff`, sleeping with
    /// tokio and a random jitter.
    #[must_use]
    pub fn new(breaker: CircuitBreaker, backoff: Backoff) -> Self {
        Self {
            breaker,
            backoff,
            sleep: tokio_sleep(),
            jitter: Arc::new(rand::random::<f64>),
        }
    }

    /// Replaces how the guard waits between attempts (tests: a no-op, or a
    /// recorder).
    #[must_use]
    pub fn with_sleep(mut self, sleep: Sleeper) -> Self {
        self.sleep = sleep;
        self
    }

    /// Replaces the backoff jitter (tests: `Arc::new(|| 1.0)`).
    #[must_use]
    pub fn with_jitter(mut self, jitter: JitterSource) -> Self {
        self.jitter = jitter;
        self
    }

    /// The guarded service.
    #[must_use]
    pub fn service(&self) -> Service {
        self.breaker.service()
    }

    /// The breaker's state.
    #[must_use]
    pub fn state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// The breaker.
    #[must_use]
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The retry settings.
    #[must_use]
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// Runs `attempt(n)` (`n` from 1) until it succeeds or may not be
    /// retried:
    ///
    /// - each attempt passes the breaker: an open circuit answers
    ///   `CircuitOpen` at once, with no call and no retry;
    /// - the attempt's outcome and duration go to the breaker
    ///   ([`Outcome::of_error`]: timeouts and unavailability are failures;
    ///   exhausted quota, refusals, unusable answers and permanent errors
    ///   are not held against the service);
    /// - a failure that [may be retried](Failure::may_retry) waits the
    ///   server's `retry_after` (given up at once when longer than
    ///   [`Backoff::max_retry_after`]) or a full-jitter backoff, up to
    ///   [`Backoff::max_attempts`] attempts.
    ///
    /// # Errors
    ///
    /// The last attempt's error, or `CircuitOpen`.
    pub async fn run<T, A, Fut>(&self, mut attempt: A) -> Result<T, MediaError>
    where
        A: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let mut number = 1;
        loop {
            let permit = self.breaker.acquire()?;
            let failure = match attempt(number).await {
                Ok(value) => {
                    permit.record(Outcome::Good);
                    return Ok(value);
                }
                Err(failure) => failure,
            };
            if failure.elsewhere {
                // Not the service's doing: counted nowhere (a trial slot is
                // given back).
                drop(permit);
            } else {
                permit.record(if failure.permanent {
                    Outcome::Good
                } else {
                    Outcome::of_error(&failure.error)
                });
            }
            let delay = (failure.may_retry() && number < self.backoff.max_attempts.max(1))
                .then(|| {
                    self.backoff
                        .delay(number, (self.jitter)(), failure.retry_after)
                })
                .flatten();
            match delay {
                Some(delay) => (self.sleep)(delay).await,
                None => return Err(failure.error),
            }
            number += 1;
        }
    }
}

/// The four guards a provider needs, one per service. The server builds
/// them, hands them to the provider and reads their states for
/// `/health/ready` and `/metrics`.
#[derive(Debug, Clone)]
pub struct ServiceGuards {
    /// The language model.
    pub llm: Arc<ServiceGuard>,
    /// Veo clips.
    pub veo: Arc<ServiceGuard>,
    /// Still images.
    pub imagen: Arc<ServiceGuard>,
    /// Text-to-speech.
    pub tts: Arc<ServiceGuard>,
}

impl ServiceGuards {
    /// The slow-call threshold of each service's breaker: LLM 45 s (a
    /// thinking model writing a storyboard routinely takes 20–40 s), Veo
    /// 60 s (the submit call; polling is not timed), images 30 s, TTS 15 s.
    #[must_use]
    pub fn slow_call(service: Service) -> Duration {
        Duration::from_secs(match service {
            Service::Llm => 45,
            Service::Imagen => 30,
            Service::Veo => 60,
            Service::Tts => 15,
        })
    }

    /// Guards built by `make` for each service.
    pub fn build(mut make: impl FnMut(Service) -> ServiceGuard) -> Self {
        Self {
            llm: Arc::new(make(Service::Llm)),
            veo: Arc::new(make(Service::Veo)),
            imagen: Arc::new(make(Service::Imagen)),
            tts: Arc::new(make(Service::Tts)),
        }
    }

    /// Guards with the default breaker settings (and each service's
    /// [slow-call threshold](Self::slow_call)), the real clock, tokio sleep
    /// and `backoff`.
    #[must_use]
    pub fn new(backoff: Backoff) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::default());
        Self::build(|service| {
            let config = BreakerConfig::with_slow_call(Self::slow_call(service));
            ServiceGuard::new(CircuitBreaker::new(service, config, clock.clone()), backoff)
        })
    }

    /// For tests: default breakers on `clock` with no jitter, `backoff`, and
    /// no waiting between retries.
    #[must_use]
    pub fn for_tests(backoff: Backoff, clock: ManualClock) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(clock);
        Self::build(|service| {
            let config = BreakerConfig::with_slow_call(Self::slow_call(service));
            let breaker =
                CircuitBreaker::new(service, config, clock.clone()).with_jitter(Arc::new(|| 0.0));
            ServiceGuard::new(breaker, backoff)
                .with_sleep(Arc::new(|_| Box::pin(async {})))
                .with_jitter(Arc::new(|| 0.5))
        })
    }

    /// Each guard with its service, in the order LLM, Veo, image, TTS.
    #[must_use]
    pub fn all(&self) -> [&Arc<ServiceGuard>; 4] {
        [&self.llm, &self.veo, &self.imagen, &self.tts]
    }

    /// The guard of `service`.
    #[must_use]
    pub fn get(&self, service: Service) -> &Arc<ServiceGuard> {
        match service {
            Service::Llm => &self.llm,
            Service::Veo => &self.veo,
            Service::Imagen => &self.imagen,
            Service::Tts => &self.tts,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }

    const MS: fn(u64) -> Duration = Duration::from_millis;

    struct Run {
        result: Result<u32, MediaError>,
        calls: u32,
    }

    fn guard(clock: &ManualClock, slept: &Arc<Mutex<Vec<Duration>>>) -> ServiceGuard {
        let breaker = CircuitBreaker::new(
            Service::Veo,
            BreakerConfig::default(),
            Arc::new(clock.clone()),
        )
        .with_jitter(Arc::new(|| 0.0));
        let slept = slept.clone();
        ServiceGuard::new(breaker, Backoff::default())
            .with_jitter(Arc::new(|| 0.5))
            .with_sleep(Arc::new(move |d| {
                slept.lock().unwrap().push(d);
                Box::pin(async {})
            }))
    }

    fn run(g: &ServiceGuard, outcomes: Vec<Result<u32, Failure>>) -> Run {
        let outcomes = Mutex::new(outcomes.into_iter());
        let mut calls = 0;
        let before = g.breaker().stats().calls;
        let result = block_on(g.run(|_| {
            calls += 1;
            let next = outcomes.lock().unwrap().next().unwrap();
            async move { next }
        }));
        assert_eq!(g.breaker().stats().calls - before, u64::from(calls));
        Run { result, calls }
    }

    fn down() -> Failure {
        Failure::transient(MediaError::Unavailable {
            service: Service::Veo,
            reason: "503".into(),
        })
    }

    #[test]
    fn retries_then_succeeds_honouring_retry_after() {
        let clock = ManualClock::default();
        let slept = Arc::new(Mutex::new(Vec::new()));
        let g = guard(&clock, &slept);
        let run = run(
            &g,
            vec![Err(down().retry_after(Some(MS(1500)))), Err(down()), Ok(7)],
        );
        assert_eq!((run.result.unwrap(), run.calls), (7, 3));
        assert_eq!(*slept.lock().unwrap(), [MS(1500), MS(500)]);
        assert_eq!(g.breaker().stats().failures, 2);
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let clock = ManualClock::default();
        let slept = Arc::new(Mutex::new(Vec::new()));
        let g = guard(&clock, &slept);
        let run = run(&g, vec![Err(down()), Err(down()), Err(down()), Ok(1)]);
        assert_eq!(run.result.unwrap_err().code().as_str(), "MEDIA_001");
        assert_eq!((run.calls, slept.lock().unwrap().len()), (3, 2));
    }

    #[test]
    fn final_failures_are_not_retried_nor_held_against_the_service() {
        let clock = ManualClock::default();
        let slept = Arc::new(Mutex::new(Vec::new()));
        let g = guard(&clock, &slept);
        let quota = Failure::transient(MediaError::QuotaExhausted {
            service: Service::Veo,
        });
        let bad_request = Failure::permanent(MediaError::Unavailable {
            service: Service::Veo,
            reason: "400".into(),
        });
        let long = down().retry_after(Some(Duration::from_secs(3600)));
        for failure in [quota, bad_request] {
            for _ in 0..20 {
                let run = run(&g, vec![Err(failure.clone()), Ok(1)]);
                assert_eq!(run.calls, 1);
            }
        }
        assert_eq!(g.state(), BreakerState::Closed, "40 final failures");
        assert_eq!(g.breaker().stats().failures, 0);
        assert_eq!(run(&g, vec![Err(long), Ok(1)]).calls, 1, "too long a wait");
        assert!(slept.lock().unwrap().is_empty());
    }

    #[test]
    fn failures_elsewhere_are_retried_but_not_counted() {
        let clock = ManualClock::default();
        let slept = Arc::new(Mutex::new(Vec::new()));
        let g = guard(&clock, &slept);
        for _ in 0..10 {
            let run = run(
                &g,
                vec![Err(down().elsewhere()), Err(down().elsewhere()), Ok(1)],
            );
            assert_eq!((run.result.unwrap(), run.calls), (1, 3));
        }
        assert_eq!(g.state(), BreakerState::Closed);
        assert_eq!(g.breaker().stats().failures, 0);
    }

    #[test]
    fn an_open_circuit_answers_at_once_without_calling() {
        let clock = ManualClock::default();
        let slept = Arc::new(Mutex::new(Vec::new()));
        let g = guard(&clock, &slept);
        for _ in 0..4 {
            let _ = run(&g, vec![Err(down()), Err(down()), Err(down())]);
        }
        assert_eq!(g.state(), BreakerState::Open);
        let mut calls = 0;
        let result: Result<u32, _> = block_on(g.run(|_| {
            calls += 1;
            async { Ok(1) }
        }));
        assert_eq!(calls, 0);
        assert!(matches!(result, Err(MediaError::CircuitOpen { .. })));
        // The retry loop stopped when the circuit opened mid-way (10th call).
        assert_eq!(g.breaker().stats().calls, 10);
    }
}
