//! [`ArtifactRetention`]: the retention policy of artifact sets — a set is
//! kept for a number of days after its video completed, then the worker's
//! maintenance deletes it from the store and marks the video expired.
//!
//! A pass deletes the due sets first and marks each video only once its set
//! is gone, so a failed delete is tried again on the next pass, and an
//! expired video never points at files that may still be served. Downloads
//! answer `STORAGE_001` from the expiry time on, even before the pass ran
//! ([`VideoService::artifact`](super::VideoService::artifact)).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use ytvc_quota::Clock;

use super::ports::ExpiringArtifacts;
use crate::ids::VideoId;
use crate::media::{ArtifactStore, BoxFuture, MediaError};
use crate::repo::RepoError;

/// How many sets one pass expires at most.
pub const SETS_PER_PASS: u32 = 200;

/// The retention policy and what it acts on.
#[derive(Clone)]
pub struct ArtifactRetention {
    videos: Arc<dyn ExpiringArtifacts>,
    store: Arc<dyn ArtifactStore>,
    clock: Arc<dyn Clock>,
    keep: TimeDelta,
}

impl std::fmt::Debug for ArtifactRetention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactRetention")
            .field("keep", &self.keep)
            .finish_non_exhaustive()
    }
}

/// How one video's expiry went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expiry {
    /// Its set was deleted and the video marked expired.
    Expired,
    /// Marked already (another worker's pass): nothing to do.
    AlreadyExpired,
}

impl ArtifactRetention {
    /// Keeps completed sets for `keep` after completion.
    #[must_use]
    pub fn new(
        videos: Arc<dyn ExpiringArtifacts>,
        store: Arc<dyn ArtifactStore>,
        clock: Arc<dyn Clock>,
        keep: TimeDelta,
    ) -> Self {
        Self {
            videos,
            store,
            clock,
            keep,
        }
    }

    /// How long sets are kept.
    #[must_use]
    pub fn keep(&self) -> TimeDelta {
        self.keep
    }

    /// The videos whose sets are due now (up to [`SETS_PER_PASS`]); call it
    /// off the async executor.
    ///
    /// # Errors
    /// Storage errors.
    pub fn due(&self) -> Result<Vec<VideoId>, RepoError> {
        let before = self.clock.now() - self.keep;
        self.videos.due_for_expiry(before, SETS_PER_PASS)
    }

    /// Deletes the set of `video` from the store (step one of expiring it).
    ///
    /// # Errors
    /// The store's failure: the video stays unmarked, tried again next pass.
    pub fn delete<'a>(&'a self, video: &'a VideoId) -> BoxFuture<'a, Result<(), MediaError>> {
        Box::pin(async move { self.store.discard(&video.to_string()).await })
    }

    /// Marks `video` expired now (step two, once its set is deleted); call
    /// it off the async executor.
    ///
    /// # Errors
    /// Storage errors.
    pub fn mark(&self, video: VideoId) -> Result<Expiry, RepoError> {
        Ok(
            if self
                .videos
                .mark_artifacts_expired(video, self.clock.now())?
            {
                Expiry::Expired
            } else {
                Expiry::AlreadyExpired
            },
        )
    }
}

/// When the set of a video that completed at `completed_at` expires under
/// `keep` (`None`: kept forever).
#[must_use]
pub fn expires_at(completed_at: DateTime<Utc>, keep: Option<TimeDelta>) -> Option<DateTime<Utc>> {
    keep.map(|k| completed_at + k)
}
