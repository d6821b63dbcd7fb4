//! The service: plans + store + clock.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::clock::{Clock, SystemClock};
use crate::cycle::{AnchorDay, Cycle, cycle_for};
use crate::error::QuotaError;
use crate::plan::{Plan, PlanName, Plans};
use crate::reservation::{
    ReleaseReason, Reservation, ReservationId, ReserveRequest, Settle, SettleOutcome, UserKey,
    check_batch, remaining,
};
use crate::store::{QuotaStore, expiry_cutoff};

/// How long a reservation may stay pending before it is released
/// automatically, unless configured otherwise: 24 hours.
pub const DEFAULT_RESERVATION_TTL_SECS: i64 = 24 * 60 * 60;

/// A user's quota in the current cycle, as `GET /v1/quota` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaStatus {
    /// The plan the figures were computed with.
    pub plan: PlanName,
    /// Units per cycle; `None` (`null`) = unlimited.
    pub quota: Option<u32>,
    /// `committed + reserved`.
    pub used: u64,
    /// Units of pending reservations.
    pub reserved: u64,
    /// Units of committed reservations.
    pub committed: u64,
    /// `quota - used`, at least 0; `None` = unlimited.
    pub remaining: Option<u64>,
    /// Start of the current cycle.
    pub cycle_start: DateTime<Utc>,
    /// End of the current cycle, when usage starts again from zero.
    pub reset_at: DateTime<Utc>,
    /// Most units one reservation (batch) may hold.
    pub batch_size_limit: u32,
    /// Queue priority, 1 = first.
    pub priority: u8,
}

/// Plans, a [`QuotaStore`] and a [`Clock`] behind the four operations a
/// host needs: [`status`](Self::status), [`reserve`](Self::reserve),
/// [`commit`](Self::commit) and [`release`](Self::release).
///
/// The plan and anchor are passed on every call (the host reads them from
/// its user record), so a plan change applies to the very next call and
/// keeps the usage already counted. Share one manager behind an `Arc`.
#[derive(Debug)]
pub struct QuotaManager<S, C = SystemClock> {
    plans: Plans,
    store: S,
    clock: C,
    reservation_ttl: TimeDelta,
    lazy_expiry: bool,
}

impl<S: QuotaStore> QuotaManager<S, SystemClock> {
    /// A manager on the system clock.
    pub fn with_system_clock(plans: Plans, store: S) -> Self {
        Self::new(plans, store, SystemClock)
    }
}

impl<S: QuotaStore, C: Clock> QuotaManager<S, C> {
    /// A manager with the default reservation time-to-live
    /// ([`DEFAULT_RESERVATION_TTL_SECS`]) and lazy expiry on reserve.
    pub fn new(plans: Plans, store: S, clock: C) -> Self {
        Self {
            plans,
            store,
            clock,
            reservation_ttl: TimeDelta::seconds(DEFAULT_RESERVATION_TTL_SECS),
            lazy_expiry: true,
        }
    }

    /// Sets how long a reservation may stay pending before it is released
    /// automatically (by [`release_expired`](Self::release_expired), and
    /// lazily by [`reserve`](Self::reserve) when enabled). Choose it longer
    /// than the longest job: a commit after expiry is refused.
    pub fn with_reservation_ttl(mut self, ttl: TimeDelta) -> Self {
        self.reservation_ttl = ttl;
        self
    }

    /// Enables (default) or disables lazy expiry: each reservation first
    /// releases pending reservations older than the time-to-live.
    pub fn with_lazy_expiry(mut self, enabled: bool) -> Self {
        self.lazy_expiry = enabled;
        self
    }

