//! `SqlJobQueue` on every configured backend: claim order, ageing, leases
//! and fencing, retries, cancellation, and concurrency — worker threads on
//! two pools, two worker processes, and a worker killed with SIGKILL in the
//! middle of a job.
//!
//! A run is started and finished the way the worker does it, through the
//! video store (`VideoRuns::start_run` / `finish_run`, which write the job
//! and its video in one fenced transaction); the retry decision is the
//! domain's `JobRunner`'s, mirrored here by [`failure`].
//!
//! PostgreSQL runs when `YTVC_TEST_DATABASE_URL` is set (a fresh database per
//! test); otherwise only SQLite runs. Time is a parameter: every test but
//! `killed_worker_job_is_reaped_and_completed_once` uses fixed instants.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use diesel::RunQueryDsl;
use ytvc_domain::ids::{UserId, VideoId};
use ytvc_domain::jobs::{
    ClaimedJob, JobError, JobId, JobQueue, JobState, NewJob, ReapOutcome, RetryPolicy,
};
use ytvc_domain::media::{Manifest, StoredArtifact};
use ytvc_domain::repo::RepoError;
use ytvc_domain::validation::{AspectRatio, Language, Style, Voice};
use ytvc_domain::videos::{
    CancelResult, Orphan, OrphanEnding, RunEnd, RunEnding, Video, VideoRepository, VideoRuns,
    VideoStatus,
};
use ytvc_persistence::jobs::{LEASE_EXPIRED, SqlJobQueue, enqueue_in};
use ytvc_persistence::testing::TestDb;
use ytvc_persistence::tx::write_transaction;
use ytvc_persistence::{Backend, Database, DbConfig, DbError, SqlVideos};

// ---------------------------------------------------------------------------
// Helpers.

const T0: &str = "2026-03-01T12:00:00Z";

/// `T0 + secs`.
fn at(secs: i64) -> DateTime<Utc> {
    T0.parse::<DateTime<Utc>>().unwrap() + TimeDelta::seconds(secs)
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_backoff: TimeDelta::seconds(10),
        max_backoff: TimeDelta::seconds(60),
    }
}

fn queue(db: &Database) -> SqlJobQueue {
    SqlJobQueue::new(db.clone())
}

