//! The database [`QuotaStore`] of `ytvc-quota`: a ledger of reservations and
//! one usage row per (user, billing cycle), on SQLite and PostgreSQL.
//!
//! # Locking
//!
//! Every change to a usage row, or to a reservation of that (user, cycle),
//! happens while the usage row is locked:
//!
//! - on PostgreSQL with `SELECT … FOR UPDATE` (after an
//!   `INSERT … ON CONFLICT DO NOTHING` creating the row), in a plain
//!   `READ COMMITTED` transaction; statements after the lock see the latest
//!   committed reservations, so two instances sharing the database never
//!   both see the same remaining quota;
//! - on SQLite by running the whole write under `BEGIN IMMEDIATE` (one writer
//!   at a time; others wait up to the connection's `busy_timeout`).
//!
//! A reservation row is only touched after its usage row is locked; a
//! reserve locks its current cycle's row first, then (lazy expiry, rare)
//! older cycles' rows of the same user; settles and each step of the sweep
//! lock one usage row. So reserves, settles and sweeps do not wait on each
//! other in a cycle (should PostgreSQL ever report a deadlock, it is a store
//! error, never an overspend).
//!
//! The decisions are the quota crate's pure rules ([`ReserveRequest::check`],
//! [`decide_settlement`], [`Usage::settled`]), so this store and
//! [`ytvc_quota::InMemoryQuotaStore`] decide alike. Timestamps are stored as
//! UTC `TIMESTAMP` truncated to microseconds (PostgreSQL's precision).

use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeDelta, Utc};
use diesel::connection::TransactionManager;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use ytvc_quota::{
    QuotaError, QuotaStore, ReleaseReason, Reservation, ReservationId, ReservationState,
    ReserveRequest, Settle, SettleOutcome, StoreError, Usage, UserKey, decide_settlement,
};

use crate::schema::{quota_reservations as r, quota_usage as u};
use crate::tx::{IntoTxError, write_transaction};
use crate::{AnyConnection, Database, DbError};

/// Stands for "no cut-off" in SQL: earlier than any stored instant, and
/// within PostgreSQL's timestamp range.
trait MinCutoff {
    const MIN_CUTOFF: NaiveDateTime;
}

impl MinCutoff for NaiveDateTime {
    const MIN_CUTOFF: NaiveDateTime = match chrono::NaiveDate::from_ymd_opt(1, 1, 1) {
        Some(day) => day.and_time(chrono::NaiveTime::MIN),
        None => NaiveDateTime::MIN,
    };
}

/// An expiry cut-off as stored, clamped to [`MinCutoff::MIN_CUTOFF`].
fn to_cutoff(t: DateTime<Utc>) -> NaiveDateTime {
    to_naive(t).max(NaiveDateTime::MIN_CUTOFF)
}

const PENDING: &str = "pending";
const COMMITTED: &str = "committed";
const RELEASED: &str = "released";
const REASON_RELEASED: &str = "released";
const REASON_EXPIRED: &str = "expired";

/// A [`QuotaStore`] in the database behind a [`Database`] pool (SQLite or
/// PostgreSQL, through [`AnyConnection`]).
///
/// Each trait method checks a connection out of the pool and runs one
/// transaction ([`write_transaction`]); to reserve inside a transaction of
/// your own (e.g. with the rows of the video and its job), use
/// [`reserve_in`] and [`settle_in`].
///
/// Settled reservations are kept in the ledger, so repeated commits and
/// releases stay idempotent for ever.
#[derive(Debug, Clone)]
pub struct SqlQuotaStore {
    db: Database,
}

impl SqlQuotaStore {
    /// A store over `db` (migrated: the quota tables come with the embedded
    /// migrations).
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The database it uses.
    #[must_use]
    pub fn database(&self) -> &Database {
        &self.db
    }

    fn conn(&self) -> Result<crate::PooledConn, QuotaError> {
        self.db.conn().map_err(|e| store_error("connection", e))
    }
}

impl QuotaStore for SqlQuotaStore {
    fn reserve(&self, request: &ReserveRequest) -> Result<Reservation, QuotaError> {
        let mut conn = self.conn()?;
        // A denial commits: the lazy expiry done before the check is kept,
        // as in the in-memory store (nothing else was written).
        write_transaction(&mut conn, |conn| match reserve_locked(conn, request) {
            Ok(reservation) => Ok(Ok(reservation)),
            Err(Fail::Quota(denied)) => Ok(Err(denied)),
            Err(other) => Err(other),
        })
        .map_err(|e| e.into_quota("reserve"))?
    }

