//! The job queue of `ytvc-domain` ([`JobQueue`]) in the database, on SQLite
//! and PostgreSQL, and the in-transaction functions that write the `jobs`
//! table for the video store (enqueue with the submission, start and finish
//! a run with its video).
//!
//! # Claiming
//!
//! - **PostgreSQL**: one statement,
//!   `WITH picked AS MATERIALIZED (SELECT id FROM jobs WHERE state =
//!   'available' AND run_at <= $now ORDER BY priority, run_at, id LIMIT $n
//!   FOR UPDATE SKIP LOCKED) UPDATE jobs SET state = 'running', … FROM picked
//!   WHERE jobs.id = picked.id RETURNING …`, in autocommit: the state
//!   changes in the statement that locks the rows, concurrent claimers skip
//!   each other's rows instead of waiting. (The CTE, not `WHERE id IN
//!   (SELECT …)`: see `CLAIM_PG` for the planner trap that claims every job.)
//! - **SQLite**: the same `UPDATE … RETURNING` (without the locking clause)
//!   under `BEGIN IMMEDIATE`: one writer at a time, the others wait up to
//!   the connection's `busy_timeout`.
//!
//! Both use the partial index `jobs_claim_idx (priority, run_at, id) WHERE
//! state = 'available'`. The claim commits at once; the job runs outside any
//! transaction.
//!
//! # Fencing
//!
//! Every claim increments `fencing_token`; every worker write (the
//! heartbeat, and the end of a run: [`finish_in`], [`fail_in`]) is an
//! `UPDATE … WHERE id = ? AND fencing_token = ? AND state = 'running'` that
//! is refused ([`JobError::LeaseLost`], or `false` / `None`) when it matched
//! no row. A lease that expired but was not reaped yet can still be renewed
//! or finished by its holder (no one else has the job); once the reaper
//! moved the job on, the old token is dead for good.
//!
//! Timestamps are UTC `TIMESTAMP`, truncated to microseconds (PostgreSQL's
//! precision), always computed in Rust from the caller's `now` (never the
//! database clock), so a manual clock drives every rule.

use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeDelta, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use ytvc_domain::ids::VideoId;
pub use ytvc_domain::jobs::LEASE_EXPIRED;
use ytvc_domain::jobs::{
    ClaimedJob, FailOutcome, Heartbeat, JobCounts, JobError, JobId, JobQueue, JobRecord, JobState,
    NewJob, ReapOutcome,
};
use ytvc_domain::repo::RepoError;
use ytvc_domain::videos::{Orphan, VideoStatus};

use crate::schema::{jobs as j, videos};
use crate::tx::write_transaction;
use crate::{AnyConnection, Database, DbError};

const AVAILABLE: &str = JobState::Available.as_str();
const RUNNING: &str = JobState::Running.as_str();
const FAILED: &str = JobState::Failed.as_str();
const CANCELLED: &str = JobState::Cancelled.as_str();

/// The SQL [`JobQueue`] over a [`Database`] pool.
///
/// Each method checks a connection out of the pool and runs one short
/// statement or transaction. Jobs are enqueued inside the submission's
/// transaction ([`enqueue_in`]); a run is started and finished with its
/// video by the video store ([`SqlVideos`](crate::SqlVideos), through
/// [`holds_in`], [`finish_in`] and [`fail_in`]).
#[derive(Clone, Debug)]
pub struct SqlJobQueue {
    db: Database,
}

impl SqlJobQueue {
    /// A queue over `db` (migrated).
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The database it uses.
    #[must_use]
    pub fn database(&self) -> &Database {
        &self.db
    }

    fn conn(&self) -> Result<crate::PooledConn, JobError> {
        self.db.conn().map_err(job_err)
    }
}

