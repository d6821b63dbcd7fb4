//! Users, reservations, usage, and the pure rules every store applies.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cycle::Cycle;
use crate::error::QuotaError;

/// Whose quota: an opaque user (or account, or API client) key.
///
/// Any string works; `From<Uuid>` uses the hyphenated lower-case form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserKey(String);

impl UserKey {
    /// A user key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for UserKey {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<String> for UserKey {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<Uuid> for UserKey {
    fn from(value: Uuid) -> Self {
        Self(value.hyphenated().to_string())
    }
}

/// The id of a reservation (a UUID; new ids are v7, time-ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReservationId(Uuid);

impl ReservationId {
    /// A fresh, time-ordered (v7) id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an existing UUID (e.g. read back from a database, or a job id
    /// the host wants to reuse as the reservation id).
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for ReservationId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ReservationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ReservationId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// Why a reservation was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    /// The host released it (the video failed for a platform reason or was
    /// cancelled before it ran).
    Released,
    /// It stayed pending longer than the maximum age and was released by
    /// `release_expired` or lazily by a later reservation.
    Expired,
}

/// The life cycle of a reservation: `Pending`, then exactly one of
/// `Committed` or `Released`, never changed afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    /// Counted as reserved.
    Pending,
    /// Counted as committed (the video completed).
    Committed,
    /// No longer counted.
    Released(ReleaseReason),
}

impl fmt::Display for ReservationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pending => "pending",
            Self::Committed => "committed",
            Self::Released(ReleaseReason::Released) => "released",
            Self::Released(ReleaseReason::Expired) => "expired",
        })
    }
}

/// A settling action on a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settle {
    /// Pending → committed: the units stay used.
    Commit,
    /// Pending → released: the units become available again.
    Release(ReleaseReason),
}

impl fmt::Display for Settle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Commit => "commit",
            Self::Release(_) => "release",
        })
    }
}

/// What a commit or release did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettleOutcome {
    /// The reservation was pending and is now settled.
    Applied,
    /// It was already in the requested state (a repeat): nothing changed.
    AlreadySettled,
}

/// One reservation of `units` against the cycle it was made in.
///
/// Fields are public so a database-backed store can rebuild it from a row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reservation {
    /// Its id.
    pub id: ReservationId,
    /// Whose quota it draws on.
    pub user: UserKey,
    /// How many units (videos); at least 1.
    pub units: u32,
    /// Start of the cycle it belongs to, for ever (usage key).
    pub cycle_start: DateTime<Utc>,
    /// End of that cycle.
    pub reset_at: DateTime<Utc>,
    /// When it was made (expiry is measured from here).
    pub created_at: DateTime<Utc>,
    /// Its current state.
    pub state: ReservationState,
    /// When it was committed or released.
    pub settled_at: Option<DateTime<Utc>>,
}

/// Usage of one user in one cycle. `used = committed + reserved`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Usage {
    /// Units of committed reservations.
    pub committed: u64,
    /// Units of pending reservations.
    pub reserved: u64,
}

impl Usage {
    /// Committed + reserved: what counts against the quota.
    pub const fn used(&self) -> u64 {
        self.committed.saturating_add(self.reserved)
    }

    /// The usage after `settle` applied to a pending reservation of `units`.
    pub const fn settled(self, units: u32, settle: Settle) -> Self {
        let units = units as u64;
        let reserved = self.reserved.saturating_sub(units);
        match settle {
            Settle::Commit => Self {
                committed: self.committed.saturating_add(units),
                reserved,
            },
            Settle::Release(_) => Self {
                committed: self.committed,
                reserved,
            },
        }
    }
}

/// Remaining units for a quota: `None` when unlimited, never negative.
pub fn remaining(quota: Option<u32>, used: u64) -> Option<u64> {
    quota.map(|q| u64::from(q).saturating_sub(used))
}

/// Checks a reservation of `units` without usage: at least one unit and
/// within the batch size limit.
///
/// # Errors
///
/// [`QuotaError::ZeroUnits`] or [`QuotaError::BatchTooLarge`].
pub fn check_batch(units: u32, batch_size_limit: u32) -> Result<(), QuotaError> {
    if units == 0 {
        return Err(QuotaError::ZeroUnits);
    }
    if units > batch_size_limit {
        return Err(QuotaError::BatchTooLarge {
            requested: units,
            limit: batch_size_limit,
        });
    }
    Ok(())
}

