//! Videos and batches as the domain sees them: their statuses, the stored
//! video (with its parsed request and manifest), the batch, and what reading
//! or changing them answers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ytvc_quota::ReservationId;

use crate::ids::{BatchId, UserId, VideoId};
use crate::media::{Manifest, ManifestScene, is_artifact_name};
use crate::pipeline::MANIFEST_FILE;
use crate::validation::VideoSpec;

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
    /// What was asked for (validated at submission).
    pub spec: VideoSpec,
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
    pub manifest: Option<Manifest>,
    /// Accepted at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// First started at.
    pub started_at: Option<DateTime<Utc>>,
    /// Finished at.
    pub completed_at: Option<DateTime<Utc>>,
    /// When the retention sweep deleted its artifact set (stored).
    pub artifacts_expired_at: Option<DateTime<Utc>>,
    /// When its artifact set expires, or expired, under the retention
    /// policy (derived by the [`VideoService`](super::VideoService) when it
    /// reads the video: `completed_at` + the retention, or
    /// `artifacts_expired_at`; `None` when kept forever or not completed).
    pub artifacts_expire_at: Option<DateTime<Utc>>,
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

impl Video {
    /// The manifest of a completed video (`None` before completion).
    #[must_use]
    pub fn completed_manifest(&self) -> Option<&Manifest> {
        self.manifest
            .as_ref()
            .filter(|_| self.status == VideoStatus::Completed)
    }

    /// The downloadable files of a completed video: the manifest and every
    /// plain-named file it lists, in order (empty before completion, and
    /// once the retention sweep deleted the set).
    #[must_use]
    pub fn artifact_names(&self) -> Vec<String> {
        let Some(m) = self.completed_manifest() else {
            return Vec::new();
        };
        if self.artifacts_expired_at.is_some() {
            return Vec::new();
        }
        std::iter::once(MANIFEST_FILE.to_owned())
            .chain(
                m.files()
                    .map(|f| f.name.clone())
                    .filter(|n| is_artifact_name(n)),
            )
            .collect()
    }

    /// The assembled MP4's file name, once completed (`None` once the set
    /// expired).
    #[must_use]
    pub fn video_file(&self) -> Option<&str> {
        self.completed_manifest()
            .filter(|_| self.artifacts_expired_at.is_none())
            .and_then(|m| m.video.as_ref())
            .map(|f| f.name.as_str())
            .filter(|n| is_artifact_name(n))
    }

    /// The scenes that fell back from their first-choice visual (empty
    /// before completion).
    pub fn fallbacks(&self) -> impl Iterator<Item = &ManifestScene> {
        self.completed_manifest()
            .into_iter()
            .flat_map(|m| &m.scenes)
            .filter(|s| !s.fallback_codes.is_empty())
    }

    /// Whether any scene fell back (a service failed or its circuit was open).
    #[must_use]
    pub fn degraded(&self) -> bool {
        self.completed_manifest().is_some_and(|m| m.degraded) || self.fallbacks().next().is_some()
    }
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
