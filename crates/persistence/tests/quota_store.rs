//! `SqlQuotaStore` on every configured backend: the quota crate's rules,
//! transactions of the caller, concurrency within a process and across two
//! processes.
//!
//! PostgreSQL runs when `YTVC_TEST_DATABASE_URL` is set (a fresh database per
//! test); otherwise only SQLite runs and the PostgreSQL part says why.

use std::process::Command;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::prelude::*;
use proptest::prelude::*;
use ytvc_persistence::quota_store::{reserve_in, settle_in};
use ytvc_persistence::testing::TestDb;
use ytvc_persistence::tx::write_transaction;
use ytvc_persistence::{Backend, Database, DbConfig, DbError, SqlQuotaStore};
use ytvc_quota::{
    AnchorDay, DateTime, InMemoryQuotaStore, ManualClock, Plan, PlanName, Plans, QuotaError,
    QuotaManager, QuotaStore, RateLimitSpec, RateLimits, ReleaseReason, ReservationId,
    ReservationState, Settle, SettleOutcome, TimeDelta, Usage, UserKey, Utc, cycle_for,
};

type Manager = QuotaManager<SqlQuotaStore, ManualClock>;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339 instant")
}

fn plan(name: &str, quota: Option<u32>, batch: u32) -> Plan {
    let per_hour = RateLimitSpec::per_hour(100);
    Plan {
        name: PlanName::parse(name).unwrap(),
        monthly_quota: quota,
        batch_size_limit: batch,
        priority: 2,
        rate_limits: RateLimits {
            api: per_hour,
            batch_creations: per_hour,
            video_generations: per_hour,
        },
    }
}

/// The default plans plus `tiny` (quota 3, batch 3), `hundred` (quota 100,
/// batch 10) and `big` (quota 400, batch 1).
fn plans() -> Plans {
    Plans::new([
        Plan::free(),
        Plan::pro(),
        Plan::enterprise(),
        plan("tiny", Some(3), 3),
        plan("hundred", Some(100), 10),
        plan("big", Some(400), 1),
    ])
    .unwrap()
}

fn name(s: &str) -> PlanName {
    PlanName::parse(s).unwrap()
}

fn manager(db: &Database, now: &str) -> (Manager, ManualClock) {
    let clock = ManualClock::new(t(now));
    let m = QuotaManager::new(plans(), SqlQuotaStore::new(db.clone()), clock.clone())
        .with_reservation_ttl(TimeDelta::hours(6));
    (m, clock)
}

/// A second pool on the test database, with `size` connections.
fn pool(db: &TestDb, size: u32) -> Database {
    let mut config = DbConfig::new(db.url());
    config.pool_size = size;
    config.max_overflow = 0;
    config.connection_timeout = Duration::from_secs(30);
    Database::connect(&config).unwrap()
}

fn pending_rows(db: &Database) -> i64 {
    use ytvc_persistence::schema::quota_reservations as r;
    let mut conn = db.conn().unwrap();
    r::table
        .filter(r::state.eq("pending"))
        .count()
        .get_result(&mut *conn)
        .unwrap()
}

fn usage(m: &Manager, user: &UserKey, now: &str) -> Usage {
    m.store()
        .usage(user, cycle_for(AnchorDay::FIRST, t(now)).start())
        .unwrap()
}

fn u(committed: u64, reserved: u64) -> Usage {
    Usage {
        committed,
        reserved,
    }
}

// ---------------------------------------------------------------------------
// The quota crate's rules.

