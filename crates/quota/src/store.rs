//! The storage port and its in-memory implementation.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;

use crate::error::QuotaError;
use crate::reservation::{
    ReleaseReason, Reservation, ReservationId, ReserveRequest, Settle, SettleOutcome, Usage,
    UserKey, decide_settlement,
};

/// Where reservations and per-cycle usage live.
///
/// Every method is one atomic step: an implementation backed by SQL runs
/// each in one transaction (with row locks or `SERIALIZABLE`, so that two
/// concurrent reservations never both see the same remaining quota), and
/// reuses the pure rules [`ReserveRequest::check`],
/// [`crate::decide_settlement`] and [`Usage::settled`] so that every store
/// decides alike. Usage is keyed by (user, cycle start); nothing is ever
/// reset by a timer.
pub trait QuotaStore: Send + Sync {
    /// Checks and records a reservation, all or nothing (see
    /// [`ReserveRequest`] for the exact steps).
    ///
    /// # Errors
    ///
    /// The denials of [`ReserveRequest::check`] ([`QuotaError::ZeroUnits`],
    /// [`QuotaError::BatchTooLarge`], [`QuotaError::Exhausted`],
    /// [`QuotaError::InsufficientForBatch`]);
    /// [`QuotaError::DuplicateReservation`] when the id exists;
    /// [`QuotaError::Store`] when the backend fails. On any error nothing is
    /// reserved (lazy expiry may still have happened).
    fn reserve(&self, request: &ReserveRequest) -> Result<Reservation, QuotaError>;

    /// Settles a reservation: commit, or release with a reason, following
    /// [`crate::decide_settlement`]. A commit keeps the units counted in the
    /// reservation's own cycle, whenever it happens.
    ///
    /// # Errors
    ///
    /// [`QuotaError::ReservationNotFound`] for an unknown id;
    /// [`QuotaError::Conflict`] for commit-after-release or
    /// release-after-commit (nothing changes);
    /// [`QuotaError::Store`] when the backend fails.
    fn settle(
        &self,
        id: ReservationId,
        action: Settle,
        now: DateTime<Utc>,
    ) -> Result<SettleOutcome, QuotaError>;

    /// Usage of `user` in the cycle starting at `cycle_start` (zero when
    /// nothing was ever reserved in it).
    ///
    /// # Errors
    ///
    /// [`QuotaError::Store`] when the backend fails.
    fn usage(&self, user: &UserKey, cycle_start: DateTime<Utc>) -> Result<Usage, QuotaError>;

    /// The reservation with this id, if the store still has it.
    ///
    /// # Errors
    ///
    /// [`QuotaError::Store`] when the backend fails.
    fn reservation(&self, id: ReservationId) -> Result<Option<Reservation>, QuotaError>;

    /// Releases, as [`ReleaseReason::Expired`], every pending reservation
    /// (of any user) created strictly before `now - max_age`; returns how
    /// many were released.
    ///
    /// # Errors
    ///
    /// [`QuotaError::Store`] when the backend fails.
    fn release_expired(&self, now: DateTime<Utc>, max_age: TimeDelta) -> Result<u64, QuotaError>;
}

impl<S: QuotaStore + ?Sized> QuotaStore for Arc<S> {
    fn reserve(&self, request: &ReserveRequest) -> Result<Reservation, QuotaError> {
        (**self).reserve(request)
    }

    fn settle(
        &self,
        id: ReservationId,
        action: Settle,
        now: DateTime<Utc>,
    ) -> Result<SettleOutcome, QuotaError> {
        (**self).settle(id, action, now)
    }

    fn usage(&self, user: &UserKey, cycle_start: DateTime<Utc>) -> Result<Usage, QuotaError> {
        (**self).usage(user, cycle_start)
    }

    fn reservation(&self, id: ReservationId) -> Result<Option<Reservation>, QuotaError> {
        (**self).reservation(id)
    }

    fn release_expired(&self, now: DateTime<Utc>, max_age: TimeDelta) -> Result<u64, QuotaError> {
        (**self).release_expired(now, max_age)
    }
}

/// Cut-off for `max_age` before `now`, saturating at the minimum instant.
pub(crate) fn expiry_cutoff(now: DateTime<Utc>, max_age: TimeDelta) -> DateTime<Utc> {
    now.checked_sub_signed(max_age)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// An in-process [`QuotaStore`]: one `parking_lot` mutex around maps, so
/// every operation is atomic. For a single server instance and for tests;
/// several instances need a shared (database) store.
///
/// Settled reservations are kept so that repeated commits and releases stay
/// idempotent; [`InMemoryQuotaStore::purge`] drops old ones.
#[derive(Debug, Default)]
pub struct InMemoryQuotaStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    reservations: HashMap<ReservationId, Reservation>,
    usage: HashMap<(UserKey, DateTime<Utc>), Usage>,
    /// Pending reservations by creation time, for expiry.
    pending: BTreeSet<(DateTime<Utc>, ReservationId)>,
}

