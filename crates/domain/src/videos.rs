//! Videos and batches: entities, the storage port, and the submission rules
//! (validation → quota reservation → one transaction with the jobs).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use ytvc_error_codes::ErrorCode;
use ytvc_quota::{Plan, QuotaError, ReservationId, ReserveRequest, UserKey, cycle_for};

use crate::accounts::User;
use crate::ids::{BatchId, UserId, VideoId};
use crate::jobs::{NewJob, RetryPolicy};
use crate::repo::RepoError;
use crate::validation::{RawVideoRequest, ValidationError, VideoSpec};

/// Where a video is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoStatus {
    /// Accepted, waiting for a worker.
    Queued,
    /// A worker is producing it.
    Processing,
    /// Done; artifacts are available.
    Completed,
    /// Gave up; `error_code` says why.
    Failed,
    /// Cancelled by its owner.
    Cancelled,
}

impl VideoStatus {
    /// Every status.
    pub const ALL: [VideoStatus; 5] = [
        VideoStatus::Queued,
        VideoStatus::Processing,
        VideoStatus::Completed,
        VideoStatus::Failed,
        VideoStatus::Cancelled,
    ];

    /// The stored / API form.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            VideoStatus::Queued => "queued",
            VideoStatus::Processing => "processing",
            VideoStatus::Completed => "completed",
            VideoStatus::Failed => "failed",
            VideoStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored / API form.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the video will not change any more.
    #[must_use]
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            VideoStatus::Completed | VideoStatus::Failed | VideoStatus::Cancelled
        )
    }
}

/// Where a batch is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// No item started yet.
    Queued,
    /// Some items started, not all finished.
    Processing,
    /// Every item completed.
    Completed,
    /// Finished; some items completed, some failed or were cancelled.
    PartiallyFailed,
    /// Finished; no item completed, at least one failed.
    Failed,
    /// Finished; every item was cancelled.
    Cancelled,
}

impl BatchStatus {
    /// The stored / API form.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Queued => "queued",
            BatchStatus::Processing => "processing",
            BatchStatus::Completed => "completed",
            BatchStatus::PartiallyFailed => "partially_failed",
            BatchStatus::Failed => "failed",
            BatchStatus::Cancelled => "cancelled",
        }
    }

    /// The status that the item counts imply.
    #[must_use]
    pub fn from_counts(c: &StatusCounts) -> Self {
        let finished = c.completed + c.failed + c.cancelled;
        if finished < c.total() {
            if c.processing == 0 && finished == 0 {
                BatchStatus::Queued
            } else {
                BatchStatus::Processing
            }
        } else if c.completed == c.total() {
            BatchStatus::Completed
        } else if c.completed > 0 {
            BatchStatus::PartiallyFailed
        } else if c.failed > 0 {
            BatchStatus::Failed
        } else {
            BatchStatus::Cancelled
        }
    }
}

/// Items of a batch per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    /// Waiting.
    pub queued: u32,
    /// Running.
    pub processing: u32,
    /// Done.
    pub completed: u32,
    /// Failed.
    pub failed: u32,
    /// Cancelled.
    pub cancelled: u32,
}

impl StatusCounts {
    /// All items.
    #[must_use]
    pub const fn total(&self) -> u32 {
        self.queued + self.processing + self.completed + self.failed + self.cancelled
    }

    /// Adds `n` items of `status`.
    pub fn add(&mut self, status: VideoStatus, n: u32) {
        match status {
            VideoStatus::Queued => self.queued += n,
            VideoStatus::Processing => self.processing += n,
            VideoStatus::Completed => self.completed += n,
            VideoStatus::Failed => self.failed += n,
            VideoStatus::Cancelled => self.cancelled += n,
        }
    }
}

/// A video request as stored (validated once, at submission).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoParams {
    /// The screened prompt.
    pub prompt: String,
    /// Optional title.
    pub title: Option<String>,
    /// Target length.
    pub duration_seconds: u32,
    /// Visual style.
    pub style: String,
    /// `16:9`, `9:16` or `1:1`.
    pub aspect_ratio: String,
    /// Narration voice.
    pub voice: String,
    /// Narration language.
    pub language: String,
}

impl From<&VideoSpec> for VideoParams {
    fn from(s: &VideoSpec) -> Self {
        Self {
            prompt: s.prompt.as_str().to_owned(),
            title: s.title.as_ref().map(|t| t.as_str().to_owned()),
            duration_seconds: s.duration_seconds.get(),
            style: s.style.as_str().to_owned(),
            aspect_ratio: s.aspect_ratio.as_str().to_owned(),
            voice: s.voice.as_str().to_owned(),
            language: s.language.as_str().to_owned(),
        }
    }
}

