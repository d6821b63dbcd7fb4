//! The video store on every backend: a submission is one transaction; a
//! stored video reads back as written; the end of a run settles its
//! reservation and its batch.

use chrono::{TimeDelta, TimeZone, Utc};
use diesel::RunQueryDsl;
use ytvc_domain::accounts::{Role, User};
use ytvc_domain::auth::UserRepository;
use ytvc_domain::ids::{UserId, VideoId};
use ytvc_domain::jobs::{JobQueue, RetryPolicy};
use ytvc_domain::media::{Manifest, StoredArtifact};
use ytvc_domain::repo::RepoError;
use ytvc_domain::validation::{AspectRatio, Email, Language, RawVideoRequest, Style, Voice};
use ytvc_domain::videos::{
    self, BatchStatus, CancelResult, RunEnd, RunEnding, SubmitError, VideoQuery, VideoRepository,
    VideoRuns, VideoStatus,
};
use ytvc_persistence::jobs::SqlJobQueue;
use ytvc_persistence::testing::TestDb;
use ytvc_persistence::{SqlAccounts, SqlQuotaStore, SqlVideos};
use ytvc_quota::{AnchorDay, Plan, PlanName, QuotaStore, Usage, UserKey, cycle_for};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
}

fn user(db: &TestDb) -> User {
    let u = User {
        id: UserId::new(),
        email: Email::parse(format!("{}@example.com", uuid::Uuid::new_v4().simple())).unwrap(),
        password_hash: "x".into(),
        role: Role::User,
        plan: PlanName::FREE,
        billing_anchor_day: AnchorDay::FIRST,
        created_at: now(),
        updated_at: now(),
    };
    SqlAccounts::new(db.database().clone()).insert(&u).unwrap();
    u
}

fn raw(i: usize) -> RawVideoRequest {
    RawVideoRequest {
        prompt: Some(format!("A calm documentary about coral reefs, part {i}")),
        ..RawVideoRequest::default()
    }
}

fn count(db: &TestDb, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.database().conn().unwrap();
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<N>(&mut *conn)
        .unwrap()
        .n
}

fn used(db: &TestDb, u: &User) -> u64 {
    SqlQuotaStore::new(db.database().clone())
        .usage(
            &UserKey::from(u.id.to_string()),
            cycle_for(u.billing_anchor_day, now()).start(),
        )
        .unwrap()
        .used()
}

#[test]
fn a_failure_mid_batch_leaves_nothing_behind() {
    for db in TestDb::all() {
        let store = SqlVideos::new(db.database().clone());
        let u = user(&db);
        let plan = Plan::free();
        let mut sub = videos::prepare_batch(
            &u,
            &plan,
            Some("x".into()),
            (0..5).map(raw).collect(),
            now(),
            &RetryPolicy::default(),
        )
        .unwrap();
        // Inject a failure at the fourth item: its id repeats the second's.
        sub.videos[3].video.id = sub.videos[1].video.id;
        let err = store.submit(&sub).unwrap_err();
        assert!(matches!(err, SubmitError::Repo(_)), "{err:?}");
        for table in ["batches", "videos", "jobs", "quota_reservations"] {
            assert_eq!(count(&db, table), 0, "{table} on {:?}", db.backend());
        }
        assert_eq!(used(&db, &u), 0, "quota untouched");
    }
}

#[test]
fn a_batch_larger_than_the_remaining_quota_is_refused_whole() {
    for db in TestDb::all() {
        let store = SqlVideos::new(db.database().clone());
        let u = user(&db);
        let plan = Plan::free();
        for i in 0..8 {
            store
                .submit(
                    &videos::prepare_video(&u, &plan, raw(i), now(), &RetryPolicy::default())
                        .unwrap(),
                )
                .unwrap();
        }
        let sub = videos::prepare_batch(
            &u,
            &plan,
            None,
            (0..3).map(raw).collect(),
            now(),
            &RetryPolicy::default(),
        )
        .unwrap();
        let err = store.submit(&sub).unwrap_err();
        assert!(matches!(err, SubmitError::Quota(_)), "{err:?}");
        assert_eq!(count(&db, "videos"), 8);
        assert_eq!(count(&db, "batches"), 0);
        assert_eq!(used(&db, &u), 8);
    }
}

