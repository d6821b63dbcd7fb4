//! `SqlJobQueue` on every configured backend: claim order, ageing, leases
//! and fencing, retries, cancellation, the batch lease, and concurrency —
//! worker threads on two pools, two worker processes, and a worker killed
//! with SIGKILL in the middle of a job.
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
use ytvc_domain::jobs::{
    BatchLeases, CancelOutcome, FailOutcome, JobError, JobId, JobQueue, JobState, NewJob,
    ReapOutcome, RetryPolicy,
};
use ytvc_domain::repo::RepoError;
use ytvc_persistence::jobs::{LEASE_EXPIRED, SqlJobQueue, batch_lease_held_in, enqueue_in};
use ytvc_persistence::testing::TestDb;
use ytvc_persistence::tx::write_transaction;
use ytvc_persistence::{Backend, Database, DbConfig, DbError};

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

/// A queue with the full (deterministic) backoff.
fn queue(db: &Database) -> SqlJobQueue {
    SqlJobQueue::new(db.clone(), policy()).with_jitter(Arc::new(|| 1.0))
}

fn exec(db: &Database, sql: &str) {
    let mut conn = db.conn().unwrap();
    diesel::sql_query(sql)
        .execute(&mut *conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn user(db: &Database, id: &str) {
    exec(
        db,
        &format!(
            "INSERT INTO users (id, email, password_hash, role, plan, billing_anchor_day, \
             created_at, updated_at) VALUES ('{id}', '{id}@example.com', 'x', 'user', 'free', 1, \
             '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        ),
    );
}

fn video_values(id: &str, user: &str) -> String {
    format!(
        "('{id}', '{user}', 'queued', 'a prompt long enough', 60, 'cinematic', '16:9', \
         'narrator', 'en', 2, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
}

const VIDEO_COLUMNS: &str = "INSERT INTO videos (id, user_id, status, prompt, \
    duration_seconds, style, aspect_ratio, voice, language, priority, created_at, updated_at) \
    VALUES ";

/// Inserts a user and `n` videos `v0..v{n-1}` (prefixed), returns the ids.
fn videos(db: &Database, prefix: &str, n: usize) -> Vec<String> {
    let owner = format!("{prefix}-owner");
    user(db, &owner);
    let ids: Vec<String> = (0..n).map(|i| format!("{prefix}-v{i}")).collect();
    for chunk in ids.chunks(200) {
        let values: Vec<String> = chunk.iter().map(|id| video_values(id, &owner)).collect();
        exec(db, &format!("{VIDEO_COLUMNS}{}", values.join(", ")));
    }
    ids
}

/// Enqueues one job per video at `priority`, runnable at `run_at`.
fn enqueue_all(
    q: &SqlJobQueue,
    videos: &[String],
    priority: u8,
    run_at: DateTime<Utc>,
) -> Vec<JobId> {
    videos
        .iter()
        .map(|v| {
            q.enqueue(&NewJob::new(v.clone(), priority, run_at, &policy()))
                .unwrap()
        })
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

// ---------------------------------------------------------------------------
// Order and ageing.

#[test]
fn claims_follow_priority_then_run_at_then_id() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let v = videos(db.database(), "order", 8);
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
            let id = q
                .enqueue(&NewJob::new(v[i].clone(), priority, at(offset), &policy()))
                .unwrap();
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
        let v = videos(db.database(), "batch", 30);
        let mut expected = Vec::new();
        for (i, video) in v.iter().enumerate() {
            let priority = [3, 1, 2][i % 3];
            let run_at = at(i64::try_from(30 - i).unwrap());
            let id = q
                .enqueue(&NewJob::new(video.clone(), priority, run_at, &policy()))
                .unwrap();
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
        let v = videos(db.database(), "age", 40);
        let free = q
            .enqueue(&NewJob::new(v[0].clone(), 3, at(0), &policy()))
            .unwrap();
        let pro = q
            .enqueue(&NewJob::new(v[1].clone(), 2, at(0), &policy()))
            .unwrap();
        // An enterprise job every 5 s; each tick one worker claims one job.
        let mut claimed_at = None;
        for (tick, video) in (0..30_i64).zip(&v[2..]) {
            let now = at(tick * 5);
            q.enqueue(&NewJob::new(video.clone(), 1, now, &policy()))
                .unwrap();
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
        let v = videos(db.database(), "step", 3);
        let waiting = q
            .enqueue(&NewJob::new(v[0].clone(), 3, at(0), &policy()))
            .unwrap();
        let running = q
            .enqueue(&NewJob::new(v[1].clone(), 3, at(0), &policy()))
            .unwrap();
        let ent = q
            .enqueue(&NewJob::new(v[2].clone(), 1, at(0), &policy()))
            .unwrap();
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
        let v = videos(db.database(), "fence", 1);
        let id = enqueue_all(&q, &v, 2, at(0))[0];
        let lease = TimeDelta::seconds(30);

        let old = q.claim("worker-a", 1, lease, at(0)).unwrap().remove(0);
        assert_eq!((old.fencing_token, old.attempts), (1, 1));
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
        assert!(matches!(
            q.complete(id, old.fencing_token, at(52)),
            Err(JobError::LeaseLost)
        ));

        let new = q.claim("worker-b", 1, lease, at(53)).unwrap().remove(0);
        assert_eq!((new.id, new.fencing_token, new.attempts), (id, 2, 2));

        // Every write of the old worker is refused, and changes nothing.
        let stale = old.fencing_token;
        assert!(
            matches!(q.complete(id, stale, at(54)), Err(JobError::LeaseLost)),
            "{backend}"
        );
        assert!(matches!(
            q.heartbeat(id, stale, lease, at(54)),
            Err(JobError::LeaseLost)
        ));
        assert!(matches!(
            q.fail(id, stale, "VIDEO_001", true, at(54)),
            Err(JobError::LeaseLost)
        ));
        assert!(matches!(
            q.cancelled(id, stale, at(54)),
            Err(JobError::LeaseLost)
        ));
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!(rec.state, JobState::Running);
        assert_eq!(rec.lease_owner.as_deref(), Some("worker-b"));
        assert_eq!(rec.lease_until, Some(at(83)));

        q.complete(id, new.fencing_token, at(60)).unwrap();
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!(rec.state, JobState::Completed);
        assert_eq!(rec.finished_at, Some(at(60)));
        // Completing twice is refused as well (the job is no longer running).
        assert!(matches!(
            q.complete(id, new.fencing_token, at(61)),
            Err(JobError::LeaseLost)
        ));
        // Unknown jobs are NotFound, not LeaseLost.
        assert!(matches!(
            q.complete(JobId::new(), 1, at(61)),
            Err(JobError::NotFound)
        ));
    }
}

#[test]
fn an_expired_but_unreaped_lease_is_still_its_holders() {
    for db in TestDb::all() {
        let q = queue(db.database());
        let v = videos(db.database(), "late", 1);
        let id = enqueue_all(&q, &v, 1, at(0))[0];
        let job = q
            .claim("w", 1, TimeDelta::seconds(10), at(0))
            .unwrap()
            .remove(0);
        // No reaper ran: nobody else can have the job, the late heartbeat
        // renews it and the result is accepted.
        q.heartbeat(id, job.fencing_token, TimeDelta::seconds(10), at(15))
            .unwrap();
        assert_eq!(q.reap_expired(at(20)).unwrap(), ReapOutcome::default());
        q.complete(id, job.fencing_token, at(21)).unwrap();
        assert_eq!(state(&q, id), JobState::Completed);
    }
}

#[test]
fn the_reaper_fails_jobs_without_attempts_left() {
    for db in TestDb::all() {
        let q = queue(db.database());
        let v = videos(db.database(), "exh", 1);
        let one_shot = RetryPolicy {
            max_attempts: 1,
            ..policy()
        };
        let id = q
            .enqueue(&NewJob::new(v[0].clone(), 2, at(0), &one_shot))
            .unwrap();
        q.claim("w", 1, TimeDelta::seconds(10), at(0)).unwrap();
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
    }
}

// ---------------------------------------------------------------------------
// Retries.

#[test]
fn retryable_failures_back_off_then_fail_for_good() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let v = videos(db.database(), "retry", 2);
        let ids = enqueue_all(&q, &v, 2, at(0));
        let (id, final_id) = (ids[0], ids[1]);
        let lease = TimeDelta::minutes(5);

        let first = q.claim("w", 1, lease, at(0)).unwrap().remove(0);
        assert_eq!(first.id, id);
        // attempt 1 failed: back off base (10 s).
        assert_eq!(
            q.fail(id, first.fencing_token, "MEDIA_001", true, at(1))
                .unwrap(),
            FailOutcome::Retry { run_at: at(11) },
            "{backend}"
        );
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!((rec.state, rec.run_at), (JobState::Available, at(11)));
        assert_eq!(rec.last_error.as_deref(), Some("MEDIA_001"));
        // The other job (a final error) fails at once.
        let other = q.claim("w", 1, lease, at(2)).unwrap().remove(0);
        assert_eq!(other.id, final_id);
        assert_eq!(
            q.fail(final_id, other.fencing_token, "LLM_004", false, at(3))
                .unwrap(),
            FailOutcome::Failed
        );
        assert_eq!(state(&q, final_id), JobState::Failed);

        // Not claimable before its run_at.
        assert!(q.claim("w", 1, lease, at(10)).unwrap().is_empty());
        let second = q.claim("w", 1, lease, at(11)).unwrap().remove(0);
        assert_eq!((second.attempts, second.fencing_token), (2, 2));
        // attempt 2 failed: 20 s.
        assert_eq!(
            q.fail(id, second.fencing_token, "MEDIA_001", true, at(12))
                .unwrap(),
            FailOutcome::Retry { run_at: at(32) }
        );
        assert!(q.claim("w", 1, lease, at(31)).unwrap().is_empty());
        let third = q.claim("w", 1, lease, at(32)).unwrap().remove(0);
        assert_eq!(third.attempts, 3);
        // attempt 3 of 3: no retry left, even for a retryable error.
        assert_eq!(
            q.fail(id, third.fencing_token, "MEDIA_001", true, at(33))
                .unwrap(),
            FailOutcome::Failed
        );
        let rec = q.get(id).unwrap().unwrap();
        assert_eq!((rec.state, rec.attempts), (JobState::Failed, 3));
        assert_eq!(rec.finished_at, Some(at(33)));
        let counts = q.counts().unwrap();
        assert_eq!((counts.failed, counts.total()), (2, 2));
    }
}

#[test]
fn jitter_shortens_the_backoff_within_bounds() {
    for db in TestDb::all() {
        let q = SqlJobQueue::new(db.database().clone(), policy()).with_jitter(Arc::new(|| 0.0));
        let random = SqlJobQueue::new(db.database().clone(), policy());
        let v = videos(db.database(), "jit", 2);
        let ids = enqueue_all(&q, &v, 2, at(0));
        let a = q
            .claim("w", 1, TimeDelta::minutes(1), at(0))
            .unwrap()
            .remove(0);
        assert_eq!(
            q.fail(ids[0], a.fencing_token, "X", true, at(0)).unwrap(),
            FailOutcome::Retry { run_at: at(5) }
        );
        let b = random
            .claim("w", 1, TimeDelta::minutes(1), at(0))
            .unwrap()
            .remove(0);
        assert_eq!(b.id, ids[1]);
        let FailOutcome::Retry { run_at } = random
            .fail(ids[1], b.fencing_token, "X", true, at(0))
            .unwrap()
        else {
            panic!("expected a retry")
        };
        assert!(run_at >= at(5) && run_at <= at(10), "{run_at}");
    }
}

// ---------------------------------------------------------------------------
// Cancellation.

#[test]
fn cancel_queued_and_running_jobs() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        let v = videos(db.database(), "cancel", 4);
        let ids = enqueue_all(&q, &v, 2, at(0));
        let lease = TimeDelta::seconds(30);

        // Queued: cancelled at once, never claimed.
        assert_eq!(q.cancel(ids[0], at(1)).unwrap(), CancelOutcome::Cancelled);
        assert_eq!(state(&q, ids[0]), JobState::Cancelled);
        assert_eq!(
            q.cancel(ids[0], at(2)).unwrap(),
            CancelOutcome::AlreadyFinished(JobState::Cancelled)
        );

        // Running: the flag is set, the worker sees it at its heartbeat and
        // acknowledges.
        let claimed = q.claim("w", 3, lease, at(3)).unwrap();
        assert_eq!(
            claimed.iter().map(|c| c.id).collect::<Vec<_>>(),
            ids[1..].to_vec(),
            "{backend}"
        );
        let (b, c, d) = (&claimed[0], &claimed[1], &claimed[2]);
        assert_eq!(q.cancel(b.id, at(4)).unwrap(), CancelOutcome::Requested);
        assert_eq!(state(&q, b.id), JobState::Running);
        let hb = q.heartbeat(b.id, b.fencing_token, lease, at(5)).unwrap();
        assert!(hb.cancel_requested);
        q.cancelled(b.id, b.fencing_token, at(6)).unwrap();
        let rec = q.get(b.id).unwrap().unwrap();
        assert_eq!(
            (rec.state, rec.finished_at),
            (JobState::Cancelled, Some(at(6)))
        );

        // A failing job whose cancel was requested is cancelled, not retried.
        assert_eq!(q.cancel(c.id, at(7)).unwrap(), CancelOutcome::Requested);
        assert_eq!(
            q.fail(c.id, c.fencing_token, "MEDIA_002", true, at(8))
                .unwrap(),
            FailOutcome::Cancelled
        );
        assert_eq!(state(&q, c.id), JobState::Cancelled);

        // A dead worker's job whose cancel was requested: the reaper cancels it.
        assert_eq!(q.cancel(d.id, at(8)).unwrap(), CancelOutcome::Requested);
        assert_eq!(
            q.reap_expired(at(40)).unwrap(),
            ReapOutcome {
                cancelled: 1,
                ..ReapOutcome::default()
            }
        );
        assert_eq!(state(&q, d.id), JobState::Cancelled);

        assert!(matches!(
            q.cancel(JobId::new(), at(9)),
            Err(JobError::NotFound)
        ));
        assert_eq!(q.counts().unwrap().cancelled, 4);
        assert!(q.claim("w", 10, lease, at(100)).unwrap().is_empty());
    }
}

#[test]
fn cancelling_a_completed_job_changes_nothing() {
    for db in TestDb::all() {
        let q = queue(db.database());
        let v = videos(db.database(), "done", 1);
        let id = enqueue_all(&q, &v, 1, at(0))[0];
        let job = q
            .claim("w", 1, TimeDelta::seconds(30), at(0))
            .unwrap()
            .remove(0);
        q.complete(id, job.fencing_token, at(1)).unwrap();
        assert_eq!(
            q.cancel(id, at(2)).unwrap(),
            CancelOutcome::AlreadyFinished(JobState::Completed)
        );
        assert!(!q.get(id).unwrap().unwrap().cancel_requested);
    }
}

// ---------------------------------------------------------------------------
// Enqueueing in the caller's transaction.

#[test]
fn enqueue_in_joins_the_callers_transaction() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        user(db.database(), "tx-owner");
        let mut conn = db.database().conn().unwrap();

        // Rolled back: neither the video nor the job exists.
        let job = NewJob::new("tx-v0", 3, at(0), &policy());
        let result: Result<(), DbError> = write_transaction(&mut conn, |conn| {
            diesel::sql_query(format!(
                "{VIDEO_COLUMNS}{}",
                video_values("tx-v0", "tx-owner")
            ))
            .execute(conn)?;
            enqueue_in(conn, &job)?;
            Err(DbError::Conflict("caller gives up".into()))
        });
        assert!(result.is_err());
        assert!(q.get(job.id).unwrap().is_none(), "{backend}");
        assert!(q.find_by_video("tx-v0").unwrap().is_none());

        // Committed: both.
        let id = write_transaction(&mut conn, |conn| {
            diesel::sql_query(format!(
                "{VIDEO_COLUMNS}{}",
                video_values("tx-v0", "tx-owner")
            ))
            .execute(conn)?;
            enqueue_in(conn, &job)
        })
        .unwrap();
        let rec = q.find_by_video("tx-v0").unwrap().unwrap();
        assert_eq!(
            (rec.id, rec.state, rec.priority),
            (id, JobState::Available, 3)
        );
        assert_eq!(
            (rec.attempts, rec.max_attempts, rec.fencing_token),
            (0, 3, 0)
        );
        assert_eq!(
            (rec.created_at, rec.aged_at, rec.run_at),
            (at(0), at(0), at(0))
        );
        drop(conn);

        // One job per video; a job needs its video.
        let again = q.enqueue(&NewJob::new("tx-v0", 3, at(1), &policy()));
        assert!(
            matches!(again, Err(JobError::Repo(RepoError::Duplicate(_)))),
            "{again:?}"
        );
        let orphan = q.enqueue(&NewJob::new("no-such-video", 3, at(1), &policy()));
        assert!(matches!(orphan, Err(JobError::Repo(_))), "{orphan:?}");

        // Deleting the video deletes its job.
        exec(db.database(), "DELETE FROM videos WHERE id = 'tx-v0'");
        assert!(q.get(id).unwrap().is_none(), "{backend}");
    }
}