    fn settle(
        &self,
        id: ReservationId,
        action: Settle,
        now: DateTime<Utc>,
    ) -> Result<SettleOutcome, QuotaError> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn| settle_locked(conn, id, action, now))
            .map_err(|e| e.into_quota("settle"))
    }

    fn usage(&self, user: &UserKey, cycle_start: DateTime<Utc>) -> Result<Usage, QuotaError> {
        let mut conn = self.conn()?;
        let row = u::table
            .find((user.as_str(), to_naive(cycle_start)))
            .select((u::committed, u::reserved))
            .first::<(i64, i64)>(&mut *conn)
            .optional()
            .map_err(|e| Fail::from(e).into_quota("usage"))?;
        row.map(usage_of)
            .transpose()
            .map_err(|e| e.into_quota("usage"))
            .map(Option::unwrap_or_default)
    }

    fn reservation(&self, id: ReservationId) -> Result<Option<Reservation>, QuotaError> {
        let mut conn = self.conn()?;
        let row = r::table
            .find(id.to_string())
            .select(ReservationRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(|e| Fail::from(e).into_quota("reservation"))?;
        row.map(ReservationRow::into_reservation)
            .transpose()
            .map_err(|e| e.into_quota("reservation"))
    }

    /// Releases expired reservations one (user, cycle) at a time: each group
    /// is one transaction, so a large backlog never holds many locks at once.
    fn release_expired(&self, now: DateTime<Utc>, max_age: TimeDelta) -> Result<u64, QuotaError> {
        let cutoff = to_cutoff(
            now.checked_sub_signed(max_age)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        );
        let now = to_naive(now);
        let mut conn = self.conn()?;
        let groups: Vec<(String, NaiveDateTime)> = r::table
            .filter(r::state.eq(PENDING).and(r::created_at.lt(cutoff)))
            .select((r::user_key, r::cycle_start))
            .distinct()
            .order_by((r::user_key, r::cycle_start))
            .load(&mut *conn)
            .map_err(|e| Fail::from(e).into_quota("release_expired"))?;
        let mut released = 0;
        for (user, cycle) in groups {
            released += write_transaction(&mut conn, |conn| {
                let Some(usage) = lock_usage(conn, &user, cycle)? else {
                    return Err(Fail::corrupt(format!(
                        "no usage row for pending reservations of {user} in cycle {cycle}"
                    )));
                };
                expire_cycle(conn, &user, cycle, usage, cutoff, now).map(|(n, _)| n)
            })
            .map_err(|e| e.into_quota("release_expired"))?;
        }
        Ok(released)
    }
}

impl IntoTxError for QuotaError {
    fn from_diesel(e: DieselError) -> Self {
        Fail::from(e).into_quota("transaction")
    }
}

impl IntoTxError for Fail {
    fn from_diesel(e: DieselError) -> Self {
        Fail::Db(e)
    }
}

/// Checks and records a reservation on a connection whose transaction the
/// CALLER opened (and will commit or roll back), following the steps of
/// [`ReserveRequest`]: lazy expiry of the user's reservations pending since
/// before `expire_pending_before`, duplicate id check, [`ReserveRequest::check`]
/// against the locked usage row, then the ledger row and the usage update.
///
/// The transaction must serialise writers:
///
/// - **SQLite**: open it with `BEGIN IMMEDIATE` ([`write_transaction`], or
///   diesel's `immediate_transaction`). A deferred `BEGIN` that has already
///   read may fail with "database is locked" (a store error, never an
///   overspend), since SQLite cannot upgrade a stale read snapshot.
/// - **PostgreSQL**: any transaction; the usage row is locked with
///   `SELECT … FOR UPDATE` until the caller's commit. Under `REPEATABLE READ`
///   or `SERIALIZABLE` a concurrent change surfaces as a serialization
///   failure (a store error).
///
/// Hold the transaction briefly: the user's usage row stays locked until it
/// ends.
///
/// # Errors
///
/// As [`QuotaStore::reserve`]; [`QuotaError::Store`] also when no
/// transaction is open on `conn`. After a store error or
/// [`QuotaError::DuplicateReservation`] the caller must roll back (on
/// PostgreSQL a failed statement aborts the transaction). After a quota
/// denial nothing was reserved, but lazy expiry may have released old
/// reservations: committing keeps that (as [`SqlQuotaStore`] does), rolling
/// back is harmless too.
pub fn reserve_in(
    conn: &mut AnyConnection,
    request: &ReserveRequest,
) -> Result<Reservation, QuotaError> {
    require_transaction(conn, "reserve_in")?;
    reserve_locked(conn, request).map_err(|e| e.into_quota("reserve"))
}

