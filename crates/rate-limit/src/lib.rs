#![doc = include_str!("../README.md")]

mod decision;
mod memory;
mod policy;
#[cfg(feature = "redis")]
mod redis_store;
mod table;
mod time;
mod window;

use std::future::Future;
use std::pin::Pin;

pub use decision::{Decision, Outcome, Source};
pub use memory::{MemoryConfig, MemoryLimiter};
pub use policy::{DEFAULT_BUCKETS, Degrade, MAX_BUCKETS, MAX_WINDOW_MILLIS, Policy, PolicyError};
#[cfg(feature = "redis")]
pub use redis_store::{DegradeEvent, RedisConfig, RedisLimitError, RedisLimiter};
pub use time::{
    Clock, ManualClock, SystemClock, format_rfc3339_millis, millis_to_system_time,
    system_time_to_millis,
};

/// A boxed decision future, so limiters can be held as `Arc<dyn RateLimiter>`.
pub type DecisionFuture<'a> = Pin<Box<dyn Future<Output = Decision> + Send + 'a>>;

/// A store-independent limiter: what a service holds (`Arc<dyn RateLimiter>`).
///
/// Both methods always return a decision; a shared store that fails degrades
/// per [`Policy::degrade`] within its timeout.
pub trait RateLimiter: Send + Sync {
    /// Checks `cost` units for `key` and consumes them if admitted.
    fn check<'a>(&'a self, key: &'a str, policy: &'a Policy, cost: u32) -> DecisionFuture<'a>;

    /// What `check` would answer, without consuming anything.
    fn peek<'a>(&'a self, key: &'a str, policy: &'a Policy, cost: u32) -> DecisionFuture<'a>;
}
