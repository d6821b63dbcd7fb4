//! The video use cases ([`VideoService`], [`JobRunner`]) over in-memory
//! fakes of their ports: every rule the API and the worker rely on
//! (idempotency, quota decisions, cancel rules, paging, usage, artifacts,
//! retries and orphans) is decided here, without a database or a server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::json;
use ytvc_domain::accounts::{Role, User};
use ytvc_domain::auth::UserRepository;
use ytvc_domain::ids::{BatchId, UserId, VideoId};
use ytvc_domain::jobs::{ClaimedJob, JobId, JobState, RetryPolicy};
use ytvc_domain::media::{
    ArtifactStore, BoxFuture, MediaBlob, MediaError, Narrator, Scene, ScriptWriter, StoredArtifact,
    Storyboard, TitleCardRenderer, VisualGenerator,
};
use ytvc_domain::pipeline::Pipeline;
use ytvc_domain::repo::RepoError;
use ytvc_domain::validation::{AspectRatio, Email, Language, RawVideoRequest, VideoSpec, Voice};
use ytvc_domain::videos::{
    Accepted, Admission, Batch, BatchStatus, CancelResult, DailyUsage, IdempotencyRecord,
    JobRunner, Orphan, OrphanEnding, PageRequest, RunEnd, RunEnding, RunOutcome, StatusCounts,
    Submission, SubmitError, SubmitKind, Ticket, UsageQuery, Video, VideoError, VideoFilter,
    VideoQuery, VideoRepository, VideoRuns, VideoService, VideoStatus,
};
use ytvc_error_codes::ErrorCode;
use ytvc_quota::{
    AnchorDay, Clock, InMemoryQuotaStore, ManualClock, PlanName, Plans, QuotaError, QuotaManager,
    QuotaStore, ReleaseReason, Settle,
};

mod support;

use support::FakeUsers;

// ------------------------------------------------------------------ fakes

/// Videos, batches and idempotency records in memory; a submission
/// reserves through the quota store and undoes its reservations when one
/// is refused (the transaction of the SQL store).
#[derive(Default)]
struct FakeVideos {
    quota: Arc<InMemoryQuotaStore>,
    videos: Mutex<Vec<Video>>,
    batches: Mutex<Vec<Batch>>,
    idempotency: Mutex<Vec<IdempotencyRecord>>,
}

impl FakeVideos {
    fn counts(&self, batch: BatchId) -> StatusCounts {
        let mut c = StatusCounts::default();
        for v in self.videos.lock().unwrap().iter() {
            if v.batch.map(|(b, _)| b) == Some(batch) {
                c.add(v.status, 1);
            }
        }
        c
    }

    fn with_counts(&self, mut b: Batch) -> Batch {
        b.counts = self.counts(b.id);
        b.status = BatchStatus::from_counts(&b.counts);
        b
    }

    fn set_status(&self, id: VideoId, status: VideoStatus) {
        for v in self.videos.lock().unwrap().iter_mut() {
            if v.id == id {
                v.status = status;
            }
        }
    }
}

fn older(pos: &Option<(DateTime<Utc>, String)>, t: DateTime<Utc>, id: String) -> bool {
    pos.as_ref()
        .is_none_or(|(pt, pid)| (t, id) < (*pt, pid.clone()))
}