fn exec(db: &Database, sql: &str) {
    let mut conn = db.conn().unwrap();
    diesel::sql_query(sql)
        .execute(&mut *conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Inserts a user.
fn user(db: &Database) -> UserId {
    let id = UserId::new();
    exec(
        db,
        &format!(
            "INSERT INTO users (id, email, password_hash, role, plan, billing_anchor_day, \
             created_at, updated_at) VALUES ('{id}', '{}@example.com', 'x', 'user', 'free', 1, \
             '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            id.0.simple()
        ),
    );
    id
}

/// A queued video row of `user` (a valid stored spec, no reservation).
fn video_values(id: VideoId, user: UserId) -> String {
    format!(
        "('{id}', '{user}', 'queued', 'a prompt long enough', 60, 'cinematic', '16:9', \
         'neutral', 'en', 2, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
}

const VIDEO_COLUMNS: &str = "INSERT INTO videos (id, user_id, status, prompt, \
    duration_seconds, style, aspect_ratio, voice, language, priority, created_at, updated_at) \
    VALUES ";

/// Inserts a user and `n` queued videos of theirs; returns both.
fn owned_videos(db: &Database, n: usize) -> (UserId, Vec<VideoId>) {
    let owner = user(db);
    let ids: Vec<VideoId> = (0..n).map(|_| VideoId::new()).collect();
    for chunk in ids.chunks(200) {
        let values: Vec<String> = chunk.iter().map(|id| video_values(*id, owner)).collect();
        exec(db, &format!("{VIDEO_COLUMNS}{}", values.join(", ")));
    }
    (owner, ids)
}

/// Inserts a user and `n` queued videos; returns the videos.
fn videos(db: &Database, n: usize) -> Vec<VideoId> {
    owned_videos(db, n).1
}

/// Enqueues `job` in a transaction of its own (as a submission does, with
/// its video and reservation).
fn enqueue(db: &Database, job: &NewJob) -> JobId {
    let mut conn = db.conn().unwrap();
    write_transaction(&mut conn, |conn| enqueue_in(conn, job)).unwrap()
}

/// Enqueues one job per video at `priority`, runnable at `run_at`.
fn enqueue_all(
    db: &Database,
    videos: &[VideoId],
    priority: u8,
    run_at: DateTime<Utc>,
) -> Vec<JobId> {
    videos
        .iter()
        .map(|v| enqueue(db, &NewJob::new(*v, priority, run_at, &policy())))
        .collect()
}

/// A second pool on the test database.
fn pool(db: &TestDb, size: u32) -> Database {
    let mut config = DbConfig::new(db.url());
    config.pool_size = size;
    config.max_overflow = 0;
    config.connection_timeout = Duration::from_secs(30);
    Database::connect(&config).unwrap()
}

fn state(q: &SqlJobQueue, id: JobId) -> JobState {
    q.get(id).unwrap().unwrap().state
}

fn runs(db: &Database) -> SqlVideos {
    SqlVideos::new(db.clone())
}

fn video(db: &Database, owner: UserId, id: VideoId) -> Video {
    runs(db).video(owner, id).unwrap().unwrap()
}

/// A (minimal) manifest of `video`.
fn manifest(video: VideoId) -> Box<Manifest> {
    let file = |name: &str| StoredArtifact {
        name: name.to_owned(),
        media_type: "application/json".to_owned(),
        size: 2,
        sha256: "0".repeat(64),
    };
    Box::new(Manifest {
        version: Manifest::VERSION,
        video_id: video.to_string(),
        title: "A title".to_owned(),
        aspect_ratio: AspectRatio::DEFAULT,
        style: Style::DEFAULT,
        voice: Voice::DEFAULT,
        language: Language::default(),
        total_duration_seconds: 60,
        provider: "local".to_owned(),
        providers: Default::default(),
        degraded: false,
        storyboard: file("storyboard.json"),
        scenes: Vec::new(),
        video: None,
    })
}

fn completed(video: VideoId) -> RunEnding {
    RunEnding::Completed {
        manifest: manifest(video),
    }
}

/// How the domain's `JobRunner` ends a failed attempt of `job` (its
/// `ending`): another attempt after `policy`'s full backoff (jitter 1.0)
/// when the error is retryable and attempts are left, else a final failure.
fn failure(
    policy: &RetryPolicy,
    job: &ClaimedJob,
    code: &str,
    retryable: bool,
    now: DateTime<Utc>,
) -> RunEnding {
    let (code, message) = (code.to_owned(), format!("{code} happened"));
    if RetryPolicy::should_retry(job.attempts, job.max_attempts, retryable) {
        RunEnding::Retry {
            code,
            message,
            run_at: now + policy.backoff(job.attempts, 1.0),
        }
    } else {
        RunEnding::Failed { code, message }
    }
}

// ---------------------------------------------------------------------------
// Order and ageing.

#[test]
fn claims_follow_priority_then_run_at_then_id() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let v = videos(db.database(), 8);
        // (video, plan priority, run_at offset)
        let plan = [
            (0, 3, 0),  // free, oldest
            (1, 1, 20), // enterprise
            (2, 2, 5),  // pro
            (3, 1, 10), // enterprise, older
            (4, 3, -5), // free, even older
            (5, 2, 5),  // pro, same run_at as v2: id breaks the tie (v7 ids grow)
            (6, 1, 90), // enterprise, not due yet at +60
            (7, 2, 30), // pro
        ];
        let mut ids = HashMap::new();
        for (i, priority, offset) in plan {
            let id = enqueue(
                db.database(),
                &NewJob::new(v[i], priority, at(offset), &policy()),
            );
            ids.insert(id, i);
        }
        let mut order = Vec::new();
        for _ in 0..8 {
            let claimed = q.claim("w", 1, TimeDelta::minutes(5), at(60)).unwrap();
            let Some(job) = claimed.first() else { break };
            assert_eq!(job.attempts, 1);
            assert_eq!(job.fencing_token, 1);
            assert_eq!(job.lease_until, at(360));
            order.push(ids[&job.id]);
        }
        assert_eq!(order, [3, 1, 2, 5, 7, 4, 0], "{backend}");
        // v6 becomes due at +90; a batch claim returns claim order.
        let later = q.claim("w", 10, TimeDelta::minutes(5), at(90)).unwrap();
        assert_eq!(later.len(), 1, "{backend}");
        assert_eq!(ids[&later[0].id], 6);
        let counts = q.counts().unwrap();
        assert_eq!((counts.running, counts.total()), (8, 8), "{backend}");
    }
}

#[test]
fn batch_claims_come_back_in_claim_order() {
    for db in TestDb::all() {
        let q = queue(db.database());
        let v = videos(db.database(), 30);
        let mut expected = Vec::new();
        for (i, video) in v.iter().enumerate() {
            let priority = [3, 1, 2][i % 3];
            let run_at = at(i64::try_from(30 - i).unwrap());
            let id = enqueue(
                db.database(),
                &NewJob::new(*video, priority, run_at, &policy()),
            );
            expected.push((priority, run_at, id));
        }
        expected.sort();
        let claimed = q.claim("w", 12, TimeDelta::minutes(1), at(100)).unwrap();
        let got: Vec<JobId> = claimed.iter().map(|c| c.id).collect();
        let want: Vec<JobId> = expected.iter().take(12).map(|e| e.2).collect();
        assert_eq!(got, want, "{}", db.backend());
        // Never more than the limit (a PostgreSQL planner trap once made one
        // claim take every available job).
        assert_eq!(q.counts().unwrap().running, 12, "{}", db.backend());
        for limit in [1, 2, 5] {
            let more = q.claim("w", limit, TimeDelta::minutes(1), at(100)).unwrap();
            assert_eq!(more.len(), limit as usize);
        }
        assert_eq!(q.counts().unwrap().running, 20, "{}", db.backend());
    }
}

#[test]
fn ageing_lets_a_free_job_overtake_a_stream_of_enterprise_jobs() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let interval = TimeDelta::seconds(60);
        let v = videos(db.database(), 40);
        let free = enqueue(db.database(), &NewJob::new(v[0], 3, at(0), &policy()));
        let pro = enqueue(db.database(), &NewJob::new(v[1], 2, at(0), &policy()));
        // An enterprise job every 5 s; each tick one worker claims one job.
        let mut claimed_at = None;
        for (tick, video) in (0..30_i64).zip(&v[2..]) {
            let now = at(tick * 5);
            enqueue(db.database(), &NewJob::new(*video, 1, now, &policy()));
            q.age_priorities(now, interval).unwrap();
            // Before a full interval nothing has aged.
            if tick * 5 < 60 {
                assert_eq!(
                    q.get(free).unwrap().unwrap().priority,
                    3,
                    "{backend} t={tick}"
                );
            }
            let job = q.claim("w", 1, TimeDelta::minutes(5), now).unwrap();
            if job[0].id == free {
                claimed_at = Some(tick * 5);
                break;
            }
        }
        // 3 -> 2 at +60, 2 -> 1 at +120; then its run_at (+0) is older than
        // every waiting enterprise job's. The pro job reached 1 at +60 and
        // was claimed then (run_at +0 beats the enterprise job of +60).
        assert_eq!(claimed_at, Some(120), "{backend}");
        let pro = q.get(pro).unwrap().unwrap();
        assert_eq!(pro.state, JobState::Running, "{backend}: pro ran before");
        assert_eq!((pro.priority, pro.base_priority), (1, 2));
        let free = q.get(free).unwrap().unwrap();
        assert_eq!((free.priority, free.base_priority), (1, 3));
        assert_eq!(free.aged_at, at(120));
    }
}

