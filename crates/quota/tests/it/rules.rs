use std::error::Error as _;

use ytvc_quota::{
    AnchorDay, PlanName, QuotaError, QuotaStore, ReleaseReason, ReservationId, ReservationState,
    Settle, SettleOutcome, StoreError, TimeDelta, Usage, UserKey,
};

use crate::support::{manager_at, name, t};

fn alice() -> UserKey {
    UserKey::from("alice")
}

#[test]
fn reserve_commit_and_status() {
    let (quotas, _, _) = manager_at("2026-01-20T10:00:00Z");
    let free = PlanName::FREE;
    let s = quotas.status(&alice(), &free, AnchorDay::FIRST).unwrap();
    assert_eq!(
        (s.quota, s.used, s.reserved, s.committed, s.remaining),
        (Some(10), 0, 0, 0, Some(10))
    );
    assert_eq!((s.batch_size_limit, s.priority), (5, 3));
    assert_eq!(s.reset_at, t("2026-02-01T00:00:00Z"));
    assert_eq!(s.cycle_start, t("2026-01-01T00:00:00Z"));

    let r = quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 3)
        .unwrap();
    assert_eq!(r.units, 3);
    assert_eq!(r.state, ReservationState::Pending);
    assert_eq!(r.cycle_start, t("2026-01-01T00:00:00Z"));
    assert_eq!(r.reset_at, t("2026-02-01T00:00:00Z"));
    let s = quotas.status(&alice(), &free, AnchorDay::FIRST).unwrap();
    assert_eq!(
        (s.used, s.reserved, s.committed, s.remaining),
        (3, 3, 0, Some(7))
    );

    assert_eq!(quotas.commit(r.id).unwrap(), SettleOutcome::Applied);
    let s = quotas.status(&alice(), &free, AnchorDay::FIRST).unwrap();
    assert_eq!(
        (s.used, s.reserved, s.committed, s.remaining),
        (3, 0, 3, Some(7))
    );
    let stored = quotas.reservation(r.id).unwrap().unwrap();
    assert_eq!(stored.state, ReservationState::Committed);
    assert_eq!(stored.settled_at, Some(t("2026-01-20T10:00:00Z")));
}

#[test]
fn status_serializes_like_the_api() {
    let (quotas, _, _) = manager_at("2026-01-20T10:00:00Z");
    let s = quotas
        .status(&alice(), &PlanName::ENTERPRISE, AnchorDay::FIRST)
        .unwrap();
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["plan"], "enterprise");
    assert!(json["quota"].is_null());
    assert!(json["remaining"].is_null());
    assert_eq!(json["reset_at"], "2026-02-01T00:00:00Z");
    assert_eq!(json["batch_size_limit"], 100);
    assert_eq!(json["priority"], 1);
}

#[test]
fn batch_limit_is_checked_before_the_quota() {
    let (quotas, _, _) = manager_at("2026-01-20T10:00:00Z");
    let free = PlanName::FREE;
    for _ in 0..2 {
        quotas
            .reserve(&alice(), &free, AnchorDay::FIRST, 5)
            .unwrap();
    }
    // Quota is exhausted, but a batch of 6 is reported as too large.
    let err = quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 6)
        .unwrap_err();
    assert!(matches!(
        err,
        QuotaError::BatchTooLarge {
            requested: 6,
            limit: 5
        }
    ));
    assert!(err.is_denial());
    assert_eq!(err.reset_at(), None);
}