#[test]
fn commit_and_release_are_idempotent_and_conflict_across() {
    for db in TestDb::all() {
        let backend = db.backend();
        let (m, clock) = manager(db.database(), "2026-01-20T10:00:00Z");
        let alice = UserKey::from("alice");
        let free = PlanName::FREE;

        let video = m.reserve(&alice, &free, AnchorDay::FIRST, 1).unwrap();
        assert_eq!(m.reservation(video.id).unwrap(), Some(video.clone()));
        assert_eq!(
            usage(&m, &alice, "2026-01-20T10:00:00Z"),
            u(0, 1),
            "{backend}"
        );

        clock.advance(TimeDelta::minutes(5));
        assert_eq!(m.commit(video.id).unwrap(), SettleOutcome::Applied);
        assert_eq!(m.commit(video.id).unwrap(), SettleOutcome::AlreadySettled);
        let err = m.release(video.id).unwrap_err();
        assert!(matches!(err, QuotaError::Conflict { .. }), "{err:?}");
        let stored = m.reservation(video.id).unwrap().unwrap();
        assert_eq!(stored.state, ReservationState::Committed);
        assert_eq!(stored.settled_at, Some(t("2026-01-20T10:05:00Z")));
        assert_eq!(usage(&m, &alice, "2026-01-20T10:00:00Z"), u(1, 0));

        let batch = m.reserve(&alice, &free, AnchorDay::FIRST, 5).unwrap();
        assert_eq!(usage(&m, &alice, "2026-01-20T10:00:00Z"), u(1, 5));
        assert_eq!(m.release(batch.id).unwrap(), SettleOutcome::Applied);
        assert_eq!(m.release(batch.id).unwrap(), SettleOutcome::AlreadySettled);
        let err = m.commit(batch.id).unwrap_err();
        assert!(
            matches!(
                err,
                QuotaError::Conflict {
                    attempted: Settle::Commit,
                    current: ReservationState::Released(ReleaseReason::Released),
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(usage(&m, &alice, "2026-01-20T10:00:00Z"), u(1, 0));

        let unknown = ReservationId::new();
        assert!(matches!(
            m.commit(unknown),
            Err(QuotaError::ReservationNotFound(id)) if id == unknown
        ));
        assert_eq!(m.reservation(unknown).unwrap(), None);
    }
}

#[test]
fn denials_follow_the_pure_rules() {
    for db in TestDb::all() {
        let (m, _) = manager(db.database(), "2026-01-20T10:00:00Z");
        let bob = UserKey::from("bob");
        let tiny = name("tiny");
        assert!(matches!(
            m.reserve(&bob, &tiny, AnchorDay::FIRST, 4),
            Err(QuotaError::BatchTooLarge {
                requested: 4,
                limit: 3
            })
        ));
        m.reserve(&bob, &tiny, AnchorDay::FIRST, 2).unwrap();
        match m.reserve(&bob, &tiny, AnchorDay::FIRST, 2).unwrap_err() {
            QuotaError::InsufficientForBatch {
                limit,
                used,
                requested,
                remaining,
                reset_at,
            } => assert_eq!(
                (limit, used, requested, remaining, reset_at),
                (3, 2, 2, 1, t("2026-02-01T00:00:00Z"))
            ),
            other => panic!("unexpected {other:?}"),
        }
        m.reserve(&bob, &tiny, AnchorDay::FIRST, 1).unwrap();
        assert!(matches!(
            m.reserve(&bob, &tiny, AnchorDay::FIRST, 1),
            Err(QuotaError::Exhausted {
                limit: 3,
                used: 3,
                ..
            })
        ));
        // The upgrade keeps what was used; unlimited never denies.
        let s = m.status(&bob, &PlanName::PRO, AnchorDay::FIRST).unwrap();
        assert_eq!((s.used, s.remaining), (3, Some(97)));
        for _ in 0..3 {
            m.reserve(&bob, &PlanName::ENTERPRISE, AnchorDay::FIRST, 100)
                .unwrap();
        }
        assert_eq!(usage(&m, &bob, "2026-01-20T10:00:00Z"), u(0, 303));
    }
}

#[test]
fn duplicate_ids_are_refused_and_reserve_nothing() {
    for db in TestDb::all() {
        let (m, _) = manager(db.database(), "2026-01-20T10:00:00Z");
        let carol = UserKey::from("carol");
        let id = ReservationId::new();
        let pro = Plan::pro();
        m.reserve_for_plan(id, &carol, &pro, AnchorDay::FIRST, 2)
            .unwrap();
        let err = m
            .reserve_for_plan(id, &carol, &pro, AnchorDay::FIRST, 1)
            .unwrap_err();
        assert!(matches!(err, QuotaError::DuplicateReservation(d) if d == id));
        // Another user with the same id: still a duplicate.
        assert!(matches!(
            m.reserve_for_plan(id, &UserKey::from("dave"), &pro, AnchorDay::FIRST, 1),
            Err(QuotaError::DuplicateReservation(_))
        ));
        assert_eq!(usage(&m, &carol, "2026-01-20T10:00:00Z"), u(0, 2));
        assert_eq!(
            usage(&m, &UserKey::from("dave"), "2026-01-20T10:00:00Z"),
            u(0, 0)
        );
    }
}

#[test]
fn a_new_cycle_starts_from_zero_and_settles_go_to_the_original_cycle() {
    for db in TestDb::all() {
        let (m, clock) = manager(db.database(), "2026-01-31T23:00:00Z");
        let erin = UserKey::from("erin");
        let tiny = name("tiny");
        let late = m.reserve(&erin, &tiny, AnchorDay::FIRST, 3).unwrap();
        assert!(m.reserve(&erin, &tiny, AnchorDay::FIRST, 1).is_err());

        clock.set(t("2026-02-01T00:00:00Z"));
        let s = m.status(&erin, &tiny, AnchorDay::FIRST).unwrap();
        assert_eq!((s.used, s.remaining), (0, Some(3)));
        m.reserve(&erin, &tiny, AnchorDay::FIRST, 1).unwrap();

        // Committing January's reservation in February counts in January.
        assert_eq!(m.commit(late.id).unwrap(), SettleOutcome::Applied);
        assert_eq!(usage(&m, &erin, "2026-01-15T00:00:00Z"), u(3, 0));
        assert_eq!(usage(&m, &erin, "2026-02-15T00:00:00Z"), u(0, 1));
        assert_eq!(
            m.reservation(late.id).unwrap().unwrap().cycle_start,
            t("2026-01-01T00:00:00Z")
        );
    }
}

#[test]
fn expired_reservations_are_released_by_the_sweep_and_lazily() {
    for db in TestDb::all() {
        let (m, clock) = manager(db.database(), "2026-01-20T10:00:00Z");
        let fay = UserKey::from("fay");
        let gus = UserKey::from("gus");
        let tiny = name("tiny");
        let a = m.reserve(&fay, &tiny, AnchorDay::FIRST, 2).unwrap();
        let b = m.reserve(&gus, &tiny, AnchorDay::FIRST, 1).unwrap();
        clock.advance(TimeDelta::hours(5));
        let c = m.reserve(&gus, &tiny, AnchorDay::FIRST, 1).unwrap();

        // 6 h TTL: at +7 h, a and b are expired, c is not.
        clock.advance(TimeDelta::hours(2));
        assert_eq!(m.release_expired().unwrap(), 2);
        assert_eq!(m.release_expired().unwrap(), 0);
        let expired = ReservationState::Released(ReleaseReason::Expired);
        assert_eq!(m.reservation(a.id).unwrap().unwrap().state, expired);
        assert_eq!(m.reservation(b.id).unwrap().unwrap().state, expired);
        assert_eq!(
            m.reservation(c.id).unwrap().unwrap().state,
            ReservationState::Pending
        );
        assert!(matches!(m.commit(a.id), Err(QuotaError::Conflict { .. })));
        assert_eq!(m.release(a.id).unwrap(), SettleOutcome::AlreadySettled);
        assert_eq!(usage(&m, &fay, "2026-01-20T10:00:00Z"), u(0, 0));
        assert_eq!(usage(&m, &gus, "2026-01-20T10:00:00Z"), u(0, 1));

        // Lazy expiry: fay fills her quota, and once those reservations are
        // older than the TTL a new reservation releases them first.
        m.reserve(&fay, &tiny, AnchorDay::FIRST, 3).unwrap();
        assert!(m.reserve(&fay, &tiny, AnchorDay::FIRST, 1).is_err());
        clock.advance(TimeDelta::hours(7));
        m.reserve(&fay, &tiny, AnchorDay::FIRST, 3).unwrap();
        assert_eq!(usage(&m, &fay, "2026-01-20T10:00:00Z"), u(0, 3));
        // The sweep still finds gus's c (lazy expiry is per user).
        assert_eq!(m.release_expired().unwrap(), 1);
        assert_eq!(usage(&m, &gus, "2026-01-20T10:00:00Z"), u(0, 0));
    }
}

#[test]
fn lazy_expiry_reaches_into_earlier_cycles() {
    for db in TestDb::all() {
        let (m, clock) = manager(db.database(), "2026-01-31T22:00:00Z");
        let hal = UserKey::from("hal");
        let tiny = name("tiny");
        let old = m.reserve(&hal, &tiny, AnchorDay::FIRST, 3).unwrap();
        clock.set(t("2026-02-01T03:00:00Z"));
        m.reserve(&hal, &tiny, AnchorDay::FIRST, 1).unwrap();
        assert_eq!(usage(&m, &hal, "2026-01-15T00:00:00Z"), u(0, 3));
        clock.set(t("2026-02-01T05:00:00Z"));
        m.reserve(&hal, &tiny, AnchorDay::FIRST, 1).unwrap();
        assert_eq!(usage(&m, &hal, "2026-01-15T00:00:00Z"), u(0, 0));
        assert_eq!(usage(&m, &hal, "2026-02-15T00:00:00Z"), u(0, 2));
        assert_eq!(
            m.reservation(old.id).unwrap().unwrap().state,
            ReservationState::Released(ReleaseReason::Expired)
        );
    }
}

// ---------------------------------------------------------------------------
// The caller's transaction.

#[test]
fn reserve_in_joins_the_callers_transaction() {
    for db in TestDb::all() {
        let backend = db.backend();
        let (m, _) = manager(db.database(), "2026-01-20T10:00:00Z");
        let ivy = UserKey::from("ivy");
        let now = t("2026-01-20T10:00:00Z");
        let request = |units| ytvc_quota::ReserveRequest {
            reservation_id: ReservationId::new(),
            user: ivy.clone(),
            cycle: cycle_for(AnchorDay::FIRST, now),
            units,
            quota: Some(3),
            batch_size_limit: 3,
            now,
            expire_pending_before: Some(now - TimeDelta::hours(6)),
        };
        let mut conn = db.database().conn().unwrap();

        // Outside a transaction: refused.
        let err = reserve_in(&mut conn, &request(1)).unwrap_err();
        assert!(matches!(err, QuotaError::Store(_)), "{err:?}");

        // Rolled back by the caller (e.g. the video insert failed): nothing.
        let rolled_back = request(2);
        let result: Result<(), QuotaError> = write_transaction(&mut conn, |conn| {
            reserve_in(conn, &rolled_back)?;
            Err(QuotaError::Store(ytvc_quota::StoreError::new(
                "video insert failed",
            )))
        });
        assert!(result.is_err());
        assert_eq!(m.reservation(rolled_back.reservation_id).unwrap(), None);
        assert_eq!(
            usage(&m, &ivy, "2026-01-20T10:00:00Z"),
            u(0, 0),
            "{backend}"
        );

        // Committed with the caller's other rows.
        let kept = request(2);
        let r = write_transaction(&mut conn, |conn| {
            diesel::sql_query("SELECT 1").execute(conn).map_err(|e| {
                QuotaError::Store(ytvc_quota::StoreError::with_source("other row", e))
            })?;
            let r = reserve_in(conn, &kept)?;
            assert_eq!(
                settle_in(conn, r.id, Settle::Commit, now).unwrap(),
                SettleOutcome::Applied
            );
            Ok::<_, QuotaError>(r)
        })
        .unwrap();
        assert_eq!(
            m.reservation(r.id).unwrap().unwrap().state,
            ReservationState::Committed
        );
        assert_eq!(usage(&m, &ivy, "2026-01-20T10:00:00Z"), u(2, 0));

        // A denial inside the caller's transaction leaves it usable.
        let denied = write_transaction(&mut conn, |conn| reserve_in(conn, &request(2)));
        assert!(matches!(
            denied,
            Err(QuotaError::InsufficientForBatch { remaining: 1, .. })
        ));
        // Nested use: a savepoint inside an open transaction.
        let nested = write_transaction(&mut conn, |conn| {
            write_transaction(conn, |conn| reserve_in(conn, &request(1)))
        })
        .unwrap();
        assert_eq!(nested.units, 1);
        assert_eq!(usage(&m, &ivy, "2026-01-20T10:00:00Z"), u(2, 1));
    }
}

#[test]
fn store_errors_surface_as_store_errors() {
    let db = TestDb::sqlite();
    let store = SqlQuotaStore::new(db.database().clone());
    {
        let mut conn = db.database().conn().unwrap();
        diesel::sql_query("DROP TABLE quota_usage")
            .execute(&mut *conn)
            .unwrap();
    }
    let err = store
        .usage(&UserKey::from("x"), t("2026-01-01T00:00:00Z"))
        .unwrap_err();
    let QuotaError::Store(store_error) = &err else {
        panic!("unexpected {err:?}");
    };
    let source = std::error::Error::source(store_error).expect("a source");
    assert!(source.downcast_ref::<DbError>().is_some(), "{source:?}");
}

// ---------------------------------------------------------------------------
// Same decisions as the in-memory store.

#[derive(Debug, Clone)]
enum Op {
    Reserve(u32),
    Commit(usize),
    Release(usize),
    Advance(i64),
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..5).prop_map(Op::Reserve),
        2 => (0usize..16).prop_map(Op::Commit),
        2 => (0usize..16).prop_map(Op::Release),
        1 => (1i64..48).prop_map(Op::Advance),
        1 => Just(Op::Sweep),
    ]
}

fn same_outcome<T: PartialEq + std::fmt::Debug>(
    sql: &Result<T, QuotaError>,
    mem: &Result<T, QuotaError>,
) -> bool {
    match (sql, mem) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => a.to_string() == b.to_string(),
        _ => false,
    }
}