/// A video and its progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Video {
    /// Id.
    pub id: VideoId,
    /// Owner.
    pub user: UserId,
    /// The batch it belongs to, with its position.
    pub batch: Option<(BatchId, u32)>,
    /// Status.
    pub status: VideoStatus,
    /// What was asked for.
    pub params: VideoParams,
    /// Queue priority at submit time (1 = first).
    pub priority: u8,
    /// Its quota reservation.
    pub reservation: Option<ReservationId>,
    /// Runs so far.
    pub attempts: u32,
    /// The catalog code of a failure.
    pub error_code: Option<String>,
    /// A client-safe failure message.
    pub error_message: Option<String>,
    /// The artifact manifest, once completed.
    pub artifacts: Option<serde_json::Value>,
    /// Accepted at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// First started at.
    pub started_at: Option<DateTime<Utc>>,
    /// Finished at.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A batch and its progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Id.
    pub id: BatchId,
    /// Owner.
    pub user: UserId,
    /// Optional name.
    pub name: Option<String>,
    /// Status (derived from the items).
    pub status: BatchStatus,
    /// Number of items.
    pub total: u32,
    /// Items per status.
    pub counts: StatusCounts,
    /// Accepted at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Finished at.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A stored answer to an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Owner.
    pub user: UserId,
    /// The client's key.
    pub key: String,
    /// `POST /v1/videos` or `POST /v1/batches`.
    pub scope: String,
    /// SHA-256 of the canonical request body.
    pub request_hash: String,
    /// The original status.
    pub status: u16,
    /// The original body.
    pub body: String,
    /// When the original request was answered.
    pub created_at: DateTime<Utc>,
    /// Forgotten after (at least 24 h).
    pub expires_at: DateTime<Utc>,
}

/// One video of a submission, with its job and reservation.
#[derive(Debug, Clone)]
pub struct NewVideo {
    /// The row to insert.
    pub video: Video,
    /// Its job.
    pub job: NewJob,
    /// Its one-unit reservation.
    pub reserve: ReserveRequest,
}

/// Everything one submission writes, in ONE transaction: the batch (if any),
/// every video, its job and its reservation, and the idempotency record.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The batch row, for `POST /v1/batches`.
    pub batch: Option<Batch>,
    /// The videos.
    pub videos: Vec<NewVideo>,
    /// The answer to store under the request's `Idempotency-Key`.
    pub idempotency: Option<IdempotencyRecord>,
}

/// What an earlier request with the same `Idempotency-Key` left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Same body: answer with the stored response.
    Same {
        /// Status.
        status: u16,
        /// Body.
        body: String,
    },
    /// Another body (or endpoint) under the same key: VAL_010.
    Conflict,
}

/// Filters of `GET /v1/videos`.
#[derive(Debug, Clone, Default)]
pub struct VideoQuery {
    /// Only this status.
    pub status: Option<VideoStatus>,
    /// Only this batch.
    pub batch: Option<BatchId>,
    /// Only videos older than this (created_at, id) position.
    pub before: Option<(DateTime<Utc>, String)>,
    /// Page size.
    pub limit: u32,
}

/// What cancelling did.
#[derive(Debug, Clone, PartialEq)]
pub enum CancelResult {
    /// Cancelled now (it had not started); its reservation is released.
    Cancelled(Video),
    /// Running: its worker stops at the next step.
    Requested(Video),
    /// Already finished: VIDEO_003.
    TooLate(Video),
}

/// Per-day usage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyUsage {
    /// The UTC day (`YYYY-MM-DD`).
    pub date: String,
    /// Videos submitted that day.
    pub submitted: u64,
    /// Of those, completed.
    pub completed: u64,
    /// Of those, failed.
    pub failed: u64,
    /// Of those, cancelled.
    pub cancelled: u64,
    /// Mean seconds from start to completion of the completed ones.
    pub average_processing_seconds: Option<f64>,
    /// completed / (completed + failed), when any finished.
    pub success_rate: Option<f64>,
}