#[test]
fn ageing_steps_once_per_interval_and_stops_at_one() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let interval = TimeDelta::seconds(60);
        let v = videos(db.database(), 3);
        let waiting = enqueue(db.database(), &NewJob::new(v[0], 3, at(0), &policy()));
        let running = enqueue(db.database(), &NewJob::new(v[1], 3, at(0), &policy()));
        let ent = enqueue(db.database(), &NewJob::new(v[2], 1, at(0), &policy()));
        // Claim `running` out of order: ent first, then the older free one.
        let c = q.claim("w", 2, TimeDelta::hours(1), at(0)).unwrap();
        let claimed: BTreeSet<_> = c.iter().map(|c| c.id).collect();
        assert!(claimed.contains(&ent) && claimed.len() == 2, "{backend}");
        let (waiting, running) = if claimed.contains(&waiting) {
            (running, waiting)
        } else {
            (waiting, running)
        };
        assert_eq!(q.age_priorities(at(59), interval).unwrap(), 0);
        assert_eq!(q.age_priorities(at(60), interval).unwrap(), 1);
        // The clock was reset: calling often does not age faster.
        assert_eq!(q.age_priorities(at(61), interval).unwrap(), 0);
        assert_eq!(q.age_priorities(at(119), interval).unwrap(), 0);
        assert_eq!(q.age_priorities(at(120), interval).unwrap(), 1);
        assert_eq!(q.age_priorities(at(600), interval).unwrap(), 0);
        assert_eq!(q.get(waiting).unwrap().unwrap().priority, 1);
        // Running jobs never age.
        assert_eq!(q.get(running).unwrap().unwrap().priority, 3, "{backend}");
    }
}

// ---------------------------------------------------------------------------
// Leases and fencing.

#[test]
fn a_worker_that_lost_its_lease_cannot_write() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let runs = runs(db.database());
        let (owner, v) = owned_videos(db.database(), 1);
        let id = enqueue_all(db.database(), &v, 2, at(0))[0];
        let lease = TimeDelta::seconds(30);

        let old = q.claim("worker-a", 1, lease, at(0)).unwrap().remove(0);
        assert_eq!((old.fencing_token, old.attempts), (1, 1));
        assert_eq!(old.video_id, v[0]);
        let started = runs.start_run(&old, at(1)).unwrap().unwrap();
        assert_eq!(started.status, VideoStatus::Processing, "{backend}");
        // A heartbeat extends the lease: nothing to reap at +40.
        let hb = q.heartbeat(id, old.fencing_token, lease, at(20)).unwrap();
        assert_eq!(hb.lease_until, at(50));
        assert!(!hb.cancel_requested);
        assert_eq!(q.reap_expired(at(40)).unwrap(), ReapOutcome::default());
        // worker-a stalls; its lease ends at +50; the reaper requeues at +51.
        assert_eq!(
            q.reap_expired(at(51)).unwrap(),
            ReapOutcome {
                requeued: 1,
                ..ReapOutcome::default()
            }
        );
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!(rec.state, JobState::Available);
        assert_eq!(rec.last_error.as_deref(), Some(LEASE_EXPIRED));
        assert_eq!((rec.lease_owner, rec.lease_until), (None, None));
        // Even before anyone reclaims it, the stale worker cannot write.
        assert_eq!(
            runs.finish_run(&old, &completed(v[0]), at(52)).unwrap(),
            None
        );

        let new = q.claim("worker-b", 1, lease, at(53)).unwrap().remove(0);
        assert_eq!((new.id, new.fencing_token, new.attempts), (id, 2, 2));

        // Every write of the old worker is refused, and changes nothing.
        let stale = old.fencing_token;
        assert_eq!(
            runs.finish_run(&old, &completed(v[0]), at(54)).unwrap(),
            None,
            "{backend}"
        );
        assert!(matches!(
            q.heartbeat(id, stale, lease, at(54)),
            Err(JobError::LeaseLost)
        ));
        for ending in [
            failure(&policy(), &old, "VIDEO_001", true, at(54)),
            failure(&policy(), &old, "VIDEO_001", false, at(54)),
            RunEnding::Cancelled,
        ] {
            assert_eq!(runs.finish_run(&old, &ending, at(54)).unwrap(), None);
        }
        assert_eq!(runs.start_run(&old, at(54)).unwrap(), None);
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!(rec.state, JobState::Running);
        assert_eq!(rec.lease_owner.as_deref(), Some("worker-b"));
        assert_eq!(rec.lease_until, Some(at(83)));
        let untouched = video(db.database(), owner, v[0]);
        assert_eq!(untouched.status, VideoStatus::Processing);
        assert_eq!((untouched.error_code, untouched.manifest), (None, None));

        assert_eq!(
            runs.finish_run(&new, &completed(v[0]), at(60)).unwrap(),
            Some(RunEnd::Completed)
        );
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!(rec.state, JobState::Completed);
        assert_eq!(rec.finished_at, Some(at(60)));
        let done = video(db.database(), owner, v[0]);
        assert_eq!(done.status, VideoStatus::Completed);
        assert_eq!(done.manifest, Some(*manifest(v[0])), "{backend}");
        assert_eq!(done.completed_at, Some(at(60)));
        // Completing twice is refused as well (the job is no longer running).
        assert_eq!(
            runs.finish_run(&new, &completed(v[0]), at(61)).unwrap(),
            None
        );
        // Unknown jobs are NotFound, not LeaseLost.
        assert!(matches!(
            q.heartbeat(JobId::new(), 1, lease, at(61)),
            Err(JobError::NotFound)
        ));
    }
}

