//! Latency of `POST /v1/batches` with 100 items (validation, then one
//! transaction: batch + 100 videos + 100 jobs + 100 quota reservations),
//! through the real server on loopback, on SQLite and on PostgreSQL.
//!
//! ```text
//! YTVC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p ytvc-server --bench batch_latency
//! ```
//! Prints p50 / p90 / p99 / max per backend (figures in docs/performance.md).

mod support;

use std::time::{Duration, Instant};

use support::Bench;
use ytvc_persistence::testing::TestDb;

const ITERATIONS: usize = 100;

async fn run(name: &str, db: TestDb) {
    let bench = Bench::start(&db).await;
    let (base, client, token) = (&bench.base, &bench.client, &bench.token);
    let batch = serde_json::json!({"videos": (0..100).map(|i| serde_json::json!({
        "prompt": format!("Benchmark clip number {i} about a quiet forest at dawn"), "duration_seconds": 30
    })).collect::<Vec<_>>()});
    let mut samples = Vec::with_capacity(ITERATIONS);
    for i in 0..ITERATIONS + 5 {
        let started = Instant::now();
        let r = client
            .post(format!("{base}/v1/batches"))
            .bearer_auth(token)
            .json(&batch)
            .send()
            .await
            .unwrap();
        let elapsed = started.elapsed();
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
        if i >= 5 {
            samples.push(elapsed); // the first five warm the pool and caches
        }
    }
    samples.sort();
    let pct = |p: f64| {
        samples[((samples.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(samples.len() - 1)]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "POST /v1/batches (100 items) on {name}: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({ITERATIONS} requests)",
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(*samples.last().unwrap())
    );
    bench.stop().await;
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run("SQLite", TestDb::sqlite()));
    match TestDb::postgres() {
        Some(db) => rt.block_on(run("PostgreSQL", db)),
        None => println!("PostgreSQL skipped: set YTVC_TEST_DATABASE_URL"),
    }
}