/// Why a submission failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The quota refused it.
    #[error(transparent)]
    Quota(#[from] QuotaError),
    /// A concurrent request with the same `Idempotency-Key` won.
    #[error("idempotency key used concurrently")]
    IdempotencyRace,
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Storage of videos and batches.
pub trait VideoRepository: Send + Sync {
    /// The stored answer for (`user`, `key`) if it has not expired.
    ///
    /// # Errors
    /// Storage errors.
    fn idempotent(
        &self,
        user: UserId,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, RepoError>;

    /// Writes a whole submission atomically (see [`Submission`]). Nothing is
    /// left behind when any part fails.
    ///
    /// # Errors
    /// [`SubmitError::Quota`] when a reservation is refused;
    /// [`SubmitError::IdempotencyRace`]; storage errors.
    fn submit(&self, submission: &Submission) -> Result<(), SubmitError>;

    /// One of `user`'s videos.
    ///
    /// # Errors
    /// Storage errors.
    fn video(&self, user: UserId, id: VideoId) -> Result<Option<Video>, RepoError>;

    /// A page of `user`'s videos, newest first.
    ///
    /// # Errors
    /// Storage errors.
    fn videos(&self, user: UserId, query: &VideoQuery) -> Result<Vec<Video>, RepoError>;

    /// One of `user`'s batches with its counts.
    ///
    /// # Errors
    /// Storage errors.
    fn batch(&self, user: UserId, id: BatchId) -> Result<Option<Batch>, RepoError>;

    /// A page of `user`'s batches, newest first.
    ///
    /// # Errors
    /// Storage errors.
    fn batches(
        &self,
        user: UserId,
        before: Option<(DateTime<Utc>, String)>,
        limit: u32,
    ) -> Result<Vec<Batch>, RepoError>;

    /// Cancels one video: queued → cancelled with its job and reservation
    /// released; processing → cancellation requested; final → too late.
    /// `None` when it is not `user`'s.
    ///
    /// # Errors
    /// Storage errors.
    fn cancel_video(
        &self,
        user: UserId,
        id: VideoId,
        now: DateTime<Utc>,
    ) -> Result<Option<CancelResult>, RepoError>;

    /// Cancels every not-yet-started item of a batch (and requests it for
    /// running ones). `None` when it is not `user`'s.
    ///
    /// # Errors
    /// Storage errors.
    fn cancel_batch(
        &self,
        user: UserId,
        id: BatchId,
        now: DateTime<Utc>,
    ) -> Result<Option<Batch>, RepoError>;

    /// Per-day usage of `user` between the two days (inclusive).
    ///
    /// # Errors
    /// Storage errors.
    fn usage(
        &self,
        user: UserId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DailyUsage>, RepoError>;
}

/// How long `Idempotency-Key` answers are kept.
pub const IDEMPOTENCY_TTL: TimeDelta = TimeDelta::hours(24);

/// Why a submission was refused before reaching storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// A field is invalid (for a batch, the error names the item).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The batch has no items (BATCH_001).
    #[error("batch is empty")]
    EmptyBatch,
    /// Larger than the plan allows (QUOTA_002).
    #[error(transparent)]
    Quota(QuotaError),
}

impl PrepareError {
    /// The catalog code.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            PrepareError::Invalid(e) => e.code(),
            PrepareError::EmptyBatch => ErrorCode::BatchEmpty,
            PrepareError::Quota(_) => ErrorCode::BatchTooLarge,
        }
    }
}

/// Builds the submission of one video for `user` on `plan` (not yet stored).
///
/// # Errors
/// The first invalid field.
pub fn prepare_video(
    user: &User,
    plan: &Plan,
    raw: RawVideoRequest,
    now: DateTime<Utc>,
    retry: &RetryPolicy,
) -> Result<Submission, PrepareError> {
    let spec = VideoSpec::parse(raw)?;
    Ok(Submission {
        batch: None,
        videos: vec![new_video(user, plan, &spec, None, now, retry)],
        idempotency: None,
    })
}

/// Builds the submission of a batch: 1..=plan limit items, each validated
/// (errors name the item), the batch row and one video + job + reservation per item.
///
/// # Errors
/// [`PrepareError::EmptyBatch`], [`PrepareError::Quota`] (QUOTA_002) or the
/// first invalid item.
pub fn prepare_batch(
    user: &User,
    plan: &Plan,
    name: Option<String>,
    items: Vec<RawVideoRequest>,
    now: DateTime<Utc>,
    retry: &RetryPolicy,
) -> Result<Submission, PrepareError> {
    if items.is_empty() {
        return Err(PrepareError::EmptyBatch);
    }
    let n = u32::try_from(items.len()).unwrap_or(u32::MAX);
    ytvc_quota::check_batch(n, plan.batch_size_limit).map_err(PrepareError::Quota)?;
    let name = match name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
        Some(n) if n.chars().count() > 200 || n.chars().any(char::is_control) => {
            return Err(ValidationError::malformed("name", "1..=200 printable characters").into());
        }
        other => other,
    };
    let id = BatchId::new();
    let mut videos = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let spec = VideoSpec::parse(raw).map_err(|e| e.with_list_index("videos", i))?;
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        videos.push(new_video(user, plan, &spec, Some((id, index)), now, retry));
    }
    let batch = Batch {
        id,
        user: user.id,
        name,
        status: BatchStatus::Queued,
        total: n,
        counts: StatusCounts {
            queued: n,
            ..StatusCounts::default()
        },
        created_at: now,
        updated_at: now,
        completed_at: None,
    };
    Ok(Submission {
        batch: Some(batch),
        videos,
        idempotency: None,
    })
}

