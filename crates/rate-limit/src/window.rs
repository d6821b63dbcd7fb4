//! The per-key state: a ring of sub-bucket counters (the algorithm of the crate docs).

use crate::decision::{Decision, Outcome, Source};
use crate::policy::{Geometry, MAX_BUCKETS, Policy};

const RING: usize = MAX_BUCKETS as usize + 1;

/// Counters of one key: 96 bytes, independent of the limit.
///
/// Bucket `k` covers `[k*w, (k+1)*w)`; a unit counted in it stops counting at
/// `k*w + W + w` (the policy's `span`). The ring holds the buckets starting at
/// `head_start - (ring-1)*w ..= head_start`.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// Start of the newest bucket. Time never goes backwards per key past it:
    /// an earlier instant is taken as this one.
    head_start: u64,
    /// Window of the policy the counters were made for (fingerprint).
    window_ms: u64,
    /// Sum of all counters in the ring (the oldest may have expired).
    total: u64,
    /// Buckets of the policy the counters were made for (fingerprint).
    buckets: u8,
    /// Ring index of the newest bucket.
    head: u8,
    counts: [u32; RING],
}

impl Window {
    /// Counters of an empty table slot (never decided on).
    pub(crate) const EMPTY: Window = Window {
        head_start: 0,
        window_ms: 0,
        total: 0,
        buckets: 0,
        head: 0,
        counts: [0; RING],
    };

    pub(crate) fn new(policy: &Policy) -> Self {
        Self {
            head_start: 0,
            window_ms: policy.window_millis(),
            total: 0,
            buckets: policy.buckets(),
            head: 0,
            counts: [0; RING],
        }
    }

    /// Units still counted at `t` under geometry `g` (the one the state was made for).
    fn live_used(&self, g: Geometry, t: u64) -> u64 {
        let n = usize::from(g.ring);
        let mut idx = usize::from(self.head);
        let mut sum = 0u64;
        for i in 0..n as u64 {
            let Some(start) = self.head_start.checked_sub(i * g.width) else {
                break;
            };
            if start + g.span > t {
                sum += u64::from(self.counts[idx]);
            }
            idx = if idx == 0 { n - 1 } else { idx - 1 };
        }
        sum
    }

    /// No unit is counted at `now`: the key can be forgotten without changing any decision.
    pub(crate) fn is_idle(&self, now: u64) -> bool {
        let g = Geometry::new(self.window_ms, self.buckets);
        self.total == 0 || self.live_used(g, now.max(self.head_start)) == 0
    }

    /// A key checked with a policy of another window or bucket count: every
    /// unit still counted is moved to the current bucket (counted for at
    /// least a full new window from now; never over-admits).
    fn migrate(&mut self, p: &Policy, t: u64) {
        let old = Geometry::new(self.window_ms, self.buckets);
        let sum = self.live_used(old, t);
        let g = p.geometry();
        self.window_ms = p.window_millis();
        self.buckets = p.buckets();
        self.counts = [0; RING];
        self.counts[0] = u32::try_from(sum).unwrap_or(u32::MAX);
        self.total = sum;
        self.head = 0;
        self.head_start = t / g.width * g.width;
    }

    /// Moves the ring to instant `t >= head_start + w`.
    #[cold]
    fn advance(&mut self, g: Geometry, t: u64) {
        let n = usize::from(g.ring);
        let d = (t - self.head_start) / g.width;
        if d >= n as u64 {
            if self.total != 0 {
                self.counts = [0; RING];
                self.total = 0;
            }
            self.head = 0;
            self.head_start = t / g.width * g.width;
        } else {
            let mut head = usize::from(self.head);
            for _ in 0..d {
                head = if head + 1 == n { 0 } else { head + 1 };
                self.total -= u64::from(self.counts[head]);
                self.counts[head] = 0;
            }
            self.head = head as u8;
            self.head_start += d * g.width;
        }
    }

    /// Earliest instant at which `need` (≥ 1) of the counted units have
    /// stopped counting: walk the live buckets oldest first.
    fn expiry_of(&self, g: Geometry, oldest_expired: bool, need: u64) -> u64 {
        let n = usize::from(g.ring);
        let mut idx = usize::from(self.head);
        let mut cum = 0u64;
        for j in 0..n {
            // j = 0 is the oldest bucket, starting at head_start - (n-1-j)*w.
            idx = if idx + 1 == n { 0 } else { idx + 1 };
            if j == 0 && oldest_expired {
                continue;
            }
            let c = self.counts[idx];
            if c == 0 {
                continue;
            }
            cum += u64::from(c);
            if cum >= need {
                return self.head_start - (n - 1 - j) as u64 * g.width + g.span;
            }
        }
        // Unreachable when need <= live units; stay conservative.
        self.head_start + g.span
    }

