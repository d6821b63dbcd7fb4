//! [`VideoService`]: the video use cases behind the API — submitting videos
//! and batches (idempotency, the quota decision, validation, one
//! transaction), reading and paging them, cancelling, artifacts, usage
//! analytics and the caller's quota.
//!
//! Every method but the artifact reads ([`VideoService::artifact_meta`],
//! [`VideoService::open_artifact`], [`VideoService::presign_artifact`]) is
//! synchronous and may block on storage: call it off the async executor. Every time comes from
//! the injected [`Clock`].

use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, Utc};
use ytvc_quota::{Clock, Plan, QuotaError, QuotaManager, QuotaStatus, QuotaStore, Usage, UserKey};

use super::error::VideoError;
use super::idempotency::{IdempotencyKey, IdempotentRequest};
use super::model::{Batch, CancelResult, DailyUsage, Video, VideoQuery, VideoStatus};
use super::paging::{Page, PageRequest};
use super::ports::VideoRepository;
use super::submission::{
    IDEMPOTENCY_TTL, IdempotencyRecord, Submission, SubmitError, prepare_batch, prepare_video,
};
use crate::accounts::{Role, User};
use crate::auth::UserRepository;
use crate::ids::{BatchId, UserId, VideoId};
use crate::jobs::RetryPolicy;
use crate::media::{ArtifactMeta, ArtifactStore, BoxFuture, ByteStream, MediaError, MediaFormat};
use crate::validation::RawVideoRequest;

/// The quota manager the use cases share with `GET /v1/quota`.
pub type Quotas = QuotaManager<Arc<dyn QuotaStore>, Arc<dyn Clock>>;

/// Which submission a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitKind {
    /// `POST /v1/videos`.
    Video,
    /// `POST /v1/batches` with `size` items as sent (`None` when the body
    /// has no readable item list: validation reports it).
    Batch {
        /// The number of items, when the body has a non-empty list.
        size: Option<usize>,
    },
}

impl SubmitKind {
    /// The operation an `Idempotency-Key` is bound to.
    #[must_use]
    pub const fn scope(self) -> &'static str {
        match self {
            SubmitKind::Video => "POST /v1/videos",
            SubmitKind::Batch { .. } => "POST /v1/batches",
        }
    }
}

/// A submission the service admitted (quota pre-checked, plan resolved):
/// pass it to [`VideoService::submit_video`] or
/// [`VideoService::submit_batch`].
#[derive(Debug)]
pub struct Ticket {
    user: User,
    plan: Plan,
    idempotency: Option<IdempotentRequest>,
}

/// What admitting a submission decided.
#[derive(Debug)]
pub enum Admission {
    /// An earlier request with this `Idempotency-Key` and body: answer with
    /// its response again.
    Replay {
        /// The original status.
        status: u16,
        /// The original body.
        body: String,
    },
    /// A new submission: validate its body, then submit it.
    Fresh(Box<Ticket>),
}

/// What a submission created (the rows as written).
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The batch, for a batch.
    pub batch: Option<Batch>,
    /// The videos, in order.
    pub videos: Vec<Video>,
}

/// Renders the answer to an accepted submission (the 202 body) at `now`:
/// it is stored under the request's `Idempotency-Key` in the same
/// transaction, and replayed byte for byte.
pub type Respond<'a> = &'a dyn Fn(&Accepted, DateTime<Utc>) -> String;

/// The filters of the video list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VideoFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this batch.
    pub batch_id: Option<String>,
    /// Paging.
    pub page: PageRequest,
}

/// The range of the usage report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageQuery {
    /// First day (`YYYY-MM-DD`, UTC), default 30 days ago.
    pub from: Option<String>,
    /// Last day (inclusive), default today.
    pub to: Option<String>,
    /// Admins only: another user's id.
    pub user_id: Option<String>,
}

/// Per-day usage of one user over a range of days.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageReport {
    /// Whose.
    pub user: UserId,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// One entry per day with activity.
    pub days: Vec<DailyUsage>,
}

/// An artifact the caller may download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRef {
    /// The video.
    pub video: VideoId,
    /// The file name (listed in the manifest, plain).
    pub name: String,
}

