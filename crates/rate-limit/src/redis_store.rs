//! The Redis store (cargo feature `redis`): one `EVALSHA` per decision.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};

use crate::decision::{Decision, Outcome, Source};
use crate::memory::{MemoryConfig, MemoryLimiter};
use crate::policy::{Degrade, Policy};
use crate::time::{Clock, SystemClock};

const SCRIPT: &str = include_str!("sliding_window.lua");

/// Settings of a [`RedisLimiter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// Prepended to every key; the caller's key is hash-tagged:
    /// `<prefix>{<key>}`.
    pub prefix: String,
    /// Deadline for one decision (round trip included). Past it the
    /// policy's [`Degrade`] decides. Default 25 ms.
    pub timeout: Duration,
    /// Deadline for establishing a TCP connection (in the background).
    pub connect_timeout: Duration,
    /// Sizing of the local fallback limiter.
    pub fallback: MemoryConfig,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            prefix: "ytvc:rl:".to_owned(),
            timeout: Duration::from_millis(25),
            connect_timeout: Duration::from_millis(500),
            fallback: MemoryConfig::default(),
        }
    }
}

/// Why the Redis store could not decide.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisLimitError {
    /// No answer within the configured timeout.
    #[error("redis rate limit: no answer within {0:?}")]
    Timeout(Duration),
    /// Redis or the connection failed.
    #[error("redis rate limit: {0}")]
    Redis(#[from] redis::RedisError),
    /// The script answered something unexpected.
    #[error("redis rate limit: unexpected reply {0:?}")]
    UnexpectedReply(Vec<i64>),
}

/// Passed to the [`RedisLimiter::on_degraded`] hook for each degraded decision.
#[derive(Debug)]
pub struct DegradeEvent<'a> {
    /// The caller's key.
    pub key: &'a str,
    /// The policy checked.
    pub policy: &'a Policy,
    /// What failed.
    pub error: &'a RedisLimitError,
    /// How the decision was made instead.
    pub degrade: Degrade,
    /// Degraded decisions so far, this one included.
    pub count: u64,
}