    /// Decides `cost` units at `now`, consuming them when `consume` and admitted.
    #[inline]
    pub(crate) fn decide(&mut self, p: &Policy, now: u64, cost: u32, consume: bool) -> Decision {
        let t = now.max(self.head_start);
        if self.window_ms != p.window_millis() || self.buckets != p.buckets() {
            self.migrate(p, t);
        }
        let g = p.geometry();
        if t >= self.head_start + g.width {
            self.advance(g, t);
        }
        let n = u64::from(g.ring);
        let h = usize::from(self.head);
        let oldest_idx = if h + 1 == n as usize { 0 } else { h + 1 };
        // The oldest bucket starts at head_start - (n-1)*w and stops counting
        // at that + span.
        let oldest_expired = self.head_start + g.width + g.span <= t + n * g.width;
        let used = if oldest_expired {
            self.total - u64::from(self.counts[oldest_idx])
        } else {
            self.total
        };
        let limit = u64::from(p.limit());
        let cost64 = u64::from(cost);
        let (outcome, used_after, retry_at) = if cost > p.limit() {
            (Outcome::CostExceedsLimit, used, None)
        } else if used + cost64 <= limit {
            if consume {
                self.counts[h] = self.counts[h].saturating_add(cost);
                self.total += cost64;
                (Outcome::Allowed, used + cost64, None)
            } else {
                (Outcome::Allowed, used, None)
            }
        } else {
            let at = self.expiry_of(g, oldest_expired, used + cost64 - limit);
            (Outcome::Limited, used, Some(at))
        };
        let remaining = limit.saturating_sub(used_after);
        let reset_at = if used_after == 0 {
            t
        } else if remaining == 0 {
            let need = used_after + 1 - limit;
            match retry_at {
                Some(at) if need == used + cost64 - limit => at,
                _ => self.expiry_of(g, oldest_expired, need),
            }
        } else {
            self.expiry_of(g, oldest_expired, 1)
        };
        Decision {
            outcome,
            limit: p.limit(),
            remaining: remaining as u32,
            now_ms: t,
            reset_at_ms: reset_at,
            retry_at_ms: retry_at,
            source: Source::Store,
        }
    }
}

/// The decision for a key with no state.
pub(crate) fn fresh(p: &Policy, now: u64, cost: u32) -> Decision {
    Decision {
        outcome: if cost > p.limit() {
            Outcome::CostExceedsLimit
        } else {
            Outcome::Allowed
        },
        limit: p.limit(),
        remaining: p.limit(),
        now_ms: now,
        reset_at_ms: now,
        retry_at_ms: None,
        source: Source::Store,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn state_is_96_bytes() {
        assert_eq!(std::mem::size_of::<Window>(), 96);
    }

    #[test]
    fn exact_boundaries_with_even_buckets() {
        // W = 1000, B = 10 -> w = 100, span = 1100.
        let p = Policy::new(2, Duration::from_millis(1000))
            .unwrap()
            .with_buckets(10)
            .unwrap();
        let mut w = Window::new(&p);
        assert!(w.decide(&p, 10_050, 1, true).allowed()); // bucket 10_000
        assert!(w.decide(&p, 10_420, 1, true).allowed()); // bucket 10_400
        let d = w.decide(&p, 10_999, 1, true);
        assert_eq!(d.outcome(), Outcome::Limited);
        assert_eq!(d.retry_at_millis(), Some(11_100));
        assert_eq!(d.reset_at_millis(), 11_100);
        assert!(!w.decide(&p, 11_099, 1, true).allowed());
        let d = w.decide(&p, 11_100, 1, true);
        assert!(d.allowed());
        assert_eq!(d.remaining(), 0);
        assert_eq!(d.reset_at_millis(), 11_500);
    }

    #[test]
    fn migrate_keeps_counted_units() {
        let p = Policy::new(3, Duration::from_millis(1000)).unwrap();
        let mut w = Window::new(&p);
        for _ in 0..3 {
            assert!(w.decide(&p, 5_000, 1, true).allowed());
        }
        let q = Policy::new(3, Duration::from_millis(500)).unwrap();
        let d = w.decide(&q, 5_200, 1, true);
        assert!(!d.allowed());
        assert_eq!(d.retry_at_millis(), Some(5_200 / 32 * 32 + 532));
    }
}
