//! Billing cycles anchored on a day of the month (UTC).

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The day of the month a user's billing cycles start on, `1..=31`.
///
/// The default, 1, gives calendar months. When the anchor is past the end of
/// a month the cycle starts on that month's last day instead (anchor 31:
/// Jan 31, Feb 28 or 29, Mar 31, Apr 30, ...); the stored anchor itself never
/// changes, so the cycle returns to the 31st whenever the month has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct AnchorDay(u8);

impl AnchorDay {
    /// The 1st: calendar months.
    pub const FIRST: AnchorDay = AnchorDay(1);

    /// An anchor day.
    ///
    /// # Errors
    ///
    /// [`InvalidAnchorDay`] unless `1 <= day <= 31`.
    pub const fn new(day: u8) -> Result<Self, InvalidAnchorDay> {
        if day >= 1 && day <= 31 {
            Ok(Self(day))
        } else {
            Err(InvalidAnchorDay(day))
        }
    }

    /// The anchor for a user who subscribes at `instant`: its UTC day of month.
    pub fn of(instant: DateTime<Utc>) -> Self {
        // `day()` is always within 1..=31.
        Self(instant.day() as u8)
    }

    /// The day number, `1..=31`.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl Default for AnchorDay {
    fn default() -> Self {
        Self::FIRST
    }
}

impl TryFrom<u8> for AnchorDay {
    type Error = InvalidAnchorDay;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<AnchorDay> for u8 {
    fn from(value: AnchorDay) -> Self {
        value.0
    }
}

impl fmt::Display for AnchorDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A day number outside `1..=31`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid billing anchor day {0}: expected 1..=31")]
pub struct InvalidAnchorDay(pub u8);

/// One billing cycle: `[start, end)`, both at midnight UTC.
///
/// `end` is when the quota resets (`reset_at`) and is also the `start` of the
/// next cycle, so consecutive cycles tile time with no gap and no overlap.
/// Obtain one with [`cycle_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Cycle {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Cycle {
    /// The first instant of the cycle (inclusive). Usage is keyed by it.
    pub const fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The first instant after the cycle (exclusive).
    pub const fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// When the quota resets: the same as [`Cycle::end`].
    pub const fn reset_at(&self) -> DateTime<Utc> {
        self.end
    }

    /// Whether `instant` falls in this cycle.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }
}

/// The number of days in `month` (1..=12) of `year` (proleptic Gregorian).
///
/// Returns 0 for an invalid month or a year outside chrono's range.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|d| d.pred_opt())
        .filter(|d| d.month() == month)
        .map_or(0, |d| d.day())
}

/// The instant the cycle anchored on `anchor` starts in the given month:
/// midnight UTC on day `min(anchor, days_in_month)`.
///
/// Returns `None` only for a month outside chrono's range.
pub fn cycle_start_in_month(anchor: AnchorDay, year: i32, month: u32) -> Option<DateTime<Utc>> {
    let day = u32::from(anchor.get()).min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day)?
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
}

const fn next_month(year: i32, month: u32) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

const fn prev_month(year: i32, month: u32) -> (i32, u32) {
    if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    }
}