#[test]
fn single_unit_exhausted_and_batch_insufficient_reserve_nothing() {
    let (quotas, _, _) = manager_at("2026-01-20T10:00:00Z");
    let free = PlanName::FREE;
    quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 5)
        .unwrap();
    quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 3)
        .unwrap();

    let err = quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 3)
        .unwrap_err();
    match err {
        QuotaError::InsufficientForBatch {
            limit,
            used,
            requested,
            remaining,
            reset_at,
        } => {
            assert_eq!((limit, used, requested, remaining), (10, 8, 3, 2));
            assert_eq!(reset_at, t("2026-02-01T00:00:00Z"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // All or nothing: still 8 used.
    let s = quotas.status(&alice(), &free, AnchorDay::FIRST).unwrap();
    assert_eq!(s.used, 8);

    quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 2)
        .unwrap();
    let err = quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 1)
        .unwrap_err();
    assert!(matches!(
        err,
        QuotaError::Exhausted {
            limit: 10,
            used: 10,
            ..
        }
    ));
    assert_eq!(err.reset_at(), Some(t("2026-02-01T00:00:00Z")));
    assert!(err.to_string().contains("exhausted"), "{err}");
    let s = quotas.status(&alice(), &free, AnchorDay::FIRST).unwrap();
    assert_eq!((s.used, s.remaining), (10, Some(0)));
}

#[test]
fn commit_and_release_are_idempotent_and_exclusive() {
    let (quotas, _, _) = manager_at("2026-01-20T10:00:00Z");
    let free = PlanName::FREE;
    let a = quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 2)
        .unwrap();
    let b = quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 3)
        .unwrap();

    assert_eq!(quotas.commit(a.id).unwrap(), SettleOutcome::Applied);
    assert_eq!(quotas.commit(a.id).unwrap(), SettleOutcome::AlreadySettled);
    let err = quotas.release(a.id).unwrap_err();
    assert!(matches!(
        err,
        QuotaError::Conflict {
            attempted: Settle::Release(ReleaseReason::Released),
            current: ReservationState::Committed,
            ..
        }
    ));

    assert_eq!(quotas.release(b.id).unwrap(), SettleOutcome::Applied);
    // A second release never creates credit.
    assert_eq!(quotas.release(b.id).unwrap(), SettleOutcome::AlreadySettled);
    assert_eq!(quotas.release(b.id).unwrap(), SettleOutcome::AlreadySettled);
    assert!(matches!(
        quotas.commit(b.id),
        Err(QuotaError::Conflict {
            attempted: Settle::Commit,
            ..
        })
    ));

    let s = quotas.status(&alice(), &free, AnchorDay::FIRST).unwrap();
    assert_eq!((s.used, s.committed, s.reserved), (2, 2, 0));
    assert_eq!(
        quotas.reservation(b.id).unwrap().unwrap().state,
        ReservationState::Released(ReleaseReason::Released)
    );
}

#[test]
fn unknown_reservations_plans_and_misuse() {
    let (quotas, _, _) = manager_at("2026-01-20T10:00:00Z");
    let ghost = ReservationId::new();
    assert!(matches!(
        quotas.commit(ghost),
        Err(QuotaError::ReservationNotFound(id)) if id == ghost
    ));
    assert!(matches!(
        quotas.release(ghost),
        Err(QuotaError::ReservationNotFound(_))
    ));
    assert!(quotas.reservation(ghost).unwrap().is_none());
    let gold = name("gold");
    assert!(matches!(
        quotas.status(&alice(), &gold, AnchorDay::FIRST),
        Err(QuotaError::UnknownPlan(p)) if p == gold
    ));
    assert!(matches!(
        quotas.reserve(&alice(), &gold, AnchorDay::FIRST, 1),
        Err(QuotaError::UnknownPlan(_))
    ));
    assert!(matches!(
        quotas.reserve(&alice(), &PlanName::FREE, AnchorDay::FIRST, 0),
        Err(QuotaError::ZeroUnits)
    ));

    let id = ReservationId::new();
    let free = quotas.plan(&PlanName::FREE).unwrap().clone();
    quotas
        .reserve_for_plan(id, &alice(), &free, AnchorDay::FIRST, 1)
        .unwrap();
    assert!(matches!(
        quotas.reserve_for_plan(id, &alice(), &free, AnchorDay::FIRST, 1),
        Err(QuotaError::DuplicateReservation(d)) if d == id
    ));
    let s = quotas
        .status(&alice(), &PlanName::FREE, AnchorDay::FIRST)
        .unwrap();
    assert_eq!(s.used, 1, "a duplicate id reserves nothing");
}