fn new_video(
    user: &User,
    plan: &Plan,
    spec: &VideoSpec,
    batch: Option<(BatchId, u32)>,
    now: DateTime<Utc>,
    retry: &RetryPolicy,
) -> NewVideo {
    let id = VideoId::new();
    let reservation = ReservationId::new();
    let video = Video {
        id,
        user: user.id,
        batch,
        status: VideoStatus::Queued,
        params: VideoParams::from(spec),
        priority: plan.priority,
        reservation: Some(reservation),
        attempts: 0,
        error_code: None,
        error_message: None,
        artifacts: None,
        created_at: now,
        updated_at: now,
        started_at: None,
        completed_at: None,
    };
    let job = NewJob::new(id, plan.priority, now, retry);
    let reserve = ReserveRequest {
        reservation_id: reservation,
        user: UserKey::from(user.id.to_string()),
        cycle: cycle_for(user.billing_anchor_day, now),
        units: 1,
        quota: plan.monthly_quota,
        batch_size_limit: plan.batch_size_limit,
        now,
        expire_pending_before: None,
    };
    NewVideo {
        video,
        job,
        reserve,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_status_follows_the_items() {
        let c = |q, p, d, f, x| StatusCounts {
            queued: q,
            processing: p,
            completed: d,
            failed: f,
            cancelled: x,
        };
        assert_eq!(
            BatchStatus::from_counts(&c(3, 0, 0, 0, 0)),
            BatchStatus::Queued
        );
        assert_eq!(
            BatchStatus::from_counts(&c(2, 1, 0, 0, 0)),
            BatchStatus::Processing
        );
        assert_eq!(
            BatchStatus::from_counts(&c(1, 0, 2, 0, 0)),
            BatchStatus::Processing
        );
        assert_eq!(
            BatchStatus::from_counts(&c(0, 0, 3, 0, 0)),
            BatchStatus::Completed
        );
        assert_eq!(
            BatchStatus::from_counts(&c(0, 0, 2, 1, 0)),
            BatchStatus::PartiallyFailed
        );
        assert_eq!(
            BatchStatus::from_counts(&c(0, 0, 2, 0, 1)),
            BatchStatus::PartiallyFailed
        );
        assert_eq!(
            BatchStatus::from_counts(&c(0, 0, 0, 2, 1)),
            BatchStatus::Failed
        );
        assert_eq!(
            BatchStatus::from_counts(&c(0, 0, 0, 0, 3)),
            BatchStatus::Cancelled
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in VideoStatus::ALL {
            assert_eq!(VideoStatus::parse(s.as_str()), Some(s));
        }
        assert!(VideoStatus::Completed.is_final() && !VideoStatus::Processing.is_final());
    }
}

/// How one run of a video's job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The artifact set is complete; `manifest` is stored on the video.
    Completed {
        /// The manifest (JSON).
        manifest: serde_json::Value,
    },
    /// The owner cancelled it; the partial artifacts are gone.
    Cancelled,
    /// The run failed with a catalog code.
    Failed {
        /// The catalog code (e.g. `LLM_001`).
        code: String,
        /// A client-safe message.
        message: String,
        /// Whether another attempt may succeed.
        retryable: bool,
    },
}

/// What finishing a run did to the video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Completed; its reservation is committed.
    Completed,
    /// Will run again later (backoff).
    Retrying,
    /// Failed for good; its reservation is released.
    Failed,
    /// Cancelled; its reservation is released.
    Cancelled,
}

/// The worker's side of the video store: each call is one transaction that
/// is refused (`Ok(None)`) when the worker's lease (`token`) is no longer the
/// job's, so a worker that lost its lease never overwrites the rerun.
pub trait VideoRuns: Send + Sync {
    /// Marks the video processing for this run and returns it; `None` when
    /// the lease is lost or the video was cancelled meanwhile.
    ///
    /// # Errors
    /// Storage errors.
    fn start_run(
        &self,
        job: &crate::jobs::ClaimedJob,
        now: DateTime<Utc>,
    ) -> Result<Option<Video>, RepoError>;

    /// Records the outcome: the job's state, the video's state, the quota
    /// (commit on completion, release on final failure or cancellation) and
    /// the batch's status, atomically. `None` when the lease is lost.
    ///
    /// # Errors
    /// Storage errors.
    fn finish_run(
        &self,
        job: &crate::jobs::ClaimedJob,
        outcome: &RunOutcome,
        policy: &RetryPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<RunEnd>, RepoError>;

    /// Brings videos in line with jobs the reaper ended (lease expired with
    /// no attempts left → failed; cancel requested → cancelled), settling
    /// their reservations; returns how many were fixed.
    ///
    /// # Errors
    /// Storage errors.
    fn sync_orphans(&self, now: DateTime<Utc>) -> Result<usize, RepoError>;
}
