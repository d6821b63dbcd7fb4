//! Property test: random arrival sequences against reference sliding-log models.
//!
//! * `TrueLog` is the exact sliding log of window `W`: the limiter must never
//!   let it exceed the limit, and the limiter's count must lie between the true
//!   log of `W` and the true log of `W + w` (the documented under-admission bound).
//! * `RoundedLog` is the sliding log over bucket-rounded timestamps with window
//!   `W + w`: the limiter's decisions must be identical, including `reset_at`
//!   and `retry_after`, which are also checked by probing one millisecond
//!   before and at the announced instant.

use std::time::Duration;

use proptest::prelude::*;
use ytvc_rate_limit::{Decision, MemoryConfig, MemoryLimiter, Outcome, Policy, SystemClock};

const BASE: u64 = 1_700_000_000_000;

/// Admitted units: (admission instant, cost).
#[derive(Default)]
struct TrueLog(Vec<(u64, u64)>);

impl TrueLog {
    /// Units admitted in the trailing window `(t - window, t]`.
    fn count(&self, t: u64, window: u64) -> u64 {
        self.0
            .iter()
            .filter(|(e, _)| *e <= t && t - e < window)
            .map(|(_, c)| c)
            .sum()
    }
}

/// The reference the limiter must match exactly.
struct RoundedLog {
    limit: u64,
    width: u64,
    span: u64,
    units: Vec<(u64, u64)>, // (bucket start, cost)
}

impl RoundedLog {
    fn new(p: &Policy) -> Self {
        let width = p.bucket_width().as_millis() as u64;
        Self {
            limit: u64::from(p.limit()),
            width,
            span: p.window_millis() + width,
            units: Vec::new(),
        }
    }

    fn used(&self, t: u64) -> u64 {
        self.units
            .iter()
            .filter(|(s, _)| s + self.span > t)
            .map(|(_, c)| c)
            .sum()
    }

    /// Smallest instant `>= t` at which `used + cost <= limit`, by brute force
    /// over the instants at which counted units expire.
    fn earliest_fit(&self, t: u64, cost: u64) -> u64 {
        if self.used(t) + cost <= self.limit {
            return t;
        }
        let mut cands: Vec<u64> = self.units.iter().map(|(s, _)| s + self.span).collect();
        cands.sort_unstable();
        cands
            .into_iter()
            .filter(|c| *c > t)
            .find(|c| self.used(*c) + cost <= self.limit)
            .expect("a cost within the limit always fits eventually")
    }

    /// (outcome, remaining, reset_at, retry_at)
    fn decide(&mut self, t: u64, cost: u64, consume: bool) -> (Outcome, u64, u64, Option<u64>) {
        let used = self.used(t);
        let (outcome, after, retry) = if cost > self.limit {
            (Outcome::CostExceedsLimit, used, None)
        } else if used + cost <= self.limit {
            if consume && cost > 0 {
                self.units.push((t / self.width * self.width, cost));
            }
            (
                Outcome::Allowed,
                if consume { used + cost } else { used },
                None,
            )
        } else {
            (Outcome::Limited, used, Some(self.earliest_fit(t, cost)))
        };
        let remaining = self.limit.saturating_sub(after);
        let reset = if after == 0 {
            t
        } else if remaining == 0 {
            self.earliest_fit(t, 1)
        } else {
            // The first instant the count drops.
            self.units
                .iter()
                .map(|(s, _)| s + self.span)
                .filter(|e| *e > t)
                .min()
                .unwrap()
        };
        (outcome, remaining, reset, retry)
    }
}

#[derive(Debug, Clone)]
struct Op {
    dt: u64,
    cost: u32,
    peek: bool,
}

fn ops(limit: u32, window: u64) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        (
            prop_oneof![3 => 0..=window / 4 + 1, 1 => 0..=window * 2],
            prop_oneof![6 => Just(1u32), 3 => 0..=limit, 1 => limit..=limit + 2],
            prop::bool::weighted(0.15),
        )
            .prop_map(|(dt, cost, peek)| Op { dt, cost, peek }),
        1..120,
    )
}

fn scenario() -> impl Strategy<Value = (u32, u64, u8, u64, Vec<Op>)> {
    (1u32..12, 1u64..300, 1u8..=16, 0u64..10_000).prop_flat_map(|(limit, window, b, start)| {
        (
            Just(limit),
            Just(window),
            Just(b),
            Just(start),
            ops(limit, window),
        )
    })
}

