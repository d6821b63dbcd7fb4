use chrono::{DateTime, Datelike as _, NaiveTime, TimeDelta, Utc};
use proptest::prelude::*;
use ytvc_quota::{AnchorDay, cycle_for, days_in_month};

// 1900-01-01 .. 2400-01-01, in seconds.
const FROM: i64 = -2_208_988_800;
const TO: i64 = 13_569_465_600;

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (FROM..TO, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).unwrap())
}

fn anchor() -> impl Strategy<Value = AnchorDay> {
    (1u8..=31).prop_map(|d| AnchorDay::new(d).unwrap())
}

fn expected_start_day(anchor: AnchorDay, start: DateTime<Utc>) -> u32 {
    u32::from(anchor.get()).min(days_in_month(start.year(), start.month()))
}

fn is_midnight(t: DateTime<Utc>) -> bool {
    t.time() == NaiveTime::MIN
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn cycles_contain_now_and_tile_time(anchor in anchor(), now in instant()) {
        let c = cycle_for(anchor, now);
        prop_assert!(c.start() <= now && now < c.end(), "{c:?} vs {now}");
        prop_assert!(c.contains(now));
        prop_assert_eq!(c.reset_at(), c.end());
        prop_assert!(is_midnight(c.start()) && is_midnight(c.end()));
        prop_assert_eq!(c.start().day(), expected_start_day(anchor, c.start()));
        prop_assert_eq!(c.end().day(), expected_start_day(anchor, c.end()));
        let len = c.end() - c.start();
        prop_assert!(len >= TimeDelta::days(28) && len <= TimeDelta::days(31), "{len}");

        // The next cycle starts exactly where this one ends ...
        let next = cycle_for(anchor, c.end());
        prop_assert_eq!(next.start(), c.end());
        // ... the previous one ends exactly where this one starts ...
        let prev = cycle_for(anchor, c.start() - TimeDelta::nanoseconds(1));
        prop_assert_eq!(prev.end(), c.start());
        // ... and every instant of the cycle maps to the same cycle.
        prop_assert_eq!(cycle_for(anchor, c.start()), c);
        prop_assert_eq!(cycle_for(anchor, c.end() - TimeDelta::nanoseconds(1)), c);
        // Exactly one cycle starts in each calendar month.
        prop_assert!(next.start().month() != c.start().month());
    }
}