impl ArtifactRef {
    /// Its media type, from its extension.
    #[must_use]
    pub fn content_type(&self) -> &'static str {
        match self.name.rsplit('.').next() {
            Some("jpeg") => "image/jpeg",
            Some("mp3") | None => "application/octet-stream",
            _ => MediaFormat::from_file_name(&self.name)
                .map_or("application/octet-stream", MediaFormat::media_type),
        }
    }
}

/// The ports and settings of the video use cases.
#[derive(Clone)]
pub struct VideoService {
    videos: Arc<dyn VideoRepository>,
    users: Arc<dyn UserRepository>,
    artifacts: Arc<dyn ArtifactStore>,
    quota: Arc<Quotas>,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    retention: Option<chrono::TimeDelta>,
}

impl VideoService {
    /// Wires the use cases to their ports.
    #[must_use]
    pub fn new(
        videos: Arc<dyn VideoRepository>,
        users: Arc<dyn UserRepository>,
        artifacts: Arc<dyn ArtifactStore>,
        quota: Arc<Quotas>,
        retry: RetryPolicy,
    ) -> Self {
        let clock = quota.clock().clone();
        Self {
            videos,
            users,
            artifacts,
            quota,
            clock,
            retry,
            retention: None,
        }
    }

    /// Artifact sets expire `keep` after their video completed (`None`, the
    /// default: kept forever): videos show when, and downloads answer
    /// STORAGE_001 from then on.
    #[must_use]
    pub fn with_artifact_retention(mut self, keep: Option<chrono::TimeDelta>) -> Self {
        self.retention = keep;
        self
    }

