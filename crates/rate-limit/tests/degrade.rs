//! The Redis store degrades within its timeout when Redis hangs or is
//! unreachable (no real Redis needed: a fake server that never answers).
#![cfg(feature = "redis")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use ytvc_rate_limit::{
    Degrade, ManualClock, Outcome, Policy, RateLimiter, RedisConfig, RedisLimitError, RedisLimiter,
    Source,
};

/// A TCP server that accepts connections and never answers.
async fn black_hole() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    format!("redis://{addr}")
}

/// An address where nothing listens.
async fn refused() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("redis://{addr}")
}

fn limiter(url: &str, hook_calls: Arc<AtomicU64>) -> RedisLimiter {
    let config = RedisConfig {
        timeout: Duration::from_millis(25),
        ..RedisConfig::default()
    };
    RedisLimiter::new(redis::Client::open(url).unwrap(), config)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(1_700_000_000_000)))
        .on_degraded(move |e| {
            assert!(e.count >= 1);
            hook_calls.fetch_add(1, Ordering::SeqCst);
        })
}

async fn degrades(url: String) {
    let hooks = Arc::new(AtomicU64::new(0));
    let lim = limiter(&url, hooks.clone());
    let open = Policy::per_minute(1)
        .unwrap()
        .with_degrade(Degrade::FailOpen);
    let local = Policy::per_minute(2)
        .unwrap()
        .with_degrade(Degrade::LocalFallback);

    let started = Instant::now();
    for _ in 0..3 {
        let d = lim.check("api", &open, 1).await;
        assert!(d.allowed());
        assert_eq!(d.source(), Source::FailOpen);
    }
    let a = lim.check("login", &local, 1).await;
    let b = lim.check("login", &local, 1).await;
    let c = lim.check("login", &local, 1).await;
    assert!(a.allowed() && b.allowed());
    assert_eq!(c.outcome(), Outcome::Limited);
    assert!(c.is_degraded());
    assert_eq!(c.source(), Source::LocalFallback);
    let p = lim.peek("login", &local, 1).await;
    assert_eq!((p.source(), p.remaining()), (Source::LocalFallback, 0));
    // Through the trait object too.
    let dynlim: &dyn RateLimiter = &lim;
    assert!(dynlim.check("api", &open, 1).await.is_degraded());
    // Never hung: 8 decisions, each bounded by the 25 ms timeout (generous margin).
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(lim.degraded_count(), 8);
    assert_eq!(hooks.load(Ordering::SeqCst), 8);
    // A cost above the limit is refused even when failing open.
    let d = lim.check("api", &open, 2).await;
    assert_eq!(d.outcome(), Outcome::CostExceedsLimit);
}

#[tokio::test]
async fn hanging_redis_degrades_within_the_timeout() {
    let url = black_hole().await;
    degrades(url.clone()).await;
    let lim = limiter(&url, Arc::default());
    let err = lim
        .try_check("k", &Policy::per_second(1).unwrap(), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, RedisLimitError::Timeout(_)), "{err}");
}

#[tokio::test]
async fn unreachable_redis_degrades() {
    degrades(refused().await).await;
}

#[tokio::test]
async fn connect_fails_fast_when_redis_is_down() {
    let config = RedisConfig {
        connect_timeout: Duration::from_millis(200),
        ..RedisConfig::default()
    };
    assert!(
        RedisLimiter::connect(&black_hole().await, config.clone())
            .await
            .is_err()
    );
    assert!(
        RedisLimiter::connect(&refused().await, config)
            .await
            .is_err()
    );
}