/// Cases share the database and the sweep is global: settle what a case
/// left pending so the next one starts clean.
fn settle_leftovers(db: &Database) {
    use ytvc_persistence::schema::quota_reservations as r;
    let mut conn = db.conn().unwrap();
    diesel::update(r::table.filter(r::state.eq("pending")))
        .set((
            r::state.eq("committed"),
            r::settled_at.eq(Some(t("2026-01-01T00:00:00Z").naive_utc())),
        ))
        .execute(&mut *conn)
        .unwrap();
}

fn run_against_memory(db: &Database, user: &str, ops: &[Op]) -> Result<(), TestCaseError> {
    let clock = ManualClock::new(t("2026-01-30T10:00:00Z"));
    let sql = QuotaManager::new(plans(), SqlQuotaStore::new(db.clone()), clock.clone())
        .with_reservation_ttl(TimeDelta::hours(12));
    let mem = QuotaManager::new(plans(), InMemoryQuotaStore::new(), clock.clone())
        .with_reservation_ttl(TimeDelta::hours(12));
    let user = UserKey::from(user);
    let tiny = plan("tiny", Some(3), 3);
    let mut ids = Vec::new();
    for op in ops {
        match *op {
            Op::Reserve(units) => {
                let id = ReservationId::new();
                let a = sql.reserve_for_plan(id, &user, &tiny, AnchorDay::FIRST, units);
                let b = mem.reserve_for_plan(id, &user, &tiny, AnchorDay::FIRST, units);
                prop_assert!(same_outcome(&a, &b), "{op:?}: {a:?} vs {b:?}");
                if a.is_ok() {
                    ids.push(id);
                }
            }
            Op::Commit(i) | Op::Release(i) if !ids.is_empty() => {
                let id = ids[i % ids.len()];
                let (a, b) = if matches!(op, Op::Commit(_)) {
                    (sql.commit(id), mem.commit(id))
                } else {
                    (sql.release(id), mem.release(id))
                };
                prop_assert!(same_outcome(&a, &b), "{op:?}: {a:?} vs {b:?}");
                prop_assert_eq!(sql.reservation(id).unwrap(), mem.reservation(id).unwrap());
            }
            Op::Commit(_) | Op::Release(_) => {}
            Op::Advance(hours) => clock.advance(TimeDelta::hours(hours)),
            Op::Sweep => {
                prop_assert_eq!(
                    sql.release_expired().unwrap(),
                    mem.release_expired().unwrap()
                );
            }
        }
        let a = sql.status_for_plan(&user, &tiny, AnchorDay::FIRST).unwrap();
        let b = mem.status_for_plan(&user, &tiny, AnchorDay::FIRST).unwrap();
        prop_assert_eq!((a.used, a.reserved), (b.used, b.reserved), "after {:?}", op);
    }
    for id in ids {
        prop_assert_eq!(sql.reservation(id).unwrap(), mem.reservation(id).unwrap());
    }
    Ok(())
}