fn check_exact(
    lim: &MemoryLimiter<SystemClock>,
    key: &str,
    p: &Policy,
    t: u64,
    cost: u32,
    d: &Decision,
) -> Result<(), TestCaseError> {
    if let Some(at) = d.retry_at_millis() {
        prop_assert!(at > t);
        prop_assert!(
            !lim.peek_at(key, p, cost, at - 1).allowed(),
            "admitted 1 ms before retry_at"
        );
        prop_assert!(
            lim.peek_at(key, p, cost, at).allowed(),
            "refused at retry_at"
        );
        prop_assert_eq!(d.retry_after(), Some(Duration::from_millis(at - t)));
    }
    if d.remaining() == 0 {
        let at = d.reset_at_millis();
        prop_assert!(at > t);
        prop_assert!(!lim.peek_at(key, p, 1, at - 1).allowed());
        prop_assert!(lim.peek_at(key, p, 1, at).allowed());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn matches_reference_models((limit, window, b, start, ops) in scenario()) {
        let p = Policy::new(limit, Duration::from_millis(window)).unwrap().with_buckets(b).unwrap();
        let width = p.bucket_width().as_millis() as u64;
        let lim = MemoryLimiter::with_clock(SystemClock, MemoryConfig::default());
        let mut truth = TrueLog::default();
        let mut rounded = RoundedLog::new(&p);
        let mut t = BASE + start;
        for op in ops {
            t += op.dt;
            let d = if op.peek { lim.peek_at("k", &p, op.cost, t) } else { lim.check_at("k", &p, op.cost, t) };
            let (outcome, remaining, reset, retry) = rounded.decide(t, u64::from(op.cost), !op.peek);
            prop_assert_eq!(d.outcome(), outcome, "outcome at t={}", t);
            prop_assert_eq!(u64::from(d.remaining()), remaining);
            prop_assert_eq!(d.reset_at_millis(), reset, "reset_at");
            prop_assert_eq!(d.retry_at_millis(), retry, "retry_at");
            prop_assert_eq!(d.now_millis(), t);
            if d.allowed() && !op.peek && op.cost > 0 {
                truth.0.push((t, u64::from(op.cost)));
            }
            // Never over-admits: the exact sliding log of W stays within the limit.
            prop_assert!(truth.count(t, window) <= u64::from(limit), "over-admitted at t={}", t);
            // Under-admission bound: counted units are exactly those of a
            // sliding window between W and W + w long.
            let used_now = rounded.used(t);
            prop_assert!(truth.count(t, window) <= used_now);
            prop_assert!(used_now <= truth.count(t, window + width));
            check_exact(&lim, "k", &p, t, op.cost, &d)?;
        }
    }

    /// Changing a live key's window keeps every counted unit: the guarantee
    /// holds for the shorter of the two windows across the change (units that
    /// had already stopped counting under a shorter window are not revived).
    #[test]
    fn policy_change_never_over_admits(
        limit in 1u32..8,
        w1 in 10u64..200,
        w2 in 10u64..200,
        dts in prop::collection::vec(0u64..40, 1..80),
    ) {
        let p1 = Policy::new(limit, Duration::from_millis(w1)).unwrap();
        let p2 = Policy::new(limit, Duration::from_millis(w2)).unwrap();
        let lim = MemoryLimiter::new();
        let mut truth = TrueLog::default();
        let mut t = BASE;
        for (i, dt) in dts.into_iter().enumerate() {
            t += dt;
            let p = if (i / 5) % 2 == 0 { &p1 } else { &p2 };
            if lim.check_at("k", p, 1, t).allowed() {
                truth.0.push((t, 1));
                prop_assert!(truth.count(t, w1.min(w2)) <= u64::from(limit));
            }
        }
    }
}

#[test]
fn hot_key_exact_in_any_trailing_window() {
    // A steady stream every ms for 10 windows: the exact sliding log never exceeds the limit,
    // and the limiter admits at least limit × (1000 / (1000 + w)) per window on average.
    let p = Policy::per_second(100).unwrap();
    let lim = MemoryLimiter::new();
    let mut truth = TrueLog::default();
    for t in BASE..BASE + 10_000 {
        if lim.check_at("hot", &p, 1, t).allowed() {
            truth.0.push((t, 1));
            assert!(truth.count(t, 1000) <= 100);
        }
    }
    let admitted = truth.0.len() as u64;
    assert!(admitted >= 10 * 100 * 1000 / 1063, "admitted {admitted}");
    assert!(admitted <= 10 * 100 + 100);
}