#[test]
fn a_new_cycle_starts_from_zero_without_a_reset_job() {
    let (quotas, clock, _) = manager_at("2026-03-14T23:00:00Z");
    let anchor = AnchorDay::new(15).unwrap();
    let tiny = name("tiny");
    let r = quotas.reserve(&alice(), &tiny, anchor, 3).unwrap();
    quotas.commit(r.id).unwrap();
    assert!(quotas.reserve(&alice(), &tiny, anchor, 1).is_err());
    let s = quotas.status(&alice(), &tiny, anchor).unwrap();
    assert_eq!(s.reset_at, t("2026-03-15T00:00:00Z"));

    clock.set(t("2026-03-15T00:00:00Z"));
    let s = quotas.status(&alice(), &tiny, anchor).unwrap();
    assert_eq!((s.used, s.remaining), (0, Some(3)));
    assert_eq!(s.reset_at, t("2026-04-15T00:00:00Z"));
    quotas.reserve(&alice(), &tiny, anchor, 3).unwrap();
}

#[test]
fn plan_changes_apply_at_once_and_keep_usage() {
    let (quotas, _, _) = manager_at("2026-01-20T10:00:00Z");
    let anchor = AnchorDay::FIRST;
    for _ in 0..2 {
        quotas
            .reserve(&alice(), &PlanName::FREE, anchor, 5)
            .unwrap();
    }
    assert!(
        quotas
            .reserve(&alice(), &PlanName::FREE, anchor, 1)
            .is_err()
    );

    // Upgrade: the 10 used stay used, the new limits apply immediately.
    let s = quotas.status(&alice(), &PlanName::PRO, anchor).unwrap();
    assert_eq!(
        (s.used, s.remaining, s.batch_size_limit),
        (10, Some(90), 20)
    );
    quotas
        .reserve(&alice(), &PlanName::PRO, anchor, 20)
        .unwrap();

    // Downgrade: over quota, remaining is 0 (never negative), reserve refused.
    let s = quotas.status(&alice(), &name("tiny"), anchor).unwrap();
    assert_eq!((s.used, s.remaining), (30, Some(0)));
    assert!(matches!(
        quotas.reserve(&alice(), &name("tiny"), anchor, 1),
        Err(QuotaError::Exhausted {
            used: 30,
            limit: 3,
            ..
        })
    ));

    // Unlimited: never denied within the batch limit.
    for _ in 0..5 {
        quotas
            .reserve(&alice(), &PlanName::ENTERPRISE, anchor, 100)
            .unwrap();
    }
    let s = quotas
        .status(&alice(), &PlanName::ENTERPRISE, anchor)
        .unwrap();
    assert_eq!((s.used, s.quota, s.remaining), (530, None, None));
}

#[test]
fn a_reservation_stays_in_the_cycle_it_was_made_in() {
    let (quotas, clock, store) = manager_at("2026-01-31T23:59:00Z");
    let anchor = AnchorDay::FIRST;
    let tiny = name("tiny");
    let jan = t("2026-01-01T00:00:00Z");
    let feb = t("2026-02-01T00:00:00Z");
    let a = quotas.reserve(&alice(), &tiny, anchor, 2).unwrap();
    let b = quotas.reserve(&alice(), &tiny, anchor, 1).unwrap();
    assert_eq!(a.cycle_start, jan);

    clock.set(t("2026-02-01T00:05:00Z"));
    let s = quotas.status(&alice(), &tiny, anchor).unwrap();
    assert_eq!(s.used, 0, "January's reservations do not count in February");

    quotas.commit(a.id).unwrap();
    quotas.release(b.id).unwrap();
    let user = alice();
    assert_eq!(
        store.usage(&user, jan).unwrap(),
        Usage {
            committed: 2,
            reserved: 0
        }
    );
    assert_eq!(store.usage(&user, feb).unwrap(), Usage::default());
    let s = quotas.status(&alice(), &tiny, anchor).unwrap();
    assert_eq!((s.used, s.remaining), (0, Some(3)));
}