#[test]
fn decides_like_the_in_memory_store() {
    for db in TestDb::all() {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 24,
            failure_persistence: None,
            max_shrink_iters: 256,
            ..ProptestConfig::default()
        });
        let case = std::cell::Cell::new(0u32);
        runner
            .run(&proptest::collection::vec(op(), 1..40), |ops| {
                // A fresh user per case (and shrinking step).
                case.set(case.get() + 1);
                let result = run_against_memory(db.database(), &format!("p-{}", case.get()), &ops);
                settle_leftovers(db.database());
                result
            })
            .unwrap_or_else(|e| panic!("{}: {e}", db.backend()));
    }
}

// ---------------------------------------------------------------------------
// Concurrency within one process.

#[test]
fn two_hundred_threads_race_for_one_hundred_units() {
    for db in TestDb::all() {
        let backend = db.backend();
        let database = pool(&db, 16);
        let (m, _) = manager(&database, "2026-01-20T10:00:00Z");
        let m = Arc::new(m);
        let user = UserKey::from("racer");
        let barrier = Arc::new(Barrier::new(200));
        let handles: Vec<_> = (0..200)
            .map(|_| {
                let (m, user, barrier) = (Arc::clone(&m), user.clone(), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    m.reserve(&user, &name("hundred"), AnchorDay::FIRST, 1)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(ok, 100, "{backend}: {errors:?}");
        assert!(
            errors
                .iter()
                .all(|e| matches!(e, QuotaError::Exhausted { limit: 100, .. })),
            "{backend}: {errors:?}"
        );
        assert_eq!(usage(&m, &user, "2026-01-20T10:00:00Z"), u(0, 100));
        assert_eq!(pending_rows(&database), 100);
    }
}

#[test]
fn concurrent_batches_never_overspend() {
    for db in TestDb::all() {
        let backend = db.backend();
        let database = pool(&db, 16);
        for round in 0..3u32 {
            let (m, _) = manager(&database, "2026-01-20T10:00:00Z");
            let m = Arc::new(m);
            let user = UserKey::from(format!("batcher-{round}"));
            let threads = 32;
            let barrier = Arc::new(Barrier::new(threads));
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let (m, user, barrier) = (Arc::clone(&m), user.clone(), Arc::clone(&barrier));
                    let units = 1 + (i as u32 * 7 + round) % 10;
                    thread::spawn(move || {
                        barrier.wait();
                        let mut granted = 0u64;
                        for attempt in 0..5 {
                            match m.reserve(&user, &name("hundred"), AnchorDay::FIRST, units) {
                                Ok(r) if attempt % 2 == 1 => {
                                    m.release(r.id).unwrap();
                                }
                                Ok(r) => {
                                    m.commit(r.id).unwrap();
                                    granted += u64::from(units);
                                }
                                Err(
                                    QuotaError::InsufficientForBatch { .. }
                                    | QuotaError::Exhausted { .. },
                                ) => {}
                                Err(other) => panic!("{backend}: unexpected {other:?}"),
                            }
                        }
                        granted
                    })
                })
                .collect();
            let granted: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
            let used = usage(&m, &user, "2026-01-20T10:00:00Z");
            assert_eq!(used, u(granted, 0), "{backend} round {round}");
            assert!(granted <= 100, "{backend} round {round}: {granted}");
            // Demand (32 threads, 1..=10 units, 3 commits each) far exceeds
            // 100: the quota ends up (nearly) full, never over.
            assert!(granted > 90, "{backend} round {round}: {granted}");
        }
    }
}

// ---------------------------------------------------------------------------
// Two processes sharing one database.

const HAMMER_URL: &str = "YTVC_QUOTA_HAMMER_URL";
const HAMMER_USER: &str = "YTVC_QUOTA_HAMMER_USER";
const HAMMER_START_MS: &str = "YTVC_QUOTA_HAMMER_START_MS";

fn epoch_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The child side of `two_processes_never_overspend`: a no-op unless the
/// parent set `YTVC_QUOTA_HAMMER_URL`. Eight threads reserve one unit at a
/// time (committing every other one) until the quota is exhausted, then the
/// process prints `HAMMER granted=N`.
#[test]
fn quota_hammer_child() {
    let Ok(url) = std::env::var(HAMMER_URL) else {
        return;
    };
    let user = UserKey::from(std::env::var(HAMMER_USER).unwrap());
    let start: u64 = std::env::var(HAMMER_START_MS).unwrap().parse().unwrap();
    let mut config = DbConfig::new(url);
    config.pool_size = 8;
    config.max_overflow = 0;
    config.connection_timeout = Duration::from_secs(30);
    let database = Database::connect(&config).unwrap();
    let (m, _) = manager(&database, "2026-01-20T10:00:00Z");
    let m = Arc::new(m);
    // Open the connections before the start signal.
    let conns: Vec<_> = (0..8).map(|_| database.conn().unwrap()).collect();
    drop(conns);
    thread::sleep(Duration::from_millis(start.saturating_sub(epoch_ms())));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (m, user) = (Arc::clone(&m), user.clone());
            thread::spawn(move || {
                let mut granted = 0u64;
                loop {
                    match m.reserve(&user, &name("big"), AnchorDay::FIRST, 1) {
                        Ok(r) => {
                            granted += 1;
                            if granted.is_multiple_of(2) {
                                m.commit(r.id).unwrap();
                            }
                        }
                        Err(QuotaError::Exhausted { .. }) => return granted,
                        Err(other) => panic!("hammer: unexpected {other:?}"),
                    }
                }
            })
        })
        .collect();
    let granted: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    println!("\nHAMMER granted={granted}");
}