#[test]
fn an_expired_but_unreaped_lease_is_still_its_holders() {
    for db in TestDb::all() {
        let q = queue(db.database());
        let v = videos(db.database(), 1);
        let id = enqueue_all(db.database(), &v, 1, at(0))[0];
        let job = q
            .claim("w", 1, TimeDelta::seconds(10), at(0))
            .unwrap()
            .remove(0);
        // No reaper ran: nobody else can have the job, the late heartbeat
        // renews it and the result is accepted.
        q.heartbeat(id, job.fencing_token, TimeDelta::seconds(10), at(15))
            .unwrap();
        assert_eq!(q.reap_expired(at(20)).unwrap(), ReapOutcome::default());
        assert_eq!(
            runs(db.database())
                .finish_run(&job, &completed(v[0]), at(21))
                .unwrap(),
            Some(RunEnd::Completed)
        );
        assert_eq!(state(&q, id), JobState::Completed);
    }
}

#[test]
fn the_reaper_fails_jobs_without_attempts_left() {
    for db in TestDb::all() {
        let q = queue(db.database());
        let runs = runs(db.database());
        let (owner, v) = owned_videos(db.database(), 1);
        let one_shot = RetryPolicy {
            max_attempts: 1,
            ..policy()
        };
        let id = enqueue(db.database(), &NewJob::new(v[0], 2, at(0), &one_shot));
        let job = q
            .claim("w", 1, TimeDelta::seconds(10), at(0))
            .unwrap()
            .remove(0);
        runs.start_run(&job, at(0)).unwrap().unwrap();
        assert_eq!(
            q.reap_expired(at(11)).unwrap(),
            ReapOutcome {
                failed: 1,
                ..ReapOutcome::default()
            }
        );
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!(rec.state, JobState::Failed);
        assert_eq!(rec.last_error.as_deref(), Some(LEASE_EXPIRED));
        assert_eq!(rec.finished_at, Some(at(11)));
        // Its video is still processing: an orphan, which the runner ends.
        let orphan = Orphan {
            video: v[0],
            job_state: JobState::Failed,
            last_error: Some(LEASE_EXPIRED.to_owned()),
        };
        assert_eq!(runs.orphans(10).unwrap(), [orphan], "{}", db.backend());
        let ending = OrphanEnding::Failed {
            code: "VIDEO_001".to_owned(),
            message: "the worker stopped responding".to_owned(),
        };
        assert!(runs.end_orphan(v[0], &ending, at(12)).unwrap());
        assert!(!runs.end_orphan(v[0], &ending, at(13)).unwrap());
        assert!(runs.orphans(10).unwrap().is_empty());
        let failed = video(db.database(), owner, v[0]);
        assert_eq!(failed.status, VideoStatus::Failed);
        assert_eq!(failed.error_code.as_deref(), Some("VIDEO_001"));
        assert_eq!(
            failed.error_message.as_deref(),
            Some("the worker stopped responding")
        );
        assert_eq!(failed.completed_at, Some(at(12)));
    }
}

// ---------------------------------------------------------------------------
// Retries.