    /// The plan catalog.
    pub fn plans(&self) -> &Plans {
        &self.plans
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The reservation time-to-live.
    pub fn reservation_ttl(&self) -> TimeDelta {
        self.reservation_ttl
    }

    /// The plan with this name.
    ///
    /// # Errors
    ///
    /// [`QuotaError::UnknownPlan`] when the catalog has no such plan.
    pub fn plan(&self, name: &PlanName) -> Result<&Plan, QuotaError> {
        self.plans
            .get(name.as_str())
            .ok_or_else(|| QuotaError::UnknownPlan(name.clone()))
    }

    /// The cycle containing the current time for `anchor`.
    pub fn current_cycle(&self, anchor: AnchorDay) -> Cycle {
        cycle_for(anchor, self.clock.now())
    }

    /// The user's quota in the current cycle under plan `plan`.
    ///
    /// # Errors
    ///
    /// [`QuotaError::UnknownPlan`], or [`QuotaError::Store`].
    pub fn status(
        &self,
        user: &UserKey,
        plan: &PlanName,
        anchor: AnchorDay,
    ) -> Result<QuotaStatus, QuotaError> {
        self.status_for_plan(user, self.plan(plan)?, anchor)
    }

    /// [`status`](Self::status) with a plan the host already resolved.
    ///
    /// # Errors
    ///
    /// [`QuotaError::Store`].
    pub fn status_for_plan(
        &self,
        user: &UserKey,
        plan: &Plan,
        anchor: AnchorDay,
    ) -> Result<QuotaStatus, QuotaError> {
        let cycle = self.current_cycle(anchor);
        let usage = self.store.usage(user, cycle.start())?;
        Ok(QuotaStatus {
            plan: plan.name.clone(),
            quota: plan.monthly_quota,
            used: usage.used(),
            reserved: usage.reserved,
            committed: usage.committed,
            remaining: remaining(plan.monthly_quota, usage.used()),
            cycle_start: cycle.start(),
            reset_at: cycle.reset_at(),
            batch_size_limit: plan.batch_size_limit,
            priority: plan.priority,
        })
    }

    /// Reserves `units` (1 for a video, the batch size for a batch) in the
    /// current cycle, all or nothing, under a new id.
    ///
    /// # Errors
    ///
    /// [`QuotaError::UnknownPlan`], [`QuotaError::ZeroUnits`],
    /// [`QuotaError::BatchTooLarge`] (checked first),
    /// [`QuotaError::Exhausted`] (one unit), [`QuotaError::InsufficientForBatch`]
    /// (several units), or [`QuotaError::Store`].
    pub fn reserve(
        &self,
        user: &UserKey,
        plan: &PlanName,
        anchor: AnchorDay,
        units: u32,
    ) -> Result<Reservation, QuotaError> {
        self.reserve_for_plan(ReservationId::new(), user, self.plan(plan)?, anchor, units)
    }

    /// [`reserve`](Self::reserve) with a plan the host already resolved and
    /// an id of its choice (e.g. its job or batch id).
    ///
    /// # Errors
    ///
    /// As [`reserve`](Self::reserve), plus
    /// [`QuotaError::DuplicateReservation`] when `id` is already used.
    pub fn reserve_for_plan(
        &self,
        id: ReservationId,
        user: &UserKey,
        plan: &Plan,
        anchor: AnchorDay,
        units: u32,
    ) -> Result<Reservation, QuotaError> {
        // Cheap checks first, without touching the store.
        check_batch(units, plan.batch_size_limit)?;
        let now = self.clock.now();
        let request = ReserveRequest {
            reservation_id: id,
            user: user.clone(),
            cycle: cycle_for(anchor, now),
            units,
            quota: plan.monthly_quota,
            batch_size_limit: plan.batch_size_limit,
            now,
            expire_pending_before: self
                .lazy_expiry
                .then(|| expiry_cutoff(now, self.reservation_ttl)),
        };
        self.store.reserve(&request)
    }

    /// Commits a reservation (the video completed): its units stay used, in
    /// the cycle the reservation was made in. Repeating a commit is a no-op
    /// ([`SettleOutcome::AlreadySettled`]).
    ///
    /// # Errors
    ///
    /// [`QuotaError::ReservationNotFound`];
    /// [`QuotaError::Conflict`] when it was released or expired (its units
    /// were already given back; nothing changes); [`QuotaError::Store`].
    pub fn commit(&self, id: ReservationId) -> Result<SettleOutcome, QuotaError> {
        self.store.settle(id, Settle::Commit, self.clock.now())
    }

    /// Releases a reservation (platform failure or cancellation): its units
    /// become available again. Repeating a release, or releasing an expired
    /// reservation, is a no-op ([`SettleOutcome::AlreadySettled`]) and never
    /// gives units back twice.
    ///
    /// # Errors
    ///
    /// [`QuotaError::ReservationNotFound`];
    /// [`QuotaError::Conflict`] when it was committed (a completed video
    /// stays counted; nothing changes); [`QuotaError::Store`].
    pub fn release(&self, id: ReservationId) -> Result<SettleOutcome, QuotaError> {
        self.store.settle(
            id,
            Settle::Release(ReleaseReason::Released),
            self.clock.now(),
        )
    }

    /// Releases every reservation pending for longer than the time-to-live;
    /// returns how many. Call it periodically (e.g. every minute).
    ///
    /// # Errors
    ///
    /// [`QuotaError::Store`].
    pub fn release_expired(&self) -> Result<u64, QuotaError> {
        self.store
            .release_expired(self.clock.now(), self.reservation_ttl)
    }

    /// The reservation with this id, if the store still has it.
    ///
    /// # Errors
    ///
    /// [`QuotaError::Store`].
    pub fn reservation(&self, id: ReservationId) -> Result<Option<Reservation>, QuotaError> {
        self.store.reservation(id)
    }
}