#[test]
fn users_are_independent() {
    let (quotas, _, _) = manager_at("2026-01-20T10:00:00Z");
    let tiny = name("tiny");
    quotas
        .reserve(&alice(), &tiny, AnchorDay::FIRST, 3)
        .unwrap();
    let bob = UserKey::from("bob");
    quotas.reserve(&bob, &tiny, AnchorDay::FIRST, 3).unwrap();
    assert!(quotas.reserve(&bob, &tiny, AnchorDay::FIRST, 1).is_err());
}

#[test]
fn anchor_31_status_reports_the_clamped_reset() {
    let (quotas, clock, _) = manager_at("2025-02-10T00:00:00Z");
    let anchor = AnchorDay::new(31).unwrap();
    let s = quotas.status(&alice(), &PlanName::PRO, anchor).unwrap();
    assert_eq!(s.cycle_start, t("2025-01-31T00:00:00Z"));
    assert_eq!(s.reset_at, t("2025-02-28T00:00:00Z"));
    clock.set(t("2025-04-01T00:00:00Z"));
    let s = quotas.status(&alice(), &PlanName::PRO, anchor).unwrap();
    assert_eq!(s.cycle_start, t("2025-03-31T00:00:00Z"));
    assert_eq!(s.reset_at, t("2025-04-30T00:00:00Z"));
}

#[test]
fn expired_reservations_are_released_by_the_sweep() {
    let (quotas, clock, store) = manager_at("2026-01-20T10:00:00Z");
    let quotas = quotas.with_reservation_ttl(TimeDelta::hours(1));
    assert_eq!(quotas.reservation_ttl(), TimeDelta::hours(1));
    let tiny = name("tiny");
    let old = quotas
        .reserve(&alice(), &tiny, AnchorDay::FIRST, 2)
        .unwrap();
    clock.advance(TimeDelta::minutes(30));
    let young = quotas
        .reserve(&alice(), &tiny, AnchorDay::FIRST, 1)
        .unwrap();

    clock.advance(TimeDelta::minutes(30)); // old is exactly 1 h old: not yet.
    assert_eq!(quotas.release_expired().unwrap(), 0);
    clock.advance(TimeDelta::seconds(1));
    assert_eq!(quotas.release_expired().unwrap(), 1);
    assert_eq!(quotas.release_expired().unwrap(), 0);
    assert_eq!(store.pending_count(), 1);

    let stored = quotas.reservation(old.id).unwrap().unwrap();
    assert_eq!(
        stored.state,
        ReservationState::Released(ReleaseReason::Expired)
    );
    // Expired: commit refused, release a no-op, no double credit.
    assert!(matches!(
        quotas.commit(old.id),
        Err(QuotaError::Conflict {
            current: ReservationState::Released(ReleaseReason::Expired),
            ..
        })
    ));
    assert_eq!(
        quotas.release(old.id).unwrap(),
        SettleOutcome::AlreadySettled
    );
    let s = quotas.status(&alice(), &tiny, AnchorDay::FIRST).unwrap();
    assert_eq!((s.used, s.reserved), (1, 1));

    // Committed reservations never expire.
    quotas.commit(young.id).unwrap();
    clock.advance(TimeDelta::days(2));
    assert_eq!(quotas.release_expired().unwrap(), 0);
    let s = quotas.status(&alice(), &tiny, AnchorDay::FIRST).unwrap();
    assert_eq!((s.used, s.committed), (1, 1));
}

#[test]
fn reserve_releases_expired_reservations_lazily() {
    let (quotas, clock, _) = manager_at("2026-01-20T10:00:00Z");
    let quotas = quotas.with_reservation_ttl(TimeDelta::hours(1));
    let tiny = name("tiny");
    let stuck = quotas
        .reserve(&alice(), &tiny, AnchorDay::FIRST, 3)
        .unwrap();
    assert!(
        quotas
            .reserve(&alice(), &tiny, AnchorDay::FIRST, 1)
            .is_err()
    );
    clock.advance(TimeDelta::hours(2));
    quotas
        .reserve(&alice(), &tiny, AnchorDay::FIRST, 3)
        .unwrap();
    assert_eq!(
        quotas.reservation(stuck.id).unwrap().unwrap().state,
        ReservationState::Released(ReleaseReason::Expired)
    );
}