impl VideoRepository for FakeVideos {
    fn idempotent(
        &self,
        user: UserId,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, RepoError> {
        Ok(self
            .idempotency
            .lock()
            .unwrap()
            .iter()
            .find(|r| r.user == user && r.key == key && r.expires_at > now)
            .cloned())
    }

    fn submit(&self, s: &Submission) -> Result<(), SubmitError> {
        if let Some(i) = &s.idempotency
            && self.idempotent(i.user, &i.key, i.created_at)?.is_some()
        {
            return Err(SubmitError::IdempotencyRace);
        }
        let mut done = Vec::new();
        for nv in &s.videos {
            match self.quota.reserve(&nv.reserve) {
                Ok(r) => done.push(r.id),
                Err(e) => {
                    for id in done {
                        let release = Settle::Release(ReleaseReason::Released);
                        self.quota.settle(id, release, nv.reserve.now).unwrap();
                    }
                    return Err(SubmitError::Quota(e));
                }
            }
        }
        self.videos
            .lock()
            .unwrap()
            .extend(s.videos.iter().map(|v| v.video.clone()));
        self.batches.lock().unwrap().extend(s.batch.clone());
        self.idempotency
            .lock()
            .unwrap()
            .extend(s.idempotency.clone());
        Ok(())
    }

    fn video(&self, user: UserId, id: VideoId) -> Result<Option<Video>, RepoError> {
        Ok(self
            .videos
            .lock()
            .unwrap()
            .iter()
            .find(|v| v.id == id && v.user == user)
            .cloned())
    }

    fn videos(&self, user: UserId, q: &VideoQuery) -> Result<Vec<Video>, RepoError> {
        let mut out: Vec<Video> = self
            .videos
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v.user == user)
            .filter(|v| q.status.is_none_or(|s| v.status == s))
            .filter(|v| q.batch.is_none_or(|b| v.batch.map(|(x, _)| x) == Some(b)))
            .filter(|v| older(&q.before, v.created_at, v.id.to_string()))
            .cloned()
            .collect();
        out.sort_by_key(|v| std::cmp::Reverse((v.created_at, v.id.to_string())));
        out.truncate(q.limit as usize);
        Ok(out)
    }

    fn batch(&self, user: UserId, id: BatchId) -> Result<Option<Batch>, RepoError> {
        let found = self
            .batches
            .lock()
            .unwrap()
            .iter()
            .find(|b| b.id == id && b.user == user)
            .cloned();
        Ok(found.map(|b| self.with_counts(b)))
    }

    fn batches(
        &self,
        user: UserId,
        before: Option<(DateTime<Utc>, String)>,
        limit: u32,
    ) -> Result<Vec<Batch>, RepoError> {
        let mut out: Vec<Batch> = self
            .batches
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b.user == user && older(&before, b.created_at, b.id.to_string()))
            .cloned()
            .collect();
        out.sort_by_key(|b| std::cmp::Reverse((b.created_at, b.id.to_string())));
        out.truncate(limit as usize);
        Ok(out.into_iter().map(|b| self.with_counts(b)).collect())
    }

    fn cancel_video(
        &self,
        user: UserId,
        id: VideoId,
        now: DateTime<Utc>,
    ) -> Result<Option<CancelResult>, RepoError> {
        let mut videos = self.videos.lock().unwrap();
        let Some(v) = videos.iter_mut().find(|v| v.id == id && v.user == user) else {
            return Ok(None);
        };
        Ok(Some(match v.status {
            VideoStatus::Queued => {
                v.status = VideoStatus::Cancelled;
                if let Some(r) = v.reservation {
                    let release = Settle::Release(ReleaseReason::Released);
                    self.quota.settle(r, release, now).unwrap();
                }
                CancelResult::Cancelled(v.clone())
            }
            VideoStatus::Processing => CancelResult::Requested(v.clone()),
            _ => CancelResult::TooLate(v.clone()),
        }))
    }

    fn cancel_batch(
        &self,
        user: UserId,
        id: BatchId,
        now: DateTime<Utc>,
    ) -> Result<Option<Batch>, RepoError> {
        let ids: Vec<VideoId> = self
            .videos
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v.batch.map(|(b, _)| b) == Some(id))
            .map(|v| v.id)
            .collect();
        for v in ids {
            self.cancel_video(user, v, now)?;
        }
        self.batch(user, id)
    }

    fn usage(
        &self,
        user: UserId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DailyUsage>, RepoError> {
        let n = self
            .videos
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v.user == user && v.created_at >= from && v.created_at < to)
            .count() as u64;
        Ok((n > 0)
            .then(|| DailyUsage {
                date: from.format("%Y-%m-%d").to_string(),
                submitted: n,
                completed: 0,
                failed: 0,
                cancelled: 0,
                average_processing_seconds: None,
                success_rate: None,
            })
            .into_iter()
            .collect())
    }
}

/// Every media port: artifacts in a map, generators that always fail (the
/// runner's tests never run the pipeline).
#[derive(Default)]
struct FakeMedia(Mutex<HashMap<String, Vec<u8>>>);

