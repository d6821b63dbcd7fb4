//! Bounded retries with full-jitter exponential backoff that honour
//! `Retry-After`.

use std::future::Future;
use std::time::Duration;

use ytvc_domain::media::MediaError;

/// A failed attempt: the error, and the server's `Retry-After` if it sent
/// one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong.
    pub error: MediaError,
    /// How long the server asked us to wait.
    pub retry_after: Option<Duration>,
}

impl From<MediaError> for Failure {
    fn from(error: MediaError) -> Self {
        Self {
            error,
            retry_after: None,
        }
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

/// Runs `attempt` (given the attempt number, from 1) until it succeeds, its
/// error is not retryable ([`MediaError::retryable`]; an open circuit is
/// never retried here), `max_attempts` is reached, or the server's
/// `Retry-After` is too long. Waits with `sleep` (e.g. `tokio::time::sleep`)
/// between attempts; `jitter` gives numbers in `[0, 1)`.
///
/// # Errors
///
/// The last attempt's error.
pub async fn retry_with_backoff<T, A, Fut, S, SFut>(
    policy: &Backoff,
    mut jitter: impl FnMut() -> f64,
    sleep: S,
    mut attempt: A,
) -> Result<T, MediaError>
where
    A: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
    S: Fn(Duration) -> SFut,
    SFut: Future<Output = ()>,
{
    let mut number = 1;
    loop {
        let failure = match attempt(number).await {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        let retry = failure.error.retryable()
            && !matches!(failure.error, MediaError::CircuitOpen { .. })
            && number < policy.max_attempts.max(1);
        let delay = if retry {
            policy.delay(number, jitter(), failure.retry_after)
        } else {
            None
        };
        match delay {
            Some(delay) => sleep(delay).await,
            None => return Err(failure.error),
        }
        number += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use ytvc_domain::media::Service;

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

    fn run(outcomes: Vec<Result<u32, Failure>>) -> (Result<u32, MediaError>, Vec<Duration>, u32) {
        let slept = Mutex::new(Vec::new());
        let outcomes = Mutex::new(outcomes.into_iter());
        let mut calls = 0;
        let result = block_on(retry_with_backoff(
            &Backoff::default(),
            || 0.5,
            |d| {
                slept.lock().unwrap().push(d);
                async {}
            },
            |_| {
                calls += 1;
                let next = outcomes.lock().unwrap().next().unwrap();
                async move { next }
            },
        ));
        (result, slept.into_inner().unwrap(), calls)
    }

    #[test]
    fn retries_then_succeeds_honouring_retry_after() {
        let quota = Failure {
            error: MediaError::QuotaExhausted {
                service: Service::Veo,
            },
            retry_after: Some(MS(1500)),
        };
        let down = Failure::from(MediaError::Unavailable {
            service: Service::Veo,
            reason: "503".into(),
        });
        let (result, slept, calls) = run(vec![Err(quota), Err(down), Ok(7)]);
        assert_eq!((result.unwrap(), calls), (7, 3));
        assert_eq!(slept, [MS(1500), MS(500)]);
    }

    #[test]
    fn gives_up() {
        let down = || {
            Failure::from(MediaError::Timeout {
                service: Service::Llm,
            })
        };
        let (result, slept, calls) = run(vec![Err(down()), Err(down()), Err(down()), Ok(1)]);
        assert_eq!(result.unwrap_err().code().as_str(), "LLM_001");
        assert_eq!((calls, slept.len()), (3, 2));

        let refused = Failure::from(MediaError::Refused {
            service: Service::Llm,
            reason: "x".into(),
        });
        let (result, slept, calls) = run(vec![Err(refused), Ok(1)]);
        assert_eq!(
            (result.unwrap_err().code().as_str(), calls, slept.len()),
            ("LLM_004", 1, 0)
        );

        let open = Failure::from(MediaError::CircuitOpen {
            service: Service::Veo,
        });
        assert_eq!(
            run(vec![Err(open), Ok(1)]).2,
            1,
            "an open circuit is not retried"
        );

        let long = Failure {
            error: MediaError::QuotaExhausted {
                service: Service::Veo,
            },
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(
            run(vec![Err(long), Ok(1)]).2,
            1,
            "too long a Retry-After is not waited for"
        );
    }
}
