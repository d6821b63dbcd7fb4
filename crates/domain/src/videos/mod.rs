//! Videos and batches: the entities, their storage ports and the use cases
//! around them.
//!
//! | file | what |
//! |---|---|
//! | [`model`] | statuses, the stored [`Video`] (its parsed request and manifest), [`Batch`] |
//! | [`submission`] | what one submission writes in ONE transaction, built from validated requests |
//! | [`idempotency`] | the `Idempotency-Key` rule and the request fingerprint |
//! | [`paging`] | cursor pagination |
//! | [`ports`] | [`VideoRepository`] (the API's side), [`VideoRuns`] and [`ExpiringArtifacts`] (a worker's side) |
//! | [`service`] | [`VideoService`]: submit, read, page, cancel, artifacts, usage, quota |
//! | [`runner`] | [`JobRunner`]: run a claimed job and decide what its outcome means |
//! | [`retention`] | [`ArtifactRetention`]: delete the artifact sets of videos completed too long ago |
//! | [`error`] | [`VideoError`] and its one mapping to the catalog |

pub mod error;
pub mod idempotency;
pub mod model;
pub mod paging;
pub mod ports;
pub mod retention;
pub mod runner;
pub mod service;
pub mod submission;

pub use error::VideoError;
pub use idempotency::{IdempotencyKey, IdempotentRequest, request_hash};
pub use model::{
    Batch, BatchStatus, CancelResult, DailyUsage, StatusCounts, Video, VideoQuery, VideoStatus,
};
pub use paging::{Page, PageRequest};
pub use ports::{
    ExpiringArtifacts, Orphan, OrphanEnding, RunEnd, RunEnding, VideoRepository, VideoRuns,
};
pub use retention::{ArtifactRetention, Expiry};
pub use runner::{JobRunner, RunOutcome};
pub use service::{
    Accepted, Admission, ArtifactRef, Quotas, SubmitKind, Ticket, UsageQuery, UsageReport,
    VideoFilter, VideoService,
};
pub use submission::{
    IDEMPOTENCY_TTL, IdempotencyRecord, NewVideo, Submission, SubmitError, prepare_batch,
    prepare_video,
};