#[test]
fn retryable_failures_back_off_then_fail_for_good() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let runs = runs(db.database());
        let (owner, v) = owned_videos(db.database(), 2);
        let ids = enqueue_all(db.database(), &v, 2, at(0));
        let (id, final_id) = (ids[0], ids[1]);
        let lease = TimeDelta::minutes(5);
        let fail = |job: &ClaimedJob, code: &str, retryable: bool, now: DateTime<Utc>| {
            runs.finish_run(job, &failure(&policy(), job, code, retryable, now), now)
                .unwrap()
        };

        let first = q.claim("w", 1, lease, at(0)).unwrap().remove(0);
        assert_eq!(first.id, id);
        runs.start_run(&first, at(0)).unwrap().unwrap();
        // attempt 1 failed: back off base (10 s).
        assert_eq!(
            fail(&first, "MEDIA_001", true, at(1)),
            Some(RunEnd::Retrying),
            "{backend}"
        );
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!((rec.state, rec.run_at), (JobState::Available, at(11)));
        assert_eq!(rec.last_error.as_deref(), Some("MEDIA_001"));
        assert_eq!((rec.lease_owner, rec.lease_until), (None, None));
        let queued = video(db.database(), owner, v[0]);
        assert_eq!(queued.status, VideoStatus::Queued);
        assert_eq!(queued.error_code.as_deref(), Some("MEDIA_001"));
        assert_eq!(queued.error_message.as_deref(), Some("MEDIA_001 happened"));
        // The other job (a final error) fails at once.
        let other = q.claim("w", 1, lease, at(2)).unwrap().remove(0);
        assert_eq!(other.id, final_id);
        assert_eq!(fail(&other, "LLM_004", false, at(3)), Some(RunEnd::Failed));
        assert_eq!(state(&q, final_id), JobState::Failed);
        let failed = video(db.database(), owner, v[1]);
        assert_eq!(failed.status, VideoStatus::Failed);
        assert_eq!(failed.error_code.as_deref(), Some("LLM_004"));

        // Not claimable before its run_at.
        assert!(q.claim("w", 1, lease, at(10)).unwrap().is_empty());
        let second = q.claim("w", 1, lease, at(11)).unwrap().remove(0);
        assert_eq!((second.attempts, second.fencing_token), (2, 2));
        // attempt 2 failed: 20 s.
        assert_eq!(
            fail(&second, "MEDIA_001", true, at(12)),
            Some(RunEnd::Retrying)
        );
        assert_eq!(q.get(id).unwrap().unwrap().run_at, at(32));
        assert!(q.claim("w", 1, lease, at(31)).unwrap().is_empty());
        let third = q.claim("w", 1, lease, at(32)).unwrap().remove(0);
        assert_eq!(third.attempts, 3);
        // attempt 3 of 3: no retry left, even for a retryable error.
        assert_eq!(
            fail(&third, "MEDIA_001", true, at(33)),
            Some(RunEnd::Failed)
        );
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!((rec.state, rec.attempts), (JobState::Failed, 3));
        assert_eq!(rec.finished_at, Some(at(33)));
        let counts = q.counts().unwrap();
        assert_eq!((counts.failed, counts.total()), (2, 2));
    }
}

// ---------------------------------------------------------------------------
// Cancellation.

#[test]
fn cancel_queued_and_running_jobs() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let runs = runs(db.database());
        let (owner, v) = owned_videos(db.database(), 5);
        let ids = enqueue_all(db.database(), &v, 2, at(0));
        let lease = TimeDelta::seconds(30);
        let cancel = |i: usize, now| runs.cancel_video(owner, v[i], now).unwrap().unwrap();

        // Queued: cancelled at once, never claimed.
        match cancel(0, at(1)) {
            CancelResult::Cancelled(video) => assert_eq!(video.status, VideoStatus::Cancelled),
            other => panic!("{backend}: {other:?}"),
        }
        let rec = q.get(ids[0]).unwrap().unwrap();
        assert_eq!(
            (rec.state, rec.finished_at),
            (JobState::Cancelled, Some(at(1)))
        );
        assert!(matches!(cancel(0, at(2)), CancelResult::TooLate(_)));
        assert_eq!(state(&q, ids[0]), JobState::Cancelled);

        // Running: the flag is set, the worker sees it at its heartbeat and
        // ends the run cancelled.
        let claimed = q.claim("w", 4, lease, at(3)).unwrap();
        assert_eq!(
            claimed.iter().map(|c| c.id).collect::<Vec<_>>(),
            ids[1..].to_vec(),
            "{backend}"
        );
        for job in &claimed {
            runs.start_run(job, at(3)).unwrap().unwrap();
        }
        let (b, c, d, e) = (&claimed[0], &claimed[1], &claimed[2], &claimed[3]);
        assert!(matches!(cancel(1, at(4)), CancelResult::Requested(_)));
        let rec = q.get(b.id).unwrap().unwrap();
        assert_eq!((rec.state, rec.cancel_requested), (JobState::Running, true));
        let hb = q.heartbeat(b.id, b.fencing_token, lease, at(5)).unwrap();
        assert!(hb.cancel_requested);
        assert_eq!(
            runs.finish_run(b, &RunEnding::Cancelled, at(6)).unwrap(),
            Some(RunEnd::Cancelled)
        );
        let rec = q.get(b.id).unwrap().unwrap();
        assert_eq!(
            (rec.state, rec.finished_at),
            (JobState::Cancelled, Some(at(6)))
        );
        assert_eq!(
            video(db.database(), owner, v[1]).status,
            VideoStatus::Cancelled
        );

        // A failing job whose cancel was requested is cancelled, not
        // retried (nor failed).
        for (job, i, retryable) in [(c, 2, true), (e, 4, false)] {
            assert!(matches!(cancel(i, at(7)), CancelResult::Requested(_)));
            let ending = failure(&policy(), job, "MEDIA_002", retryable, at(8));
            assert_eq!(
                runs.finish_run(job, &ending, at(8)).unwrap(),
                Some(RunEnd::Cancelled),
                "{backend} {ending:?}"
            );
            assert_eq!(state(&q, job.id), JobState::Cancelled);
            let cancelled = video(db.database(), owner, v[i]);
            assert_eq!(cancelled.status, VideoStatus::Cancelled);
            assert_eq!(cancelled.error_code, None);
        }

        // A dead worker's job whose cancel was requested: the reaper cancels
        // it, and its video is an orphan the runner ends cancelled.
        assert!(matches!(cancel(3, at(8)), CancelResult::Requested(_)));
        assert_eq!(
            q.reap_expired(at(40)).unwrap(),
            ReapOutcome {
                cancelled: 1,
                ..ReapOutcome::default()
            }
        );
        assert_eq!(state(&q, d.id), JobState::Cancelled);
        assert_eq!(
            runs.orphans(10).unwrap(),
            [Orphan {
                video: v[3],
                job_state: JobState::Cancelled,
                last_error: Some(LEASE_EXPIRED.to_owned()),
            }]
        );
        assert!(
            runs.end_orphan(v[3], &OrphanEnding::Cancelled, at(41))
                .unwrap()
        );
        assert_eq!(
            video(db.database(), owner, v[3]).status,
            VideoStatus::Cancelled
        );
        assert!(runs.orphans(10).unwrap().is_empty());

        assert!(
            runs.cancel_video(owner, VideoId::new(), at(9))
                .unwrap()
                .is_none()
        );
        assert_eq!(q.counts().unwrap().cancelled, 5);
        assert!(q.claim("w", 10, lease, at(100)).unwrap().is_empty());
    }
}