fn refused<'a, T: Send + 'a>() -> BoxFuture<'a, Result<T, MediaError>> {
    Box::pin(async { Err(MediaError::GenerationFailed("fake".into())) })
}

impl ScriptWriter for FakeMedia {
    fn write_script<'a>(
        &'a self,
        _: &'a VideoSpec,
    ) -> BoxFuture<'a, Result<Storyboard, MediaError>> {
        refused()
    }
}

impl VisualGenerator for FakeMedia {
    fn clip<'a>(
        &'a self,
        _: &'a Scene,
        _: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        refused()
    }

    fn still<'a>(
        &'a self,
        _: &'a Scene,
        _: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        refused()
    }
}

impl TitleCardRenderer for FakeMedia {
    fn title_card<'a>(
        &'a self,
        _: &'a str,
        _: &'a Scene,
        _: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        refused()
    }
}

impl Narrator for FakeMedia {
    fn narrate<'a>(
        &'a self,
        _: &'a Scene,
        _: Voice,
        _: &'a Language,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        refused()
    }
}

impl ArtifactStore for FakeMedia {
    fn put<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a MediaBlob,
    ) -> BoxFuture<'a, Result<StoredArtifact, MediaError>> {
        refused()
    }

    fn discard<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), MediaError>> {
        Box::pin(async { Ok(()) })
    }

    fn read<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, MediaError>> {
        let found = self
            .0
            .lock()
            .unwrap()
            .get(&format!("{video_id}/{name}"))
            .cloned();
        Box::pin(async move { Ok(found) })
    }
}

/// The worker's side of the store, recording what the runner asked for.
#[derive(Default)]
struct FakeRuns {
    endings: Mutex<Vec<RunEnding>>,
    orphans: Mutex<Vec<Orphan>>,
    ended: Mutex<Vec<(VideoId, OrphanEnding)>>,
}

impl VideoRuns for FakeRuns {
    fn start_run(&self, _: &ClaimedJob, _: DateTime<Utc>) -> Result<Option<Video>, RepoError> {
        Ok(None)
    }

    fn finish_run(
        &self,
        _: &ClaimedJob,
        ending: &RunEnding,
        _: DateTime<Utc>,
    ) -> Result<Option<RunEnd>, RepoError> {
        self.endings.lock().unwrap().push(ending.clone());
        Ok(Some(match ending {
            RunEnding::Completed { .. } => RunEnd::Completed,
            RunEnding::Cancelled => RunEnd::Cancelled,
            RunEnding::Retry { .. } => RunEnd::Retrying,
            RunEnding::Failed { .. } => RunEnd::Failed,
        }))
    }

    fn orphans(&self, _: u32) -> Result<Vec<Orphan>, RepoError> {
        Ok(self.orphans.lock().unwrap().clone())
    }

    fn end_orphan(
        &self,
        video: VideoId,
        ending: &OrphanEnding,
        _: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        self.ended.lock().unwrap().push((video, ending.clone()));
        Ok(true)
    }
}

// ------------------------------------------------------------------ set-up

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
}

struct World {
    clock: Arc<ManualClock>,
    store: Arc<FakeVideos>,
    users: Arc<FakeUsers>,
    media: Arc<FakeMedia>,
    service: VideoService,
}

fn world() -> World {
    let clock = Arc::new(ManualClock::new(t0()));
    let clock_port: Arc<dyn Clock> = clock.clone();
    let quota_store = Arc::new(InMemoryQuotaStore::new());
    let store = Arc::new(FakeVideos {
        quota: quota_store.clone(),
        ..FakeVideos::default()
    });
    let quota_port: Arc<dyn QuotaStore> = quota_store;
    let quota = Arc::new(QuotaManager::new(Plans::default(), quota_port, clock_port));
    let users = Arc::new(FakeUsers::default());
    let media = Arc::new(FakeMedia::default());
    let service = VideoService::new(
        store.clone(),
        users.clone(),
        media.clone(),
        quota,
        RetryPolicy::default(),
    );
    World {
        clock,
        store,
        users,
        media,
        service,
    }
}