/// Inserts `job` (state `available`) on `conn`, inside the caller's
/// transaction if one is open — so the server creates the video, its
/// quota reservation and its job atomically:
///
/// ```no_run
/// # use ytvc_persistence::{Database, DbError, jobs::enqueue_in, tx::write_transaction};
/// # use ytvc_domain::jobs::NewJob;
/// # fn f(db: &Database, job: &NewJob) -> Result<(), DbError> {
/// let mut conn = db.conn()?;
/// write_transaction(&mut conn, |conn| {
///     // insert the video row, reserve the quota (reserve_in), then:
///     enqueue_in(conn, job)
/// })?;
/// # Ok(()) }
/// ```
///
/// `created_at` and the ageing clock start at `job.run_at`: a delayed job
/// does not age before it may run.
///
/// # Errors
/// [`DbError::Duplicate`] when the video already has a job or the id is
/// taken; [`DbError::Constraint`] when the video does not exist; other
/// database errors. On PostgreSQL a failed statement aborts the caller's
/// transaction: roll back.
pub fn enqueue_in(conn: &mut AnyConnection, job: &NewJob) -> Result<JobId, DbError> {
    let at = naive(job.run_at);
    let priority = i32::from(job.priority.max(1));
    let max_attempts = i32::try_from(job.max_attempts.max(1)).unwrap_or(i32::MAX);
    diesel::insert_into(j::table)
        .values((
            j::id.eq(job.id.to_string()),
            j::video_id.eq(job.video_id.to_string()),
            j::state.eq(AVAILABLE),
            j::priority.eq(priority),
            j::base_priority.eq(priority),
            j::run_at.eq(at),
            j::aged_at.eq(at),
            j::attempts.eq(0),
            j::max_attempts.eq(max_attempts),
            j::fencing_token.eq(0_i64),
            j::cancel_requested.eq(false),
            j::created_at.eq(at),
            j::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(job.id)
}

impl JobQueue for SqlJobQueue {
    fn claim(
        &self,
        worker: &str,
        limit: u32,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Vec<ClaimedJob>, JobError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn()?;
        let until = naive(now + lease);
        let now = naive(now);
        let limit = i64::from(limit);
        let mut rows: Vec<ClaimRow> = match &mut *conn {
            AnyConnection::Postgresql(pg) => diesel::sql_query(CLAIM_PG)
                .bind::<Text, _>(worker)
                .bind::<Timestamp, _>(until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .load(pg)
                .map_err(db_err)?,
            AnyConnection::Sqlite(_) => write(&mut conn, |conn| {
                let AnyConnection::Sqlite(lite) = conn else {
                    unreachable!("matched SQLite above")
                };
                Ok(diesel::sql_query(sqlite_sql(CLAIM_SQLITE))
                    .bind::<Text, _>(worker)
                    .bind::<Timestamp, _>(until)
                    .bind::<Timestamp, _>(now)
                    .bind::<BigInt, _>(limit)
                    .load(lite)?)
            })
            .map_err(job_err)?,
        };
        // RETURNING has no order: hand them out in claim order.
        rows.sort_by(|a, b| (a.priority, a.run_at, &a.id).cmp(&(b.priority, b.run_at, &b.id)));
        rows.into_iter().map(ClaimRow::into_claimed).collect()
    }

    fn heartbeat(
        &self,
        job: JobId,
        token: i64,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Heartbeat, JobError> {
        let mut conn = self.conn()?;
        let until = naive(now + lease);
        let now = naive(now);
        let id = job.to_string();
        let rows: Vec<bool> = write(&mut conn, |conn| {
            Ok(diesel::update(j::table.filter(held(&id, token)))
                .set((
                    j::lease_until.eq(until),
                    j::heartbeat_at.eq(now),
                    j::updated_at.eq(now),
                ))
                .returning(j::cancel_requested)
                .get_results(conn)?)
        })
        .map_err(job_err)?;
        match rows.first() {
            Some(&cancel_requested) => Ok(Heartbeat {
                lease_until: until.and_utc(),
                cancel_requested,
            }),
            None => Err(lost_or_missing(&mut conn, &id)),
        }
    }

    fn reap_expired(&self, now: DateTime<Utc>) -> Result<ReapOutcome, JobError> {
        let mut conn = self.conn()?;
        let at = naive(now);
        write(&mut conn, |conn| {
            let expired = || j::state.eq(RUNNING).and(j::lease_until.lt(at));
            let cleared = || {
                (
                    j::lease_owner.eq(None::<String>),
                    j::lease_until.eq(None::<NaiveDateTime>),
                    j::updated_at.eq(at),
                )
            };
            let cancelled =
                diesel::update(j::table.filter(expired().and(j::cancel_requested.eq(true))))
                    .set((
                        j::state.eq(CANCELLED),
                        j::last_error.eq(LEASE_EXPIRED),
                        j::finished_at.eq(at),
                        cleared(),
                    ))
                    .execute(conn)?;
            let failed = diesel::update(
                j::table.filter(
                    expired()
                        .and(j::cancel_requested.eq(false))
                        .and(j::attempts.ge(j::max_attempts)),
                ),
            )
            .set((
                j::state.eq(FAILED),
                j::last_error.eq(LEASE_EXPIRED),
                j::finished_at.eq(at),
                cleared(),
            ))
            .execute(conn)?;
            let requeued = diesel::update(
                j::table.filter(
                    expired()
                        .and(j::cancel_requested.eq(false))
                        .and(j::attempts.lt(j::max_attempts)),
                ),
            )
            .set((
                j::state.eq(AVAILABLE),
                j::run_at.eq(at),
                j::last_error.eq(LEASE_EXPIRED),
                cleared(),
            ))
            .execute(conn)?;
            Ok(ReapOutcome {
                requeued: requeued as u64,
                failed: failed as u64,
                cancelled: cancelled as u64,
            })
        })
        .map_err(job_err)
    }

    fn age_priorities(&self, now: DateTime<Utc>, interval: TimeDelta) -> Result<u64, JobError> {
        let mut conn = self.conn()?;
        let at = naive(now);
        let due = naive(now - interval.max(TimeDelta::zero()));
        write(&mut conn, |conn| {
            Ok(diesel::update(
                j::table.filter(
                    j::state
                        .eq(AVAILABLE)
                        .and(j::priority.gt(1))
                        .and(j::aged_at.le(due)),
                ),
            )
            .set((
                j::priority.eq(j::priority - 1),
                j::aged_at.eq(at),
                j::updated_at.eq(at),
            ))
            .execute(conn)? as u64)
        })
        .map_err(job_err)
    }

    fn counts(&self) -> Result<JobCounts, JobError> {
        let mut conn = self.conn()?;
        let rows: Vec<(String, i64)> = j::table
            .group_by(j::state)
            .select((j::state, count_star()))
            .load(&mut *conn)
            .map_err(db_err)?;
        let mut counts = JobCounts::default();
        for (state, n) in rows {
            let state = JobState::parse(&state)
                .ok_or_else(|| corrupt(format!("unknown job state {state:?}")))?;
            counts.add(state, u64::try_from(n).unwrap_or(0));
        }
        Ok(counts)
    }
}

impl SqlJobQueue {
    /// One job, if it exists: a read-only inspection helper (tests,
    /// diagnostics); the worker never needs it.
    ///
    /// # Errors
    /// Store failures as [`JobError::Repo`].
    pub fn get(&self, job: JobId) -> Result<Option<JobRecord>, JobError> {
        self.record(j::table.filter(j::id.eq(job.to_string())).into_boxed())
    }

    /// The job of a video, if it has one: a read-only inspection helper
    /// (tests, diagnostics).
    ///
    /// # Errors
    /// Store failures as [`JobError::Repo`].
    pub fn find_by_video(&self, video: VideoId) -> Result<Option<JobRecord>, JobError> {
        self.record(
            j::table
                .filter(j::video_id.eq(video.to_string()))
                .into_boxed(),
        )
    }

    /// The first job `query` finds.
    fn record(
        &self,
        query: j::BoxedQuery<'static, <AnyConnection as Connection>::Backend>,
    ) -> Result<Option<JobRecord>, JobError> {
        let mut conn = self.conn()?;
        query
            .select(JobRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(db_err)?
            .map(JobRow::into_record)
            .transpose()
    }
}

// ---------------------------------------------------------------------------
// SQL and rows.

/// The claim on PostgreSQL: `$1` worker, `$2` lease end, `$3` now, `$4` limit.
///
/// The locking subquery is a `MATERIALIZED` CTE on purpose: written as
/// `WHERE id IN (SELECT … LIMIT $4 FOR UPDATE SKIP LOCKED)` the planner may
/// choose a nested-loop semi-join that re-runs the subquery for every outer
/// row, and then each re-run (seeing the rows this statement already
/// updated as locked) picks the next job — one statement claiming every
/// available job whatever the limit. The CTE runs exactly once.
const CLAIM_PG: &str = "\
WITH picked AS MATERIALIZED ( \
    SELECT id FROM jobs WHERE state = 'available' AND run_at <= $3 \
    ORDER BY priority, run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
UPDATE jobs SET state = 'running', attempts = attempts + 1, \
    fencing_token = fencing_token + 1, lease_owner = $1, lease_until = $2, \
    heartbeat_at = $3, updated_at = $3, started_at = COALESCE(started_at, $3) \
FROM picked WHERE jobs.id = picked.id \
RETURNING jobs.id, jobs.video_id, jobs.priority, jobs.run_at, jobs.attempts, \
    jobs.max_attempts, jobs.fencing_token, jobs.lease_until";

/// The claim on SQLite (under `BEGIN IMMEDIATE`), same parameters. SQLite
/// evaluates an uncorrelated `IN (SELECT …)` once, into a temporary table.
const CLAIM_SQLITE: &str = "\
UPDATE jobs SET state = 'running', attempts = attempts + 1, \
    fencing_token = fencing_token + 1, lease_owner = $1, lease_until = $2, \
    heartbeat_at = $3, updated_at = $3, started_at = COALESCE(started_at, $3) \
WHERE state = 'available' AND id IN ( \
    SELECT id FROM jobs WHERE state = 'available' AND run_at <= $3 \
    ORDER BY priority, run_at, id LIMIT $4) \
RETURNING id, video_id, priority, run_at, attempts, max_attempts, fencing_token, lease_until";

/// SQLite spells numbered parameters `?N` (PostgreSQL `$N`); the statements
/// contain no other `$`.
fn sqlite_sql(pg: &str) -> String {
    pg.replace('$', "?")
}

/// The `RETURNING` row of a claim (column types from the schema).
#[derive(QueryableByName)]
#[diesel(table_name = j)]
struct ClaimRow {
    id: String,
    video_id: String,
    priority: i32,
    run_at: NaiveDateTime,
    attempts: i32,
    max_attempts: i32,
    fencing_token: i64,
    // Set by the claim (the column is nullable).
    #[diesel(sql_type = Timestamp)]
    lease_until: NaiveDateTime,
}

impl ClaimRow {
    fn into_claimed(self) -> Result<ClaimedJob, JobError> {
        Ok(ClaimedJob {
            id: parse_id(&self.id)?,
            video_id: parse_video(&self.video_id)?,
            priority: priority_of(self.priority)?,
            attempts: count_of(self.attempts, "attempts")?,
            max_attempts: count_of(self.max_attempts, "max_attempts")?,
            fencing_token: self.fencing_token,
            lease_until: self.lease_until.and_utc(),
        })
    }
}

/// A whole job, as [`JobRecord`] shows it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = j)]
struct JobRow {
    id: String,
    video_id: String,
    state: String,
    priority: i32,
    base_priority: i32,
    run_at: NaiveDateTime,
    aged_at: NaiveDateTime,
    attempts: i32,
    max_attempts: i32,
    fencing_token: i64,
    lease_owner: Option<String>,
    lease_until: Option<NaiveDateTime>,
    cancel_requested: bool,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    finished_at: Option<NaiveDateTime>,
}

impl JobRow {
    fn into_record(self) -> Result<JobRecord, JobError> {
        Ok(JobRecord {
            id: parse_id(&self.id)?,
            video_id: parse_video(&self.video_id)?,
            state: JobState::parse(&self.state)
                .ok_or_else(|| corrupt(format!("unknown job state {:?}", self.state)))?,
            priority: priority_of(self.priority)?,
            base_priority: priority_of(self.base_priority)?,
            run_at: self.run_at.and_utc(),
            aged_at: self.aged_at.and_utc(),
            attempts: count_of(self.attempts, "attempts")?,
            max_attempts: count_of(self.max_attempts, "max_attempts")?,
            fencing_token: self.fencing_token,
            lease_owner: self.lease_owner,
            lease_until: self.lease_until.map(|t| t.and_utc()),
            cancel_requested: self.cancel_requested,
            last_error: self.last_error,
            created_at: self.created_at.and_utc(),
            finished_at: self.finished_at.map(|t| t.and_utc()),
        })
    }
}

// ---------------------------------------------------------------------------
// Helpers.

/// The guard of every worker write.
#[allow(clippy::type_complexity)]
fn held(
    id: &str,
    token: i64,
) -> diesel::dsl::And<
    diesel::dsl::And<diesel::dsl::Eq<j::id, &str>, diesel::dsl::Eq<j::fencing_token, i64>>,
    diesel::dsl::Eq<j::state, &'static str>,
> {
    j::id
        .eq(id)
        .and(j::fencing_token.eq(token))
        .and(j::state.eq(RUNNING))
}

/// Records a failed attempt of a held job inside the caller's transaction,
/// as the caller decided it: back to `available` at `retry_at` (claimable
/// from then), or `failed` when `retry_at` is `None` — except that a job
/// whose cancel was requested while it ran ends `cancelled` either way (the
/// owner's cancel wins). `last_error` is `error_code` in every case. `None`
/// when the lease is lost (the guarded write matched nothing).
///
/// # Errors
/// Database errors.
pub fn fail_in(
    conn: &mut AnyConnection,
    id: JobId,
    token: i64,
    error_code: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<FailOutcome>, DbError> {
    let at = naive(now);
    let id = id.to_string();
    // Read under the token; the guarded UPDATE below re-checks it,
    // so a takeover in between (PostgreSQL, no lock) only makes the
    // UPDATE match nothing.
    let Some(cancel) = j::table
        .filter(held(&id, token))
        .select(j::cancel_requested)
        .first::<bool>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let target = j::table.filter(held(&id, token));
    let outcome = match retry_at {
        _ if cancel => FailOutcome::Cancelled,
        Some(run_at) => FailOutcome::Retry {
            run_at: naive(run_at).and_utc(),
        },
        None => FailOutcome::Failed,
    };
    let changed = match outcome {
        FailOutcome::Retry { run_at } => diesel::update(target)
            .set((
                j::state.eq(AVAILABLE),
                j::run_at.eq(naive(run_at)),
                j::lease_owner.eq(None::<String>),
                j::lease_until.eq(None::<NaiveDateTime>),
                j::last_error.eq(error_code),
                j::updated_at.eq(at),
            ))
            .execute(conn)?,
        FailOutcome::Failed | FailOutcome::Cancelled => diesel::update(target)
            .set((
                j::state.eq(if cancel { CANCELLED } else { FAILED }),
                j::lease_owner.eq(None::<String>),
                j::lease_until.eq(None::<NaiveDateTime>),
                j::last_error.eq(error_code),
                j::finished_at.eq(at),
                j::updated_at.eq(at),
            ))
            .execute(conn)?,
    };
    Ok((changed == 1).then_some(outcome))
}

/// Ends a held job `completed` or `cancelled` inside the caller's
/// transaction; `false` when the lease is lost (the guarded write matched
/// nothing).
///
/// # Errors
/// Database errors.
pub fn finish_in(
    conn: &mut AnyConnection,
    id: JobId,
    token: i64,
    state: JobState,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    debug_assert!(state.is_terminal(), "finish_in({state:?})");
    let at = naive(now);
    let id = id.to_string();
    Ok(diesel::update(j::table.filter(held(&id, token)))
        .set((
            j::state.eq(state.as_str()),
            j::lease_owner.eq(None::<String>),
            j::lease_until.eq(None::<NaiveDateTime>),
            j::last_error.eq(None::<String>),
            j::finished_at.eq(at),
            j::updated_at.eq(at),
        ))
        .execute(conn)?
        == 1)
}

/// Whether `token` still holds job `id` (read inside the caller's transaction).
///
/// # Errors
/// Database errors.
pub fn holds_in(conn: &mut AnyConnection, id: JobId, token: i64) -> Result<bool, DbError> {
    Ok(j::table
        .filter(held(&id.to_string(), token))
        .count()
        .get_result::<i64>(conn)?
        == 1)
}

/// Cancels the job of `video` if it is still waiting (`available`: no
/// worker claimed it), inside the caller's transaction — the owner
/// cancelling a queued video. `false` when there was no waiting job (a
/// worker claimed it meanwhile: ask it to stop with [`request_cancel_in`]).
///
/// # Errors
/// Database errors.
pub fn cancel_waiting_in(
    conn: &mut AnyConnection,
    video: VideoId,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let at = naive(now);
    let waiting = j::video_id
        .eq(video.to_string())
        .and(j::state.eq(AVAILABLE));
    Ok(diesel::update(j::table.filter(waiting))
        .set((
            j::state.eq(CANCELLED),
            j::updated_at.eq(at),
            j::finished_at.eq(Some(at)),
        ))
        .execute(conn)?
        == 1)
}

/// Sets `cancel_requested` on the job of `video` if it is `running`,
/// inside the caller's transaction: its worker sees the flag at its next
/// heartbeat, and a failed attempt of it ends cancelled ([`fail_in`], the
/// reaper). `false` when it was not running.
///
/// # Errors
/// Database errors.
pub fn request_cancel_in(
    conn: &mut AnyConnection,
    video: VideoId,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let running = j::video_id.eq(video.to_string()).and(j::state.eq(RUNNING));
    Ok(diesel::update(j::table.filter(running))
        .set((j::cancel_requested.eq(true), j::updated_at.eq(naive(now))))
        .execute(conn)?
        == 1)
}

/// Up to `limit` open videos (queued or processing) whose job ended
/// `failed` or `cancelled` without them — the reaper's doing — with the
/// job's state and last error.
///
/// # Errors
/// Database errors; [`DbError::Query`] for a row that cannot be read.
pub fn orphans_in(conn: &mut AnyConnection, limit: u32) -> Result<Vec<Orphan>, DbError> {
    const OPEN: [&str; 2] = [
        VideoStatus::Queued.as_str(),
        VideoStatus::Processing.as_str(),
    ];
    let open = videos::table
        .filter(videos::status.eq_any(OPEN))
        .select(videos::id);
    let ended: Vec<(String, String, Option<String>)> = j::table
        .filter(j::state.eq_any([FAILED, CANCELLED]))
        .filter(j::video_id.eq_any(open))
        .select((j::video_id, j::state, j::last_error))
        .limit(i64::from(limit))
        .load(conn)?;
    let corrupt = |what: String| DbError::Query(format!("corrupt job row: {what}"));
    ended
        .into_iter()
        .map(|(video, state, last_error)| {
            Ok(Orphan {
                video: video
                    .parse()
                    .map_err(|_| corrupt(format!("video id {video:?}")))?,
                job_state: JobState::parse(&state)
                    .ok_or_else(|| corrupt(format!("state {state:?}")))?,
                last_error,
            })
        })
        .collect()
}

/// Runs a write: under `BEGIN IMMEDIATE` on SQLite (a deferred write could
/// fail with a stale snapshot instead of waiting), directly on PostgreSQL
/// (single guarded statements, or a read whose result the guarded write
/// re-checks).
fn write<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    match conn {
        AnyConnection::Sqlite(_) => write_transaction(conn, f),
        AnyConnection::Postgresql(_) => f(conn),
    }
}

/// After a guarded write matched nothing: `NotFound` if the job does not
/// exist, else `LeaseLost`.
fn lost_or_missing(conn: &mut AnyConnection, id: &str) -> JobError {
    match j::table
        .find(id)
        .select(j::id)
        .first::<String>(conn)
        .optional()
    {
        Ok(Some(_)) => JobError::LeaseLost,
        Ok(None) => JobError::NotFound,
        Err(e) => db_err(e),
    }
}

fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.trunc_subsecs(6).naive_utc()
}

fn job_err(e: DbError) -> JobError {
    match e {
        DbError::NotFound => JobError::NotFound,
        other => JobError::Repo(RepoError::from(other)),
    }
}

fn db_err(e: diesel::result::Error) -> JobError {
    job_err(DbError::from(e))
}

fn corrupt(message: String) -> JobError {
    JobError::Repo(RepoError::Other(format!("corrupt job row: {message}")))
}

fn parse_id(raw: &str) -> Result<JobId, JobError> {
    raw.parse()
        .map_err(|_| corrupt(format!("job id {raw:?} is not a UUID")))
}

fn parse_video(raw: &str) -> Result<VideoId, JobError> {
    raw.parse()
        .map_err(|_| corrupt(format!("video id {raw:?} is not a UUID")))
}

fn priority_of(raw: i32) -> Result<u8, JobError> {
    u8::try_from(raw).map_err(|_| corrupt(format!("priority {raw}")))
}

fn count_of(raw: i32, what: &str) -> Result<u32, JobError> {
    u32::try_from(raw).map_err(|_| corrupt(format!("{what} {raw}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_placeholders() {
        assert_eq!(
            sqlite_sql("a = $1 AND b = $12"),
            "a = ?1 AND b = ?12".to_owned()
        );
        assert!(!CLAIM_SQLITE.contains("FOR UPDATE"));
        assert!(CLAIM_PG.contains("FOR UPDATE SKIP LOCKED"));
    }
}