#[test]
fn two_processes_never_overspend() {
    let exe = std::env::current_exe().unwrap();
    let dbs = TestDb::all();
    if dbs.iter().all(|db| db.backend() != Backend::Postgres) {
        eprintln!(
            "two_processes_never_overspend: PostgreSQL part skipped \
             (YTVC_TEST_DATABASE_URL is not set); running on SQLite only"
        );
    }
    for db in dbs {
        let backend = db.backend();
        let user = "shared-user";
        let start = epoch_ms() + 1500;
        let children: Vec<_> = (0..2)
            .map(|_| {
                Command::new(&exe)
                    .args(["--exact", "quota_hammer_child", "--nocapture"])
                    .args(["--test-threads", "1"])
                    .env(HAMMER_URL, db.url())
                    .env(HAMMER_USER, user)
                    .env(HAMMER_START_MS, start.to_string())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut per_process = Vec::new();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{backend} child failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let granted: u64 = stdout
                .lines()
                .find_map(|l| l.trim().strip_prefix("HAMMER granted="))
                .unwrap_or_else(|| panic!("{backend}: no result in\n{stdout}"))
                .parse()
                .unwrap();
            per_process.push(granted);
        }
        let total: u64 = per_process.iter().sum();
        eprintln!("{backend}: two processes granted {per_process:?} (total {total}) of 400");
        assert_eq!(total, 400, "{backend}: {per_process:?}");
        let (m, _) = manager(db.database(), "2026-01-20T10:00:00Z");
        let used = usage(&m, &UserKey::from(user), "2026-01-20T10:00:00Z");
        assert_eq!(used.used(), 400, "{backend}: {used:?}");
        assert!(
            used.committed > 0 && used.reserved > 0,
            "{backend}: {used:?}"
        );
        assert_eq!(
            pending_rows(db.database()),
            i64::try_from(used.reserved).unwrap()
        );
    }
}