fn user(plan: &PlanName, role: Role) -> User {
    User {
        id: UserId::new(),
        email: Email::parse(format!("u{}@example.com", uuid::Uuid::new_v4().simple())).unwrap(),
        password_hash: String::new(),
        role,
        plan: plan.clone(),
        billing_anchor_day: AnchorDay::FIRST,
        created_at: t0(),
        updated_at: t0(),
    }
}

fn free() -> User {
    user(&PlanName::FREE, Role::User)
}

fn request(prompt: &str) -> RawVideoRequest {
    RawVideoRequest {
        prompt: Some(prompt.into()),
        ..RawVideoRequest::default()
    }
}

/// The 202 body as a test can read it back: the ids of what was created.
fn ids(a: &Accepted, now: DateTime<Utc>) -> String {
    json!({
        "at": now.to_rfc3339(),
        "batch": a.batch.as_ref().map(|b| b.id.to_string()),
        "videos": a.videos.iter().map(|v| v.id.to_string()).collect::<Vec<_>>(),
    })
    .to_string()
}

fn fresh(a: Admission) -> Box<Ticket> {
    match a {
        Admission::Fresh(t) => t,
        Admission::Replay { .. } => panic!("expected a fresh admission"),
    }
}

impl World {
    fn admit(
        &self,
        u: &User,
        kind: SubmitKind,
        key: Option<&str>,
    ) -> Result<Admission, VideoError> {
        let body = json!({"prompt": "A calm documentary about coral reefs"});
        self.service.admit(u, kind, key.map(str::as_bytes), &body)
    }

    fn submit(&self, u: &User) -> VideoId {
        let ticket = fresh(self.admit(u, SubmitKind::Video, None).unwrap());
        let body = self
            .service
            .submit_video(
                ticket,
                request("A calm documentary about coral reefs"),
                &ids,
            )
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["videos"][0].as_str().unwrap().parse().unwrap()
    }

    fn submit_batch(&self, u: &User, n: usize) -> Result<String, VideoError> {
        let ticket = fresh(self.admit(u, SubmitKind::Batch { size: Some(n) }, None)?);
        let items = (0..n)
            .map(|i| request(&format!("Reef episode number {i}")))
            .collect();
        self.service.submit_batch(ticket, None, items, &ids)
    }

    fn used(&self, u: &User) -> u64 {
        self.service.quota_status(u).unwrap().used
    }
}

fn quota_error(e: VideoError) -> QuotaError {
    match e {
        VideoError::Quota { error, .. } => error,
        other => panic!("expected a quota refusal, got {other:?}"),
    }
}

// ------------------------------------------------------------------ submission

#[test]
fn a_video_is_accepted_reserved_and_replayed_under_its_key() {
    let w = world();
    let u = free();
    let body = json!({"prompt": "A calm documentary about coral reefs"});
    let ticket = fresh(
        w.service
            .admit(&u, SubmitKind::Video, Some(b"key-1"), &body)
            .unwrap(),
    );
    let answer = w
        .service
        .submit_video(
            ticket,
            request("A calm documentary about coral reefs"),
            &ids,
        )
        .unwrap();
    assert_eq!(w.used(&u), 1);

    // Same key, same body (key order does not matter): the stored answer.
    let same = json!({"prompt": "A calm documentary about coral reefs"});
    match w
        .service
        .admit(&u, SubmitKind::Video, Some(b" key-1 "), &same)
        .unwrap()
    {
        Admission::Replay { status, body } => assert_eq!((status, body), (202, answer)),
        Admission::Fresh(_) => panic!("not replayed"),
    }
    // Same key, another body or another endpoint: VAL_010, nothing created.
    let other = json!({"prompt": "Something else entirely, please"});
    let e = w
        .service
        .admit(&u, SubmitKind::Video, Some(b"key-1"), &other)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);
    let e = w
        .service
        .admit(
            &u,
            SubmitKind::Batch { size: Some(1) },
            Some(b"key-1"),
            &same,
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);
    // A malformed key: VAL_009.
    let e = w
        .service
        .admit(&u, SubmitKind::Video, Some(b"a b"), &same)
        .unwrap_err();
    assert!(matches!(e, VideoError::BadIdempotencyKey));
    assert_eq!(w.used(&u), 1);

    // After 24 hours the key is forgotten.
    w.clock.advance(TimeDelta::hours(25));
    assert!(matches!(
        w.service
            .admit(&u, SubmitKind::Video, Some(b"key-1"), &same)
            .unwrap(),
        Admission::Fresh(_)
    ));
}

