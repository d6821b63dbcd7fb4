//! The in-memory store: sharded, thread-safe, idle keys swept, a hard key cap.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use crate::decision::{Decision, Outcome};
use crate::policy::Policy;
use crate::table::Table;
use crate::time::{Clock, SystemClock, duration_to_millis_floor};
use crate::window::{Window, fresh};

/// Sizing of a [`MemoryLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryConfig {
    /// Hard cap on stored keys, counted across all shards. A new key arriving
    /// at the cap first triggers a sweep of every shard (at most once per
    /// [`cap_sweep_interval`](Self::cap_sweep_interval) for the whole
    /// limiter); if the limiter is still full the check is refused with
    /// [`Outcome::KeyCapacity`]. Keys with counted units are never evicted.
    pub max_keys: usize,
    /// Number of shards (rounded up to a power of two, at least 1). Each is a
    /// lock and a key table on its own 64-byte line: with many shards,
    /// threads working on different keys rarely touch the same line (16,384
    /// shards: 1 MB, and two threads reach 1.6–1.8× one thread's throughput;
    /// 256: 0.7×).
    pub shards: usize,
    /// A shard drops its idle keys (no unit counted) when a new key is
    /// inserted and this long has passed since its last sweep.
    pub sweep_interval: Duration,
    /// Minimum time between two sweeps of the full limiter triggered by new
    /// keys at the cap (bounds the sweep work an attacker can cause).
    pub cap_sweep_interval: Duration,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            max_keys: 1_000_000,
            shards: 16_384,
            sweep_interval: Duration::from_secs(10),
            cap_sweep_interval: Duration::from_millis(100),
        }
    }
}

struct Shard {
    map: Table,
    next_sweep: u64,
}

impl Shard {
    fn sweep(&mut self, now: u64) -> usize {
        self.map.retain(|w| !w.is_idle(now))
    }
}

/// One shard per cache line, so two threads on different shards do not
/// contend on the same line. The line holds the lock and the table's
/// pointer, length and capacity: 16,384 shards take 1 MB, which mostly stays
/// in cache, and the key's slot is then the only read that goes to memory.
#[repr(align(64))]
struct Padded(Mutex<Shard>);

/// A value on its own cache line pair.
#[repr(align(128))]
struct CachePadded<T>(T);

/// A sharded, thread-safe, in-memory sliding-window limiter.
///
/// Keys are hashed with a per-instance random seed to 64 bits and only the
/// hash is stored, next to its 96 bytes of counters (one 104-byte slot). Two keys whose hashes
/// collide share one budget: that can only under-admit, and with `n` keys it
/// happens with probability about `n² / 2^65`.
pub struct MemoryLimiter<C = SystemClock> {
    shards: Box<[Padded]>,
    shift: u32,
    max_keys: usize,
    /// Keys stored, across shards (changed only when a key is added or
    /// dropped, never by a check of an existing key).
    keys: CachePadded<AtomicUsize>,
    /// When the next sweep of every shard may run because of the cap.
    next_cap_sweep: CachePadded<AtomicU64>,
    hasher: ahash::RandomState,
    clock: C,
    sweep_ms: u64,
    cap_sweep_ms: u64,
}

impl MemoryLimiter<SystemClock> {
    /// A limiter on the system clock with [`MemoryConfig::default`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_clock(SystemClock, MemoryConfig::default())
    }
}

impl Default for MemoryLimiter<SystemClock> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> std::fmt::Debug for MemoryLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLimiter")
            .field("shards", &self.shards.len())
            .field("max_keys", &self.max_keys)
            .finish_non_exhaustive()
    }
}

impl<C: Clock> MemoryLimiter<C> {
    /// A limiter reading `clock`, sized by `config`.
    pub fn with_clock(clock: C, config: MemoryConfig) -> Self {
        let shards = config.shards.clamp(1, 1 << 16).next_power_of_two();
        let shift = 64 - shards.trailing_zeros();
        let shards = (0..shards)
            .map(|_| {
                Padded(Mutex::new(Shard {
                    map: Table::new(),
                    next_sweep: 0,
                }))
            })
            .collect();
        Self {
            shards,
            shift,
            max_keys: config.max_keys.max(1),
            keys: CachePadded(AtomicUsize::new(0)),
            next_cap_sweep: CachePadded(AtomicU64::new(0)),
            hasher: ahash::RandomState::new(),
            clock,
            sweep_ms: duration_to_millis_floor(config.sweep_interval),
            cap_sweep_ms: duration_to_millis_floor(config.cap_sweep_interval),
        }
    }

    /// The clock this limiter reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    #[inline]
    fn locate(&self, key: &str) -> (u64, &Mutex<Shard>) {
        // 0 marks an empty table slot: that one hash is stored as 1 (the
        // two keys then share a budget, like any hash collision).
        let h = self.hasher.hash_one(key).max(1);
        // `shift` is 64 for one shard: `checked_shr` gives 0 then.
        let idx = h.checked_shr(self.shift).unwrap_or(0) as usize;
        (h, &self.shards[idx].0)
    }

