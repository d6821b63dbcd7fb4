//! Videos, batches and idempotency keys: the domain's `VideoRepository`
//! (the API's side) and `VideoRuns` (a worker's side).
//!
//! A submission (batch row, videos, their jobs and quota reservations, the
//! idempotency record) is written in ONE write transaction: any failure —
//! a refused reservation, a constraint, a crash — leaves nothing behind.
//! The start and the end of a run change the job and its video (and settle
//! the reservation, refresh the batch) in one transaction fenced by the
//! job's token. This module writes the `videos`, `batches` and
//! `idempotency_keys` tables; the `jobs` rows and the quota it changes
//! through the jobs and quota modules' `…_in` functions, on its connection.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use ytvc_domain::ids::{BatchId, UserId, VideoId};
use ytvc_domain::jobs::{ClaimedJob, FailOutcome, JobState};
use ytvc_domain::media::Manifest;
use ytvc_domain::repo::RepoError;
use ytvc_domain::validation::{RawVideoRequest, VideoSpec};
use ytvc_domain::videos::{
    Batch, BatchStatus, CancelResult, DailyUsage, ExpiringArtifacts, IdempotencyRecord, Orphan,
    OrphanEnding, RunEnd, RunEnding, StatusCounts, Submission, SubmitError, Video, VideoQuery,
    VideoRepository, VideoRuns, VideoStatus,
};
use ytvc_quota::{QuotaError, ReleaseReason, Settle};

use crate::jobs;
use crate::quota_store::{reserve_in, settle_in};
use crate::schema::{batches, idempotency_keys, videos};
use crate::tx::{IntoTxError, write_transaction};
use crate::{AnyConnection, Database, DbError};

const QUEUED: &str = VideoStatus::Queued.as_str();
const PROCESSING: &str = VideoStatus::Processing.as_str();
const CANCELLED: &str = VideoStatus::Cancelled.as_str();
/// The statuses of a video that has not finished.
const OPEN: [&str; 2] = [QUEUED, PROCESSING];

fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn repo(e: diesel::result::Error) -> RepoError {
    RepoError::from(DbError::from(e))
}

/// The failure of one submission transaction.
#[derive(Debug)]
enum Fail {
    Submit(SubmitError),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for Fail {
    fn from(e: diesel::result::Error) -> Self {
        Fail::Db(e)
    }
}

impl IntoTxError for Fail {
    fn from_diesel(e: diesel::result::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<Fail> for SubmitError {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Submit(s) => s,
            Fail::Db(e) => SubmitError::Repo(repo(e)),
        }
    }
}

/// The row of `videos`, as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = videos)]
struct VideoRow {
    id: String,
    user_id: String,
    batch_id: Option<String>,
    batch_index: Option<i32>,
    status: String,
    prompt: String,
    title: Option<String>,
    duration_seconds: i32,
    style: String,
    aspect_ratio: String,
    voice: String,
    language: String,
    priority: i32,
    reservation_id: Option<String>,
    attempts: i32,
    error_code: Option<String>,
    error_message: Option<String>,
    artifacts: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    started_at: Option<NaiveDateTime>,
    completed_at: Option<NaiveDateTime>,
    artifacts_expired_at: Option<NaiveDateTime>,
}

fn corrupt(what: &str) -> RepoError {
    RepoError::Other(format!("corrupt video row: {what}"))
}

impl TryFrom<VideoRow> for Video {
    type Error = RepoError;

