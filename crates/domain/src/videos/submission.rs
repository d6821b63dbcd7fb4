//! What one submission writes, and how it is built from validated requests
//! (validation → one video + job + reservation per item, all for ONE
//! transaction).

use chrono::{DateTime, TimeDelta, Utc};
use ytvc_quota::{Plan, QuotaError, ReservationId, ReserveRequest, UserKey, cycle_for};

use super::error::VideoError;
use super::model::{Batch, BatchStatus, StatusCounts, Video, VideoStatus};
use crate::accounts::User;
use crate::ids::{BatchId, UserId, VideoId};
use crate::jobs::{NewJob, RetryPolicy};
use crate::repo::RepoError;
use crate::validation::{RawVideoRequest, ValidationError, VideoSpec};

/// How long `Idempotency-Key` answers are kept.
pub const IDEMPOTENCY_TTL: TimeDelta = TimeDelta::hours(24);

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
) -> Result<Submission, VideoError> {
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
/// [`VideoError::EmptyBatch`], [`VideoError::Quota`] (QUOTA_002) or the
/// first invalid item.
pub fn prepare_batch(
    user: &User,
    plan: &Plan,
    name: Option<String>,
    items: Vec<RawVideoRequest>,
    now: DateTime<Utc>,
    retry: &RetryPolicy,
) -> Result<Submission, VideoError> {
    if items.is_empty() {
        return Err(VideoError::EmptyBatch);
    }
    let n = u32::try_from(items.len()).unwrap_or(u32::MAX);
    ytvc_quota::check_batch(n, plan.batch_size_limit)
        .map_err(|error| VideoError::Quota { error, at: now })?;
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
        spec: spec.clone(),
        priority: plan.priority,
        reservation: Some(reservation),
        attempts: 0,
        error_code: None,
        error_message: None,
        manifest: None,
        created_at: now,
        updated_at: now,
        started_at: None,
        completed_at: None,
        artifacts_expired_at: None,
        artifacts_expire_at: None,
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
