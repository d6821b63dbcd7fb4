//! [`VideoError`]: everything the video use cases refuse or fail with, and
//! its one mapping to the catalog ([`VideoError::code`]).

use chrono::{DateTime, Utc};
use ytvc_error_codes::ErrorCode;
use ytvc_quota::QuotaError;

use super::model::{BatchStatus, VideoStatus};
use crate::ids::UserId;
use crate::media::MediaError;
use crate::repo::RepoError;
use crate::validation::ValidationError;

/// Why a video use case refused a request or failed.
///
/// The strings of storage and media variants are for logs, never shown to
/// clients; the HTTP layer renders each variant with its code, a message
/// and details (one `From<VideoError>` at the edge).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VideoError {
    /// A field is invalid (for a batch, the error names the item).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The batch has no items (BATCH_001).
    #[error("batch is empty")]
    EmptyBatch,
    /// The quota refused the submission (QUOTA_001/002/003) or failed;
    /// `at` is when it was decided (for `Retry-After`).
    #[error("quota: {error}")]
    Quota {
        /// The refusal.
        error: QuotaError,
        /// When it was decided.
        at: DateTime<Utc>,
    },
    /// The `Idempotency-Key` header is not 1..=255 visible ASCII
    /// characters (VAL_009).
    #[error("invalid Idempotency-Key")]
    BadIdempotencyKey,
    /// The `Idempotency-Key` was used with another request (VAL_010).
    #[error("Idempotency-Key reused with another request")]
    IdempotencyConflict,
    /// A concurrent request with the same `Idempotency-Key` won (DB_003).
    #[error("idempotency key used concurrently")]
    IdempotencyRace,
    /// No such video of the caller (NOT_FOUND_001).
    #[error("video not found")]
    VideoNotFound,
    /// No such batch of the caller (NOT_FOUND_002).
    #[error("batch not found")]
    BatchNotFound,
    /// No such user (NOT_FOUND_003); the id when it was well formed.
    #[error("user not found")]
    UserNotFound(Option<UserId>),
    /// The video has finished: it cannot be cancelled (VIDEO_003).
    #[error("video already {}", .0.as_str())]
    NotCancellable(VideoStatus),
    /// The batch has finished: it cannot be cancelled (BATCH_003).
    #[error("batch already {}", .0.as_str())]
    BatchNotCancellable(BatchStatus),
    /// The video has not completed: no artifacts yet (VIDEO_002).
    #[error("video is {}", .0.as_str())]
    NotReady(VideoStatus),
    /// The completed video has no artifact of that name (NOT_FOUND_004).
    #[error("no artifact {0:?}")]
    ArtifactNotFound(String),
    /// The video's artifact set expired under the retention policy (and is,
    /// or is about to be, deleted) at this time (STORAGE_001).
    #[error("artifacts expired at {0}")]
    ArtifactsExpired(DateTime<Utc>),
    /// The artifact is listed but could not be read (NOT_FOUND_004; the
    /// cause is logged).
    #[error("artifact unreadable: {0}")]
    ArtifactUnreadable(MediaError),
    /// A query parameter (or cursor) is invalid (VAL_009).
    #[error("invalid {parameter}")]
    InvalidQuery {
        /// The parameter's name.
        parameter: &'static str,
        /// A message better than "Invalid {parameter}", when there is one.
        message: Option<&'static str>,
    },
    /// The caller may not do this (AUTH_005).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The account names a plan the catalog lacks (INTERNAL_003).
    #[error("unknown plan {0}")]
    UnknownPlan(String),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl VideoError {
    /// An invalid query parameter with the default message.
    #[must_use]
    pub const fn query(parameter: &'static str) -> Self {
        VideoError::InvalidQuery {
            parameter,
            message: None,
        }
    }

    /// The catalog code a client sees.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            VideoError::Invalid(e) => e.code(),
            VideoError::EmptyBatch => ErrorCode::BatchEmpty,
            VideoError::Quota { error, .. } => quota_code(error),
            VideoError::BadIdempotencyKey | VideoError::InvalidQuery { .. } => {
                ErrorCode::InvalidQuery
            }
            VideoError::IdempotencyConflict => ErrorCode::AlreadyExists,
            VideoError::IdempotencyRace => ErrorCode::WriteConflict,
            VideoError::VideoNotFound => ErrorCode::VideoNotFound,
            VideoError::BatchNotFound => ErrorCode::BatchNotFound,
            VideoError::UserNotFound(_) => ErrorCode::UserNotFound,
            VideoError::NotCancellable(_) => ErrorCode::VideoNotCancellable,
            VideoError::BatchNotCancellable(_) => ErrorCode::BatchNotCancellable,
            VideoError::NotReady(_) => ErrorCode::VideoNotReady,
            VideoError::ArtifactsExpired(_) => ErrorCode::ArtifactsExpired,
            VideoError::ArtifactNotFound(_) | VideoError::ArtifactUnreadable(_) => {
                ErrorCode::ResourceNotFound
            }
            VideoError::Forbidden(_) => ErrorCode::Forbidden,
            VideoError::UnknownPlan(_) => ErrorCode::Misconfigured,
            VideoError::Repo(e) => e.code(),
        }
    }
}

/// The catalog code of a quota refusal or failure.
#[must_use]
pub fn quota_code(e: &QuotaError) -> ErrorCode {
    match e {
        QuotaError::BatchTooLarge { .. } => ErrorCode::BatchTooLarge,
        QuotaError::Exhausted { .. } => ErrorCode::QuotaExhausted,
        QuotaError::InsufficientForBatch { .. } => ErrorCode::QuotaInsufficient,
        QuotaError::Store(_) => ErrorCode::DatabaseUnavailable,
        _ => ErrorCode::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_code() {
        let at = Utc::now();
        let cases = [
            (VideoError::EmptyBatch, ErrorCode::BatchEmpty),
            (
                VideoError::Quota {
                    error: QuotaError::BatchTooLarge {
                        requested: 6,
                        limit: 5,
                    },
                    at,
                },
                ErrorCode::BatchTooLarge,
            ),
            (VideoError::BadIdempotencyKey, ErrorCode::InvalidQuery),
            (VideoError::IdempotencyConflict, ErrorCode::AlreadyExists),
            (VideoError::IdempotencyRace, ErrorCode::WriteConflict),
            (
                VideoError::NotCancellable(VideoStatus::Completed),
                ErrorCode::VideoNotCancellable,
            ),
            (
                VideoError::BatchNotCancellable(BatchStatus::Failed),
                ErrorCode::BatchNotCancellable,
            ),
            (
                VideoError::NotReady(VideoStatus::Queued),
                ErrorCode::VideoNotReady,
            ),
            (VideoError::query("limit"), ErrorCode::InvalidQuery),
        ];
        for (e, code) in cases {
            assert_eq!(e.code(), code, "{e}");
        }
    }
}
