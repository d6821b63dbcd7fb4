//! One conformance suite, run against the in-memory store and (feature
//! `redis`, `YTVC_TEST_REDIS_URL` set) the Redis store: both must return
//! identical decisions for the same operations at the same instants.

use std::time::Duration;

use ytvc_rate_limit::{
    Decision, ManualClock, MemoryConfig, MemoryLimiter, Outcome, Policy, RateLimiter,
};

const BASE: u64 = 1_700_000_000_000;

#[derive(Debug, Clone, Copy)]
enum Op {
    Advance(u64),
    Check(usize, u32),
    Peek(usize, u32),
}

struct Case {
    name: String,
    policies: Vec<Policy>,
    keys: usize,
    ops: Vec<(usize, Op)>, // (policy index, op)
}

/// A small deterministic generator (no extra dependency).
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let p = |l, ms| Policy::new(l, Duration::from_millis(ms)).unwrap();
    // Hand-written scenarios.
    out.push(Case {
        name: "basic limit then window slides".into(),
        policies: vec![p(3, 10_000)],
        keys: 1,
        ops: [
            Op::Check(0, 1),
            Op::Check(0, 1),
            Op::Advance(2_000),
            Op::Check(0, 1),
            Op::Check(0, 1),
            Op::Peek(0, 1),
            Op::Advance(8_000),
            Op::Check(0, 1),
            Op::Advance(625),
            Op::Check(0, 1),
            Op::Check(0, 1),
        ]
        .into_iter()
        .map(|o| (0, o))
        .collect(),
    });
    out.push(Case {
        name: "weighted, cost 0 and cost above limit".into(),
        policies: vec![p(10, 5_000).with_buckets(4).unwrap()],
        keys: 2,
        ops: [
            Op::Check(0, 4),
            Op::Check(0, 11),
            Op::Check(0, 0),
            Op::Check(1, 10),
            Op::Advance(1_300),
            Op::Check(0, 6),
            Op::Check(0, 1),
            Op::Peek(0, 3),
            Op::Check(1, 1),
            Op::Advance(4_000),
            Op::Check(0, 5),
            Op::Check(1, 10),
        ]
        .into_iter()
        .map(|o| (0, o))
        .collect(),
    });
    out.push(Case {
        name: "window change migrates counted units".into(),
        policies: vec![p(4, 10_000), p(4, 3_000).with_buckets(3).unwrap()],
        keys: 1,
        ops: vec![
            (0, Op::Check(0, 3)),
            (0, Op::Advance(4_000)),
            (1, Op::Check(0, 1)),
            (1, Op::Check(0, 1)),
            (1, Op::Advance(2_000)),
            (0, Op::Check(0, 1)),
            (0, Op::Advance(3_000)),
            (1, Op::Peek(0, 1)),
            (1, Op::Check(0, 2)),
        ],
    });
    // Random scenarios: windows of seconds (Redis keys expire in real time by
    // the test instants, so windows are long compared with the test's run time).
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for i in 0..40 {
        let limit = 1 + rng.below(12) as u32;
        let window = 2_000 + rng.below(60_000);
        let buckets = 1 + rng.below(16) as u8;
        let pol = p(limit, window).with_buckets(buckets).unwrap();
        let keys = 1 + rng.below(3) as usize;
        let mut ops = Vec::new();
        for _ in 0..60 {
            let op = match rng.below(10) {
                0..=2 => Op::Advance(rng.below(window / 3)),
                3 => Op::Advance(rng.below(window * 2)),
                4 => Op::Peek(
                    rng.below(keys as u64) as usize,
                    rng.below(u64::from(limit) + 1) as u32,
                ),
                5 => Op::Check(
                    rng.below(keys as u64) as usize,
                    rng.below(u64::from(limit) + 3) as u32,
                ),
                _ => Op::Check(rng.below(keys as u64) as usize, 1),
            };
            ops.push((0, op));
        }
        out.push(Case {
            name: format!("random #{i} (limit {limit}, window {window} ms, {buckets} buckets)"),
            policies: vec![pol],
            keys,
            ops,
        });
    }
    out
}

/// Runs `case` against `lim`, whose clock is `clock`; keys are `<prefix><n>`.
async fn run(
    lim: &dyn RateLimiter,
    clock: &ManualClock,
    prefix: &str,
    case: &Case,
) -> Vec<Decision> {
    clock.set(BASE);
    let mut out = Vec::new();
    for (pi, op) in &case.ops {
        let p = &case.policies[*pi];
        match *op {
            Op::Advance(ms) => clock.advance(Duration::from_millis(ms)),
            Op::Check(k, cost) => out.push(lim.check(&format!("{prefix}{k}"), p, cost).await),
            Op::Peek(k, cost) => out.push(lim.peek(&format!("{prefix}{k}"), p, cost).await),
        }
    }
    assert!(case.keys >= 1);
    out
}

fn memory(clock: &ManualClock) -> MemoryLimiter<ManualClock> {
    MemoryLimiter::with_clock(clock.clone(), MemoryConfig::default())
}

#[cfg(feature = "redis")]
fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("ytvc-rl-test:{}:{nanos}:", std::process::id())
}

