//! Latency of `SqlQuotaStore`: one reserve + commit round trip (two
//! transactions), on SQLite and on PostgreSQL, printed as percentiles.
//!
//! ```text
//! YTVC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p ytvc-persistence --bench quota_store
//! ```
//!
//! PostgreSQL is measured when `YTVC_TEST_DATABASE_URL` is set (a fresh
//! database is created and dropped). Without `--bench` (e.g. under
//! `cargo test --benches`) it runs a few iterations only, as a smoke test.
//! `YTVC_BENCH_ITERS` overrides the number of measured round trips.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ytvc_persistence::testing::TestDb;
use ytvc_persistence::{Backend, Database, DbConfig, SqlQuotaStore};
use ytvc_quota::{AnchorDay, ManualClock, PlanName, Plans, QuotaManager, UserKey};

type Manager = QuotaManager<SqlQuotaStore, ManualClock>;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let iters: usize = std::env::var("YTVC_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 3000 } else { 20 });
    let warmup = if full { 300 } else { 5 };
    println!(
        "reserve+commit round trip (pro plan, 1000 users, lazy expiry on), {iters} iterations"
    );
    let mut dbs = vec![TestDb::sqlite()];
    dbs.extend(TestDb::postgres());
    for db in &dbs {
        let m = Arc::new(QuotaManager::new(
            Plans::default(),
            SqlQuotaStore::new(db.database().clone()),
            ManualClock::new("2026-01-20T10:00:00Z".parse().unwrap()),
        ));
        let users: Arc<Vec<UserKey>> = Arc::new(
            (0..1000)
                .map(|i| UserKey::new(format!("user-{i}")))
                .collect(),
        );
        run(&m, &users, 0, warmup);
        let samples = run(&m, &users, warmup, iters);
        report(&format!("{} 1 thread", db.backend()), samples);
        let (reserve, commit) = split(&m, &users, warmup + iters, iters);
        report(&format!("{} reserve only", db.backend()), reserve);
        report(&format!("{} commit only", db.backend()), commit);

        // Four threads on one user's row (contended lock; unlimited plan).
        let threads = 4;
        let per_thread = iters / threads;
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let m = Arc::clone(&m);
                thread::spawn(move || {
                    let hot = UserKey::from("hot-user");
                    (0..per_thread)
                        .map(|_| {
                            let start = Instant::now();
                            let r = m
                                .reserve(&hot, &PlanName::ENTERPRISE, AnchorDay::FIRST, 1)
                                .unwrap();
                            m.commit(r.id).unwrap();
                            start.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let samples = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        report(&format!("{} 4 threads, same user", db.backend()), samples);
    }
    // On PostgreSQL each round trip is two durable commits; on a disk whose
    // fdatasync takes milliseconds that dominates. The same measurement
    // without waiting for the WAL flush shows what the store itself costs.
    if let Some(pg) = dbs.iter().find(|db| db.backend() == Backend::Postgres) {
        let sep = if pg.url().contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}options=-c%20synchronous_commit%3Doff", pg.url());
        let db = Database::connect(&DbConfig::new(url)).unwrap();
        let m = QuotaManager::new(
            Plans::default(),
            SqlQuotaStore::new(db),
            ManualClock::new("2026-03-20T10:00:00Z".parse().unwrap()),
        );
        let users: Vec<UserKey> = (0..1000)
            .map(|i| UserKey::new(format!("user-{i}")))
            .collect();
        run(&m, &users, 0, warmup);
        report("postgres, sync_commit=off", run(&m, &users, warmup, iters));
    }
    if dbs.len() == 1 {
        println!("postgres: skipped (YTVC_TEST_DATABASE_URL is not set)");
    }
}

fn run(m: &Manager, users: &[UserKey], offset: usize, n: usize) -> Vec<Duration> {
    (offset..offset + n)
        .map(|i| {
            let user = &users[i % users.len()];
            let start = Instant::now();
            let r = m
                .reserve(user, &PlanName::PRO, AnchorDay::FIRST, 1)
                .unwrap();
            m.commit(r.id).unwrap();
            start.elapsed()
        })
        .collect()
}

fn split(
    m: &Manager,
    users: &[UserKey],
    offset: usize,
    n: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    (offset..offset + n)
        .map(|i| {
            let user = &users[i % users.len()];
            let start = Instant::now();
            let r = m
                .reserve(user, &PlanName::PRO, AnchorDay::FIRST, 1)
                .unwrap();
            let reserved = start.elapsed();
            let start = Instant::now();
            m.commit(r.id).unwrap();
            (reserved, start.elapsed())
        })
        .unzip()
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let pct = |p: f64| {
        let idx = ((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[idx].as_secs_f64() * 1000.0
    };
    let mean =
        samples.iter().map(Duration::as_secs_f64).sum::<f64>() / samples.len() as f64 * 1000.0;
    println!(
        "{label:<28} n={:<5} p50={:.3} ms  p90={:.3} ms  p99={:.3} ms  max={:.3} ms  mean={:.3} ms",
        samples.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
        mean
    );
}