#[test]
fn the_quota_is_decided_before_validation() {
    let w = world();
    let u = free();
    for _ in 0..10 {
        w.submit(&u);
    }
    // The 11th: QUOTA_001 at admission, whatever the body holds.
    let e = w.admit(&u, SubmitKind::Video, None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::QuotaExhausted);
    match quota_error(e) {
        QuotaError::Exhausted { limit, used, .. } => assert_eq!((limit, used), (10, 10)),
        other => panic!("{other:?}"),
    }
    // A new cycle is whole again.
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap());
    assert!(w.admit(&u, SubmitKind::Video, None).is_ok());
}

#[test]
fn batches_are_refused_whole_with_exact_figures() {
    let w = world();
    let u = free();
    // Larger than the plan allows: QUOTA_002.
    let e = w
        .admit(&u, SubmitKind::Batch { size: Some(6) }, None)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BatchTooLarge);
    for _ in 0..8 {
        w.submit(&u);
    }
    // 3 with 2 left: QUOTA_003 naming the figures; a 1-item batch with
    // nothing left is QUOTA_003 too.
    match quota_error(
        w.admit(&u, SubmitKind::Batch { size: Some(3) }, None)
            .unwrap_err(),
    ) {
        QuotaError::InsufficientForBatch {
            limit,
            used,
            requested,
            remaining,
            ..
        } => assert_eq!((limit, used, requested, remaining), (10, 8, 3, 2)),
        other => panic!("{other:?}"),
    }
    w.submit_batch(&u, 2).unwrap();
    assert_eq!(w.used(&u), 10);
    let e = w
        .admit(&u, SubmitKind::Batch { size: Some(1) }, None)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::QuotaInsufficient);
    // No readable item list: validation's to report, not the quota's.
    assert!(w.admit(&u, SubmitKind::Batch { size: None }, None).is_ok());
}

#[test]
fn a_batch_the_transaction_refuses_is_quota_003_with_the_usage_before() {
    let w = world();
    let u = free();
    for _ in 0..7 {
        w.submit(&u);
    }
    // Admitted with 3 left; then another submission takes one.
    let ticket = fresh(
        w.admit(&u, SubmitKind::Batch { size: Some(3) }, None)
            .unwrap(),
    );
    w.submit(&u);
    let items = (0..3)
        .map(|i| request(&format!("Reef episode number {i}")))
        .collect();
    let e = w
        .service
        .submit_batch(ticket, None, items, &ids)
        .unwrap_err();
    match quota_error(e) {
        QuotaError::InsufficientForBatch {
            used,
            requested,
            remaining,
            ..
        } => assert_eq!((used, requested, remaining), (8, 3, 2)),
        other => panic!("{other:?}"),
    }
    // All or nothing: nothing of the batch was kept.
    assert_eq!(w.used(&u), 8);
}

#[test]
fn invalid_submissions_name_the_field_and_store_nothing() {
    let w = world();
    let u = free();
    let ticket = fresh(w.admit(&u, SubmitKind::Video, None).unwrap());
    let e = w
        .service
        .submit_video(ticket, request("short"), &ids)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PromptTooShort);
    let ticket = fresh(
        w.admit(&u, SubmitKind::Batch { size: Some(2) }, None)
            .unwrap(),
    );
    let items = vec![request("A fine first prompt"), request("tiny")];
    match w
        .service
        .submit_batch(ticket, None, items, &ids)
        .unwrap_err()
    {
        VideoError::Invalid(v) => assert_eq!(v.details()["index"], 1),
        other => panic!("{other:?}"),
    }
    let ticket = fresh(w.admit(&u, SubmitKind::Batch { size: None }, None).unwrap());
    let e = w
        .service
        .submit_batch(ticket, None, vec![], &ids)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::BatchEmpty);
    assert_eq!(w.used(&u), 0);
    assert!(w.store.videos.lock().unwrap().is_empty());
}

