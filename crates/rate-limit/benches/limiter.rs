//! Criterion benchmarks of the in-memory store.
#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn
//!
//! `cargo bench -p ytvc-rate-limit --bench limiter -- --warm-up-time 1 --measurement-time 3`

use std::alloc::System;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use ytvc_rate_limit::{MemoryConfig, MemoryLimiter, Outcome, Policy, SystemClock};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const MILLION: usize = 1_000_000;

fn hot_key(c: &mut Criterion) {
    let lim = MemoryLimiter::new();
    let roomy = Policy::per_second(u32::MAX).unwrap();
    c.bench_function("memory/check/hot_key_allowed", |b| {
        b.iter(|| lim.check(black_box("user:42:api"), &roomy, 1))
    });
    let tight = Policy::per_minute(100).unwrap();
    c.bench_function("memory/check/hot_key_limited", |b| {
        b.iter(|| lim.check(black_box("user:43:api"), &tight, 1))
    });
    c.bench_function("memory/peek/hot_key", |b| {
        b.iter(|| lim.peek(black_box("user:43:api"), &tight, 1))
    });
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn million_keys(c: &mut Criterion) {
    let keys: Vec<String> = (0..MILLION).map(|i| format!("user:{i}:api")).collect();
    let p = Policy::per_hour(100).unwrap();
    let config = MemoryConfig {
        max_keys: 2 * MILLION,
        ..MemoryConfig::default()
    };
    let rss_before = resident_bytes();
    let region = Region::new(GLOBAL);
    let lim = MemoryLimiter::with_clock(SystemClock, config);
    for k in &keys {
        assert_eq!(lim.check(k, &p, 1).outcome(), Outcome::Allowed);
    }
    let stats = region.change();
    let net = stats.bytes_allocated as i64 + stats.bytes_reallocated as i64
        - stats.bytes_deallocated as i64;
    let rss = match (rss_before, resident_bytes()) {
        (Some(a), Some(b)) => format!("{:.1}", (b as f64 - a as f64) / MILLION as f64),
        _ => "n/a".to_owned(),
    };
    assert_eq!(lim.len(), MILLION);
    println!(
        "memory per key with {MILLION} active keys: {:.1} bytes allocated (net), {rss} bytes resident",
        net as f64 / MILLION as f64
    );
    // Keys in creation order: the key strings are read sequentially, so the
    // cost measured is the limiter's (its table is still hit at random).
    let mut i = 0usize;
    c.bench_function("memory/check/1M_distinct_keys_in_order", |b| {
        b.iter(|| {
            i = if i + 1 == MILLION { 0 } else { i + 1 };
            lim.check(black_box(&keys[i]), &p, 0)
        })
    });
    // Keys in a scattered order: the bench's own key strings miss the cache too.
    let mut i = 0usize;
    c.bench_function("memory/check/1M_distinct_keys_scattered", |b| {
        b.iter(|| {
            i = (i + 611_953) % MILLION;
            lim.check(black_box(&keys[i]), &p, 0)
        })
    });
}

/// Control for the 1M-key figure: the latency of one dependent read at a
/// random place in a 256 MB array (a pointer chase through a random cycle):
/// what a single cache-and-TLB miss costs on this machine. A check on a cold
/// key needs at least one such miss, whatever the data structure.
fn memory_latency(c: &mut Criterion) {
    const SLOTS: usize = 32 << 20; // 32 Mi × 8 B = 256 MB
    // Sattolo's algorithm: one random cycle through every slot.
    let mut next: Vec<u64> = (0..SLOTS as u64).collect();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for i in (1..SLOTS).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % i as u64) as usize;
        next.swap(i, j);
    }
    let mut at = 0usize;
    c.bench_function("memory/control/dependent_random_read_256MB", |b| {
        b.iter(|| {
            at = next[at] as usize;
            black_box(at)
        })
    });
}

fn run_threads(lim: &MemoryLimiter, p: &Policy, keys: &[Vec<String>], iters: u64) -> Duration {
    run_threads_with(keys, iters, |k| {
        black_box(lim.check(k, p, 1));
    })
}

fn run_threads_with(keys: &[Vec<String>], iters: u64, op: impl Fn(&str) + Sync) -> Duration {
    let barrier = Barrier::new(keys.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = keys
            .iter()
            .map(|mine| {
                let (barrier, op) = (&barrier, &op);
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    let mut j = 0;
                    for _ in 0..iters {
                        j = (j + 1) & (mine.len() - 1);
                        op(&mine[j]);
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .max()
            .unwrap()
    })
}

fn threads(c: &mut Criterion) {
    let lim = MemoryLimiter::new();
    let p = Policy::per_second(u32::MAX).unwrap();
    let mut g = c.benchmark_group("memory/threads");
    for n in [1usize, 2] {
        // Each thread checks its own 1024 keys (spread over all shards).
        let keys: Vec<Vec<String>> = (0..n)
            .map(|t| (0..1024).map(|k| format!("t{t}:k{k}")).collect())
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n}_threads_own_keys"), |b| {
            b.iter_custom(|iters| run_threads(&lim, &p, &keys, iters))
        });
        // Control: the same loop without the limiter (hashing the key only):
        // shows how much parallelism the machine gives two threads right now.
        g.bench_function(format!("{n}_threads_control_hash_only"), |b| {
            b.iter_custom(|iters| {
                let hasher = ahash::RandomState::with_seeds(1, 2, 3, 4);
                run_threads_with(&keys, iters, |k| {
                    black_box(hasher.hash_one(k));
                })
            })
        });
        // Every thread on the same single key (worst case: one lock).
        let same: Vec<Vec<String>> = (0..n).map(|_| vec!["shared".to_owned()]).collect();
        g.bench_function(format!("{n}_threads_same_key"), |b| {
            b.iter_custom(|iters| run_threads(&lim, &p, &same, iters))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = hot_key, million_keys, memory_latency, threads
}
criterion_main!(benches);