#[tokio::test]
async fn memory_store_passes_the_suite() {
    let clock = ManualClock::new(BASE);
    for case in cases() {
        let lim = memory(&clock);
        let ds = run(&lim, &clock, "k", &case).await;
        // Self-consistency of every decision.
        for d in &ds {
            assert!(d.remaining() <= d.limit(), "{}", case.name);
            match d.outcome() {
                Outcome::Limited => assert!(d.retry_at_millis().unwrap() > d.now_millis()),
                _ => assert_eq!(d.retry_after(), None),
            }
        }
    }
}

#[tokio::test]
async fn basic_scenario_decisions() {
    let clock = ManualClock::new(BASE);
    let case = &cases()[0];
    let lim = memory(&clock);
    let ds = run(&lim, &clock, "k", case).await;
    let allowed: Vec<bool> = ds.iter().map(Decision::allowed).collect();
    // 3 per 10 s, 16 buckets of 625 ms: units at 0, 0, 2000; the two at 0 stop
    // counting at 10 625 (still counted at 10 000).
    assert_eq!(allowed, [true, true, true, false, false, false, true, true]);
    assert_eq!(ds[3].retry_at_millis(), Some(BASE + 10_625));
    assert_eq!(ds[3].retry_after_secs(), Some(9));
}

#[cfg(feature = "redis")]
mod redis_store {
    use super::*;
    use std::sync::Arc;
    use ytvc_rate_limit::{RedisConfig, RedisLimiter, Source};

    pub(crate) fn redis_url() -> Option<String> {
        match std::env::var("YTVC_TEST_REDIS_URL") {
            Ok(u) if !u.is_empty() => Some(u),
            _ => {
                eprintln!("YTVC_TEST_REDIS_URL is not set: skipping a Redis store test");
                None
            }
        }
    }

    async fn redis(url: &str, prefix: &str, clock: Option<&ManualClock>) -> RedisLimiter {
        let config = RedisConfig {
            prefix: prefix.to_owned(),
            timeout: Duration::from_secs(2),
            ..RedisConfig::default()
        };
        let lim = RedisLimiter::connect(url, config)
            .await
            .expect("connect to Redis");
        match clock {
            Some(c) => lim.with_clock(Arc::new(c.clone())),
            None => lim,
        }
    }

    #[tokio::test]
    async fn redis_store_decides_identically_to_memory() {
        let Some(url) = redis_url() else { return };
        let prefix = unique_prefix();
        let clock = ManualClock::new(BASE);
        let red = redis(&url, &prefix, Some(&clock)).await;
        for (i, case) in cases().iter().enumerate() {
            let mem = memory(&clock);
            let expected = run(&mem, &clock, "k", case).await;
            let got = run(&red, &clock, &format!("case{i}:k"), case).await;
            assert_eq!(got, expected, "case {:?}", case.name);
            assert!(got.iter().all(|d| d.source() == Source::Store));
        }
        assert_eq!(red.degraded_count(), 0);
    }

    #[tokio::test]
    async fn redis_keys_are_hash_tagged_and_expire() {
        let Some(url) = redis_url() else { return };
        let prefix = unique_prefix();
        let clock = ManualClock::new(BASE);
        let red = redis(&url, &prefix, Some(&clock)).await;
        let p = Policy::new(5, Duration::from_secs(30)).unwrap();
        assert!(red.check("user:1:api", &p, 2).await.allowed());
        let key = red.redis_key("user:1:api");
        assert_eq!(key, format!("{prefix}{{user:1:api}}"));
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut con)
            .await
            .unwrap();
        // Counted for window + one bucket at most (30 s + 1 875 ms).
        assert!(ttl > 0 && ttl <= 31_875, "ttl {ttl}");
        // Nothing counted any more -> the key is gone.
        clock.advance(Duration::from_secs(32));
        assert_eq!(red.check("user:1:api", &p, 0).await.remaining(), 5);
        let exists: i64 = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(exists, 0);
        // Peek never writes.
        assert!(red.peek("other", &p, 1).await.allowed());
        let exists: i64 = redis::cmd("EXISTS")
            .arg(red.redis_key("other"))
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(exists, 0);
    }

    #[tokio::test]
    async fn redis_time_is_the_default_clock() {
        let Some(url) = redis_url() else { return };
        let red = redis(&url, &unique_prefix(), None).await;
        let p = Policy::per_minute(2).unwrap();
        let before = ytvc_rate_limit::system_time_to_millis(std::time::SystemTime::now());
        let d = red.check("k", &p, 1).await;
        assert!(d.allowed());
        // Redis runs on this machine: its TIME is close to ours.
        assert!(d.now_millis().abs_diff(before) < 5_000);
        assert!(red.check("k", &p, 1).await.allowed());
        let d = red.check("k", &p, 1).await;
        assert_eq!(d.outcome(), Outcome::Limited);
        assert!(d.retry_after().unwrap() <= Duration::from_millis(60_000 + 3_750));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_instances_sharing_redis_never_exceed_the_limit_together() {
        let Some(url) = redis_url() else { return };
        let prefix = unique_prefix();
        let a = Arc::new(redis(&url, &prefix, None).await);
        let b = Arc::new(redis(&url, &prefix, None).await);
        let p = Policy::per_hour(50).unwrap();
        let mut tasks = Vec::new();
        for i in 0..16 {
            let lim = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                let mut admitted = 0u32;
                for _ in 0..25 {
                    let d = lim.check("shared", &p, 1).await;
                    assert_eq!(d.source(), Source::Store);
                    admitted += u32::from(d.allowed());
                }
                admitted
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        assert_eq!(total, 50, "400 concurrent checks from two instances");
    }
}