// ------------------------------------------------------------------ reads and cancels

#[test]
fn cancel_rules() {
    let w = world();
    let u = free();
    let id = w.submit(&u).to_string();
    let v = w.service.cancel_video(u.id, &id).unwrap();
    assert_eq!(v.status, VideoStatus::Cancelled);
    assert_eq!(w.used(&u), 0);
    let e = w.service.cancel_video(u.id, &id).unwrap_err();
    assert!(matches!(
        e,
        VideoError::NotCancellable(VideoStatus::Cancelled)
    ));
    // Another user's video, or not an id: NOT_FOUND_001.
    for (who, id) in [(UserId::new(), id.as_str()), (u.id, "nope")] {
        let e = w.service.cancel_video(who, id).unwrap_err();
        assert_eq!(e.code(), ErrorCode::VideoNotFound);
    }

    w.submit_batch(&u, 2).unwrap();
    let batch = w.store.batches.lock().unwrap()[0].id.to_string();
    let b = w.service.cancel_batch(u.id, &batch).unwrap();
    assert_eq!((b.status, b.counts.cancelled), (BatchStatus::Cancelled, 2));
    let e = w.service.cancel_batch(u.id, &batch).unwrap_err();
    assert!(matches!(
        e,
        VideoError::BatchNotCancellable(BatchStatus::Cancelled)
    ));
    let e = w.service.cancel_batch(UserId::new(), &batch).unwrap_err();
    assert_eq!(e.code(), ErrorCode::BatchNotFound);
}

#[test]
fn lists_page_newest_first_and_refuse_bad_parameters() {
    let w = world();
    let u = free();
    let mut made = Vec::new();
    for _ in 0..10 {
        made.push(w.submit(&u));
        w.clock.advance(TimeDelta::seconds(1));
    }
    made.reverse();
    let mut filter = VideoFilter {
        page: PageRequest {
            cursor: None,
            limit: Some(4),
        },
        ..VideoFilter::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = w.service.videos(u.id, &filter).unwrap();
        seen.extend(page.items.iter().map(|v| v.id));
        match page.next_cursor {
            Some(c) => filter.page.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, made);
    for (filter, parameter) in [
        (
            VideoFilter {
                page: PageRequest {
                    cursor: None,
                    limit: Some(0),
                },
                ..VideoFilter::default()
            },
            "limit",
        ),
        (
            VideoFilter {
                status: Some("done".into()),
                ..VideoFilter::default()
            },
            "status",
        ),
        (
            VideoFilter {
                batch_id: Some("x".into()),
                ..VideoFilter::default()
            },
            "batch_id",
        ),
        (
            VideoFilter {
                page: PageRequest {
                    cursor: Some("!!".into()),
                    limit: None,
                },
                ..VideoFilter::default()
            },
            "cursor",
        ),
    ] {
        match w.service.videos(u.id, &filter).unwrap_err() {
            VideoError::InvalidQuery { parameter: p, .. } => assert_eq!(p, parameter),
            other => panic!("{other:?}"),
        }
    }
    let page = w.service.batches(u.id, &PageRequest::default()).unwrap();
    assert!(page.items.is_empty() && page.next_cursor.is_none());
}

#[test]
fn a_batch_reads_back_with_its_videos_in_order() {
    let w = world();
    let u = user(&PlanName::ENTERPRISE, Role::User);
    w.submit_batch(&u, 100).unwrap();
    let id = w.store.batches.lock().unwrap()[0].id.to_string();
    let (batch, videos) = w.service.batch(u.id, &id).unwrap();
    assert_eq!((batch.total, videos.len()), (100, 100));
    let order: Vec<u32> = videos.iter().map(|v| v.batch.unwrap().1).collect();
    assert_eq!(order, (0..100).collect::<Vec<_>>());
}

#[test]
fn artifacts_of_completed_videos_only() {
    let w = world();
    let u = free();
    let id = w.submit(&u);
    let e = w
        .service
        .artifact(u.id, &id.to_string(), "manifest.json")
        .unwrap_err();
    assert!(matches!(e, VideoError::NotReady(VideoStatus::Queued)));
    // Completed without a manifest lists nothing.
    w.store.set_status(id, VideoStatus::Completed);
    let e = w
        .service
        .artifact(u.id, &id.to_string(), "manifest.json")
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ResourceNotFound);
    let e = w
        .service
        .artifact(u.id, &id.to_string(), "../etc/passwd")
        .unwrap_err();
    assert!(matches!(e, VideoError::ArtifactNotFound(_)));
    w.media
        .0
        .lock()
        .unwrap()
        .insert(format!("{id}/manifest.json"), b"{}".to_vec());
    assert!(
        w.service
            .artifact(UserId::new(), &id.to_string(), "manifest.json")
            .is_err()
    );
}