// ---------------------------------------------------------------------------
// The batch dispatch lease.

fn batch(db: &Database, id: &str) {
    user(db, &format!("{id}-owner"));
    exec(
        db,
        &format!(
            "INSERT INTO batches (id, user_id, status, total, created_at, updated_at) \
             VALUES ('{id}', '{id}-owner', 'queued', 3, '2026-01-01 00:00:00', \
             '2026-01-01 00:00:00')"
        ),
    );
}

#[test]
fn batch_lease_is_fenced() {
    for db in TestDb::all() {
        let backend = db.backend();
        let q = queue(db.database());
        batch(db.database(), "b1");
        let ttl = TimeDelta::seconds(30);

        let a = q
            .acquire_batch_lease("b1", "inst-a", ttl, at(0))
            .unwrap()
            .unwrap();
        assert_eq!((a.fencing_token, a.lease_until), (1, at(30)), "{backend}");
        // Held: nobody else (nor a second acquire by the holder) gets it.
        assert_eq!(
            q.acquire_batch_lease("b1", "inst-b", ttl, at(10)).unwrap(),
            None
        );
        assert_eq!(
            q.acquire_batch_lease("b1", "inst-a", ttl, at(10)).unwrap(),
            None
        );
        let renewed = q
            .renew_batch_lease("b1", a.fencing_token, ttl, at(20))
            .unwrap();
        assert_eq!(renewed.lease_until, at(50));
        assert_eq!(
            q.acquire_batch_lease("b1", "inst-b", ttl, at(50)).unwrap(),
            None
        );

        // inst-a stalls past its lease: inst-b takes over with a new token.
        let b = q
            .acquire_batch_lease("b1", "inst-b", ttl, at(51))
            .unwrap()
            .unwrap();
        assert_eq!(b.fencing_token, 2);
        assert!(matches!(
            q.renew_batch_lease("b1", a.fencing_token, ttl, at(52)),
            Err(JobError::LeaseLost)
        ));
        assert!(matches!(
            q.release_batch_lease("b1", a.fencing_token),
            Err(JobError::LeaseLost)
        ));
        {
            let mut conn = db.database().conn().unwrap();
            let held = |conn: &mut ytvc_persistence::AnyConnection, token: i64| {
                write_transaction(conn, |conn| batch_lease_held_in(conn, "b1", token)).unwrap()
            };
            assert!(!held(&mut conn, a.fencing_token));
            assert!(held(&mut conn, b.fencing_token));
        }
        q.release_batch_lease("b1", b.fencing_token).unwrap();
        // Released: free at once, and the token keeps growing.
        let c = q
            .acquire_batch_lease("b1", "inst-a", ttl, at(53))
            .unwrap()
            .unwrap();
        assert_eq!(c.fencing_token, 3);

        assert!(matches!(
            q.acquire_batch_lease("nope", "inst-a", ttl, at(0)),
            Err(JobError::NotFound)
        ));
        assert!(matches!(
            q.renew_batch_lease("nope", 1, ttl, at(0)),
            Err(JobError::NotFound)
        ));
    }
}