#[test]
fn concurrent_submissions_never_overspend() {
    for db in TestDb::all() {
        let store = std::sync::Arc::new(SqlVideos::new(db.database().clone()));
        let u = user(&db);
        let plan = Plan::free();
        let ok = std::thread::scope(|s| {
            let handles: Vec<_> = (0..24)
                .map(|i| {
                    let store = store.clone();
                    let u = u.clone();
                    let plan = plan.clone();
                    s.spawn(move || {
                        let sub = if i % 3 == 0 {
                            videos::prepare_batch(
                                &u,
                                &plan,
                                None,
                                (0..2).map(raw).collect(),
                                now(),
                                &RetryPolicy::default(),
                            )
                            .unwrap()
                        } else {
                            videos::prepare_video(&u, &plan, raw(i), now(), &RetryPolicy::default())
                                .unwrap()
                        };
                        match store.submit(&sub) {
                            Ok(()) => sub.videos.len(),
                            Err(SubmitError::Quota(_)) => 0,
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum::<usize>()
        });
        assert!(ok <= 10, "{ok} videos accepted on {:?}", db.backend());
        assert_eq!(ok, 10, "demand exceeded supply, so the quota fills exactly");
        assert_eq!(count(&db, "videos"), 10);
        assert_eq!(used(&db, &u), 10);
    }
}

#[test]
fn cancel_and_lists() {
    for db in TestDb::all() {
        let store = SqlVideos::new(db.database().clone());
        let u = user(&db);
        let plan = Plan::free();
        let sub = videos::prepare_video(&u, &plan, raw(0), now(), &RetryPolicy::default()).unwrap();
        let id = sub.videos[0].video.id;
        store.submit(&sub).unwrap();
        let listed = store
            .videos(
                u.id,
                &VideoQuery {
                    limit: 10,
                    ..VideoQuery::default()
                },
            )
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].spec.prompt.as_str(),
            "A calm documentary about coral reefs, part 0"
        );
        match store.cancel_video(u.id, id, now()).unwrap().unwrap() {
            CancelResult::Cancelled(v) => assert_eq!(v.status, VideoStatus::Cancelled),
            other => panic!("{other:?}"),
        }
        assert_eq!(used(&db, &u), 0);
        assert!(matches!(
            store.cancel_video(u.id, id, now()).unwrap().unwrap(),
            CancelResult::TooLate(_)
        ));
        let stranger = UserId::new();
        assert!(store.cancel_video(stranger, id, now()).unwrap().is_none());
        assert!(store.video(stranger, id).unwrap().is_none());
    }
}

fn exec(db: &TestDb, sql: &str) {
    let mut conn = db.database().conn().unwrap();
    diesel::sql_query(sql)
        .execute(&mut *conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn usage(db: &TestDb, u: &User) -> Usage {
    SqlQuotaStore::new(db.database().clone())
        .usage(
            &UserKey::from(u.id.to_string()),
            cycle_for(u.billing_anchor_day, now()).start(),
        )
        .unwrap()
}

/// A (minimal) manifest of `video`.
fn manifest(video: VideoId) -> Manifest {
    Manifest {
        version: Manifest::VERSION,
        video_id: video.to_string(),
        title: "Reefs".to_owned(),
        aspect_ratio: AspectRatio::Portrait,
        style: Style::Documentary,
        voice: Voice::NarratorFemale,
        language: Language::parse("pt-BR").unwrap(),
        total_duration_seconds: 30,
        provider: "local".to_owned(),
        providers: Default::default(),
        degraded: false,
        storyboard: StoredArtifact {
            name: "storyboard.json".to_owned(),
            media_type: "application/json".to_owned(),
            size: 2,
            sha256: "0".repeat(64),
        },
        scenes: Vec::new(),
        video: None,
    }
}

#[test]
fn the_spec_and_the_manifest_read_back_as_written() {
    for db in TestDb::all() {
        let backend = db.backend();
        let store = SqlVideos::new(db.database().clone());
        let queue = SqlJobQueue::new(db.database().clone());
        let u = user(&db);
        let request = RawVideoRequest {
            prompt: Some("  A calm documentary about coral reefs  ".into()),
            title: Some("Reefs".into()),
            duration_seconds: Some(30),
            style: Some("Documentary".into()),
            aspect_ratio: Some("9:16".into()),
            voice: Some("narrator_female".into()),
            language: Some("pt-BR".into()),
        };
        let sub = videos::prepare_video(&u, &Plan::free(), request, now(), &RetryPolicy::default())
            .unwrap();
        let written = sub.videos[0].video.clone();
        store.submit(&sub).unwrap();
        let read = store.video(u.id, written.id).unwrap().unwrap();
        assert_eq!(read, written, "{backend}");
        assert_eq!(
            read.spec.prompt.as_str(),
            "A calm documentary about coral reefs"
        );

        // Its run completes with a manifest, which reads back too.
        let job = queue
            .claim("w", 1, TimeDelta::minutes(1), now())
            .unwrap()
            .remove(0);
        assert_eq!(job.video_id, written.id);
        store.start_run(&job, now()).unwrap().unwrap();
        let ending = RunEnding::Completed {
            manifest: Box::new(manifest(written.id)),
        };
        assert_eq!(
            store.finish_run(&job, &ending, now()).unwrap(),
            Some(RunEnd::Completed)
        );
        let done = store.video(u.id, written.id).unwrap().unwrap();
        assert_eq!(done.status, VideoStatus::Completed);
        assert_eq!(done.manifest, Some(manifest(written.id)), "{backend}");
        assert_eq!(done.spec, written.spec);
    }
}

#[test]
fn an_unreadable_manifest_is_absent_and_an_unreadable_spec_is_a_corrupt_row() {
    for db in TestDb::all() {
        let backend = db.backend();
        let store = SqlVideos::new(db.database().clone());
        let u = user(&db);
        let sub = videos::prepare_video(&u, &Plan::free(), raw(0), now(), &RetryPolicy::default())
            .unwrap();
        let id = sub.videos[0].video.id;
        store.submit(&sub).unwrap();

        // A manifest this version cannot read is read leniently: absent.
        exec(
            &db,
            &format!(
                "UPDATE videos SET status = 'completed', artifacts = '{{\"version\": 1}}' \
                 WHERE id = '{id}'"
            ),
        );
        let v = store.video(u.id, id).unwrap().unwrap();
        assert_eq!((v.status, v.manifest), (VideoStatus::Completed, None));

        // A spec that no longer parses is a corrupt row, not a video.
        exec(
            &db,
            &format!("UPDATE videos SET style = 'baroque' WHERE id = '{id}'"),
        );
        let err = store.video(u.id, id).unwrap_err();
        assert!(
            matches!(&err, RepoError::Other(m) if m.contains("corrupt video row")),
            "{backend}: {err:?}"
        );
    }
}

#[test]
fn the_end_of_each_run_settles_its_reservation_and_its_batch() {
    for db in TestDb::all() {
        let backend = db.backend();
        let store = SqlVideos::new(db.database().clone());
        let queue = SqlJobQueue::new(db.database().clone());
        let u = user(&db);
        let sub = videos::prepare_batch(
            &u,
            &Plan::free(),
            None,
            (0..3).map(raw).collect(),
            now(),
            &RetryPolicy::default(),
        )
        .unwrap();
        let batch = sub.batch.as_ref().unwrap().id;
        store.submit(&sub).unwrap();
        assert_eq!((usage(&db, &u).committed, usage(&db, &u).reserved), (0, 3));

        let lease = TimeDelta::minutes(1);
        let jobs = queue.claim("w", 3, lease, now()).unwrap();
        assert_eq!(jobs.len(), 3, "{backend}");
        for job in &jobs {
            store.start_run(job, now()).unwrap().unwrap();
        }
        let status = || store.batch(u.id, batch).unwrap().unwrap().status;
        assert_eq!(status(), BatchStatus::Processing);
        let (a, b, c) = (&jobs[0], &jobs[1], &jobs[2]);
        let completed = RunEnding::Completed {
            manifest: Box::new(manifest(a.video_id)),
        };
        assert_eq!(
            store.finish_run(a, &completed, now()).unwrap(),
            Some(RunEnd::Completed)
        );
        let failed = RunEnding::Failed {
            code: "LLM_004".into(),
            message: "The script could not be written".into(),
        };
        assert_eq!(
            store.finish_run(b, &failed, now()).unwrap(),
            Some(RunEnd::Failed)
        );
        let later = now() + TimeDelta::seconds(10);
        let retry = RunEnding::Retry {
            code: "MEDIA_001".into(),
            message: "The clip could not be made".into(),
            run_at: later,
        };
        assert_eq!(
            store.finish_run(c, &retry, now()).unwrap(),
            Some(RunEnd::Retrying)
        );
        // Committed one, released one, still holding one.
        assert_eq!((usage(&db, &u).committed, usage(&db, &u).reserved), (1, 1));
        assert_eq!(status(), BatchStatus::Processing);
        let retried = store.video(u.id, c.video_id).unwrap().unwrap();
        assert_eq!(retried.status, VideoStatus::Queued);
        assert_eq!(retried.error_code.as_deref(), Some("MEDIA_001"));

        // The retry runs, and is cancelled: the batch has finished.
        let again = queue.claim("w", 1, lease, later).unwrap().remove(0);
        assert_eq!((again.id, again.attempts), (c.id, 2));
        store.start_run(&again, later).unwrap().unwrap();
        assert_eq!(
            store
                .finish_run(&again, &RunEnding::Cancelled, later)
                .unwrap(),
            Some(RunEnd::Cancelled)
        );
        assert_eq!((usage(&db, &u).committed, usage(&db, &u).reserved), (1, 0));
        let finished = store.batch(u.id, batch).unwrap().unwrap();
        assert_eq!(finished.status, BatchStatus::PartiallyFailed, "{backend}");
        assert_eq!(
            (
                finished.counts.completed,
                finished.counts.failed,
                finished.counts.cancelled
            ),
            (1, 1, 1)
        );
    }
}