#[test]
fn usage_ranges_and_other_users() {
    let w = world();
    let u = free();
    w.submit(&u);
    let report = w.service.usage(&u, &UsageQuery::default()).unwrap();
    assert_eq!(report.user, u.id);
    assert_eq!(
        (report.from.to_string(), report.to.to_string()),
        ("2026-02-08".into(), "2026-03-10".into())
    );
    assert_eq!(report.days[0].submitted, 1);
    let q = |from: &str, to: &str| UsageQuery {
        from: Some(from.into()),
        to: Some(to.into()),
        user_id: None,
    };
    for (query, parameter) in [
        (q("2026-03-11", "2026-03-10"), "from"),
        (q("2025-01-01", "2026-03-10"), "from"),
        (q("yesterday", "2026-03-10"), "from"),
        (q("2026-03-01", "2026-13-01"), "to"),
    ] {
        match w.service.usage(&u, &query).unwrap_err() {
            VideoError::InvalidQuery { parameter: p, .. } => assert_eq!(p, parameter),
            other => panic!("{other:?}"),
        }
    }
    let other = UsageQuery {
        user_id: Some(u.id.to_string()),
        ..UsageQuery::default()
    };
    assert!(matches!(
        w.service.usage(&free(), &other).unwrap_err(),
        VideoError::Forbidden(_)
    ));
    let admin = user(&PlanName::FREE, Role::Admin);
    // Unknown to the user store: NOT_FOUND_003 naming it; once known, read.
    assert!(matches!(
        w.service.usage(&admin, &other).unwrap_err(),
        VideoError::UserNotFound(Some(id)) if id == u.id
    ));
    w.users.insert(&u).unwrap();
    assert_eq!(
        w.service.usage(&admin, &other).unwrap().days[0].submitted,
        1
    );
    let bad = UsageQuery {
        user_id: Some("not-an-id".into()),
        ..UsageQuery::default()
    };
    assert!(matches!(
        w.service.usage(&admin, &bad).unwrap_err(),
        VideoError::UserNotFound(None)
    ));
}

#[test]
fn an_account_on_an_unknown_plan_is_a_misconfiguration() {
    let w = world();
    let u = user(&PlanName::parse("gold").unwrap(), Role::User);
    let e = w.admit(&u, SubmitKind::Video, None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Misconfigured);
    assert_eq!(
        w.service.quota_status(&u).unwrap_err().code(),
        ErrorCode::Misconfigured
    );
}

// ------------------------------------------------------------------ runs

fn runner(runs: Arc<FakeRuns>, clock: Arc<ManualClock>, jitter: f64) -> JobRunner {
    let media = Arc::new(FakeMedia::default());
    let pipeline = Pipeline::with_provider(media);
    JobRunner::new(
        runs,
        pipeline,
        clock,
        RetryPolicy::default(),
        Arc::new(move || jitter),
    )
}

fn claimed(attempts: u32, max_attempts: u32) -> ClaimedJob {
    ClaimedJob {
        id: JobId::new(),
        video_id: VideoId::new(),
        priority: 3,
        attempts,
        max_attempts,
        fencing_token: 1,
        lease_until: t0(),
    }
}

fn failed(retryable: bool) -> RunOutcome {
    RunOutcome::Failed {
        code: ErrorCode::ImagenUnavailable,
        message: "down".into(),
        retryable,
        cause: "503".into(),
    }
}

