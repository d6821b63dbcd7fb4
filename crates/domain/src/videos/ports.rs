//! The storage ports of videos: what the API's use cases read and write
//! ([`VideoRepository`]) and what a worker's run writes ([`VideoRuns`]).

use chrono::{DateTime, Utc};

use super::model::{Batch, CancelResult, DailyUsage, Video, VideoQuery};
use super::submission::{IdempotencyRecord, Submission, SubmitError};
use crate::ids::{BatchId, UserId, VideoId};
use crate::jobs::{ClaimedJob, JobState};
use crate::media::Manifest;
use crate::repo::RepoError;

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

/// How a run ends, as the [`JobRunner`](super::JobRunner) decided it: the
/// store writes it in one fenced transaction with the job.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEnding {
    /// The artifact set is complete: job and video completed, the
    /// reservation committed.
    Completed {
        /// The manifest, stored on the video.
        manifest: Box<Manifest>,
    },
    /// The owner cancelled it: job and video cancelled, the reservation
    /// released.
    Cancelled,
    /// Another attempt at `run_at`: the job is `available` again with
    /// `last_error = code`, the video `queued` showing the error so far.
    Retry {
        /// The catalog code of this attempt's failure.
        code: String,
        /// Its client-safe message.
        message: String,
        /// When the next attempt may start.
        run_at: DateTime<Utc>,
    },
    /// Failed for good: job and video failed, the reservation released.
    Failed {
        /// The catalog code.
        code: String,
        /// The client-safe message.
        message: String,
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

/// An open video (queued or processing) whose job the reaper ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    /// The video.
    pub video: VideoId,
    /// Its job's terminal state: `failed` or `cancelled`.
    pub job_state: JobState,
    /// The job's last error code (`lease_expired` when reaped).
    pub last_error: Option<String>,
}

/// How the [`JobRunner`](super::JobRunner) settles an [`Orphan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrphanEnding {
    /// Cancelled; the reservation released.
    Cancelled,
    /// Failed; the reservation released.
    Failed {
        /// The catalog code.
        code: String,
        /// The client-safe message.
        message: String,
    },
}

/// The worker's side of the video store: each call is one transaction that
/// is refused (`Ok(None)`) when the worker's lease (`job.fencing_token`) is
/// no longer the job's, so a worker that lost its lease never overwrites
/// the rerun.
pub trait VideoRuns: Send + Sync {
    /// Marks the video processing for this run and returns it; `None` when
    /// the lease is lost or the video was cancelled meanwhile.
    ///
    /// # Errors
    /// Storage errors.
    fn start_run(&self, job: &ClaimedJob, now: DateTime<Utc>) -> Result<Option<Video>, RepoError>;

    /// Writes `ending`: the job's state, the video's state, the quota
    /// (commit on completion, release on failure or cancellation) and the
    /// batch's status, atomically. A [`RunEnding::Retry`] or
    /// [`RunEnding::Failed`] of a job whose cancel was requested while it
    /// ran ends it cancelled instead (the owner's cancel wins). `None` when
    /// the lease is lost.
    ///
    /// # Errors
    /// Storage errors.
    fn finish_run(
        &self,
        job: &ClaimedJob,
        ending: &RunEnding,
        now: DateTime<Utc>,
    ) -> Result<Option<RunEnd>, RepoError>;

    /// Up to `limit` open videos whose job the reaper ended (lease expired
    /// with no attempts left → `failed`; cancel requested → `cancelled`).
    ///
    /// # Errors
    /// Storage errors.
    fn orphans(&self, limit: u32) -> Result<Vec<Orphan>, RepoError>;

    /// Ends an orphaned video as `ending` and settles its reservation (and
    /// its batch), in one transaction; `false` when it was no longer open.
    ///
    /// # Errors
    /// Storage errors.
    fn end_orphan(
        &self,
        video: VideoId,
        ending: &OrphanEnding,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
}

/// The retention sweep's side of the video store (see
/// [`ArtifactRetention`](super::ArtifactRetention)).
pub trait ExpiringArtifacts: Send + Sync {
    /// Up to `limit` completed videos whose set is not yet marked expired
    /// and that completed before `completed_before`, oldest first.
    ///
    /// # Errors
    /// Storage errors.
    fn due_for_expiry(
        &self,
        completed_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<VideoId>, RepoError>;

    /// Marks the set of `video` expired at `at`; `false` when it was marked
    /// already (or the video is not completed).
    ///
    /// # Errors
    /// Storage errors.
    fn mark_artifacts_expired(&self, video: VideoId, at: DateTime<Utc>) -> Result<bool, RepoError>;
}
