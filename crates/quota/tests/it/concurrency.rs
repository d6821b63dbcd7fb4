use std::sync::{Arc, Barrier};
use std::thread;

use ytvc_quota::{AnchorDay, QuotaError, QuotaStore as _, UserKey};

use crate::support::{manager_at, name};

#[test]
fn two_hundred_threads_race_for_one_hundred_units() {
    let (quotas, _, store) = manager_at("2026-01-20T10:00:00Z");
    let quotas = Arc::new(quotas);
    let user = UserKey::from("racer");
    let hundred = name("hundred");
    let barrier = Arc::new(Barrier::new(200));
    let handles: Vec<_> = (0..200)
        .map(|_| {
            let (quotas, user, plan, barrier) = (
                Arc::clone(&quotas),
                user.clone(),
                hundred.clone(),
                Arc::clone(&barrier),
            );
            thread::spawn(move || {
                barrier.wait();
                quotas.reserve(&user, &plan, AnchorDay::FIRST, 1)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 100);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, QuotaError::Exhausted { limit: 100, .. }))
    );
    let s = quotas.status(&user, &hundred, AnchorDay::FIRST).unwrap();
    assert_eq!((s.used, s.reserved, s.remaining), (100, 100, Some(0)));
    assert_eq!(store.pending_count(), 100);
}

#[test]
fn concurrent_batches_never_overspend() {
    for round in 0..20u32 {
        let (quotas, _, store) = manager_at("2026-01-20T10:00:00Z");
        let quotas = Arc::new(quotas);
        let user = UserKey::from("batcher");
        let hundred = name("hundred");
        let threads = 64;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (quotas, user, plan, barrier) = (
                    Arc::clone(&quotas),
                    user.clone(),
                    hundred.clone(),
                    Arc::clone(&barrier),
                );
                // Batch sizes 1..=10, varied per thread and round.
                let units = 1 + (i as u32 * 7 + round) % 10;
                thread::spawn(move || {
                    barrier.wait();
                    let mut granted = 0u64;
                    // Each thread keeps trying; some reservations are
                    // released again, so capacity moves around.
                    for attempt in 0..5 {
                        match quotas.reserve(&user, &plan, AnchorDay::FIRST, units) {
                            Ok(r) if attempt % 2 == 1 => {
                                quotas.release(r.id).unwrap();
                            }
                            Ok(r) => {
                                quotas.commit(r.id).unwrap();
                                granted += u64::from(units);
                            }
                            Err(
                                QuotaError::InsufficientForBatch { .. }
                                | QuotaError::Exhausted { .. },
                            ) => {}
                            Err(other) => panic!("unexpected {other:?}"),
                        }
                    }
                    granted
                })
            })
            .collect();
        let granted: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        let s = quotas.status(&user, &hundred, AnchorDay::FIRST).unwrap();
        assert!(granted <= 100, "round {round}: granted {granted}");
        assert_eq!((s.used, s.committed, s.reserved), (granted, granted, 0));
        let cycle = quotas.current_cycle(AnchorDay::FIRST);
        assert_eq!(store.usage(&user, cycle.start()).unwrap().used(), granted);
    }
}
