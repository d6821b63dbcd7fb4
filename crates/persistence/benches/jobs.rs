//! Throughput of `SqlJobQueue`: 4 worker threads claim and complete jobs
//! with a no-op pipeline, on SQLite and on PostgreSQL; printed as jobs/s.
//!
//! ```text
//! YTVC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p ytvc-persistence --bench jobs
//! ```
//!
//! Each worker loops: `claim(batch)` (one statement), then per job one
//! `complete` (one guarded UPDATE, its own commit). Measured with claim
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
use ytvc_domain::jobs::{JobQueue, NewJob, RetryPolicy};
use ytvc_persistence::jobs::{SqlJobQueue, enqueue_in};
use ytvc_persistence::testing::TestDb;
use ytvc_persistence::tx::write_transaction;
use ytvc_persistence::{Backend, Database, DbConfig, DbError};

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
    let mut round = 0;
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
                round += 1;
                seed(&database, &format!("r{round}"), jobs);
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
fn seed(db: &Database, prefix: &str, n: usize) {
    let mut conn = db.conn().unwrap();
    let now = Utc::now();
    let policy = RetryPolicy::default();
    write_transaction(&mut conn, |conn| {
        diesel::sql_query(format!(
            "INSERT INTO users (id, email, password_hash, role, plan, billing_anchor_day, \
             created_at, updated_at) VALUES ('{prefix}', '{prefix}@example.com', 'x', 'user', \
             'free', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        ))
        .execute(conn)?;
        let ids: Vec<String> = (0..n).map(|i| format!("{prefix}-v{i}")).collect();
        for chunk in ids.chunks(500) {
            let values: Vec<String> = chunk
                .iter()
                .map(|id| {
                    format!(
                        "('{id}', '{prefix}', 'queued', 'a prompt long enough', 60, 'cinematic', \
                         '16:9', 'narrator', 'en', 2, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
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
            enqueue_in(conn, &NewJob::new(id.clone(), priority, now, &policy))?;
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
    let queue = Arc::new(SqlJobQueue::new(db.clone(), RetryPolicy::default()));
    let barrier = Arc::new(Barrier::new(WORKERS + 1));
    let handles: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (queue, barrier) = (Arc::clone(&queue), Arc::clone(&barrier));
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
                        queue
                            .complete(job.id, job.fencing_token, Utc::now())
                            .unwrap();
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