#[test]
fn a_video_whose_job_the_reaper_put_back_is_cancelled_at_once() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let runs = runs(db.database());
        let (owner, v) = owned_videos(db.database(), 1);
        let id = enqueue_all(db.database(), &v, 1, at(0))[0];
        let lease = TimeDelta::seconds(30);
        let job = q.claim("w", 1, lease, at(0)).unwrap().remove(0);
        runs.start_run(&job, at(0)).unwrap().unwrap();
        // The worker stops answering: the reaper puts the job back, while
        // the video still says processing.
        assert_eq!(
            q.reap_expired(at(40)).unwrap(),
            ReapOutcome {
                requeued: 1,
                ..ReapOutcome::default()
            }
        );
        assert_eq!(state(&q, id), JobState::Available);
        assert_eq!(
            video(db.database(), owner, v[0]).status,
            VideoStatus::Processing
        );
        // Nobody holds the job: the cancel takes effect now, not at a
        // heartbeat that will never come.
        match runs.cancel_video(owner, v[0], at(41)).unwrap().unwrap() {
            CancelResult::Cancelled(video) => assert_eq!(video.status, VideoStatus::Cancelled),
            other => panic!("{backend}: {other:?}"),
        }
        assert_eq!(state(&q, id), JobState::Cancelled, "{backend}");
        assert_eq!(
            video(db.database(), owner, v[0]).status,
            VideoStatus::Cancelled
        );
        assert!(
            q.claim("w", 1, lease, at(42)).unwrap().is_empty(),
            "{backend}"
        );
    }
}

#[test]
fn cancelling_a_completed_job_changes_nothing() {
    for db in TestDb::all() {
        let q = queue(db.database());
        let runs = runs(db.database());
        let (owner, v) = owned_videos(db.database(), 1);
        let id = enqueue_all(db.database(), &v, 1, at(0))[0];
        let job = q
            .claim("w", 1, TimeDelta::seconds(30), at(0))
            .unwrap()
            .remove(0);
        runs.start_run(&job, at(0)).unwrap().unwrap();
        assert_eq!(
            runs.finish_run(&job, &completed(v[0]), at(1)).unwrap(),
            Some(RunEnd::Completed)
        );
        match runs.cancel_video(owner, v[0], at(2)).unwrap().unwrap() {
            CancelResult::TooLate(video) => assert_eq!(video.status, VideoStatus::Completed),
            other => panic!("{other:?}"),
        }
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!(
            (rec.state, rec.cancel_requested),
            (JobState::Completed, false)
        );
    }
}

// ---------------------------------------------------------------------------
// Enqueueing in the caller's transaction.

#[test]
fn enqueue_in_joins_the_callers_transaction() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let owner = user(db.database());
        let video = VideoId::new();
        let mut conn = db.database().conn().unwrap();
        let insert_video = format!("{VIDEO_COLUMNS}{}", video_values(video, owner));

        // Rolled back: neither the video nor the job exists.
        let job = NewJob::new(video, 3, at(0), &policy());
        let result: Result<(), DbError> = write_transaction(&mut conn, |conn| {
            diesel::sql_query(&insert_video).execute(conn)?;
            enqueue_in(conn, &job)?;
            Err(DbError::Conflict("caller gives up".into()))
        });
        assert!(result.is_err());
        assert!(q.get(job.id).unwrap().is_none(), "{backend}");
        assert!(q.find_by_video(video).unwrap().is_none());

        // Committed: both.
        let id = write_transaction(&mut conn, |conn| {
            diesel::sql_query(&insert_video).execute(conn)?;
            enqueue_in(conn, &job)
        })
        .unwrap();
        let rec = q.find_by_video(video).unwrap().unwrap();
        assert_eq!(
            (rec.id, rec.video_id, rec.state, rec.priority),
            (id, video, JobState::Available, 3)
        );
        assert_eq!(
            (rec.attempts, rec.max_attempts, rec.fencing_token),
            (0, 3, 0)
        );
        assert_eq!(
            (rec.created_at, rec.aged_at, rec.run_at),
            (at(0), at(0), at(0))
        );

        // One job per video; a job needs its video.
        let mut enqueue_one =
            |job: NewJob| write_transaction(&mut conn, |conn| enqueue_in(conn, &job)).map(|_| ());
        let again = enqueue_one(NewJob::new(video, 3, at(1), &policy()));
        assert!(matches!(again, Err(DbError::Duplicate(_))), "{again:?}");
        assert!(matches!(
            again.map_err(RepoError::from),
            Err(RepoError::Duplicate(_))
        ));
        let orphan = enqueue_one(NewJob::new(VideoId::new(), 3, at(1), &policy()));
        assert!(matches!(orphan, Err(DbError::Constraint(_))), "{orphan:?}");
        drop(conn);

        // Deleting the video deletes its job.
        exec(
            db.database(),
            &format!("DELETE FROM videos WHERE id = '{video}'"),
        );
        assert!(q.get(id).unwrap().is_none(), "{backend}");
    }
}