#[test]
fn a_failed_attempt_retries_with_backoff_until_attempts_run_out() {
    let clock = Arc::new(ManualClock::new(t0()));
    let runs = Arc::new(FakeRuns::default());
    let r = runner(runs.clone(), clock, 1.0);
    let policy = RetryPolicy::default();
    assert_eq!(
        r.finish(&claimed(1, 3), failed(true)).unwrap(),
        Some(RunEnd::Retrying)
    );
    assert_eq!(
        r.finish(&claimed(2, 3), failed(true)).unwrap(),
        Some(RunEnd::Retrying)
    );
    assert_eq!(
        r.finish(&claimed(3, 3), failed(true)).unwrap(),
        Some(RunEnd::Failed)
    );
    assert_eq!(
        r.finish(&claimed(1, 3), failed(false)).unwrap(),
        Some(RunEnd::Failed)
    );
    assert_eq!(
        r.finish(&claimed(1, 3), RunOutcome::Cancelled).unwrap(),
        Some(RunEnd::Cancelled)
    );
    let endings = runs.endings.lock().unwrap();
    let RunEnding::Retry { code, run_at, .. } = &endings[1] else {
        panic!("{:?}", endings[1]);
    };
    assert_eq!(code, "MEDIA_002");
    assert_eq!(*run_at, t0() + policy.backoff(2, 1.0));
    assert_eq!(
        endings[2],
        RunEnding::Failed {
            code: "MEDIA_002".into(),
            message: "down".into()
        }
    );
}

#[test]
fn a_pipeline_failure_maps_to_its_code_and_retry_flag() {
    let clock = Arc::new(ManualClock::new(t0()));
    let r = runner(Arc::new(FakeRuns::default()), clock, 0.0);
    let spec = VideoSpec::parse(request("A calm documentary about coral reefs")).unwrap();
    let video = Video {
        id: VideoId::new(),
        user: UserId::new(),
        batch: None,
        status: VideoStatus::Processing,
        spec,
        priority: 3,
        reservation: None,
        attempts: 1,
        error_code: None,
        error_message: None,
        manifest: None,
        created_at: t0(),
        updated_at: t0(),
        started_at: None,
        completed_at: None,
        artifacts_expired_at: None,
        artifacts_expire_at: None,
    };
    let outcome = futures_lite_block_on(r.produce(&video, &ytvc_domain::pipeline::NoProgress));
    match outcome {
        RunOutcome::Failed {
            code,
            message,
            cause,
            ..
        } => {
            // The fake script writer fails: the storyboard step's code.
            assert_eq!(message, code.default_message());
            assert!(cause.contains("fake"), "{cause}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn orphans_are_settled_with_the_jobs_last_error() {
    let clock = Arc::new(ManualClock::new(t0()));
    let runs = Arc::new(FakeRuns::default());
    let (a, b, c) = (VideoId::new(), VideoId::new(), VideoId::new());
    *runs.orphans.lock().unwrap() = vec![
        Orphan {
            video: a,
            job_state: JobState::Failed,
            last_error: Some("lease_expired".into()),
        },
        Orphan {
            video: b,
            job_state: JobState::Failed,
            last_error: Some("MEDIA_003".into()),
        },
        Orphan {
            video: c,
            job_state: JobState::Cancelled,
            last_error: Some("lease_expired".into()),
        },
    ];
    let r = runner(runs.clone(), clock, 0.5);
    assert_eq!(r.settle_orphans().unwrap(), 3);
    let ended = runs.ended.lock().unwrap();
    let message = ytvc_domain::videos::runner::WORKER_LOST_MESSAGE.to_owned();
    assert_eq!(
        *ended,
        vec![
            (
                a,
                OrphanEnding::Failed {
                    code: "VIDEO_001".into(),
                    message: message.clone()
                }
            ),
            (
                b,
                OrphanEnding::Failed {
                    code: "MEDIA_003".into(),
                    message
                }
            ),
            (c, OrphanEnding::Cancelled),
        ]
    );
}

/// Polls a future to completion on this thread (the fakes never wait).
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