    fn try_from(r: VideoRow) -> Result<Self, RepoError> {
        let batch = match (r.batch_id, r.batch_index) {
            (Some(b), Some(i)) => Some((
                b.parse::<BatchId>().map_err(|_| corrupt("batch_id"))?,
                u32::try_from(i).map_err(|_| corrupt("batch_index"))?,
            )),
            _ => None,
        };
        // Validated at submission: rebuilt without screening the prompt
        // again; a stored spec that no longer parses is a corrupt row.
        let spec = VideoSpec::restore(RawVideoRequest {
            prompt: Some(r.prompt),
            title: r.title,
            duration_seconds: Some(i64::from(r.duration_seconds)),
            style: Some(r.style),
            aspect_ratio: Some(r.aspect_ratio),
            voice: Some(r.voice),
            language: Some(r.language),
        })
        .map_err(|e| corrupt(&format!("spec: {e}")))?;
        Ok(Video {
            id: r.id.parse().map_err(|_| corrupt("id"))?,
            user: r.user_id.parse().map_err(|_| corrupt("user_id"))?,
            batch,
            status: VideoStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
            spec,
            priority: u8::try_from(r.priority).map_err(|_| corrupt("priority"))?,
            reservation: r
                .reservation_id
                .map(|s| s.parse().map_err(|_| corrupt("reservation_id")))
                .transpose()?,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            error_code: r.error_code,
            error_message: r.error_message,
            // Read leniently: a manifest this version cannot read is absent.
            manifest: r
                .artifacts
                .and_then(|a| serde_json::from_str::<Manifest>(&a).ok()),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            started_at: r.started_at.map(utc),
            completed_at: r.completed_at.map(utc),
            artifacts_expired_at: r.artifacts_expired_at.map(utc),
            artifacts_expire_at: None,
        })
    }
}

type BatchRow = (
    String,
    String,
    Option<String>,
    i32,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

const BATCH_COLUMNS: (
    batches::id,
    batches::user_id,
    batches::name,
    batches::total,
    batches::created_at,
    batches::updated_at,
    batches::completed_at,
) = (
    batches::id,
    batches::user_id,
    batches::name,
    batches::total,
    batches::created_at,
    batches::updated_at,
    batches::completed_at,
);

/// The SQL video store.
#[derive(Clone, Debug)]
pub struct SqlVideos {
    db: Database,
}

impl SqlVideos {
    /// Wraps the database.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    fn conn(&self) -> Result<crate::PooledConn, RepoError> {
        self.db.conn().map_err(RepoError::from)
    }

    fn counts(
        conn: &mut AnyConnection,
        batch: &str,
    ) -> Result<StatusCounts, diesel::result::Error> {
        let rows: Vec<(String, i64)> = videos::table
            .filter(videos::batch_id.eq(batch))
            .group_by(videos::status)
            .select((videos::status, diesel::dsl::count_star()))
            .load(conn)?;
        let mut counts = StatusCounts::default();
        for (status, n) in rows {
            if let Some(s) = VideoStatus::parse(&status) {
                counts.add(s, u32::try_from(n).unwrap_or(u32::MAX));
            }
        }
        Ok(counts)
    }

    fn batch_from_row(conn: &mut AnyConnection, row: BatchRow) -> Result<Batch, RepoError> {
        let (id, user_id, name, total, created_at, updated_at, completed_at) = row;
        let counts = Self::counts(conn, &id).map_err(repo)?;
        Ok(Batch {
            id: id.parse().map_err(|_| corrupt("batch id"))?,
            user: user_id.parse().map_err(|_| corrupt("batch user"))?,
            name,
            status: BatchStatus::from_counts(&counts),
            total: u32::try_from(total).map_err(|_| corrupt("total"))?,
            counts,
            created_at: utc(created_at),
            updated_at: utc(updated_at),
            completed_at: completed_at.map(utc),
        })
    }
}

fn insert_video(conn: &mut AnyConnection, v: &Video) -> Result<(), diesel::result::Error> {
    let spec = &v.spec;
    diesel::insert_into(videos::table)
        .values((
            videos::id.eq(v.id.to_string()),
            videos::user_id.eq(v.user.to_string()),
            videos::batch_id.eq(v.batch.map(|(b, _)| b.to_string())),
            videos::batch_index.eq(v.batch.map(|(_, i)| i32::try_from(i).unwrap_or(i32::MAX))),
            videos::status.eq(v.status.as_str()),
            videos::prompt.eq(spec.prompt.as_str()),
            videos::title.eq(spec.title.as_ref().map(|t| t.as_str())),
            videos::duration_seconds
                .eq(i32::try_from(spec.duration_seconds.get()).unwrap_or(i32::MAX)),
            videos::style.eq(spec.style.as_str()),
            videos::aspect_ratio.eq(spec.aspect_ratio.as_str()),
            videos::voice.eq(spec.voice.as_str()),
            videos::language.eq(spec.language.as_str()),
            videos::priority.eq(i32::from(v.priority)),
            videos::reservation_id.eq(v.reservation.map(|r| r.to_string())),
            videos::attempts.eq(0),
            videos::created_at.eq(naive(v.created_at)),
            videos::updated_at.eq(naive(v.updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Releases the reservation of a video that will not run, in the caller's transaction.
fn release_reservation(
    conn: &mut AnyConnection,
    v: &Video,
    now: DateTime<Utc>,
) -> Result<(), RepoError> {
    if let Some(id) = v.reservation {
        match settle_in(conn, id, Settle::Release(ReleaseReason::Released), now) {
            Ok(_) | Err(QuotaError::ReservationNotFound(_)) => {}
            Err(e) => return Err(RepoError::Other(format!("release of {id} failed: {e}"))),
        }
    }
    Ok(())
}

fn load_video(
    conn: &mut AnyConnection,
    user: UserId,
    id: VideoId,
) -> Result<Option<Video>, RepoError> {
    videos::table
        .filter(videos::id.eq(id.to_string()))
        .filter(videos::user_id.eq(user.to_string()))
        .select(VideoRow::as_select())
        .first(conn)
        .optional()
        .map_err(repo)?
        .map(Video::try_from)
        .transpose()
}

/// Cancels one loaded video inside the caller's transaction.
fn cancel_loaded(
    conn: &mut AnyConnection,
    v: Video,
    now: DateTime<Utc>,
) -> Result<CancelResult, RepoError> {
    if v.status.is_final() {
        return Ok(CancelResult::TooLate(v));
    }
    // A job nobody holds is cancelled here: one still waiting for its first
    // run, and one the reaper put back after its worker stopped responding
    // (its video still says processing). One a worker holds is asked to
    // stop instead.
    if !jobs::cancel_waiting_in(conn, v.id, now)? {
        return request_stop(conn, v, now);
    }
    diesel::update(
        videos::table
            .filter(videos::id.eq(v.id.to_string()))
            .filter(videos::status.eq_any(OPEN)),
    )
    .set((
        videos::status.eq(CANCELLED),
        videos::updated_at.eq(naive(now)),
        videos::completed_at.eq(Some(naive(now))),
    ))
    .execute(conn)
    .map_err(repo)?;
    release_reservation(conn, &v, now)?;
    let mut v = v;
    v.status = VideoStatus::Cancelled;
    v.updated_at = now;
    v.completed_at = Some(now);
    Ok(CancelResult::Cancelled(v))
}

fn request_stop(
    conn: &mut AnyConnection,
    v: Video,
    now: DateTime<Utc>,
) -> Result<CancelResult, RepoError> {
    jobs::request_cancel_in(conn, v.id, now)?;
    Ok(CancelResult::Requested(v))
}

fn tx_repo(e: DbError) -> RepoError {
    RepoError::from(e)
}

impl VideoRepository for SqlVideos {
    fn idempotent(
        &self,
        user: UserId,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, RepoError> {
        let mut conn = self.conn()?;
        let row = idempotency_keys::table
            .filter(idempotency_keys::user_id.eq(user.to_string()))
            .filter(idempotency_keys::idem_key.eq(key))
            .filter(idempotency_keys::expires_at.gt(naive(now)))
            .select((
                idempotency_keys::method_path,
                idempotency_keys::request_hash,
                idempotency_keys::response_status,
                idempotency_keys::response_body,
                idempotency_keys::created_at,
                idempotency_keys::expires_at,
            ))
            .first::<(String, String, i32, String, NaiveDateTime, NaiveDateTime)>(&mut *conn)
            .optional()
            .map_err(repo)?;
        Ok(row.map(
            |(scope, request_hash, status, body, created_at, expires_at)| IdempotencyRecord {
                user,
                key: key.to_owned(),
                scope,
                request_hash,
                status: u16::try_from(status).unwrap_or(500),
                body,
                created_at: utc(created_at),
                expires_at: utc(expires_at),
            },
        ))
    }

    fn submit(&self, s: &Submission) -> Result<(), SubmitError> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn: &mut AnyConnection| {
            if let Some(i) = &s.idempotency {
                // Forget an expired answer under the same key first.
                diesel::delete(
                    idempotency_keys::table
                        .filter(idempotency_keys::user_id.eq(i.user.to_string()))
                        .filter(idempotency_keys::idem_key.eq(&i.key))
                        .filter(idempotency_keys::expires_at.le(naive(i.created_at))),
                )
                .execute(conn)?;
                let inserted = diesel::insert_into(idempotency_keys::table)
                    .values((
                        idempotency_keys::user_id.eq(i.user.to_string()),
                        idempotency_keys::idem_key.eq(&i.key),
                        idempotency_keys::method_path.eq(&i.scope),
                        idempotency_keys::request_hash.eq(&i.request_hash),
                        idempotency_keys::response_status.eq(i32::from(i.status)),
                        idempotency_keys::response_body.eq(&i.body),
                        idempotency_keys::created_at.eq(naive(i.created_at)),
                        idempotency_keys::expires_at.eq(naive(i.expires_at)),
                    ))
                    .execute(conn);
                match inserted {
                    Ok(_) => {}
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => {
                        return Err(Fail::Submit(SubmitError::IdempotencyRace));
                    }
                    Err(e) => return Err(Fail::Db(e)),
                }
            }
            if let Some(b) = &s.batch {
                diesel::insert_into(batches::table)
                    .values((
                        batches::id.eq(b.id.to_string()),
                        batches::user_id.eq(b.user.to_string()),
                        batches::name.eq(&b.name),
                        batches::status.eq(b.status.as_str()),
                        batches::total.eq(i32::try_from(b.total).unwrap_or(i32::MAX)),
                        batches::created_at.eq(naive(b.created_at)),
                        batches::updated_at.eq(naive(b.updated_at)),
                    ))
                    .execute(conn)?;
            }
            for nv in &s.videos {
                insert_video(conn, &nv.video)?;
                jobs::enqueue_in(conn, &nv.job)
                    .map_err(|e| Fail::Submit(SubmitError::Repo(e.into())))?;
                reserve_in(conn, &nv.reserve).map_err(|e| Fail::Submit(SubmitError::Quota(e)))?;
            }
            Ok(())
        })
        .map_err(SubmitError::from)
    }

    fn video(&self, user: UserId, id: VideoId) -> Result<Option<Video>, RepoError> {
        let mut conn = self.conn()?;
        load_video(&mut conn, user, id)
    }

    fn videos(&self, user: UserId, q: &VideoQuery) -> Result<Vec<Video>, RepoError> {
        let mut conn = self.conn()?;
        let mut query = videos::table
            .filter(videos::user_id.eq(user.to_string()))
            .into_boxed();
        if let Some(s) = q.status {
            query = query.filter(videos::status.eq(s.as_str()));
        }
        if let Some(b) = q.batch {
            query = query.filter(videos::batch_id.eq(b.to_string()));
        }
        if let Some((t, id)) = &q.before {
            let t = naive(*t);
            query = query.filter(
                videos::created_at
                    .lt(t)
                    .or(videos::created_at.eq(t).and(videos::id.lt(id.clone()))),
            );
        }
        let rows: Vec<VideoRow> = query
            .select(VideoRow::as_select())
            .order((videos::created_at.desc(), videos::id.desc()))
            .limit(i64::from(q.limit.clamp(1, 101)))
            .load(&mut *conn)
            .map_err(repo)?;
        rows.into_iter().map(Video::try_from).collect()
    }

    fn batch(&self, user: UserId, id: BatchId) -> Result<Option<Batch>, RepoError> {
        let mut conn = self.conn()?;
        let row = batches::table
            .filter(batches::id.eq(id.to_string()))
            .filter(batches::user_id.eq(user.to_string()))
            .select(BATCH_COLUMNS)
            .first::<BatchRow>(&mut *conn)
            .optional()
            .map_err(repo)?;
        row.map(|r| Self::batch_from_row(&mut conn, r)).transpose()
    }

    fn batches(
        &self,
        user: UserId,
        before: Option<(DateTime<Utc>, String)>,
        limit: u32,
    ) -> Result<Vec<Batch>, RepoError> {
        let mut conn = self.conn()?;
        let mut query = batches::table
            .filter(batches::user_id.eq(user.to_string()))
            .into_boxed();
        if let Some((t, id)) = before {
            let t = naive(t);
            query = query.filter(
                batches::created_at
                    .lt(t)
                    .or(batches::created_at.eq(t).and(batches::id.lt(id))),
            );
        }
        let rows: Vec<BatchRow> = query
            .order((batches::created_at.desc(), batches::id.desc()))
            .limit(i64::from(limit.clamp(1, 101)))
            .select(BATCH_COLUMNS)
            .load(&mut *conn)
            .map_err(repo)?;
        rows.into_iter()
            .map(|r| Self::batch_from_row(&mut conn, r))
            .collect()
    }

    fn cancel_video(
        &self,
        user: UserId,
        id: VideoId,
        now: DateTime<Utc>,
    ) -> Result<Option<CancelResult>, RepoError> {
        let mut conn = self.conn()?;
        let mut outcome: Option<Result<Option<CancelResult>, RepoError>> = None;
        write_transaction(&mut conn, |conn: &mut AnyConnection| {
            let result = match load_video(conn, user, id) {
                Ok(Some(v)) => cancel_loaded(conn, v, now).map(Some),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            let failed = result.is_err();
            outcome = Some(result);
            if failed {
                Err(DbError::Query("cancel failed".into()))
            } else {
                Ok(())
            }
        })
        .or_else(|e| {
            if outcome.as_ref().is_some_and(Result::is_err) {
                Ok(())
            } else {
                Err(tx_repo(e))
            }
        })?;
        outcome.unwrap_or(Ok(None))
    }

    fn cancel_batch(
        &self,
        user: UserId,
        id: BatchId,
        now: DateTime<Utc>,
    ) -> Result<Option<Batch>, RepoError> {
        let mut conn = self.conn()?;
        let owned = batches::table
            .filter(batches::id.eq(id.to_string()))
            .filter(batches::user_id.eq(user.to_string()))
            .count()
            .get_result::<i64>(&mut *conn)
            .map_err(repo)?;
        if owned == 0 {
            return Ok(None);
        }
        let mut failure: Option<RepoError> = None;
        let res = write_transaction(&mut conn, |conn: &mut AnyConnection| {
            let rows: Vec<VideoRow> = videos::table
                .filter(videos::batch_id.eq(id.to_string()))
                .filter(videos::status.eq_any(OPEN))
                .select(VideoRow::as_select())
                .load(conn)?;
            for row in rows {
                let v = match Video::try_from(row) {
                    Ok(v) => v,
                    Err(e) => {
                        failure = Some(e);
                        return Err(DbError::Query("corrupt row".into()));
                    }
                };
                if let Err(e) = cancel_loaded(conn, v, now) {
                    failure = Some(e);
                    return Err(DbError::Query("cancel failed".into()));
                }
            }
            diesel::update(batches::table.filter(batches::id.eq(id.to_string())))
                .set(batches::updated_at.eq(naive(now)))
                .execute(conn)?;
            Ok(())
        });
        if let Some(e) = failure {
            return Err(e);
        }
        res.map_err(tx_repo)?;
        drop(conn);
        self.batch(user, id)
    }

    fn usage(
        &self,
        user: UserId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DailyUsage>, RepoError> {
        let mut conn = self.conn()?;
        let rows: Vec<(
            String,
            NaiveDateTime,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        )> = videos::table
            .filter(videos::user_id.eq(user.to_string()))
            .filter(videos::created_at.ge(naive(from)))
            .filter(videos::created_at.lt(naive(to)))
            .select((
                videos::status,
                videos::created_at,
                videos::started_at,
                videos::completed_at,
            ))
            .load(&mut *conn)
            .map_err(repo)?;
        Ok(aggregate_usage(rows.into_iter().map(|(s, c, st, done)| {
            (s, utc(c), st.map(utc), done.map(utc))
        })))
    }
}

/// Folds (status, created, started, completed) rows into per-day usage.
fn aggregate_usage(
    rows: impl Iterator<
        Item = (
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        ),
    >,
) -> Vec<DailyUsage> {
    use std::collections::BTreeMap;
    #[derive(Default)]
    struct Acc {
        submitted: u64,
        completed: u64,
        failed: u64,
        cancelled: u64,
        seconds: f64,
        timed: u64,
    }
    let mut days: BTreeMap<String, Acc> = BTreeMap::new();
    for (status, created, started, completed) in rows {
        let acc = days
            .entry(created.format("%Y-%m-%d").to_string())
            .or_default();
        acc.submitted += 1;
        match VideoStatus::parse(&status) {
            Some(VideoStatus::Completed) => {
                acc.completed += 1;
                if let (Some(s), Some(c)) = (started, completed) {
                    acc.seconds += (c - s).num_milliseconds() as f64 / 1000.0;
                    acc.timed += 1;
                }
            }
            Some(VideoStatus::Failed) => acc.failed += 1,
            Some(VideoStatus::Cancelled) => acc.cancelled += 1,
            _ => {}
        }
    }
    days.into_iter()
        .map(|(date, a)| DailyUsage {
            date,
            submitted: a.submitted,
            completed: a.completed,
            failed: a.failed,
            cancelled: a.cancelled,
            average_processing_seconds: (a.timed > 0).then(|| a.seconds / a.timed as f64),
            success_rate: (a.completed + a.failed > 0)
                .then(|| a.completed as f64 / (a.completed + a.failed) as f64),
        })
        .collect()
}

/// The `videos.status` and `batches.status` columns follow the items.
fn refresh_batch(
    conn: &mut AnyConnection,
    batch: &str,
    now: DateTime<Utc>,
) -> Result<(), diesel::result::Error> {
    let counts = SqlVideos::counts(conn, batch)?;
    let status = BatchStatus::from_counts(&counts);
    let finished = matches!(
        status,
        BatchStatus::Completed
            | BatchStatus::PartiallyFailed
            | BatchStatus::Failed
            | BatchStatus::Cancelled
    );
    diesel::update(batches::table.filter(batches::id.eq(batch)))
        .set((
            batches::status.eq(status.as_str()),
            batches::updated_at.eq(naive(now)),
            batches::completed_at.eq(finished.then(|| naive(now))),
        ))
        .execute(conn)?;
    Ok(())
}

/// How a video ends.
enum VideoEnd<'a> {
    /// With its manifest (JSON); the reservation is committed.
    Completed(String),
    /// With the failure's code and message; the reservation is released.
    Failed { code: &'a str, message: &'a str },
    /// The reservation is released.
    Cancelled,
}

impl<'a> From<&'a OrphanEnding> for VideoEnd<'a> {
    fn from(ending: &'a OrphanEnding) -> Self {
        match ending {
            OrphanEnding::Cancelled => VideoEnd::Cancelled,
            OrphanEnding::Failed { code, message } => VideoEnd::Failed { code, message },
        }
    }
}

/// Ends a video in a final state, settles its reservation and refreshes
/// its batch, in the caller's transaction.
fn end_video(
    conn: &mut AnyConnection,
    video_id: &str,
    end: VideoEnd<'_>,
    now: DateTime<Utc>,
) -> Result<(), Fail> {
    let (status, error, artifacts) = match end {
        VideoEnd::Completed(manifest) => (VideoStatus::Completed, None, Some(manifest)),
        VideoEnd::Failed { code, message } => (VideoStatus::Failed, Some((code, message)), None),
        VideoEnd::Cancelled => (VideoStatus::Cancelled, None, None),
    };
    diesel::update(videos::table.filter(videos::id.eq(video_id)))
        .set((
            videos::status.eq(status.as_str()),
            videos::error_code.eq(error.map(|(c, _)| c)),
            videos::error_message.eq(error.map(|(_, m)| m)),
            videos::artifacts.eq(artifacts),
            videos::updated_at.eq(naive(now)),
            videos::completed_at.eq(Some(naive(now))),
        ))
        .execute(conn)?;
    let (reservation, batch): (Option<String>, Option<String>) = videos::table
        .find(video_id)
        .select((videos::reservation_id, videos::batch_id))
        .first(conn)?;
    if let Some(r) = reservation.and_then(|r| r.parse().ok()) {
        let action = if status == VideoStatus::Completed {
            Settle::Commit
        } else {
            Settle::Release(ReleaseReason::Released)
        };
        match settle_in(conn, r, action, now) {
            Ok(_) | Err(QuotaError::ReservationNotFound(_)) => {}
            Err(e) => return Err(Fail::Submit(SubmitError::Quota(e))),
        }
    }
    if let Some(b) = batch {
        refresh_batch(conn, &b, now)?;
    }
    Ok(())
}

impl VideoRuns for SqlVideos {
    fn start_run(&self, job: &ClaimedJob, now: DateTime<Utc>) -> Result<Option<Video>, RepoError> {
        let mut conn = self.conn()?;
        let video = job.video_id.to_string();
        let result: Result<Option<VideoRow>, Fail> =
            write_transaction(&mut conn, |conn: &mut AnyConnection| {
                if !jobs::holds_in(conn, job.id, job.fencing_token).map_err(Fail::from_db)? {
                    return Ok(None);
                }
                let changed = diesel::update(
                    videos::table
                        .filter(videos::id.eq(&video))
                        .filter(videos::status.eq_any(OPEN)),
                )
                .set((
                    videos::status.eq(PROCESSING),
                    videos::attempts.eq(i32::try_from(job.attempts).unwrap_or(i32::MAX)),
                    videos::updated_at.eq(naive(now)),
                ))
                .execute(conn)?;
                if changed == 0 {
                    return Ok(None);
                }
                diesel::update(
                    videos::table
                        .filter(videos::id.eq(&video))
                        .filter(videos::started_at.is_null()),
                )
                .set(videos::started_at.eq(Some(naive(now))))
                .execute(conn)?;
                let row: VideoRow = videos::table
                    .find(&video)
                    .select(VideoRow::as_select())
                    .first(conn)?;
                if let Some(b) = &row.batch_id {
                    refresh_batch(conn, b, now)?;
                }
                Ok(Some(row))
            });
        match result {
            Ok(Some(row)) => Video::try_from(row).map(Some),
            Ok(None) => Ok(None),
            Err(f) => Err(SubmitError::from(f).into_repo()),
        }
    }

    fn finish_run(
        &self,
        job: &ClaimedJob,
        ending: &RunEnding,
        now: DateTime<Utc>,
    ) -> Result<Option<RunEnd>, RepoError> {
        let mut conn = self.conn()?;
        let (id, token) = (job.id, job.fencing_token);
        let video = job.video_id.to_string();
        let result: Result<Option<RunEnd>, Fail> =
            write_transaction(&mut conn, |conn: &mut AnyConnection| {
                let (code, message, retry_at) = match ending {
                    RunEnding::Completed { manifest } => {
                        let manifest = serde_json::to_string(manifest).map_err(|e| {
                            Fail::Submit(SubmitError::Repo(RepoError::Other(format!(
                                "manifest of {video} not serializable: {e}"
                            ))))
                        })?;
                        if !jobs::finish_in(conn, id, token, JobState::Completed, now)
                            .map_err(Fail::from_db)?
                        {
                            return Ok(None);
                        }
                        end_video(conn, &video, VideoEnd::Completed(manifest), now)?;
                        return Ok(Some(RunEnd::Completed));
                    }
                    RunEnding::Cancelled => {
                        if !jobs::finish_in(conn, id, token, JobState::Cancelled, now)
                            .map_err(Fail::from_db)?
                        {
                            return Ok(None);
                        }
                        end_video(conn, &video, VideoEnd::Cancelled, now)?;
                        return Ok(Some(RunEnd::Cancelled));
                    }
                    RunEnding::Retry {
                        code,
                        message,
                        run_at,
                    } => (code, message, Some(*run_at)),
                    RunEnding::Failed { code, message } => (code, message, None),
                };
                let Some(fail) =
                    jobs::fail_in(conn, id, token, code, retry_at, now).map_err(Fail::from_db)?
                else {
                    return Ok(None);
                };
                Ok(Some(match fail {
                    FailOutcome::Retry { .. } => {
                        diesel::update(videos::table.filter(videos::id.eq(&video)))
                            .set((
                                videos::status.eq(QUEUED),
                                videos::error_code.eq(Some(code.as_str())),
                                videos::error_message.eq(Some(message.as_str())),
                                videos::updated_at.eq(naive(now)),
                            ))
                            .execute(conn)?;
                        RunEnd::Retrying
                    }
                    FailOutcome::Failed => {
                        end_video(conn, &video, VideoEnd::Failed { code, message }, now)?;
                        RunEnd::Failed
                    }
                    FailOutcome::Cancelled => {
                        end_video(conn, &video, VideoEnd::Cancelled, now)?;
                        RunEnd::Cancelled
                    }
                }))
            });
        result.map_err(|f| SubmitError::from(f).into_repo())
    }

    fn orphans(&self, limit: u32) -> Result<Vec<Orphan>, RepoError> {
        let mut conn = self.conn()?;
        Ok(jobs::orphans_in(&mut conn, limit)?)
    }

    fn end_orphan(
        &self,
        video: VideoId,
        ending: &OrphanEnding,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        let video = video.to_string();
        let result: Result<bool, Fail> =
            write_transaction(&mut conn, |conn: &mut AnyConnection| {
                let still_open = videos::table
                    .filter(videos::id.eq(&video))
                    .filter(videos::status.eq_any(OPEN))
                    .count()
                    .get_result::<i64>(conn)?
                    > 0;
                if !still_open {
                    return Ok(false);
                }
                end_video(conn, &video, ending.into(), now)?;
                Ok(true)
            });
        result.map_err(|f| SubmitError::from(f).into_repo())
    }
}

impl Fail {
    fn from_db(e: DbError) -> Self {
        Fail::Submit(SubmitError::Repo(RepoError::from(e)))
    }
}

trait IntoRepo {
    fn into_repo(self) -> RepoError;
}

impl IntoRepo for SubmitError {
    fn into_repo(self) -> RepoError {
        match self {
            SubmitError::Repo(r) => r,
            other => RepoError::Other(other.to_string()),
        }
    }
}

impl ExpiringArtifacts for SqlVideos {
    fn due_for_expiry(
        &self,
        completed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<VideoId>, RepoError> {
        let mut conn = self.conn()?;
        let ids: Vec<String> = videos::table
            .filter(videos::status.eq(VideoStatus::Completed.as_str()))
            .filter(videos::artifacts_expired_at.is_null())
            .filter(videos::completed_at.lt(naive(completed_before)))
            .order((videos::completed_at.asc(), videos::id.asc()))
            .limit(i64::from(limit))
            .select(videos::id)
            .load(&mut conn)
            .map_err(repo)?;
        ids.iter()
            .map(|id| id.parse().map_err(|_| corrupt("id")))
            .collect()
    }

    fn mark_artifacts_expired(&self, video: VideoId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        let changed = diesel::update(
            videos::table
                .filter(videos::id.eq(video.to_string()))
                .filter(videos::status.eq(VideoStatus::Completed.as_str()))
                .filter(videos::artifacts_expired_at.is_null()),
        )
        .set(videos::artifacts_expired_at.eq(Some(naive(at))))
        .execute(&mut conn)
        .map_err(repo)?;
        Ok(changed > 0)
    }
}