// ---------------------------------------------------------------------------
// Concurrency: threads, processes, a killed worker.

/// Runs jobs until none is left, as the worker does: claims up to `batch`
/// at a time, starts each run, fails one in five on its first attempt
/// (retryable, 1 ms backoff), completes the rest. Returns the ids it
/// completed.
fn work(q: &SqlJobQueue, runs: &SqlVideos, worker: &str, batch: u32) -> Vec<JobId> {
    let lease = TimeDelta::minutes(5);
    let mut done = Vec::new();
    let mut idle = 0;
    loop {
        let now = Utc::now();
        let jobs = q.claim(worker, batch, lease, now).unwrap();
        if jobs.is_empty() {
            let counts = q.counts().unwrap();
            if counts.available == 0 && counts.running == 0 {
                return done;
            }
            idle += 1;
            assert!(idle < 200_000, "{worker}: stuck with {counts:?}");
            thread::yield_now();
            continue;
        }
        for job in jobs {
            assert!(runs.start_run(&job, Utc::now()).unwrap().is_some());
            if job.attempts == 1 && job.id.0.as_u128() % 5 == 0 {
                let now = Utc::now();
                let ending = failure(&fast_retry(), &job, "MEDIA_003", true, now);
                let end = runs.finish_run(&job, &ending, now).unwrap();
                assert_eq!(end, Some(RunEnd::Retrying), "{ending:?}");
                continue;
            }
            q.heartbeat(job.id, job.fencing_token, lease, Utc::now())
                .unwrap();
            let end = runs
                .finish_run(&job, &completed(job.video_id), Utc::now())
                .unwrap();
            assert_eq!(end, Some(RunEnd::Completed));
            done.push(job.id);
        }
    }
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_backoff: TimeDelta::milliseconds(1),
        max_backoff: TimeDelta::milliseconds(2),
    }
}

fn assert_each_once(backend: Backend, ids: &[JobId], completions: &[JobId]) {
    let mut per_job: HashMap<JobId, u32> = HashMap::new();
    for id in completions {
        *per_job.entry(*id).or_default() += 1;
    }
    let twice: Vec<_> = per_job.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{backend}: completed more than once: {twice:?}"
    );
    let missing: Vec<_> = ids.iter().filter(|id| !per_job.contains_key(id)).collect();
    assert!(
        missing.is_empty(),
        "{backend}: never completed: {missing:?}"
    );
    assert_eq!(completions.len(), ids.len(), "{backend}");
}

#[test]
fn worker_threads_on_two_pools_run_every_job_exactly_once() {
    for db in TestDb::all() {
        let backend = db.backend();
        let setup = queue(db.database());
        let v = videos(db.database(), 500);
        let ids: Vec<JobId> = v
            .iter()
            .enumerate()
            .map(|(i, video)| {
                let priority = [1, 2, 3][i % 3];
                enqueue(
                    db.database(),
                    &NewJob::new(*video, priority, Utc::now(), &fast_retry()),
                )
            })
            .collect();
        // Two queues and video stores (two pools, like two instances), four
        // threads each.
        let instances: Vec<Arc<(SqlJobQueue, SqlVideos)>> = (0..2)
            .map(|_| {
                let db = pool(&db, 5);
                Arc::new((queue(&db), runs(&db)))
            })
            .collect();
        let barrier = Arc::new(Barrier::new(8));
        let started = Instant::now();
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let instance = Arc::clone(&instances[i % 2]);
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    barrier.wait();
                    let (q, runs) = &*instance;
                    work(q, runs, &format!("q{}-t{i}", i % 2), [1, 3, 8][i % 3])
                })
            })
            .collect();
        let per_thread: Vec<Vec<JobId>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let completions: Vec<JobId> = per_thread.iter().flatten().copied().collect();
        eprintln!(
            "{backend}: 8 threads completed {} jobs in {:?}, per thread {:?}",
            completions.len(),
            started.elapsed(),
            per_thread.iter().map(Vec::len).collect::<Vec<_>>()
        );
        assert_each_once(backend, &ids, &completions);
        let counts = setup.counts().unwrap();
        assert_eq!((counts.completed, counts.total()), (500, 500), "{backend}");
        // One in five failed once first: those ran twice.
        let retried = ids.iter().filter(|id| id.0.as_u128() % 5 == 0).count();
        for id in &ids {
            let rec = setup.get(*id).unwrap().unwrap();
            let expected = if id.0.as_u128() % 5 == 0 { 2 } else { 1 };
            assert_eq!(rec.attempts, expected, "{backend} {id}");
            assert_eq!(rec.fencing_token, i64::from(expected));
        }
        eprintln!("{backend}: {retried} jobs failed once and were retried");
    }
}

const CHILD_URL: &str = "YTVC_JOBS_CHILD_URL";
const CHILD_MODE: &str = "YTVC_JOBS_CHILD_MODE";