type Hook = Arc<dyn Fn(&DegradeEvent<'_>) + Send + Sync>;

/// A sliding-window limiter shared by every process that uses the same Redis.
///
/// Each decision is one `EVALSHA` of a cached Lua script (reloaded on
/// `NOSCRIPT`), timed by Redis `TIME`. Keys are `<prefix>{<key>}` (hash-tagged
/// for Redis Cluster) and expire when nothing in them is counted any more.
/// Every decision comes back within [`RedisConfig::timeout`]: on error or
/// timeout the policy's [`Degrade`] decides, the decision is marked
/// ([`Decision::source`]), counted ([`degraded_count`](Self::degraded_count))
/// and logged (`log` target `ytvc_rate_limit`; `warn` for the 1st, 2nd, 4th,
/// 8th… and every 1024th, `debug` otherwise).
pub struct RedisLimiter {
    conn: ConnectionManager,
    script: Script,
    prefix: String,
    timeout: Duration,
    clock: Option<Arc<dyn Clock>>,
    fallback: MemoryLimiter<Arc<dyn Clock>>,
    fallback_config: MemoryConfig,
    degraded: AtomicU64,
    hook: Option<Hook>,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("degraded", &self.degraded_count())
            .finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// A limiter on `client` that connects lazily (in the background) and
    /// reconnects on its own; decisions made while Redis is unreachable are
    /// degraded. Must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// [`RedisLimitError::Redis`] when no Tokio runtime is running.
    pub fn new(client: Client, config: RedisConfig) -> Result<Self, RedisLimitError> {
        let cm_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(None)
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client, cm_config)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Ok(Self {
            conn,
            script: Script::new(SCRIPT),
            prefix: config.prefix,
            timeout: config.timeout,
            clock: None,
            fallback: MemoryLimiter::with_clock(clock, config.fallback),
            fallback_config: config.fallback,
            degraded: AtomicU64::new(0),
            hook: None,
        })
    }

    /// Opens `url` (e.g. `redis://127.0.0.1:6379`), then loads the script to
    /// prove Redis answers.
    ///
    /// # Errors
    /// [`RedisLimitError`] when the URL is invalid or Redis does not answer
    /// within `config.connect_timeout`.
    pub async fn connect(url: &str, config: RedisConfig) -> Result<Self, RedisLimitError> {
        let deadline = config.connect_timeout;
        let limiter = Self::new(Client::open(url)?, config)?;
        let mut conn = limiter.conn.clone();
        tokio::time::timeout(deadline, limiter.script.load_async(&mut conn))
            .await
            .map_err(|_| RedisLimitError::Timeout(deadline))??;
        Ok(limiter)
    }

    /// Uses `clock` instead of Redis `TIME` (the script is given the time):
    /// for tests that drive the store with a [`crate::ManualClock`]. The
    /// local fallback reads the same clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.fallback = MemoryLimiter::with_clock(clock.clone(), self.fallback_config);
        self.clock = Some(clock);
        self
    }

    /// Calls `hook` for every degraded decision (after counting and logging it).
    #[must_use]
    pub fn on_degraded(mut self, hook: impl Fn(&DegradeEvent<'_>) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Number of degraded decisions so far.
    pub fn degraded_count(&self) -> u64 {
        self.degraded.load(Ordering::Relaxed)
    }

    /// The local fallback limiter (e.g. to [`sweep`](MemoryLimiter::sweep) it from a timer).
    pub fn fallback(&self) -> &MemoryLimiter<Arc<dyn Clock>> {
        &self.fallback
    }

    /// The Redis key holding `key`'s state: `<prefix>{<key>}`.
    pub fn redis_key(&self, key: &str) -> String {
        format!("{}{{{}}}", self.prefix, key)
    }

    /// Checks `cost` units for `key` and consumes them if admitted. Always
    /// answers within the timeout (degrading if needed).
    pub async fn check(&self, key: &str, policy: &Policy, cost: u32) -> Decision {
        self.decide(key, policy, cost, true).await
    }

    /// What [`check`](Self::check) would answer, without consuming.
    pub async fn peek(&self, key: &str, policy: &Policy, cost: u32) -> Decision {
        self.decide(key, policy, cost, false).await
    }

    /// [`check`](Self::check) without the degrade policy.
    ///
    /// # Errors
    /// [`RedisLimitError`] on timeout, a Redis error or an unexpected reply.
    pub async fn try_check(
        &self,
        key: &str,
        policy: &Policy,
        cost: u32,
    ) -> Result<Decision, RedisLimitError> {
        self.try_decide(key, policy, cost, true).await
    }

    /// [`peek`](Self::peek) without the degrade policy.
    ///
    /// # Errors
    /// [`RedisLimitError`] on timeout, a Redis error or an unexpected reply.
    pub async fn try_peek(
        &self,
        key: &str,
        policy: &Policy,
        cost: u32,
    ) -> Result<Decision, RedisLimitError> {
        self.try_decide(key, policy, cost, false).await
    }

    async fn decide(&self, key: &str, policy: &Policy, cost: u32, consume: bool) -> Decision {
        match self.try_decide(key, policy, cost, consume).await {
            Ok(d) => d,
            Err(e) => self.degrade(key, policy, cost, consume, &e),
        }
    }

    async fn try_decide(
        &self,
        key: &str,
        policy: &Policy,
        cost: u32,
        consume: bool,
    ) -> Result<Decision, RedisLimitError> {
        let mut inv = self.script.prepare_invoke();
        inv.key(self.redis_key(key))
            .arg(policy.limit())
            .arg(policy.window_millis())
            .arg(policy.buckets())
            .arg(cost)
            .arg(if consume { "1" } else { "0" });
        match &self.clock {
            Some(c) => inv.arg(c.now_millis()),
            None => inv.arg(""),
        };
        let mut conn = self.conn.clone();
        let reply: Vec<i64> = tokio::time::timeout(self.timeout, inv.invoke_async(&mut conn))
            .await
            .map_err(|_| RedisLimitError::Timeout(self.timeout))??;
        let [outcome, remaining, now, reset_at, retry_at] = reply[..] else {
            return Err(RedisLimitError::UnexpectedReply(reply));
        };
        let outcome = match outcome {
            0 => Outcome::Allowed,
            1 => Outcome::Limited,
            2 => Outcome::CostExceedsLimit,
            _ => return Err(RedisLimitError::UnexpectedReply(reply)),
        };
        let ms = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(Decision {
            outcome,
            limit: policy.limit(),
            remaining: u32::try_from(remaining).unwrap_or(0),
            now_ms: ms(now),
            reset_at_ms: ms(reset_at),
            retry_at_ms: (retry_at >= 0).then(|| ms(retry_at)),
            source: Source::Store,
        })
    }

    fn degrade(
        &self,
        key: &str,
        policy: &Policy,
        cost: u32,
        consume: bool,
        error: &RedisLimitError,
    ) -> Decision {
        let count = self.degraded.fetch_add(1, Ordering::Relaxed) + 1;
        let degrade = policy.degrade();
        if count.is_power_of_two() || count.is_multiple_of(1024) {
            log::warn!(
                target: "ytvc_rate_limit",
                "rate limit store degraded ({degrade:?}, {count} so far): {error}"
            );
        } else {
            log::debug!(
                target: "ytvc_rate_limit",
                "rate limit store degraded ({degrade:?}, {count} so far): {error}"
            );
        }
        if let Some(hook) = &self.hook {
            hook(&DegradeEvent {
                key,
                policy,
                error,
                degrade,
                count,
            });
        }
        match degrade {
            Degrade::FailOpen => {
                let now = self.fallback.clock().now_millis();
                let fits = cost <= policy.limit();
                Decision {
                    outcome: if fits {
                        Outcome::Allowed
                    } else {
                        Outcome::CostExceedsLimit
                    },
                    limit: policy.limit(),
                    remaining: policy.limit() - if consume && fits { cost } else { 0 },
                    now_ms: now,
                    reset_at_ms: now,
                    retry_at_ms: None,
                    source: Source::FailOpen,
                }
            }
            Degrade::LocalFallback => {
                let mut d = if consume {
                    self.fallback.check(key, policy, cost)
                } else {
                    self.fallback.peek(key, policy, cost)
                };
                d.source = Source::LocalFallback;
                d
            }
        }
    }
}

impl crate::RateLimiter for RedisLimiter {
    fn check<'a>(
        &'a self,
        key: &'a str,
        policy: &'a Policy,
        cost: u32,
    ) -> crate::DecisionFuture<'a> {
        Box::pin(RedisLimiter::check(self, key, policy, cost))
    }

    fn peek<'a>(
        &'a self,
        key: &'a str,
        policy: &'a Policy,
        cost: u32,
    ) -> crate::DecisionFuture<'a> {
        Box::pin(RedisLimiter::peek(self, key, policy, cost))
    }
}