#[test]
fn one_of_many_concurrent_batch_acquirers_wins() {
    for db in TestDb::all() {
        batch(db.database(), "b2");
        let q = Arc::new(queue(&pool(&db, 8)));
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (q, barrier) = (Arc::clone(&q), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    q.acquire_batch_lease("b2", &format!("inst-{i}"), TimeDelta::seconds(30), at(0))
                        .unwrap()
                })
            })
            .collect();
        let won: Vec<_> = handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect();
        assert_eq!(won.len(), 1, "{}: {won:?}", db.backend());
        assert_eq!(won[0].fencing_token, 1);
    }
}

// ---------------------------------------------------------------------------
// Concurrency: threads, processes, a killed worker.

/// Runs jobs until none is left: claims up to `batch` at a time, fails one
/// in five on its first attempt (retryable, 1 ms backoff), completes the
/// rest. Returns the ids it completed.
fn work(q: &SqlJobQueue, worker: &str, batch: u32) -> Vec<JobId> {
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
            if job.attempts == 1 && job.id.0.as_u128() % 5 == 0 {
                let outcome = q
                    .fail(job.id, job.fencing_token, "MEDIA_003", true, Utc::now())
                    .unwrap();
                assert!(matches!(outcome, FailOutcome::Retry { .. }), "{outcome:?}");
                continue;
            }
            q.heartbeat(job.id, job.fencing_token, lease, Utc::now())
                .unwrap();
            q.complete(job.id, job.fencing_token, Utc::now()).unwrap();
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
        let setup = SqlJobQueue::new(db.database().clone(), fast_retry());
        let v = videos(db.database(), "threads", 500);
        let ids: Vec<JobId> = v
            .iter()
            .enumerate()
            .map(|(i, video)| {
                let priority = [1, 2, 3][i % 3];
                setup
                    .enqueue(&NewJob::new(
                        video.clone(),
                        priority,
                        Utc::now(),
                        &fast_retry(),
                    ))
                    .unwrap()
            })
            .collect();
        // Two queues (two pools, like two instances), four threads each.
        let queues: Vec<Arc<SqlJobQueue>> = (0..2)
            .map(|_| Arc::new(SqlJobQueue::new(pool(&db, 5), fast_retry())))
            .collect();
        let barrier = Arc::new(Barrier::new(8));
        let started = Instant::now();
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let q = Arc::clone(&queues[i % 2]);
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    barrier.wait();
                    work(&q, &format!("q{}-t{i}", i % 2), [1, 3, 8][i % 3])
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
    let q = Arc::new(SqlJobQueue::new(db, fast_retry()));
    let pid = std::process::id();
    match mode.as_str() {
        "work" => {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let q = Arc::clone(&q);
                    thread::spawn(move || work(&q, &format!("p{pid}-t{t}"), 4))
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
        let q = SqlJobQueue::new(db.database().clone(), fast_retry());
        let v = videos(db.database(), "procs", 500);
        let ids = enqueue_all(&q, &v, 2, Utc::now());
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
        let q = SqlJobQueue::new(db.database().clone(), fast_retry());
        let v = videos(db.database(), "kill", 3);
        let ids = enqueue_all(&q, &v, 1, Utc::now());

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
                q.complete(other.id, other.fencing_token, Utc::now())
                    .unwrap();
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
        assert!(matches!(
            q.complete(id, token, Utc::now()),
            Err(JobError::LeaseLost)
        ));
        q.complete(id, rescued.fencing_token, Utc::now()).unwrap();
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