/// The child side of the multi-process tests: a no-op unless the parent set
/// `YTVC_JOBS_CHILD_URL`.
///
/// - mode `work`: four threads run jobs until none is left, then the process
///   prints `DONE <job id>` for each job it completed;
/// - mode `hang`: claims one job with a 2 s lease, prints `CLAIMED <id>
///   <token>`, and keeps heart-beating it for ever (until killed).
#[test]
fn job_worker_child() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let mode = std::env::var(CHILD_MODE).unwrap();
    let mut config = DbConfig::new(url);
    config.pool_size = 4;
    config.max_overflow = 0;
    config.connection_timeout = Duration::from_secs(30);
    let db = Database::connect(&config).unwrap();
    let q = Arc::new(queue(&db));
    let runs = Arc::new(runs(&db));
    let pid = std::process::id();
    match mode.as_str() {
        "work" => {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let (q, runs) = (Arc::clone(&q), Arc::clone(&runs));
                    thread::spawn(move || work(&q, &runs, &format!("p{pid}-t{t}"), 4))
                })
                .collect();
            let done: Vec<JobId> = handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect();
            let mut out = String::from("\n");
            for id in done {
                out.push_str(&format!("DONE {id}\n"));
            }
            print!("{out}");
        }
        "hang" => {
            let lease = TimeDelta::seconds(2);
            let job = loop {
                if let Some(job) = q
                    .claim(&format!("p{pid}"), 1, lease, Utc::now())
                    .unwrap()
                    .pop()
                {
                    break job;
                }
            };
            println!("\nCLAIMED {} {}", job.id, job.fencing_token);
            loop {
                thread::sleep(Duration::from_millis(300));
                q.heartbeat(job.id, job.fencing_token, lease, Utc::now())
                    .unwrap();
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn child(db: &TestDb, mode: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "job_worker_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_URL, db.url())
        .env(CHILD_MODE, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn two_worker_processes_run_every_job_exactly_once() {
    let dbs = TestDb::all();
    if dbs.iter().all(|db| db.backend() != Backend::Postgres) {
        eprintln!(
            "two_worker_processes_run_every_job_exactly_once: PostgreSQL part skipped \
             (YTVC_TEST_DATABASE_URL is not set); running on SQLite only"
        );
    }
    for db in dbs {
        let backend = db.backend();
        let q = queue(db.database());
        let v = videos(db.database(), 500);
        let ids = enqueue_all(db.database(), &v, 2, Utc::now());
        let children = [child(&db, "work"), child(&db, "work")];
        let mut completions = Vec::new();
        let mut per_process = Vec::new();
        for c in children {
            let out = c.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{backend} child failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let mine: Vec<JobId> = stdout
                .lines()
                .filter_map(|l| l.trim().strip_prefix("DONE "))
                .map(|id| id.parse().unwrap())
                .collect();
            per_process.push(mine.len());
            completions.extend(mine);
        }
        eprintln!("{backend}: two processes completed {per_process:?} jobs");
        assert_each_once(backend, &ids, &completions);
        assert_eq!(q.counts().unwrap().completed, 500, "{backend}");
    }
}

#[test]
fn killed_worker_job_is_reaped_and_completed_once() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let runs = runs(db.database());
        let v = videos(db.database(), 3);
        let ids = enqueue_all(db.database(), &v, 1, Utc::now());

        let mut victim = child(&db, "hang");
        let mut lines = BufReader::new(victim.stdout.take().unwrap()).lines();
        let claimed = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.trim().strip_prefix("CLAIMED ").map(str::to_owned))
            .unwrap_or_else(|| panic!("{backend}: the child claimed nothing"));
        let (id, token) = claimed.split_once(' ').unwrap();
        let (id, token): (JobId, i64) = (id.parse().unwrap(), token.parse().unwrap());
        assert_eq!((id, token), (ids[0], 1), "{backend}");
        // Alive and heart-beating: after more than one lease the job is still its.
        thread::sleep(Duration::from_millis(2500));
        assert_eq!(q.reap_expired(Utc::now()).unwrap(), ReapOutcome::default());
        assert_eq!(state(&q, id), JobState::Running);

        victim.kill().unwrap(); // SIGKILL
        victim.wait().unwrap();
        let killed_at = Instant::now();

        // Another worker reaps the expired lease and runs the job.
        let rescued = loop {
            assert!(
                killed_at.elapsed() < Duration::from_secs(15),
                "{backend}: never reaped"
            );
            q.reap_expired(Utc::now()).unwrap();
            let jobs = q
                .claim("rescuer", 10, TimeDelta::seconds(30), Utc::now())
                .unwrap();
            let mine: Vec<_> = jobs.iter().filter(|j| j.id == id).cloned().collect();
            for other in jobs.iter().filter(|j| j.id != id) {
                let end = runs.finish_run(other, &completed(other.video_id), Utc::now());
                assert_eq!(end.unwrap(), Some(RunEnd::Completed));
            }
            if let Some(job) = mine.into_iter().next() {
                break job;
            }
            thread::sleep(Duration::from_millis(100));
        };
        assert!(
            killed_at.elapsed() < Duration::from_secs(5),
            "{backend}: reaped late"
        );
        assert_eq!(
            (rescued.attempts, rescued.fencing_token),
            (2, 2),
            "{backend}"
        );
        // The dead worker's token is stale.
        let dead = ClaimedJob {
            fencing_token: token,
            ..rescued.clone()
        };
        let ending = completed(rescued.video_id);
        assert_eq!(runs.finish_run(&dead, &ending, Utc::now()).unwrap(), None);
        assert_eq!(
            runs.finish_run(&rescued, &ending, Utc::now()).unwrap(),
            Some(RunEnd::Completed)
        );
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!((rec.state, rec.attempts), (JobState::Completed, 2));
        let counts = q.counts().unwrap();
        assert_eq!(
            (counts.completed, counts.total()),
            (3, 3),
            "{backend}: {counts:?}"
        );
    }
}