    /// Takes one slot of the key cap; `false` when the limiter is full.
    fn take_slot(&self) -> bool {
        self.keys
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_keys).then_some(n + 1)
            })
            .is_ok()
    }

    /// Sweeps `own` (locked by the caller) and every other shard, if no cap
    /// sweep ran in the last `cap_sweep_interval`.
    fn cap_sweep(&self, own: &mut Shard, now: u64) {
        let due = self.next_cap_sweep.0.load(Ordering::Acquire);
        if now < due
            || self
                .next_cap_sweep
                .0
                .compare_exchange(
                    due,
                    now.saturating_add(self.cap_sweep_ms),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_err()
        {
            return;
        }
        let mut freed = own.sweep(now);
        let own_ptr: *const Shard = own;
        for shard in &*self.shards {
            // The caller holds its own shard; the others are locked one at a
            // time (a check holds one shard lock only, so this cannot
            // deadlock).
            if std::ptr::eq(shard.0.data_ptr(), own_ptr) {
                continue;
            }
            freed += shard.0.lock().sweep(now);
        }
        self.keys.0.fetch_sub(freed, Ordering::AcqRel);
    }

    /// Checks `cost` units for `key` now and consumes them if admitted.
    ///
    /// `cost` 0 consumes nothing and is admitted unless the key is already
    /// over its limit. A `cost` above the limit is never admitted
    /// ([`Outcome::CostExceedsLimit`]).
    #[inline]
    pub fn check(&self, key: &str, policy: &Policy, cost: u32) -> Decision {
        self.check_at(key, policy, cost, self.clock.now_millis())
    }

    /// [`check`](Self::check) at an explicit instant (ms since the UNIX
    /// epoch) instead of the clock. Per key, time never goes backwards past
    /// the start of the key's newest bucket: an earlier instant is taken as
    /// that start (same rule in the Redis script).
    pub fn check_at(&self, key: &str, policy: &Policy, cost: u32, now_ms: u64) -> Decision {
        let (h, shard) = self.locate(key);
        let mut shard = shard.lock();
        if let Some(w) = shard.map.get_mut(h) {
            return w.decide(policy, now_ms, cost, true);
        }
        if cost > policy.limit() {
            return fresh(policy, now_ms, cost);
        }
        let shard = &mut *shard;
        if now_ms >= shard.next_sweep {
            let freed = shard.sweep(now_ms);
            self.keys.0.fetch_sub(freed, Ordering::AcqRel);
            shard.next_sweep = now_ms.saturating_add(self.sweep_ms);
        }
        if !self.take_slot() {
            self.cap_sweep(shard, now_ms);
            if !self.take_slot() {
                let mut d = fresh(policy, now_ms, cost);
                d.outcome = Outcome::KeyCapacity;
                d.remaining = 0;
                return d;
            }
        }
        let mut w = Window::new(policy);
        let d = w.decide(policy, now_ms, cost, true);
        shard.map.insert(h, w);
        d
    }

    /// What [`check`](Self::check) would answer for `cost` units, without
    /// consuming anything or storing the key.
    pub fn peek(&self, key: &str, policy: &Policy, cost: u32) -> Decision {
        self.peek_at(key, policy, cost, self.clock.now_millis())
    }

    /// [`peek`](Self::peek) at an explicit instant.
    pub fn peek_at(&self, key: &str, policy: &Policy, cost: u32, now_ms: u64) -> Decision {
        let (h, shard) = self.locate(key);
        let shard = shard.lock();
        match shard.map.get(h) {
            Some(w) => w.clone().decide(policy, now_ms, cost, false),
            None => fresh(policy, now_ms, cost),
        }
    }

    /// Forgets `key` (all its counted units).
    pub fn reset(&self, key: &str) {
        let (h, shard) = self.locate(key);
        if shard.lock().map.remove(h) {
            self.keys.0.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Drops every idle key (no unit counted now), one shard at a time;
    /// returns how many were dropped. Shards also sweep themselves when new
    /// keys arrive (see [`MemoryConfig::sweep_interval`]); call this from a
    /// timer to reclaim memory of shards that see no new keys.
    pub fn sweep(&self) -> usize {
        let now = self.clock.now_millis();
        let freed = self
            .shards
            .iter()
            .map(|s| {
                let mut s = s.0.lock();
                s.next_sweep = now.saturating_add(self.sweep_ms);
                s.sweep(now)
            })
            .sum();
        self.keys.0.fetch_sub(freed, Ordering::AcqRel);
        freed
    }

    /// Number of stored keys.
    pub fn len(&self) -> usize {
        self.keys.0.load(Ordering::Acquire)
    }

    /// Whether no key is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hard cap on stored keys ([`MemoryConfig::max_keys`]).
    pub fn capacity(&self) -> usize {
        self.max_keys
    }
}

impl<C: Clock> crate::RateLimiter for MemoryLimiter<C> {
    fn check<'a>(
        &'a self,
        key: &'a str,
        policy: &'a Policy,
        cost: u32,
    ) -> crate::DecisionFuture<'a> {
        let d = MemoryLimiter::check(self, key, policy, cost);
        Box::pin(std::future::ready(d))
    }

    fn peek<'a>(
        &'a self,
        key: &'a str,
        policy: &'a Policy,
        cost: u32,
    ) -> crate::DecisionFuture<'a> {
        let d = MemoryLimiter::peek(self, key, policy, cost);
        Box::pin(std::future::ready(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    fn lim(max_keys: usize, shards: usize) -> (ManualClock, MemoryLimiter<ManualClock>) {
        let clock = ManualClock::new(1_000_000);
        let cfg = MemoryConfig {
            max_keys,
            shards,
            ..MemoryConfig::default()
        };
        (clock.clone(), MemoryLimiter::with_clock(clock, cfg))
    }

    #[test]
    fn cap_refuses_new_keys_until_windows_empty() {
        let (clock, l) = lim(4, 1);
        let p = Policy::per_second(5).unwrap();
        for i in 0..4 {
            assert!(l.check(&format!("k{i}"), &p, 1).allowed());
        }
        let d = l.check("new", &p, 1);
        assert_eq!(d.outcome(), Outcome::KeyCapacity);
        assert!(!d.allowed());
        // Existing keys keep working at the cap.
        assert!(l.check("k0", &p, 1).allowed());
        // Once their windows are empty they may be evicted for new keys.
        clock.advance(Duration::from_millis(1100));
        assert!(l.check("new", &p, 1).allowed());
        assert!(l.len() <= 4);
    }

    #[test]
    fn the_cap_counts_keys_across_shards_exactly() {
        let (clock, l) = lim(100, 64);
        let p = Policy::per_second(5).unwrap();
        for i in 0..100 {
            assert!(l.check(&format!("k{i}"), &p, 1).allowed(), "key {i}");
        }
        assert_eq!((l.len(), l.capacity()), (100, 100));
        for i in 100..150 {
            assert_eq!(
                l.check(&format!("k{i}"), &p, 1).outcome(),
                Outcome::KeyCapacity
            );
        }
        // Idle keys anywhere are swept for a new key, whatever its shard.
        clock.advance(Duration::from_millis(1100));
        assert!(l.check("late", &p, 1).allowed());
        assert_eq!(l.len(), 1);
        l.reset("late");
        l.reset("late");
        assert_eq!(l.len(), 0);
    }

    #[test]
    fn many_threads_never_store_more_than_the_cap() {
        let (_clock, l) = lim(1000, 256);
        let p = Policy::per_second(5).unwrap();
        let admitted = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..8 {
                let (l, p, admitted) = (&l, &p, &admitted);
                s.spawn(move || {
                    for i in 0..500 {
                        if l.check(&format!("t{t}:{i}"), p, 1).allowed() {
                            admitted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(admitted.into_inner(), 1000, "exactly the cap, no more");
        assert_eq!(l.len(), 1000);
        let stored: usize = l.shards.iter().map(|s| s.0.lock().map.len()).sum();
        assert_eq!(stored, 1000, "the counter matches the shards");
    }

    #[test]
    fn sweep_drops_only_idle_keys() {
        let (clock, l) = lim(100, 4);
        let short = Policy::per_second(5).unwrap();
        let long = Policy::per_minute(5).unwrap();
        l.check("a", &short, 1);
        l.check("b", &long, 1);
        clock.advance(Duration::from_secs(2));
        assert_eq!(l.sweep(), 1);
        assert_eq!(l.len(), 1);
        assert_eq!(l.peek("b", &long, 1).remaining(), 4);
    }

    #[test]
    fn peek_does_not_store_or_consume() {
        let (_clock, l) = lim(100, 4);
        let p = Policy::per_second(2).unwrap();
        assert_eq!(l.peek("x", &p, 1).remaining(), 2);
        assert!(l.is_empty());
        l.check("x", &p, 1);
        assert_eq!(l.peek("x", &p, 1).remaining(), 1);
        assert_eq!(l.peek("x", &p, 1).remaining(), 1);
        assert!(!l.peek("x", &p, 2).allowed());
    }

    #[test]
    fn cost_above_limit_is_refused_without_panic() {
        let (_clock, l) = lim(100, 4);
        let p = Policy::per_second(3).unwrap();
        let d = l.check("x", &p, 4);
        assert_eq!(d.outcome(), Outcome::CostExceedsLimit);
        assert_eq!(d.retry_after(), None);
        assert!(l.is_empty());
        assert!(l.check("x", &p, 3).allowed());
        assert_eq!(l.check("x", &p, 4).outcome(), Outcome::CostExceedsLimit);
    }
}
