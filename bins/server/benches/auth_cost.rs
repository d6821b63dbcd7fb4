//! What API-key authentication costs next to JWT authentication, in one run:
//!
//! 1. `GET /v1/quota` through the real server on loopback (SQLite), the two
//!    credentials interleaved request by request, so both see the same
//!    machine; p50 and mean per credential, and their ratio.
//! 2. The extractor's decision path alone (`http::auth::authenticate`: the
//!    bearer token's shape → key parse + SHA-256 + cache hit, or JWT verify +
//!    cache hit), interleaved in rounds; the median round's time per call.
//!
//! ```text
//! cargo bench -p ytvc-server --bench auth_cost
//! ```
//! Figures in docs/performance.md; the target is key ≤ 1.10 × JWT.

mod support;

use std::time::{Duration, Instant};

use support::Bench;
use ytvc_persistence::testing::TestDb;

/// Requests per credential over HTTP.
const REQUESTS: usize = 2_000;
/// Rounds of the decision path, and calls per credential in each.
const ROUNDS: usize = 21;
const CALLS: usize = 20_000;

fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 * p).ceil() as usize).saturating_sub(1);
    samples[i.min(samples.len() - 1)]
}

fn mean(samples: &[Duration]) -> Duration {
    samples.iter().sum::<Duration>() / u32::try_from(samples.len()).unwrap()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn run() {
    let db = TestDb::sqlite();
    let bench = Bench::start(&db).await;
    let (base, client, jwt, state) = (&bench.base, &bench.client, &bench.token, &bench.state);
    let made: serde_json::Value = client
        .post(format!("{base}/v1/api-keys"))
        .bearer_auth(jwt)
        .json(&serde_json::json!({"name": "bench", "scopes": ["videos:read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = made["data"]["key"].as_str().unwrap().to_owned();

    // 1. The endpoint, interleaved.
    let (mut by_jwt, mut by_key) = (Vec::new(), Vec::new());
    for i in 0..REQUESTS + 50 {
        for (token, samples) in [(jwt, &mut by_jwt), (&key, &mut by_key)] {
            let started = Instant::now();
            let r = client
                .get(format!("{base}/v1/quota"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let _ = r.bytes().await.unwrap();
            let elapsed = started.elapsed();
            assert_eq!(status, 200);
            if i >= 50 {
                samples.push(elapsed); // the first 50 warm pool, caches, connection
            }
        }
    }
    let (jwt_mean, key_mean) = (mean(&by_jwt), mean(&by_key));
    let (jwt_p50, key_p50) = (pct(&mut by_jwt, 0.5), pct(&mut by_key, 0.5));
    println!(
        "GET /v1/quota, {REQUESTS} requests each, interleaved: JWT p50 {:.1} µs mean {:.1} µs; \
         API key p50 {:.1} µs mean {:.1} µs; key / JWT: p50 {:.3}, mean {:.3}",
        us(jwt_p50),
        us(jwt_mean),
        us(key_p50),
        us(key_mean),
        key_p50.as_secs_f64() / jwt_p50.as_secs_f64(),
        key_mean.as_secs_f64() / jwt_mean.as_secs_f64(),
    );

    // 2. The decision path alone (both cached by now).
    let (mut jwt_rounds, mut key_rounds) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for (token, rounds) in [(jwt, &mut jwt_rounds), (&key, &mut key_rounds)] {
            let started = Instant::now();
            for _ in 0..CALLS {
                let who = ytvc_server::http::auth::authenticate(state, token)
                    .await
                    .unwrap();
                std::hint::black_box(who);
            }
            rounds.push(started.elapsed() / u32::try_from(CALLS).unwrap());
        }
    }
    let (jwt_call, key_call) = (pct(&mut jwt_rounds, 0.5), pct(&mut key_rounds, 0.5));
    println!(
        "authenticate() on a cache hit, median of {ROUNDS} rounds of {CALLS}: JWT {:.2} µs, \
         API key {:.2} µs; key / JWT {:.3}",
        us(jwt_call),
        us(key_call),
        key_call.as_secs_f64() / jwt_call.as_secs_f64(),
    );
    bench.stop().await;
}

fn main() {
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}
