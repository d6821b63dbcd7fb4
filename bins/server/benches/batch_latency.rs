//! Latency of `POST /v1/batches` with 100 items (validation, then one
//! transaction: batch + 100 videos + 100 jobs + 100 quota reservations),
//! through the real server on loopback, on SQLite and on PostgreSQL.
//!
//! ```text
//! YTVC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p ytvc-server --bench batch_latency
//! ```
//! Prints p50 / p90 / p99 / max per backend (figures in docs/performance.md).

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use ytvc_persistence::testing::TestDb;
use ytvc_quota::{Plan, PlanName, Plans, RateLimitSpec, RateLimits};
use ytvc_server::config::{Config, Secret};
use ytvc_server::startup::Application;

const ITERATIONS: usize = 100;

fn bench_plans() -> Plans {
    let wide = RateLimitSpec {
        limit: 1_000_000,
        window_secs: 3600,
    };
    let bench = Plan {
        name: PlanName::parse("bench").unwrap(),
        monthly_quota: None,
        batch_size_limit: 100,
        priority: 1,
        rate_limits: RateLimits {
            api: wide,
            batch_creations: wide,
            video_generations: wide,
        },
    };
    Plans::new([Plan::free(), bench]).unwrap()
}

async fn run(name: &str, db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path());
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.database_url = Secret::new(db.url().to_owned());
    config.worker_enabled = false;
    config.plans = bench_plans();
    config.auth_ip_limit_per_minute = 1000;
    let app = Application::build(config, ytvc_server::telemetry::discard())
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let creds = serde_json::json!({"email": "bench@example.com", "password": "correct horse battery staple"});
    client
        .post(format!("{base}/v1/auth/register"))
        .json(&creds)
        .send()
        .await
        .unwrap();
    {
        let mut conn = db.database().conn().unwrap();
        diesel::sql_query("UPDATE users SET plan = 'bench'")
            .execute(&mut *conn)
            .unwrap();
    }
    let login: serde_json::Value = client
        .post(format!("{base}/v1/auth/login"))
        .json(&creds)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["data"]["access_token"].as_str().unwrap().to_owned();
    let batch = serde_json::json!({"videos": (0..100).map(|i| serde_json::json!({
        "prompt": format!("Benchmark clip number {i} about a quiet forest at dawn"), "duration_seconds": 30
    })).collect::<Vec<_>>()});
    let mut samples = Vec::with_capacity(ITERATIONS);
    for i in 0..ITERATIONS + 5 {
        let started = Instant::now();
        let r = client
            .post(format!("{base}/v1/batches"))
            .bearer_auth(&token)
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
    handle.stop(false).await;
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run("SQLite", TestDb::sqlite()));
    match TestDb::postgres() {
        Some(db) => rt.block_on(run("PostgreSQL", db)),
        None => println!("PostgreSQL skipped: set YTVC_TEST_DATABASE_URL"),
    }
}