/// Commits or releases a reservation on a connection whose transaction the
/// CALLER opened (see [`reserve_in`] for what the transaction must be),
/// following [`decide_settlement`]; on `Applied` the reservation's own
/// cycle's usage is updated with [`Usage::settled`].
///
/// # Errors
///
/// As [`QuotaStore::settle`]; [`QuotaError::Store`] also when no
/// transaction is open on `conn`.
pub fn settle_in(
    conn: &mut AnyConnection,
    id: ReservationId,
    action: Settle,
    now: DateTime<Utc>,
) -> Result<SettleOutcome, QuotaError> {
    require_transaction(conn, "settle_in")?;
    settle_locked(conn, id, action, now).map_err(|e| e.into_quota("settle"))
}

fn require_transaction(conn: &mut AnyConnection, what: &str) -> Result<(), QuotaError> {
    let status =
        <AnyConnection as TransactionManager<AnyConnection>>::transaction_manager_status_mut(conn);
    match status.transaction_depth() {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(QuotaError::Store(StoreError::new(format!(
            "{what} needs a transaction opened by the caller (see write_transaction)"
        )))),
        Err(e) => Err(Fail::from(e).into_quota(what)),
    }
}

// ---------------------------------------------------------------------------
// The steps, run inside a transaction.

fn reserve_locked(conn: &mut AnyConnection, req: &ReserveRequest) -> Result<Reservation, Fail> {
    let user = req.user.as_str();
    let current = to_naive(req.cycle.start());
    let now = to_naive(req.now);
    let cutoff = req.expire_pending_before.map(to_cutoff);
    let id = req.reservation_id.to_string();

    // Lock the current cycle's usage row (creating it when missing); the same
    // statement tells whether the id is taken and whether lazy expiry has
    // anything to do, to keep the common case at few round trips.
    let mut head = lock_current(conn, user, current, &id, cutoff)?;
    if head.is_none() {
        ensure_usage_row(conn, user, current)?;
        head = lock_current(conn, user, current, &id, cutoff)?;
    }
    let Some((mut usage, duplicate, has_expired)) = head else {
        return Err(Fail::corrupt(format!(
            "usage row of {user} for cycle {current} vanished"
        )));
    };

    if let Some(cutoff) = cutoff.filter(|_| has_expired) {
        // Lazy expiry, cycle by cycle: each other cycle's usage row is locked
        // (after the current one) before its reservations change.
        let mut cycles: Vec<NaiveDateTime> = r::table
            .filter(
                r::user_key
                    .eq(user)
                    .and(r::state.eq(PENDING))
                    .and(r::created_at.lt(cutoff)),
            )
            .select(r::cycle_start)
            .distinct()
            .load(conn)?;
        cycles.sort_unstable();
        for cycle in cycles {
            if cycle == current {
                usage = expire_cycle(conn, user, cycle, usage, cutoff, now)?.1;
                continue;
            }
            ensure_usage_row(conn, user, cycle)?;
            let Some(locked) = lock_usage(conn, user, cycle)? else {
                return Err(Fail::corrupt(format!(
                    "usage row of {user} for cycle {cycle} vanished"
                )));
            };
            expire_cycle(conn, user, cycle, locked, cutoff, now)?;
        }
    }

    if duplicate {
        return Err(QuotaError::DuplicateReservation(req.reservation_id).into());
    }
    req.check(usage)?;

    let mut reservation = req.to_reservation();
    reservation.created_at = now.and_utc();
    let inserted = diesel::insert_into(r::table)
        .values((
            r::id.eq(&id),
            r::user_key.eq(user),
            r::units.eq(i64::from(req.units)),
            r::cycle_start.eq(current),
            r::reset_at.eq(to_naive(req.cycle.reset_at())),
            r::created_at.eq(now),
            r::state.eq(PENDING),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => {}
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            // A concurrent insert of the same id won; on PostgreSQL this
            // transaction is aborted now, so it must roll back.
            return Err(Fail::Rollback(QuotaError::DuplicateReservation(
                req.reservation_id,
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let usage = Usage {
        committed: usage.committed,
        reserved: usage.reserved.saturating_add(u64::from(req.units)),
    };
    write_usage(conn, user, current, usage)?;
    Ok(reservation)
}

/// Locks (on PostgreSQL) and reads the usage row of (`user`, `cycle`), with
/// whether reservation `id` exists and whether the user has reservations
/// pending since before `cutoff`; `None` when the usage row is missing.
///
/// Under `FOR UPDATE` the usage columns are the latest committed version;
/// the two flags may be stale by the transaction waited for, which is
/// harmless (a missed duplicate fails on the primary key, a stale expiry
/// flag only costs a query).
fn lock_current(
    conn: &mut AnyConnection,
    user: &str,
    cycle: NaiveDateTime,
    id: &str,
    cutoff: Option<NaiveDateTime>,
) -> Result<Option<(Usage, bool, bool)>, Fail> {
    let duplicate = diesel::dsl::exists(r::table.filter(r::id.eq(id)));
    let expired = diesel::dsl::exists(
        r::table.filter(
            r::user_key
                .eq(user)
                .and(r::state.eq(PENDING))
                .and(r::created_at.lt(cutoff.unwrap_or(NaiveDateTime::MIN_CUTOFF))),
        ),
    );
    let query =
        u::table
            .find((user, cycle))
            .select((u::committed, u::reserved, duplicate, expired));
    let row: Option<(i64, i64, bool, bool)> = match conn {
        AnyConnection::Postgresql(pg) => query.for_update().first(pg).optional()?,
        AnyConnection::Sqlite(sqlite) => query.first(sqlite).optional()?,
    };
    row.map(|(committed, reserved, duplicate, expired)| {
        usage_of((committed, reserved)).map(|usage| (usage, duplicate, expired))
    })
    .transpose()
}

fn settle_locked(
    conn: &mut AnyConnection,
    id: ReservationId,
    action: Settle,
    now: DateTime<Utc>,
) -> Result<SettleOutcome, Fail> {
    let key = id.to_string();
    // One statement locks the usage row of the reservation's cycle and the
    // reservation (in that order, as reserve does) and reads both at their
    // latest committed version.
    let query = u::table
        .inner_join(
            r::table.on(r::user_key
                .eq(u::user_key)
                .and(r::cycle_start.eq(u::cycle_start))),
        )
        .filter(r::id.eq(&key))
        .select((
            u::user_key,
            u::cycle_start,
            u::committed,
            u::reserved,
            r::units,
            r::state,
            r::release_reason,
        ));
    type Row = (String, NaiveDateTime, i64, i64, i64, String, Option<String>);
    let row: Option<Row> = match conn {
        AnyConnection::Postgresql(pg) => query.for_update().first(pg).optional()?,
        AnyConnection::Sqlite(sqlite) => query.first(sqlite).optional()?,
    };
    let Some((user, cycle, committed, reserved, units, state, reason)) = row else {
        // Unknown id (a reservation always has its usage row).
        return Err(QuotaError::ReservationNotFound(id).into());
    };
    let usage = usage_of((committed, reserved))?;
    let current = state_of(&state, reason.as_deref())?;
    let outcome = decide_settlement(id, current, action)?;
    if outcome == SettleOutcome::Applied {
        let (state, reason) = columns_of(action.target_state());
        diesel::update(r::table.find(&key).filter(r::state.eq(PENDING)))
            .set((
                r::state.eq(state),
                r::release_reason.eq(reason),
                r::settled_at.eq(Some(to_naive(now))),
            ))
            .execute(conn)?;
        write_usage(conn, &user, cycle, usage.settled(units_of(units)?, action))?;
    }
    Ok(outcome)
}

/// Releases (as expired) the pending reservations of (`user`, `cycle`)
/// created before `cutoff`; the usage row must be locked and is `usage`.
/// Returns how many were released and the new usage.
fn expire_cycle(
    conn: &mut AnyConnection,
    user: &str,
    cycle: NaiveDateTime,
    usage: Usage,
    cutoff: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(u64, Usage), Fail> {
    let released: Vec<i64> = diesel::update(
        r::table.filter(
            r::user_key
                .eq(user)
                .and(r::cycle_start.eq(cycle))
                .and(r::state.eq(PENDING))
                .and(r::created_at.lt(cutoff)),
        ),
    )
    .set((
        r::state.eq(RELEASED),
        r::release_reason.eq(Some(REASON_EXPIRED)),
        r::settled_at.eq(Some(now)),
    ))
    .returning(r::units)
    .get_results(conn)?;
    if released.is_empty() {
        return Ok((0, usage));
    }
    let mut after = usage;
    for units in &released {
        after = after.settled(units_of(*units)?, Settle::Release(ReleaseReason::Expired));
    }
    write_usage(conn, user, cycle, after)?;
    Ok((released.len() as u64, after))
}

/// Creates the usage row if missing (`INSERT … ON CONFLICT DO NOTHING`, which
/// diesel's MultiConnection cannot express portably, hence one arm per backend).
fn ensure_usage_row(
    conn: &mut AnyConnection,
    user: &str,
    cycle: NaiveDateTime,
) -> Result<(), DieselError> {
    let values = (
        u::user_key.eq(user),
        u::cycle_start.eq(cycle),
        u::committed.eq(0_i64),
        u::reserved.eq(0_i64),
    );
    match conn {
        AnyConnection::Postgresql(pg) => diesel::insert_into(u::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(pg)?,
        AnyConnection::Sqlite(sqlite) => diesel::insert_into(u::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(sqlite)?,
    };
    Ok(())
}

/// Reads the usage row, locking it on PostgreSQL (`FOR UPDATE`); SQLite's
/// `BEGIN IMMEDIATE` already excludes other writers.
fn lock_usage(
    conn: &mut AnyConnection,
    user: &str,
    cycle: NaiveDateTime,
) -> Result<Option<Usage>, Fail> {
    let query = u::table
        .find((user, cycle))
        .select((u::committed, u::reserved));
    let row: Option<(i64, i64)> = match conn {
        AnyConnection::Postgresql(pg) => query.for_update().first(pg).optional()?,
        AnyConnection::Sqlite(sqlite) => query.first(sqlite).optional()?,
    };
    row.map(usage_of).transpose()
}

fn write_usage(
    conn: &mut AnyConnection,
    user: &str,
    cycle: NaiveDateTime,
    usage: Usage,
) -> Result<(), Fail> {
    let committed = i64::try_from(usage.committed)
        .map_err(|_| Fail::corrupt(format!("committed units overflow: {}", usage.committed)))?;
    let reserved = i64::try_from(usage.reserved)
        .map_err(|_| Fail::corrupt(format!("reserved units overflow: {}", usage.reserved)))?;
    diesel::update(u::table.find((user, cycle)))
        .set((u::committed.eq(committed), u::reserved.eq(reserved)))
        .execute(conn)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Rows and conversions.

#[derive(Queryable, Selectable)]
#[diesel(table_name = r)]
struct ReservationRow {
    id: String,
    user_key: String,
    units: i64,
    cycle_start: NaiveDateTime,
    reset_at: NaiveDateTime,
    created_at: NaiveDateTime,
    state: String,
    settled_at: Option<NaiveDateTime>,
    release_reason: Option<String>,
}

impl ReservationRow {
    fn into_reservation(self) -> Result<Reservation, Fail> {
        let id = self
            .id
            .parse::<ReservationId>()
            .map_err(|e| Fail::corrupt(format!("reservation id `{}`: {e}", self.id)))?;
        Ok(Reservation {
            id,
            user: UserKey::new(self.user_key),
            units: units_of(self.units)?,
            cycle_start: self.cycle_start.and_utc(),
            reset_at: self.reset_at.and_utc(),
            created_at: self.created_at.and_utc(),
            state: state_of(&self.state, self.release_reason.as_deref())?,
            settled_at: self.settled_at.map(|t| t.and_utc()),
        })
    }
}

/// UTC as stored: naive, truncated to microseconds.
fn to_naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

fn usage_of((committed, reserved): (i64, i64)) -> Result<Usage, Fail> {
    let committed = u64::try_from(committed)
        .map_err(|_| Fail::corrupt(format!("negative committed units {committed}")))?;
    let reserved = u64::try_from(reserved)
        .map_err(|_| Fail::corrupt(format!("negative reserved units {reserved}")))?;
    Ok(Usage {
        committed,
        reserved,
    })
}

fn units_of(units: i64) -> Result<u32, Fail> {
    u32::try_from(units).map_err(|_| Fail::corrupt(format!("invalid units {units}")))
}

fn state_of(state: &str, reason: Option<&str>) -> Result<ReservationState, Fail> {
    match (state, reason) {
        (PENDING, None) => Ok(ReservationState::Pending),
        (COMMITTED, None) => Ok(ReservationState::Committed),
        (RELEASED, Some(REASON_RELEASED)) => {
            Ok(ReservationState::Released(ReleaseReason::Released))
        }
        (RELEASED, Some(REASON_EXPIRED)) => Ok(ReservationState::Released(ReleaseReason::Expired)),
        _ => Err(Fail::corrupt(format!(
            "invalid reservation state {state:?} / reason {reason:?}"
        ))),
    }
}

fn columns_of(state: ReservationState) -> (&'static str, Option<&'static str>) {
    match state {
        ReservationState::Pending => (PENDING, None),
        ReservationState::Committed => (COMMITTED, None),
        ReservationState::Released(ReleaseReason::Released) => (RELEASED, Some(REASON_RELEASED)),
        ReservationState::Released(ReleaseReason::Expired) => (RELEASED, Some(REASON_EXPIRED)),
    }
}

// ---------------------------------------------------------------------------
// Errors.

/// What a step inside the transaction failed with: a quota decision (passed
/// through), a database error, or rows that break the schema's invariants.
#[derive(Debug)]
enum Fail {
    /// A quota decision or misuse, returned as is.
    Quota(QuotaError),
    /// A database error.
    Db(DieselError),
    /// Stored data that cannot be read back.
    Corrupt(String),
    /// A quota error after a failed statement: the transaction must roll back.
    Rollback(QuotaError),
}

impl Fail {
    fn corrupt(message: String) -> Self {
        Fail::Corrupt(message)
    }

    fn into_quota(self, what: &str) -> QuotaError {
        match self {
            Fail::Quota(e) | Fail::Rollback(e) => e,
            Fail::Db(e) => store_error(what, DbError::from(e)),
            Fail::Corrupt(message) => {
                QuotaError::Store(StoreError::new(format!("{what}: corrupt data: {message}")))
            }
        }
    }
}

impl From<DieselError> for Fail {
    fn from(e: DieselError) -> Self {
        Fail::Db(e)
    }
}

impl From<QuotaError> for Fail {
    fn from(e: QuotaError) -> Self {
        Fail::Quota(e)
    }
}

/// A [`QuotaError::Store`] whose source is the [`DbError`] (so a host can
/// map it with [`DbError::code`], e.g. `DB_003` for a write conflict).
fn store_error(what: &str, e: DbError) -> QuotaError {
    QuotaError::Store(StoreError::with_source(format!("{what} failed: {e}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_columns() {
        for state in [
            ReservationState::Pending,
            ReservationState::Committed,
            ReservationState::Released(ReleaseReason::Released),
            ReservationState::Released(ReleaseReason::Expired),
        ] {
            let (s, reason) = columns_of(state);
            assert_eq!(state_of(s, reason).unwrap(), state);
        }
        assert!(state_of("released", None).is_err());
        assert!(state_of("pending", Some("expired")).is_err());
        assert!(state_of("lost", None).is_err());
    }

    #[test]
    fn timestamps_are_truncated_to_microseconds() {
        let t: DateTime<Utc> = "2026-01-20T10:00:00.123456789Z".parse().unwrap();
        assert_eq!(
            to_naive(t).and_utc(),
            "2026-01-20T10:00:00.123456Z"
                .parse::<DateTime<Utc>>()
                .unwrap()
        );
    }

    #[test]
    fn negative_counts_are_corrupt() {
        assert!(usage_of((-1, 0)).is_err());
        assert!(units_of(-3).is_err());
        assert_eq!(
            usage_of((2, 3)).unwrap(),
            Usage {
                committed: 2,
                reserved: 3
            }
        );
    }
}