/// The whole reservation rule, in order: at least one unit, within the batch
/// size limit, then within the remaining quota (all-or-nothing).
///
/// # Errors
///
/// [`QuotaError::ZeroUnits`], [`QuotaError::BatchTooLarge`], then
/// [`QuotaError::Exhausted`] for a single unit or
/// [`QuotaError::InsufficientForBatch`] for more than one.
pub fn check_reservation(
    units: u32,
    quota: Option<u32>,
    batch_size_limit: u32,
    usage: Usage,
    reset_at: DateTime<Utc>,
) -> Result<(), QuotaError> {
    check_batch(units, batch_size_limit)?;
    let Some(limit) = quota else {
        return Ok(());
    };
    let used = usage.used();
    let remaining = u64::from(limit).saturating_sub(used);
    if u64::from(units) <= remaining {
        Ok(())
    } else if units == 1 {
        Err(QuotaError::Exhausted {
            limit,
            used,
            reset_at,
        })
    } else {
        Err(QuotaError::InsufficientForBatch {
            limit,
            used,
            requested: units,
            remaining,
            reset_at,
        })
    }
}

/// The settling rule: what `action` does to a reservation in `current`.
///
/// | current \ action | commit            | release            |
/// |------------------|-------------------|--------------------|
/// | pending          | `Applied`         | `Applied`          |
/// | committed        | `AlreadySettled`  | `Conflict` error   |
/// | released/expired | `Conflict` error  | `AlreadySettled`   |
///
/// A store applies [`Usage::settled`] only on `Applied`.
///
/// # Errors
///
/// [`QuotaError::Conflict`] for a commit after a release (or expiry) and a
/// release after a commit; the reservation is left unchanged.
pub fn decide_settlement(
    id: ReservationId,
    current: ReservationState,
    action: Settle,
) -> Result<SettleOutcome, QuotaError> {
    match (current, action) {
        (ReservationState::Pending, _) => Ok(SettleOutcome::Applied),
        (ReservationState::Committed, Settle::Commit)
        | (ReservationState::Released(_), Settle::Release(_)) => Ok(SettleOutcome::AlreadySettled),
        (ReservationState::Committed, Settle::Release(_))
        | (ReservationState::Released(_), Settle::Commit) => Err(QuotaError::Conflict {
            id,
            attempted: action,
            current,
        }),
    }
}

impl Settle {
    /// The state a pending reservation moves to.
    pub const fn target_state(self) -> ReservationState {
        match self {
            Self::Commit => ReservationState::Committed,
            Self::Release(reason) => ReservationState::Released(reason),
        }
    }
}

/// Everything a store needs to check and record one reservation atomically.
///
/// Built by [`crate::QuotaManager`]; a store implementation must, in one
/// transaction (or under one lock):
///
/// 1. if `expire_pending_before` is set, release as
///    [`ReleaseReason::Expired`] every pending reservation of `user` created
///    strictly before it (it may release other users' too);
/// 2. refuse a `reservation_id` that already exists
///    ([`QuotaError::DuplicateReservation`]);
/// 3. read the [`Usage`] of (`user`, `cycle.start()`) and apply
///    [`ReserveRequest::check`];
/// 4. on success add `units` to that usage's `reserved` and store
///    [`ReserveRequest::to_reservation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveRequest {
    /// Id of the new reservation.
    pub reservation_id: ReservationId,
    /// Whose quota.
    pub user: UserKey,
    /// The cycle containing `now` for the user's anchor.
    pub cycle: Cycle,
    /// Units to reserve (batch size).
    pub units: u32,
    /// The plan's quota at reservation time; `None` = unlimited.
    pub quota: Option<u32>,
    /// The plan's batch size limit.
    pub batch_size_limit: u32,
    /// The current time.
    pub now: DateTime<Utc>,
    /// Lazy expiry: pending reservations created before this are released
    /// first. `None` disables lazy expiry.
    pub expire_pending_before: Option<DateTime<Utc>>,
}

impl ReserveRequest {
    /// [`check_reservation`] for this request against `usage` (the usage of
    /// (`user`, `cycle.start()`) read inside the store's transaction).
    ///
    /// # Errors
    ///
    /// As [`check_reservation`].
    pub fn check(&self, usage: Usage) -> Result<(), QuotaError> {
        check_reservation(
            self.units,
            self.quota,
            self.batch_size_limit,
            usage,
            self.cycle.reset_at(),
        )
    }

