//! Redis store throughput against `redis-benchmark` issuing `EVALSHA` of a
//! trivial script at the same concurrency, in the same run.
//!
//! ```text
//! YTVC_TEST_REDIS_URL=redis://127.0.0.1:6379 \
//!   cargo run --release -p ytvc-rate-limit --features redis --example redis_bench -- 50 3
//! ```
//! Arguments: concurrent clients (default 50), seconds per measurement (default 3).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ytvc_rate_limit::{Policy, RedisConfig, RedisLimiter};

async fn evalsha_calls(con: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(con)
        .await
        .unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("cmdstat_evalsha:calls="))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Runs `clients` tasks checking random keys for `secs`; each task uses
/// `limiters[i % limiters.len()]`. Returns checks per second.
async fn drive(limiters: &[Arc<RedisLimiter>], clients: usize, secs: u64) -> (f64, u64) {
    let p = Policy::per_second(u32::MAX).unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let degraded_before: u64 = limiters.iter().map(|l| l.degraded_count()).sum();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let lim = limiters[i % limiters.len()].clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let key = format!("bench:{}", (n * 7919 + i as u64) % 10_000);
                    std::hint::black_box(lim.check(&key, &p, 1).await);
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let n = done.load(Ordering::Relaxed);
    let degraded: u64 = limiters.iter().map(|l| l.degraded_count()).sum::<u64>() - degraded_before;
    (
        n as f64 / start.elapsed().as_secs_f64(),
        n + degraded * 1_000_000_000,
    )
}

fn redis_benchmark(url: &str, clients: usize, requests: u64, sha: &str) -> Option<f64> {
    let out = std::process::Command::new("redis-benchmark")
        .args([
            "-u",
            url,
            "-c",
            &clients.to_string(),
            "-n",
            &requests.to_string(),
            "-q",
        ])
        .args(["EVALSHA", sha, "0"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "\n");
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains("requests per second"))?;
    line.split(':')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url =
        std::env::var("YTVC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut args = std::env::args().skip(1);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let prefix = format!("ytvc-rl-bench:{}:", std::process::id());
    let config = RedisConfig {
        prefix,
        timeout: Duration::from_secs(1),
        ..RedisConfig::default()
    };
    let client = redis::Client::open(url.as_str()).expect("redis url");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");

    // One limiter (one multiplexed connection) shared by all clients.
    let shared = vec![Arc::new(
        RedisLimiter::connect(&url, config.clone())
            .await
            .expect("redis"),
    )];
    let calls0 = evalsha_calls(&mut con).await;
    let (shared_rate, shared_n) = drive(&shared, clients, secs).await;
    let calls1 = evalsha_calls(&mut con).await;
    // One limiter (one connection) per client, as redis-benchmark uses.
    let mut own = Vec::new();
    for _ in 0..clients {
        own.push(Arc::new(
            RedisLimiter::connect(&url, config.clone())
                .await
                .expect("redis"),
        ));
    }
    let (own_rate, _) = drive(&own, clients, secs).await;

    let sha: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg("return 1")
        .query_async(&mut con)
        .await
        .expect("SCRIPT LOAD");
    let requests = ((own_rate.max(shared_rate) * secs as f64) as u64).max(10_000);
    let baseline = redis_benchmark(&url, clients, requests, &sha);

    println!("clients: {clients}, {secs} s per measurement");
    println!(
        "EVALSHA calls per check (INFO commandstats, shared mode): {:.3}",
        (calls1 - calls0) as f64 / shared_n as f64
    );
    println!("ytvc-rate-limit, 1 shared connection : {shared_rate:>10.0} checks/s");
    println!("ytvc-rate-limit, 1 connection/client : {own_rate:>10.0} checks/s");
    match baseline {
        Some(b) => {
            println!("redis-benchmark EVALSHA 'return 1'   : {b:>10.0} req/s");
            println!(
                "ratio (per-client connections / redis-benchmark): {:.2}; (shared / redis-benchmark): {:.2}",
                own_rate / b,
                shared_rate / b
            );
        }
        None => println!("redis-benchmark not found or failed: no baseline"),
    }
}