    /// `video` with [`Video::artifacts_expire_at`] filled in.
    fn dated(&self, mut video: Video) -> Video {
        // The policy's time, or when the set was deleted if that came
        // first (the policy changed since): a time that does not move.
        let scheduled = match (video.status, video.completed_at) {
            (VideoStatus::Completed, Some(done)) => {
                super::retention::expires_at(done, self.retention)
            }
            _ => None,
        };
        video.artifacts_expire_at = match (scheduled, video.artifacts_expired_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        video
    }

    /// The plan of `user` from the catalog.
    ///
    /// # Errors
    /// [`VideoError::UnknownPlan`] when the account names a plan the
    /// catalog lacks.
    pub fn plan_of(&self, user: &User) -> Result<Plan, VideoError> {
        self.quota
            .plans()
            .get(user.plan.as_str())
            .cloned()
            .ok_or_else(|| VideoError::UnknownPlan(user.plan.as_str().to_owned()))
    }

    /// The caller's quota in the current cycle.
    ///
    /// # Errors
    /// [`VideoError::UnknownPlan`]; [`VideoError::Quota`] when the store fails.
    pub fn quota_status(&self, user: &User) -> Result<QuotaStatus, VideoError> {
        let plan = self.plan_of(user)?;
        self.status(user, &plan)
    }

    fn status(&self, user: &User, plan: &Plan) -> Result<QuotaStatus, VideoError> {
        self.quota
            .status_for_plan(&user_key(user.id), plan, user.billing_anchor_day)
            .map_err(|error| self.quota_refusal(error))
    }

    fn quota_refusal(&self, error: QuotaError) -> VideoError {
        VideoError::Quota {
            error,
            at: self.clock.now(),
        }
    }

    /// The front of a submission, in order: the `Idempotency-Key` (a replay
    /// of the same request, or VAL_010 for another one), then the quota —
    /// a submission the quota cannot take is refused before its body is
    /// validated (a fast answer; the reservation in the submission's
    /// transaction stays the guard).
    ///
    /// # Errors
    /// [`VideoError::BadIdempotencyKey`], [`VideoError::IdempotencyConflict`],
    /// [`VideoError::UnknownPlan`], [`VideoError::Quota`] (QUOTA_001 for a
    /// video, QUOTA_002 / QUOTA_003 for a batch), storage errors.
    pub fn admit(
        &self,
        user: &User,
        kind: SubmitKind,
        idempotency_key: Option<&[u8]>,
        body: &serde_json::Value,
    ) -> Result<Admission, VideoError> {
        let idempotency = idempotency_key
            .map(IdempotencyKey::parse)
            .transpose()?
            .map(|key| IdempotentRequest::new(key, kind.scope(), body));
        if let Some(request) = &idempotency {
            let earlier =
                self.videos
                    .idempotent(user.id, request.key.as_str(), self.clock.now())?;
            if let Some(earlier) = earlier {
                request.matches(&earlier)?;
                return Ok(Admission::Replay {
                    status: earlier.status,
                    body: earlier.body,
                });
            }
        }
        let plan = self.plan_of(user)?;
        self.precheck_quota(user, &plan, kind)?;
        Ok(Admission::Fresh(Box::new(Ticket {
            user: user.clone(),
            plan,
            idempotency,
        })))
    }

    /// The quota step of authenticate → rate limit → quota → handler.
    fn precheck_quota(&self, user: &User, plan: &Plan, kind: SubmitKind) -> Result<(), VideoError> {
        let units = match kind {
            SubmitKind::Video if plan.is_unlimited() => return Ok(()),
            SubmitKind::Video => 1,
            SubmitKind::Batch { size: None } => return Ok(()),
            SubmitKind::Batch { size: Some(n) } => n,
        };
        let status = self.status(user, plan)?;
        let usage = Usage {
            committed: status.committed,
            reserved: status.reserved,
        };
        let units = u32::try_from(units).unwrap_or(u32::MAX);
        ytvc_quota::check_reservation(
            units,
            plan.monthly_quota,
            plan.batch_size_limit,
            usage,
            status.reset_at,
        )
        .map_err(|e| self.quota_refusal(as_batch_refusal(e, kind, units)))
    }

    /// Validates and submits one video: the video, its job, its quota
    /// reservation and the idempotency record in one transaction. Returns
    /// the answer `respond` rendered.
    ///
    /// # Errors
    /// The first invalid field; [`VideoError::Quota`] when the reservation
    /// is refused; [`VideoError::IdempotencyRace`]; storage errors.
    pub fn submit_video(
        &self,
        ticket: Box<Ticket>,
        request: RawVideoRequest,
        respond: Respond<'_>,
    ) -> Result<String, VideoError> {
        let now = self.clock.now();
        let submission = prepare_video(&ticket.user, &ticket.plan, request, now, &self.retry)?;
        self.submit(ticket, submission, SubmitKind::Video, respond)
    }

    /// Validates and submits a batch, all or nothing: 1..=plan limit items
    /// (errors name the item), the batch, every video, job and reservation
    /// and the idempotency record in ONE transaction. A batch the quota
    /// cannot cover is QUOTA_003 whatever its size.
    ///
    /// # Errors
    /// [`VideoError::EmptyBatch`], [`VideoError::Quota`] (QUOTA_002,
    /// QUOTA_003), the first invalid item, [`VideoError::IdempotencyRace`],
    /// storage errors.
    pub fn submit_batch(
        &self,
        ticket: Box<Ticket>,
        name: Option<String>,
        items: Vec<RawVideoRequest>,
        respond: Respond<'_>,
    ) -> Result<String, VideoError> {
        let now = self.clock.now();
        let size = items.len();
        let submission = prepare_batch(&ticket.user, &ticket.plan, name, items, now, &self.retry)?;
        self.submit(
            ticket,
            submission,
            SubmitKind::Batch { size: Some(size) },
            respond,
        )
    }

    fn submit(
        &self,
        ticket: Box<Ticket>,
        mut submission: Submission,
        kind: SubmitKind,
        respond: Respond<'_>,
    ) -> Result<String, VideoError> {
        let now = self.clock.now();
        let accepted = Accepted {
            batch: submission.batch.clone(),
            videos: submission.videos.iter().map(|v| v.video.clone()).collect(),
        };
        let body = respond(&accepted, now);
        if let Some(request) = ticket.idempotency {
            submission.idempotency = Some(IdempotencyRecord {
                user: ticket.user.id,
                key: request.key.as_str().to_owned(),
                scope: request.scope,
                request_hash: request.hash,
                status: 202,
                created_at: now,
                body: body.clone(),
                expires_at: now + IDEMPOTENCY_TTL,
            });
        }
        // For a batch, the usage before, so a refusal reports exact figures.
        let used_before = match kind {
            SubmitKind::Batch { .. } if !ticket.plan.is_unlimited() => {
                self.status(&ticket.user, &ticket.plan).ok().map(|s| s.used)
            }
            _ => None,
        };
        match self.videos.submit(&submission) {
            Ok(()) => Ok(body),
            Err(SubmitError::Quota(e)) => {
                let e = match (e, used_before) {
                    (
                        QuotaError::Exhausted {
                            limit,
                            used: _,
                            reset_at,
                        },
                        Some(used),
                    ) => QuotaError::Exhausted {
                        limit,
                        used,
                        reset_at,
                    },
                    (e, _) => e,
                };
                let units = u32::try_from(submission.videos.len()).unwrap_or(u32::MAX);
                Err(self.quota_refusal(as_batch_refusal(e, kind, units)))
            }
            Err(SubmitError::IdempotencyRace) => Err(VideoError::IdempotencyRace),
            Err(SubmitError::Repo(e)) => Err(e.into()),
        }
    }

    /// One of the caller's videos.
    ///
    /// # Errors
    /// [`VideoError::VideoNotFound`] (also for another user's video or a
    /// malformed id); storage errors.
    pub fn video(&self, user: UserId, id: &str) -> Result<Video, VideoError> {
        let id = parse_video_id(id)?;
        self.videos
            .video(user, id)?
            .map(|v| self.dated(v))
            .ok_or(VideoError::VideoNotFound)
    }

    /// A page of the caller's videos, newest first.
    ///
    /// # Errors
    /// [`VideoError::InvalidQuery`] for a bad `limit`, `status`, `batch_id`
    /// or cursor (checked in that order); storage errors.
    pub fn videos(&self, user: UserId, filter: &VideoFilter) -> Result<Page<Video>, VideoError> {
        let limit = filter.page.limit()?;
        let status = filter
            .status
            .as_deref()
            .map(|s| VideoStatus::parse(s).ok_or(VideoError::query("status")))
            .transpose()?;
        let batch = filter
            .batch_id
            .as_deref()
            .map(|b| {
                b.parse::<BatchId>()
                    .map_err(|_| VideoError::query("batch_id"))
            })
            .transpose()?;
        let before = filter.page.position()?;
        let query = VideoQuery {
            status,
            batch,
            before,
            limit: limit + 1,
        };
        let rows = self.videos.videos(user, &query)?;
        let rows = rows.into_iter().map(|v| self.dated(v)).collect();
        Ok(Page::cut(rows, limit, |v| (v.created_at, v.id.to_string())))
    }

    /// One of the caller's batches with its counts and all its videos in
    /// batch order.
    ///
    /// # Errors
    /// [`VideoError::BatchNotFound`]; storage errors.
    pub fn batch(&self, user: UserId, id: &str) -> Result<(Batch, Vec<Video>), VideoError> {
        let id = parse_batch_id(id)?;
        let batch = self
            .videos
            .batch(user, id)?
            .ok_or(VideoError::BatchNotFound)?;
        const PAGE: u32 = 101;
        let mut videos = Vec::new();
        let mut before = None;
        loop {
            let query = VideoQuery {
                batch: Some(id),
                limit: PAGE,
                before,
                ..VideoQuery::default()
            };
            let mut page = self.videos.videos(user, &query)?;
            let full = page.len() >= PAGE as usize;
            before = page.last().map(|v| (v.created_at, v.id.to_string()));
            videos.append(&mut page);
            if !full {
                break;
            }
        }
        videos.sort_by_key(|v| v.batch.map(|(_, i)| i));
        Ok((batch, videos.into_iter().map(|v| self.dated(v)).collect()))
    }

    /// A page of the caller's batches, newest first.
    ///
    /// # Errors
    /// [`VideoError::InvalidQuery`] for a bad `limit` or cursor; storage errors.
    pub fn batches(&self, user: UserId, page: &PageRequest) -> Result<Page<Batch>, VideoError> {
        let limit = page.limit()?;
        let before = page.position()?;
        let rows = self.videos.batches(user, before, limit + 1)?;
        Ok(Page::cut(rows, limit, |b| (b.created_at, b.id.to_string())))
    }

    /// Cancels a video: a queued one at once (its quota is released), a
    /// processing one at its worker's next step.
    ///
    /// # Errors
    /// [`VideoError::VideoNotFound`]; [`VideoError::NotCancellable`] when it
    /// has finished; storage errors.
    pub fn cancel_video(&self, user: UserId, id: &str) -> Result<Video, VideoError> {
        let id = parse_video_id(id)?;
        match self
            .videos
            .cancel_video(user, id, self.clock.now())?
            .ok_or(VideoError::VideoNotFound)?
        {
            CancelResult::Cancelled(v) | CancelResult::Requested(v) => Ok(v),
            CancelResult::TooLate(v) => Err(VideoError::NotCancellable(v.status)),
        }
    }

    /// Cancels every not-yet-started video of a batch (running ones at
    /// their next step).
    ///
    /// # Errors
    /// [`VideoError::BatchNotFound`]; [`VideoError::BatchNotCancellable`]
    /// when no item is queued or processing; storage errors.
    pub fn cancel_batch(&self, user: UserId, id: &str) -> Result<Batch, VideoError> {
        let id = parse_batch_id(id)?;
        let batch = self
            .videos
            .batch(user, id)?
            .ok_or(VideoError::BatchNotFound)?;
        if batch.counts.queued + batch.counts.processing == 0 {
            return Err(VideoError::BatchNotCancellable(batch.status));
        }
        self.videos
            .cancel_batch(user, id, self.clock.now())?
            .ok_or(VideoError::BatchNotFound)
    }

    /// The artifact `name` of the caller's completed video `id`.
    ///
    /// # Errors
    /// [`VideoError::VideoNotFound`]; [`VideoError::NotReady`] before
    /// completion; [`VideoError::ArtifactsExpired`] from the set's expiry
    /// time on; [`VideoError::ArtifactNotFound`] for a name the manifest
    /// does not list; storage errors.
    pub fn artifact(&self, user: UserId, id: &str, name: &str) -> Result<ArtifactRef, VideoError> {
        let video = self.video(user, id)?;
        if video.status != VideoStatus::Completed {
            return Err(VideoError::NotReady(video.status));
        }
        if let Some(at) = video.artifacts_expire_at
            && (video.artifacts_expired_at.is_some() || at <= self.clock.now())
        {
            return Err(VideoError::ArtifactsExpired(at));
        }
        if !video.artifact_names().iter().any(|n| n == name) {
            return Err(VideoError::ArtifactNotFound(name.to_owned()));
        }
        Ok(ArtifactRef {
            video: video.id,
            name: name.to_owned(),
        })
    }

    /// The size, tag and time of an artifact found by
    /// [`artifact`](Self::artifact), without its bytes.
    ///
    /// # Errors
    /// [`VideoError::ArtifactUnreadable`] when the store cannot be asked
    /// (or no longer has it).
    pub fn artifact_meta<'a>(
        &'a self,
        artifact: &'a ArtifactRef,
    ) -> BoxFuture<'a, Result<ArtifactMeta, VideoError>> {
        Box::pin(async move {
            let set = artifact.video.to_string();
            match self.artifacts.stat(&set, &artifact.name).await {
                Ok(Some(meta)) => Ok(meta),
                Ok(None) => Err(listed_but_missing(&set, &artifact.name)),
                Err(e) => Err(VideoError::ArtifactUnreadable(e)),
            }
        })
    }

    /// Streams the bytes `range` (half-open, within the size
    /// [`artifact_meta`](Self::artifact_meta) gave) of an artifact: the
    /// file is never held whole.
    ///
    /// # Errors
    /// [`VideoError::ArtifactUnreadable`] when the store cannot read it
    /// (or no longer has it).
    pub fn open_artifact<'a>(
        &'a self,
        artifact: &'a ArtifactRef,
        range: Range<u64>,
    ) -> BoxFuture<'a, Result<ByteStream, VideoError>> {
        Box::pin(async move {
            let set = artifact.video.to_string();
            match self.artifacts.open(&set, &artifact.name, range).await {
                Ok(Some(body)) => Ok(body),
                Ok(None) => Err(listed_but_missing(&set, &artifact.name)),
                Err(e) => Err(VideoError::ArtifactUnreadable(e)),
            }
        })
    }

    /// A presigned URL the artifact can be fetched from for `expires_in`,
    /// when the store makes them (object storage); `None` otherwise.
    ///
    /// # Errors
    /// [`VideoError::ArtifactUnreadable`] when signing fails.
    pub fn presign_artifact<'a>(
        &'a self,
        artifact: &'a ArtifactRef,
        expires_in: std::time::Duration,
    ) -> BoxFuture<'a, Result<Option<String>, VideoError>> {
        Box::pin(async move {
            let set = artifact.video.to_string();
            self.artifacts
                .presign(&set, &artifact.name, expires_in)
                .await
                .map_err(VideoError::ArtifactUnreadable)
        })
    }

    /// Per-day usage: the caller's, or (admins only) another user's.
    ///
    /// # Errors
    /// [`VideoError::InvalidQuery`] for a bad day or range (at most 366
    /// days, `from` not after `to`); [`VideoError::Forbidden`] for
    /// `user_id` from a non-admin; [`VideoError::UserNotFound`]; storage
    /// errors.
    pub fn usage(&self, caller: &User, query: &UsageQuery) -> Result<UsageReport, VideoError> {
        let today = self.clock.now().date_naive();
        let day = |s: &Option<String>, default: NaiveDate, what: &'static str| match s {
            None => Ok(default),
            Some(s) => {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| VideoError::query(what))
            }
        };
        let from = day(&query.from, today - Days::new(30), "from")?;
        let to = day(&query.to, today, "to")?;
        if from > to || (to - from).num_days() > 366 {
            return Err(VideoError::InvalidQuery {
                parameter: "from",
                message: Some("from must not be after to, and the range at most 366 days"),
            });
        }
        let user = match &query.user_id {
            None => caller.id,
            Some(_) if caller.role != Role::Admin => {
                return Err(VideoError::Forbidden("user_id is for admins"));
            }
            Some(id) => id
                .parse::<UserId>()
                .map_err(|_| VideoError::UserNotFound(None))?,
        };
        let start = from
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or(VideoError::query("from"))?;
        let end = (to + Days::new(1))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or(VideoError::query("to"))?;
        if user != caller.id && self.users.by_id(user)?.is_none() {
            return Err(VideoError::UserNotFound(Some(user)));
        }
        let days = self.videos.usage(user, start, end)?;
        Ok(UsageReport {
            user,
            from,
            to,
            days,
        })
    }
}

/// A refusal of a batch's units is QUOTA_003 whatever its size: its items
/// are reserved one by one in one transaction, so a one-unit refusal there
/// means the batch does not fit.
fn as_batch_refusal(e: QuotaError, kind: SubmitKind, units: u32) -> QuotaError {
    match (e, kind) {
        (
            QuotaError::Exhausted {
                limit,
                used,
                reset_at,
            },
            SubmitKind::Batch { .. },
        ) => QuotaError::InsufficientForBatch {
            limit,
            used,
            requested: units,
            remaining: u64::from(limit).saturating_sub(used),
            reset_at,
        },
        (e, _) => e,
    }
}

fn listed_but_missing(set: &str, name: &str) -> VideoError {
    VideoError::ArtifactUnreadable(MediaError::AssemblyFailed(format!(
        "{set}/{name} is listed but missing"
    )))
}

fn user_key(user: UserId) -> UserKey {
    UserKey::from(user.to_string())
}

fn parse_video_id(raw: &str) -> Result<VideoId, VideoError> {
    raw.parse().map_err(|_| VideoError::VideoNotFound)
}

fn parse_batch_id(raw: &str) -> Result<BatchId, VideoError> {
    raw.parse().map_err(|_| VideoError::BatchNotFound)
}
