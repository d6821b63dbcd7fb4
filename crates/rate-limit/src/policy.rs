//! Policies: `limit` units per sliding `window`.

use std::fmt;
use std::time::Duration;

/// The largest number of sub-buckets a window may be divided into.
pub const MAX_BUCKETS: u8 = 16;

/// The default number of sub-buckets per window (under-admission bound `window / 16`).
pub const DEFAULT_BUCKETS: u8 = 16;

/// The longest accepted window: 2^40 ms, about 34.8 years.
pub const MAX_WINDOW_MILLIS: u64 = 1 << 40;

/// What a shared (Redis) limiter does when its store cannot answer within the
/// timeout. The in-memory limiter ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Degrade {
    /// Admit the request (the limit is not enforced while the store is down).
    /// Suits a general API limit where availability matters more.
    FailOpen,
    /// Decide with a process-local in-memory limiter (each instance enforces
    /// the limit on its own; with N instances the fleet admits at most N × limit).
    #[default]
    LocalFallback,
}

/// A policy was rejected at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// `limit` was 0.
    #[error("rate limit policy: limit must be at least 1")]
    ZeroLimit,
    /// The window was shorter than one millisecond.
    #[error("rate limit policy: window must be at least 1 ms")]
    ZeroWindow,
    /// The window was longer than [`MAX_WINDOW_MILLIS`].
    #[error("rate limit policy: window must be at most 2^40 ms")]
    WindowTooLong,
    /// The bucket count was 0 or above [`MAX_BUCKETS`].
    #[error("rate limit policy: buckets must be between 1 and 16")]
    InvalidBuckets,
}

/// At most `limit` units in any trailing `window`.
///
/// The window is divided into `buckets` sub-buckets of width
/// `ceil(window / buckets)`; a unit may be held at most one bucket width longer
/// than `window` (see the crate docs for the exact bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Policy {
    limit: u32,
    window_ms: u64,
    buckets: u8,
    degrade: Degrade,
    geometry: Geometry,
}

/// Derived sizes of a (window, buckets) pair, shared by both stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Geometry {
    /// Bucket width `w = ceil(W / B)` in ms.
    pub(crate) width: u64,
    /// Ring length `ceil(W / w) + 1` (at most `B + 1`).
    pub(crate) ring: u8,
    /// How long a bucket is counted after its start: `W + w`.
    pub(crate) span: u64,
}

impl Geometry {
    pub(crate) fn new(window_ms: u64, buckets: u8) -> Self {
        let b = u64::from(buckets.max(1));
        let width = window_ms.div_ceil(b).max(1);
        let ring = window_ms.div_ceil(width) + 1;
        Self {
            width,
            ring: u8::try_from(ring).unwrap_or(u8::MAX),
            span: window_ms + width,
        }
    }
}

impl Policy {
    /// `limit` units per `window`. The window is rounded up to whole
    /// milliseconds (a longer window is stricter, so this never over-admits).
    ///
    /// # Errors
    /// [`PolicyError::ZeroLimit`], [`PolicyError::ZeroWindow`] or
    /// [`PolicyError::WindowTooLong`].
    pub fn new(limit: u32, window: Duration) -> Result<Self, PolicyError> {
        if limit == 0 {
            return Err(PolicyError::ZeroLimit);
        }
        if window.is_zero() {
            return Err(PolicyError::ZeroWindow);
        }
        let mut ms = window.as_millis();
        if !window.subsec_nanos().is_multiple_of(1_000_000) {
            ms += 1;
        }
        let window_ms = u64::try_from(ms).map_err(|_| PolicyError::WindowTooLong)?;
        if window_ms > MAX_WINDOW_MILLIS {
            return Err(PolicyError::WindowTooLong);
        }
        Ok(Self {
            limit,
            window_ms,
            buckets: DEFAULT_BUCKETS,
            degrade: Degrade::default(),
            geometry: Geometry::new(window_ms, DEFAULT_BUCKETS),
        })
    }

    /// `limit` units per second.
    ///
    /// # Errors
    /// [`PolicyError::ZeroLimit`] when `limit` is 0.
    pub fn per_second(limit: u32) -> Result<Self, PolicyError> {
        Self::new(limit, Duration::from_secs(1))
    }

