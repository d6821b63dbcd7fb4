//! Throughput of the pure cycle computation and of the in-memory store.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ytvc_quota::{
    AnchorDay, DateTime, InMemoryQuotaStore, ManualClock, PlanName, Plans, QuotaManager, TimeDelta,
    UserKey, Utc, cycle_for,
};

fn cycles(c: &mut Criterion) {
    let now: DateTime<Utc> = "2026-03-30T12:00:00Z".parse().unwrap();
    let anchor = AnchorDay::new(31).unwrap();
    c.bench_function("cycle_for", |b| {
        b.iter(|| cycle_for(black_box(anchor), black_box(now)))
    });
}

fn reserve_commit(c: &mut Criterion) {
    let clock = ManualClock::new("2026-01-20T10:00:00Z".parse().unwrap());
    let quotas = QuotaManager::new(Plans::default(), InMemoryQuotaStore::new(), clock.clone());
    let users: Vec<UserKey> = (0..10_000)
        .map(|i| UserKey::new(format!("user-{i}")))
        .collect();
    let mut i = 0usize;
    c.bench_function("reserve+commit (enterprise, 10k users)", |b| {
        b.iter(|| {
            let user = &users[i % users.len()];
            i += 1;
            let r = quotas
                .reserve(user, &PlanName::ENTERPRISE, AnchorDay::FIRST, 1)
                .unwrap();
            quotas.commit(r.id).unwrap()
        })
    });
    c.bench_function("status (10k users)", |b| {
        b.iter(|| {
            let user = &users[i % users.len()];
            i += 1;
            quotas
                .status(user, &PlanName::PRO, AnchorDay::FIRST)
                .unwrap()
        })
    });
    clock.advance(TimeDelta::days(2));
    c.bench_function("release_expired (nothing pending)", |b| {
        b.iter(|| quotas.release_expired().unwrap())
    });
}

criterion_group!(benches, cycles, reserve_commit);
criterion_main!(benches);
