//! Throughput of `SqlJobQueue` with the video store: 4 worker threads claim
//! and complete jobs with a no-op pipeline, on SQLite and on PostgreSQL;
//! printed as jobs/s.
//!
//! ```text
//! YTVC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p ytvc-persistence --bench jobs
//! ```
//!
//! Each worker loops: `claim(batch)` (one statement), then per job one
//! `VideoRuns::finish_run` with a completed ending (one transaction: the
//! guarded job UPDATE and the video's). Measured with claim
//! batches of 1 and of 16. PostgreSQL is measured when
//! `YTVC_TEST_DATABASE_URL` is set (a fresh database is created and
//! dropped), also with `synchronous_commit=off` to show what the WAL flush
//! costs on this disk. Without `--bench` (e.g. under `cargo test --benches`)
//! it runs 100 jobs only, as a smoke test. `YTVC_BENCH_JOBS` overrides the
//! number of jobs per measurement.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use diesel::RunQueryDsl;
use ytvc_domain::ids::{UserId, VideoId};
use ytvc_domain::jobs::{JobQueue, NewJob, RetryPolicy};
use ytvc_domain::media::{Manifest, StoredArtifact};
use ytvc_domain::videos::{RunEnd, RunEnding, VideoRuns};
use ytvc_persistence::jobs::{SqlJobQueue, enqueue_in};
use ytvc_persistence::testing::TestDb;
use ytvc_persistence::tx::write_transaction;
use ytvc_persistence::{Backend, Database, DbConfig, DbError, SqlVideos};

const WORKERS: usize = 4;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let jobs: usize = std::env::var("YTVC_BENCH_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 4000 } else { 100 });
    println!("claim + complete, no-op pipeline, {WORKERS} worker threads, {jobs} jobs per run");
    let mut dbs = vec![TestDb::sqlite()];
    dbs.extend(TestDb::postgres());
    for db in &dbs {
        let mut targets = vec![(db.backend().to_string(), db.url().to_owned())];
        if db.backend() == Backend::Postgres {
            let sep = if db.url().contains('?') { '&' } else { '?' };
            targets.push((
                "postgres, sync_commit=off".into(),
                format!("{}{sep}options=-c%20synchronous_commit%3Doff", db.url()),
            ));
        }
        for (label, url) in targets {
            let mut config = DbConfig::new(url);
            config.pool_size = u32::try_from(WORKERS).unwrap() + 1;
            config.max_overflow = 0;
            config.connection_timeout = Duration::from_secs(30);
            let database = Database::connect(&config).unwrap();
            for batch in [1, 16] {
                seed(&database, jobs);
                let (elapsed, done) = run(&database, batch);
                assert_eq!(done, jobs, "{label}: every job completed once");
                let rate = done as f64 / elapsed.as_secs_f64();
                println!(
                    "{label:<26} claim batch {batch:>2}: {done} jobs in {:>7.1} ms = {rate:>7.0} jobs/s",
                    elapsed.as_secs_f64() * 1000.0
                );
            }
        }
    }
    if dbs.len() == 1 {
        println!("postgres: skipped (YTVC_TEST_DATABASE_URL is not set)");
    }
}

/// A user, `n` videos and their jobs (mixed priorities), in one transaction.
fn seed(db: &Database, n: usize) {
    let mut conn = db.conn().unwrap();
    let now = Utc::now();
    let policy = RetryPolicy::default();
    let user = UserId::new();
    write_transaction(&mut conn, |conn| {
        diesel::sql_query(format!(
            "INSERT INTO users (id, email, password_hash, role, plan, billing_anchor_day, \
             created_at, updated_at) VALUES ('{user}', '{}@example.com', 'x', 'user', \
             'free', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            user.0.simple()
        ))
        .execute(conn)?;
        let ids: Vec<VideoId> = (0..n).map(|_| VideoId::new()).collect();
        for chunk in ids.chunks(500) {
            let values: Vec<String> = chunk
                .iter()
                .map(|id| {
                    format!(
                        "('{id}', '{user}', 'queued', 'a prompt long enough', 60, 'cinematic', \
                         '16:9', 'neutral', 'en', 2, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                    )
                })
                .collect();
            diesel::sql_query(format!(
                "INSERT INTO videos (id, user_id, status, prompt, duration_seconds, style, \
                 aspect_ratio, voice, language, priority, created_at, updated_at) VALUES {}",
                values.join(", ")
            ))
            .execute(conn)?;
        }
        for (i, id) in ids.iter().enumerate() {
            let priority = [1, 2, 3][i % 3];
            enqueue_in(conn, &NewJob::new(*id, priority, now, &policy))?;
        }
        Ok::<_, DbError>(())
    })
    .unwrap();
    drop(conn);
    if db.backend() == Backend::Postgres {
        let mut conn = db.conn().unwrap();
        diesel::sql_query("ANALYZE jobs")
            .execute(&mut *conn)
            .unwrap();
    }
}

/// Runs the workers until the queue is empty; returns the time and the
/// number of completions.
fn run(db: &Database, batch: u32) -> (Duration, usize) {
    let queue = Arc::new(SqlJobQueue::new(db.clone()));
    let runs = Arc::new(SqlVideos::new(db.clone()));
    let barrier = Arc::new(Barrier::new(WORKERS + 1));
    let handles: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (queue, runs, barrier) =
                (Arc::clone(&queue), Arc::clone(&runs), Arc::clone(&barrier));
            thread::spawn(move || {
                let worker = format!("bench-{w}");
                let lease = TimeDelta::minutes(5);
                barrier.wait();
                let mut done = 0;
                loop {
                    let jobs = queue.claim(&worker, batch, lease, Utc::now()).unwrap();
                    if jobs.is_empty() {
                        return done;
                    }
                    for job in jobs {
                        // The no-op pipeline.
                        let ending = RunEnding::Completed {
                            manifest: manifest(job.video_id),
                        };
                        let end = runs.finish_run(&job, &ending, Utc::now()).unwrap();
                        assert_eq!(end, Some(RunEnd::Completed));
                        done += 1;
                    }
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let done = handles.into_iter().map(|h| h.join().unwrap()).sum();
    (start.elapsed(), done)
}

/// The manifest of a no-op run.
fn manifest(video: VideoId) -> Box<Manifest> {
    Box::new(Manifest {
        version: Manifest::VERSION,
        video_id: video.to_string(),
        title: "Bench".to_owned(),
        aspect_ratio: Default::default(),
        style: Default::default(),
        voice: Default::default(),
        language: Default::default(),
        total_duration_seconds: 60,
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
    })
}