    /// The pending reservation to store once the check passed.
    pub fn to_reservation(&self) -> Reservation {
        Reservation {
            id: self.reservation_id,
            user: self.user.clone(),
            units: self.units,
            cycle_start: self.cycle.start(),
            reset_at: self.cycle.reset_at(),
            created_at: self.now,
            state: ReservationState::Pending,
            settled_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn reset() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()
    }

    fn usage(committed: u64, reserved: u64) -> Usage {
        Usage {
            committed,
            reserved,
        }
    }

    #[test]
    fn batch_size_is_checked_before_quota() {
        // Quota exhausted AND batch too large: the batch error wins.
        let err = check_reservation(6, Some(10), 5, usage(10, 0), reset()).unwrap_err();
        assert!(matches!(
            err,
            QuotaError::BatchTooLarge {
                requested: 6,
                limit: 5
            }
        ));
        assert!(matches!(
            check_reservation(0, Some(10), 5, usage(0, 0), reset()),
            Err(QuotaError::ZeroUnits)
        ));
    }

    #[test]
    fn single_unit_over_quota_is_exhausted() {
        assert!(check_reservation(1, Some(10), 5, usage(8, 1), reset()).is_ok());
        let err = check_reservation(1, Some(10), 5, usage(7, 3), reset()).unwrap_err();
        match err {
            QuotaError::Exhausted {
                limit,
                used,
                reset_at,
            } => assert_eq!((limit, used, reset_at), (10, 10, reset())),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn batch_over_remaining_is_insufficient() {
        assert!(check_reservation(3, Some(10), 5, usage(5, 2), reset()).is_ok());
        let err = check_reservation(4, Some(10), 5, usage(5, 2), reset()).unwrap_err();
        match err {
            QuotaError::InsufficientForBatch {
                limit,
                used,
                requested,
                remaining,
                reset_at,
            } => assert_eq!(
                (limit, used, requested, remaining, reset_at),
                (10, 7, 4, 3, reset())
            ),
            other => panic!("unexpected {other:?}"),
        }
        // A batch against a fully used quota is still the batch error.
        assert!(matches!(
            check_reservation(2, Some(10), 5, usage(10, 0), reset()),
            Err(QuotaError::InsufficientForBatch { remaining: 0, .. })
        ));
    }

    #[test]
    fn unlimited_never_denies_within_batch_limit() {
        assert!(check_reservation(100, None, 100, usage(u64::MAX, 0), reset()).is_ok());
        assert!(check_reservation(101, None, 100, usage(0, 0), reset()).is_err());
    }

    #[test]
    fn over_quota_after_downgrade_has_zero_remaining() {
        assert_eq!(remaining(Some(10), 37), Some(0));
        assert_eq!(remaining(Some(10), 3), Some(7));
        assert_eq!(remaining(None, 3), None);
        assert!(matches!(
            check_reservation(1, Some(10), 5, usage(37, 0), reset()),
            Err(QuotaError::Exhausted { used: 37, .. })
        ));
    }

    #[test]
    fn settlement_table() {
        let id = ReservationId::new();
        let released = ReservationState::Released(ReleaseReason::Released);
        let expired = ReservationState::Released(ReleaseReason::Expired);
        let release = Settle::Release(ReleaseReason::Released);
        use SettleOutcome::*;
        assert_eq!(
            decide_settlement(id, ReservationState::Pending, Settle::Commit).unwrap(),
            Applied
        );
        assert_eq!(
            decide_settlement(id, ReservationState::Pending, release).unwrap(),
            Applied
        );
        assert_eq!(
            decide_settlement(id, ReservationState::Committed, Settle::Commit).unwrap(),
            AlreadySettled
        );
        assert_eq!(
            decide_settlement(id, released, release).unwrap(),
            AlreadySettled
        );
        assert_eq!(
            decide_settlement(id, expired, release).unwrap(),
            AlreadySettled
        );
        assert!(matches!(
            decide_settlement(id, ReservationState::Committed, release),
            Err(QuotaError::Conflict { .. })
        ));
        let err = decide_settlement(id, expired, Settle::Commit).unwrap_err();
        assert!(err.to_string().contains("already expired"), "{err}");
    }

    #[test]
    fn usage_settles() {
        let u = usage(2, 5);
        assert_eq!(u.settled(3, Settle::Commit), usage(5, 2));
        assert_eq!(
            u.settled(3, Settle::Release(ReleaseReason::Expired)),
            usage(2, 2)
        );
        assert_eq!(u.used(), 7);
    }

    #[test]
    fn ids_and_keys() {
        let id = ReservationId::new();
        assert_eq!(id.to_string().parse::<ReservationId>().unwrap(), id);
        let uuid = Uuid::nil();
        assert_eq!(
            UserKey::from(uuid).as_str(),
            "00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(UserKey::from("u1"), UserKey::new(String::from("u1")));
        assert_eq!(
            serde_json::to_string(&ReservationState::Released(ReleaseReason::Expired)).unwrap(),
            r#"{"released":"expired"}"#
        );
    }
}