/// The billing cycle containing `now` for a user anchored on `anchor`.
///
/// Pure and cheap: usage is keyed by the cycle's start, so a new cycle
/// begins at zero without any reset job.
///
/// At the very edges of chrono's representable range (the first and last
/// month) the missing neighbouring boundary saturates to
/// [`DateTime::<Utc>::MIN_UTC`] / [`DateTime::<Utc>::MAX_UTC`].
pub fn cycle_for(anchor: AnchorDay, now: DateTime<Utc>) -> Cycle {
    let (year, month) = (now.year(), now.month());
    let start_of = |(y, m): (i32, u32)| cycle_start_in_month(anchor, y, m);
    // `now`'s own month is representable, so this start is too; the fallback
    // only keeps the function total.
    let this = start_of((year, month)).unwrap_or(DateTime::<Utc>::MIN_UTC);
    if now >= this {
        Cycle {
            start: this,
            end: start_of(next_month(year, month)).unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    } else {
        Cycle {
            start: start_of(prev_month(year, month)).unwrap_or(DateTime::<Utc>::MIN_UTC),
            end: this,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        at(y, m, d, 0)
    }

    fn anchor(d: u8) -> AnchorDay {
        AnchorDay::new(d).unwrap()
    }

    #[test]
    fn anchor_day_range() {
        assert!(AnchorDay::new(0).is_err());
        assert!(AnchorDay::new(32).is_err());
        assert_eq!(AnchorDay::new(31).unwrap().get(), 31);
        assert_eq!(AnchorDay::default(), AnchorDay::FIRST);
        assert_eq!(AnchorDay::of(at(2025, 3, 17, 22)).get(), 17);
        assert_eq!(serde_json::to_string(&anchor(15)).unwrap(), "15");
        assert!(serde_json::from_str::<AnchorDay>("0").is_err());
        assert_eq!(serde_json::from_str::<AnchorDay>("31").unwrap(), anchor(31));
    }

    #[test]
    fn days_in_month_handles_leap_years() {
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2025, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2025, 4), 30);
        assert_eq!(days_in_month(2025, 12), 31);
        assert_eq!(days_in_month(2025, 13), 0);
    }

    #[test]
    fn anchor_one_gives_calendar_months() {
        let c = cycle_for(AnchorDay::FIRST, at(2026, 1, 15, 12));
        assert_eq!((c.start(), c.end()), (day(2026, 1, 1), day(2026, 2, 1)));
        assert_eq!(c.reset_at(), day(2026, 2, 1));
        // The first instant of a month belongs to the new cycle.
        let c = cycle_for(AnchorDay::FIRST, day(2026, 2, 1));
        assert_eq!(c.start(), day(2026, 2, 1));
        // The last nanosecond of January belongs to January.
        let c = cycle_for(
            AnchorDay::FIRST,
            day(2026, 2, 1) - chrono::TimeDelta::nanoseconds(1),
        );
        assert_eq!(c.start(), day(2026, 1, 1));
    }

    #[test]
    fn anchor_31_clamps_to_month_ends_and_comes_back() {
        let a = anchor(31);
        let expected = [
            day(2025, 1, 31),
            day(2025, 2, 28),
            day(2025, 3, 31),
            day(2025, 4, 30),
            day(2025, 5, 31),
            day(2025, 6, 30),
        ];
        for pair in expected.windows(2) {
            let c = cycle_for(a, pair[0]);
            assert_eq!((c.start(), c.end()), (pair[0], pair[1]));
        }
        // Leap year: Jan 31 -> Feb 29 -> Mar 31.
        let c = cycle_for(a, at(2024, 2, 10, 5));
        assert_eq!((c.start(), c.end()), (day(2024, 1, 31), day(2024, 2, 29)));
        let c = cycle_for(a, at(2024, 3, 1, 0));
        assert_eq!((c.start(), c.end()), (day(2024, 2, 29), day(2024, 3, 31)));
    }

    #[test]
    fn anchor_30_and_29_in_february() {
        let c = cycle_for(anchor(30), at(2025, 3, 1, 0));
        assert_eq!((c.start(), c.end()), (day(2025, 2, 28), day(2025, 3, 30)));
        let c = cycle_for(anchor(29), at(2025, 2, 28, 23));
        assert_eq!((c.start(), c.end()), (day(2025, 2, 28), day(2025, 3, 29)));
        let c = cycle_for(anchor(29), at(2024, 2, 28, 23));
        assert_eq!((c.start(), c.end()), (day(2024, 1, 29), day(2024, 2, 29)));
        // 2100 is not a leap year.
        let c = cycle_for(anchor(29), at(2100, 3, 1, 0));
        assert_eq!((c.start(), c.end()), (day(2100, 2, 28), day(2100, 3, 29)));
    }

    #[test]
    fn cycles_cross_year_ends() {
        let c = cycle_for(anchor(15), at(2025, 12, 20, 0));
        assert_eq!((c.start(), c.end()), (day(2025, 12, 15), day(2026, 1, 15)));
        let c = cycle_for(anchor(15), at(2026, 1, 3, 0));
        assert_eq!((c.start(), c.end()), (day(2025, 12, 15), day(2026, 1, 15)));
        let c = cycle_for(AnchorDay::FIRST, at(2025, 12, 31, 23));
        assert_eq!((c.start(), c.end()), (day(2025, 12, 1), day(2026, 1, 1)));
        let c = cycle_for(anchor(31), at(2026, 1, 30, 23));
        assert_eq!((c.start(), c.end()), (day(2025, 12, 31), day(2026, 1, 31)));
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let c = cycle_for(anchor(31), DateTime::<Utc>::MAX_UTC);
        assert!(c.contains(DateTime::<Utc>::MAX_UTC) || c.end() == DateTime::<Utc>::MAX_UTC);
        let c = cycle_for(anchor(31), DateTime::<Utc>::MIN_UTC);
        assert!(c.start() <= DateTime::<Utc>::MIN_UTC);
    }
}