impl Inner {
    fn settle(
        &mut self,
        id: ReservationId,
        action: Settle,
        now: DateTime<Utc>,
    ) -> Result<SettleOutcome, QuotaError> {
        let reservation = self
            .reservations
            .get_mut(&id)
            .ok_or(QuotaError::ReservationNotFound(id))?;
        let outcome = decide_settlement(id, reservation.state, action)?;
        if outcome == SettleOutcome::Applied {
            reservation.state = action.target_state();
            reservation.settled_at = Some(now);
            self.pending.remove(&(reservation.created_at, id));
            let usage = self
                .usage
                .entry((reservation.user.clone(), reservation.cycle_start))
                .or_default();
            *usage = usage.settled(reservation.units, action);
        }
        Ok(outcome)
    }

    fn expire_before(&mut self, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
        let mut released = 0;
        while let Some(&(created_at, id)) = self.pending.first() {
            if created_at >= cutoff {
                break;
            }
            self.pending.pop_first();
            // Pending entries always have a pending reservation.
            if let Ok(SettleOutcome::Applied) =
                self.settle(id, Settle::Release(ReleaseReason::Expired), now)
            {
                released += 1;
            }
        }
        released
    }
}

impl InMemoryQuotaStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many reservations are pending (all users).
    pub fn pending_count(&self) -> usize {
        self.inner.lock().pending.len()
    }

    /// How many reservations are held, pending or settled.
    pub fn reservation_count(&self) -> usize {
        self.inner.lock().reservations.len()
    }

    /// Forgets reservations settled before `settled_before` (later commits or
    /// releases of them answer [`QuotaError::ReservationNotFound`]) and the
    /// usage of cycles that ended before it (started more than 31 days
    /// earlier) with nothing pending. Returns how many reservations were
    /// dropped. Call it with an instant well in the past (e.g. 90 days ago).
    pub fn purge(&self, settled_before: DateTime<Utc>) -> usize {
        let mut inner = self.inner.lock();
        let before = inner.reservations.len();
        inner
            .reservations
            .retain(|_, r| r.settled_at.is_none_or(|at| at >= settled_before));
        let dropped = before - inner.reservations.len();
        let oldest_live_start = expiry_cutoff(settled_before, TimeDelta::days(31));
        inner
            .usage
            .retain(|(_, start), usage| usage.reserved > 0 || *start >= oldest_live_start);
        dropped
    }
}

impl QuotaStore for InMemoryQuotaStore {
    fn reserve(&self, request: &ReserveRequest) -> Result<Reservation, QuotaError> {
        let mut inner = self.inner.lock();
        if let Some(cutoff) = request.expire_pending_before {
            inner.expire_before(cutoff, request.now);
        }
        if inner.reservations.contains_key(&request.reservation_id) {
            return Err(QuotaError::DuplicateReservation(request.reservation_id));
        }
        let key = (request.user.clone(), request.cycle.start());
        let usage = inner.usage.get(&key).copied().unwrap_or_default();
        request.check(usage)?;
        let reservation = request.to_reservation();
        inner.usage.insert(
            key,
            Usage {
                committed: usage.committed,
                reserved: usage.reserved.saturating_add(u64::from(request.units)),
            },
        );
        inner
            .pending
            .insert((reservation.created_at, reservation.id));
        inner
            .reservations
            .insert(reservation.id, reservation.clone());
        Ok(reservation)
    }

    fn settle(
        &self,
        id: ReservationId,
        action: Settle,
        now: DateTime<Utc>,
    ) -> Result<SettleOutcome, QuotaError> {
        self.inner.lock().settle(id, action, now)
    }

    fn usage(&self, user: &UserKey, cycle_start: DateTime<Utc>) -> Result<Usage, QuotaError> {
        let key = (user.clone(), cycle_start);
        Ok(self
            .inner
            .lock()
            .usage
            .get(&key)
            .copied()
            .unwrap_or_default())
    }

    fn reservation(&self, id: ReservationId) -> Result<Option<Reservation>, QuotaError> {
        Ok(self.inner.lock().reservations.get(&id).cloned())
    }

    fn release_expired(&self, now: DateTime<Utc>, max_age: TimeDelta) -> Result<u64, QuotaError> {
        Ok(self
            .inner
            .lock()
            .expire_before(expiry_cutoff(now, max_age), now))
    }
}