    /// `limit` units per minute.
    ///
    /// # Errors
    /// [`PolicyError::ZeroLimit`] when `limit` is 0.
    pub fn per_minute(limit: u32) -> Result<Self, PolicyError> {
        Self::new(limit, Duration::from_secs(60))
    }

    /// `limit` units per hour.
    ///
    /// # Errors
    /// [`PolicyError::ZeroLimit`] when `limit` is 0.
    pub fn per_hour(limit: u32) -> Result<Self, PolicyError> {
        Self::new(limit, Duration::from_secs(3600))
    }

    /// The same policy with the window divided into `buckets` sub-buckets
    /// (1..=16; default 16). More buckets: tighter under-admission bound;
    /// fewer: nothing else changes (memory per key is fixed).
    ///
    /// # Errors
    /// [`PolicyError::InvalidBuckets`] outside 1..=16.
    pub fn with_buckets(mut self, buckets: u8) -> Result<Self, PolicyError> {
        if buckets == 0 || buckets > MAX_BUCKETS {
            return Err(PolicyError::InvalidBuckets);
        }
        self.buckets = buckets;
        self.geometry = Geometry::new(self.window_ms, buckets);
        Ok(self)
    }

    /// The same policy with another degrade policy (used by the Redis store).
    #[must_use]
    pub fn with_degrade(mut self, degrade: Degrade) -> Self {
        self.degrade = degrade;
        self
    }

    /// Units admitted per window.
    #[must_use]
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The window.
    #[must_use]
    pub fn window(&self) -> Duration {
        Duration::from_millis(self.window_ms)
    }

    /// The window in milliseconds.
    #[must_use]
    pub fn window_millis(&self) -> u64 {
        self.window_ms
    }

    /// Sub-buckets per window.
    #[must_use]
    pub fn buckets(&self) -> u8 {
        self.buckets
    }

    /// The degrade policy (Redis store only).
    #[must_use]
    pub fn degrade(&self) -> Degrade {
        self.degrade
    }

    /// Width of one sub-bucket: `ceil(window / buckets)` ms.
    #[must_use]
    pub fn bucket_width(&self) -> Duration {
        Duration::from_millis(self.geometry.width)
    }

    /// The under-admission bound: a unit admitted at `e` stops counting at
    /// `floor(e / w) * w + window + w`, i.e. it is held for more than `window`
    /// and at most `window + w`; this returns `w`, the most it may be held
    /// beyond the window.
    #[must_use]
    pub fn max_extra_hold(&self) -> Duration {
        self.bucket_width()
    }

    pub(crate) fn geometry(&self) -> Geometry {
        self.geometry
    }
}

impl fmt::Display for Policy {
    /// IETF `RateLimit-Policy` style: `100;w=60` (the window in whole seconds,
    /// rounded up).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{};w={}", self.limit, self.window_ms.div_ceil(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_zero_limit_and_window() {
        assert_eq!(
            Policy::new(0, Duration::from_secs(1)),
            Err(PolicyError::ZeroLimit)
        );
        assert_eq!(Policy::new(1, Duration::ZERO), Err(PolicyError::ZeroWindow));
        assert_eq!(
            Policy::new(1, Duration::from_secs(u64::MAX)),
            Err(PolicyError::WindowTooLong)
        );
        let p = Policy::per_second(1).unwrap();
        assert_eq!(p.with_buckets(0), Err(PolicyError::InvalidBuckets));
        assert_eq!(p.with_buckets(17), Err(PolicyError::InvalidBuckets));
    }

    #[test]
    fn sub_millisecond_windows_round_up() {
        let p = Policy::new(1, Duration::from_micros(1500)).unwrap();
        assert_eq!(p.window_millis(), 2);
        let p = Policy::new(1, Duration::from_nanos(1)).unwrap();
        assert_eq!(p.window_millis(), 1);
    }

    #[test]
    fn geometry_ring_fits() {
        for w in 1..400u64 {
            for b in 1..=MAX_BUCKETS {
                let g = Geometry::new(w, b);
                assert!(g.ring as u64 <= u64::from(b) + 1, "w={w} b={b}");
                assert!(g.ring >= 2);
                assert!(g.width * (u64::from(g.ring) - 1) >= w);
            }
        }
        let p = Policy::per_minute(100).unwrap();
        assert_eq!(p.bucket_width(), Duration::from_millis(3750));
        assert_eq!(p.to_string(), "100;w=60");
    }
}