#[test]
fn lazy_expiry_can_be_disabled() {
    let (quotas, clock, _) = manager_at("2026-01-20T10:00:00Z");
    let quotas = quotas
        .with_reservation_ttl(TimeDelta::hours(1))
        .with_lazy_expiry(false);
    let tiny = name("tiny");
    quotas
        .reserve(&alice(), &tiny, AnchorDay::FIRST, 3)
        .unwrap();
    clock.advance(TimeDelta::hours(2));
    assert!(
        quotas
            .reserve(&alice(), &tiny, AnchorDay::FIRST, 1)
            .is_err()
    );
    assert_eq!(quotas.release_expired().unwrap(), 1);
    quotas
        .reserve(&alice(), &tiny, AnchorDay::FIRST, 1)
        .unwrap();
}

#[test]
fn purge_forgets_old_settled_reservations_only() {
    let (quotas, clock, store) = manager_at("2026-01-20T10:00:00Z");
    let free = PlanName::FREE;
    let settled = quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 1)
        .unwrap();
    quotas.commit(settled.id).unwrap();
    let pending = quotas
        .reserve(&alice(), &free, AnchorDay::FIRST, 1)
        .unwrap();
    clock.advance(TimeDelta::days(100));
    assert_eq!(store.purge(t("2026-04-01T00:00:00Z")), 1);
    assert_eq!(store.reservation_count(), 1);
    assert!(matches!(
        quotas.commit(settled.id),
        Err(QuotaError::ReservationNotFound(_))
    ));
    // The pending one and its cycle's usage survive; committing it still
    // counts in January, next to the purged (but still counted) commit.
    quotas.commit(pending.id).unwrap();
    let user = alice();
    assert_eq!(
        store.usage(&user, t("2026-01-01T00:00:00Z")).unwrap(),
        Usage {
            committed: 2,
            reserved: 0
        }
    );
    // Once nothing is pending, a later purge drops the old cycle's usage.
    store.purge(t("2026-04-01T00:00:00Z"));
    assert_eq!(store.reservation_count(), 1, "settled after the cut-off");
    store.purge(t("2026-06-01T00:00:00Z"));
    assert_eq!(store.reservation_count(), 0);
    assert_eq!(
        store.usage(&user, t("2026-01-01T00:00:00Z")).unwrap(),
        Usage::default()
    );
}

#[test]
fn store_errors_keep_their_cause() {
    let io = std::io::Error::other("connection reset");
    let err: QuotaError = StoreError::with_source("reserve failed", io).into();
    assert!(!err.is_denial());
    assert_eq!(err.to_string(), "quota store: reserve failed");
    let source = err.source().expect("the cause is kept");
    assert_eq!(source.to_string(), "connection reset");
    assert_eq!(StoreError::new("x").message(), "x");
}

#[test]
fn the_store_can_be_a_trait_object() {
    use std::sync::Arc;
    use ytvc_quota::{InMemoryQuotaStore, ManualClock, Plans, QuotaManager};

    let store: Arc<dyn QuotaStore> = Arc::new(InMemoryQuotaStore::new());
    let clock = ManualClock::new(t("2026-01-20T10:00:00Z"));
    let quotas = QuotaManager::new(Plans::default(), store, clock);
    let r = quotas
        .reserve(&alice(), &PlanName::PRO, AnchorDay::FIRST, 20)
        .unwrap();
    assert_eq!(quotas.commit(r.id).unwrap(), SettleOutcome::Applied);
    let s = quotas
        .status(&alice(), &PlanName::PRO, AnchorDay::FIRST)
        .unwrap();
    assert_eq!(s.remaining, Some(80));
}
