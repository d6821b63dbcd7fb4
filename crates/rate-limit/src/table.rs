//! A shard's key table: open addressing with linear probing, each key stored
//! next to its counters.
//!
//! A check on a key that is not in the cache reads one slot (the key and its
//! 96 bytes of counters, adjacent): one trip to memory, where a general hash
//! map reads a control byte, then the entry, one after the other. The table
//! is only ever used under its shard's lock.
//!
//! * Keys are non-zero 64-bit hashes; 0 marks an empty slot.
//! * A key's home slot comes from the hash's low 32 bits (the shard index
//!   uses the top bits), scaled to the capacity, which need not be a power of
//!   two: the table grows by 1.5× when more than 3/4 full, so it is 1/2 to
//!   3/4 full.
//! * Removal shifts the following run back (no tombstones), so probe runs
//!   never lengthen as keys come and go.
//! * [`Table::retain`] rebuilds the table when it removes anything, and
//!   shrinks it when it is less than a quarter full: memory follows the keys
//!   actually held.

use crate::window::Window;

/// Smallest allocated capacity.
const MIN_CAPACITY: usize = 4;

#[derive(Clone)]
struct Slot {
    /// The key's hash; 0 when the slot is empty.
    key: u64,
    win: Window,
}

impl Slot {
    const EMPTY: Slot = Slot {
        key: 0,
        win: Window::EMPTY,
    };
}

/// Open-addressing map from non-zero `u64` keys to [`Window`]s.
pub(crate) struct Table {
    slots: Box<[Slot]>,
    len: usize,
}

impl Table {
    /// An empty table (allocates nothing).
    pub(crate) fn new() -> Self {
        Self {
            slots: Box::default(),
            len: 0,
        }
    }

    /// Number of keys held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Number of slots allocated.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Home slot of `key` in a table of `cap > 0` slots.
    #[inline]
    fn home(key: u64, cap: usize) -> usize {
        ((u128::from(key as u32) * cap as u128) >> 32) as usize
    }

    /// Slot index holding `key`. The table is never full, so the probe
    /// always reaches the key or an empty slot.
    #[inline]
    fn find(&self, key: u64) -> Option<usize> {
        debug_assert_ne!(key, 0);
        let cap = self.slots.len();
        if cap == 0 {
            return None;
        }
        let mut i = Self::home(key, cap);
        loop {
            let k = self.slots[i].key;
            if k == key {
                return Some(i);
            }
            if k == 0 {
                return None;
            }
            i += 1;
            if i == cap {
                i = 0;
            }
        }
    }

    /// The counters of `key`.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<&Window> {
        self.find(key).map(|i| &self.slots[i].win)
    }

    /// The counters of `key`, to update.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: u64) -> Option<&mut Window> {
        self.find(key).map(|i| &mut self.slots[i].win)
    }

    /// Adds `key`, which must not be present.
    pub(crate) fn insert(&mut self, key: u64, win: Window) {
        debug_assert!(self.find(key).is_none());
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            let cap = self.slots.len();
            self.rebuild((cap + cap / 2).max(MIN_CAPACITY));
        }
        self.place(key, win);
        self.len += 1;
    }

    /// Writes `key` into the first empty slot of its run (capacity checked by the caller).
    fn place(&mut self, key: u64, win: Window) {
        let cap = self.slots.len();
        let mut i = Self::home(key, cap);
        while self.slots[i].key != 0 {
            i += 1;
            if i == cap {
                i = 0;
            }
        }
        self.slots[i] = Slot { key, win };
    }

    /// Removes `key`; whether it was present.
    pub(crate) fn remove(&mut self, key: u64) -> bool {
        let Some(mut hole) = self.find(key) else {
            return false;
        };
        let cap = self.slots.len();
        let mut j = hole;
        loop {
            j += 1;
            if j == cap {
                j = 0;
            }
            let k = self.slots[j].key;
            if k == 0 {
                break;
            }
            // The key at `j` may move back into the hole unless its home lies
            // cyclically in (hole, j]: then the hole is before its home.
            let home = Self::home(k, cap);
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots.swap(hole, j);
                hole = j;
            }
        }
        self.slots[hole] = Slot::EMPTY;
        self.len -= 1;
        true
    }

    /// Keeps only the keys whose counters satisfy `keep`; returns how many
    /// were removed.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Window) -> bool) -> usize {
        let mut drop = 0;
        for slot in &mut self.slots {
            if slot.key != 0 && !keep(&slot.win) {
                // Breaks probe runs: the rebuild below re-places every key.
                slot.key = 0;
                drop += 1;
            }
        }
        if drop == 0 {
            return 0;
        }
        self.len -= drop;
        let cap = self.slots.len();
        let new_cap = if self.len == 0 {
            0
        } else if self.len * 4 < cap {
            (self.len * 2).max(MIN_CAPACITY)
        } else {
            cap
        };
        self.rebuild(new_cap);
        drop
    }

    /// Moves every key into `cap` fresh slots.
    fn rebuild(&mut self, cap: usize) {
        let fresh: Box<[Slot]> = std::iter::repeat_n(Slot::EMPTY, cap).collect();
        let old = std::mem::replace(&mut self.slots, fresh);
        for slot in old {
            if slot.key != 0 {
                self.place(slot.key, slot.win);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// A window whose `total` is the tag (readable through `is_idle`).
    fn win(tag: u32) -> Window {
        let p = Policy::per_second(u32::MAX).unwrap();
        let mut w = Window::new(&p);
        if tag > 0 {
            assert!(w.decide(&p, 1_000, tag, true).allowed());
        }
        w
    }

    fn tag(w: &Window) -> u32 {
        let p = Policy::per_second(u32::MAX).unwrap();
        u32::MAX - w.clone().decide(&p, 1_000, 0, false).remaining()
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64, u32),
        Remove(u64),
        Update(u64, u32),
        Retain(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Few distinct keys, many with equal low bits, so runs collide and wrap.
        let key = (1u64..40).prop_map(|k| k.wrapping_mul(0x1_0000_0001) ^ (k % 3));
        prop_oneof![
            4 => (key.clone(), 0u32..8).prop_map(|(k, t)| Op::Insert(k, t)),
            2 => key.clone().prop_map(Op::Remove),
            2 => (key, 1u32..4).prop_map(|(k, t)| Op::Update(k, t)),
            1 => (0u32..8).prop_map(Op::Retain),
        ]
    }

    proptest! {
        /// The table answers like a `HashMap` through any mix of operations.
        #[test]
        fn behaves_like_a_hash_map(ops in proptest::collection::vec(op(), 1..300)) {
            let mut t = Table::new();
            let mut model: HashMap<u64, u32> = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        if let std::collections::hash_map::Entry::Vacant(e) = model.entry(k) {
                            e.insert(v);
                            t.insert(k, win(v));
                        }
                    }
                    Op::Remove(k) => prop_assert_eq!(t.remove(k), model.remove(&k).is_some()),
                    Op::Update(k, by) => {
                        let p = Policy::per_second(u32::MAX).unwrap();
                        match (t.get_mut(k), model.get_mut(&k)) {
                            (Some(w), Some(v)) => {
                                prop_assert!(w.decide(&p, 1_000, by, true).allowed());
                                *v += by;
                            }
                            (None, None) => {}
                            (a, b) => prop_assert!(false, "{k}: table {} model {b:?}", a.is_some()),
                        }
                    }
                    Op::Retain(below) => {
                        let before = model.len();
                        model.retain(|_, v| *v >= below);
                        prop_assert_eq!(t.retain(|w| tag(w) >= below), before - model.len());
                    }
                }
                prop_assert_eq!(t.len(), model.len());
                prop_assert!(t.len() * 4 <= t.capacity() * 3 || t.capacity() == 0);
                for (k, v) in &model {
                    prop_assert_eq!(t.get(*k).map(tag), Some(*v));
                }
                for k in 1u64..40 {
                    let k = k.wrapping_mul(0x1_0000_0001) ^ (k % 3);
                    prop_assert_eq!(t.get(k).is_some(), model.contains_key(&k));
                }
            }
        }
    }

    #[test]
    fn grows_by_half_and_shrinks_when_swept() {
        let mut t = Table::new();
        assert_eq!(t.capacity(), 0);
        for k in 1..=1000u64 {
            t.insert(k * 0x9E37_79B9, win(1));
        }
        assert_eq!(t.len(), 1000);
        let cap = t.capacity();
        assert!((1334..=2000).contains(&cap), "load 1/2..3/4: {cap}");
        // Keep 10: the table shrinks to 20 slots.
        let mut n = 0;
        assert_eq!(
            t.retain(|_| {
                n += 1;
                n <= 10
            }),
            990
        );
        assert_eq!((t.len(), t.capacity()), (10, 20));
        assert_eq!(t.retain(|_| false), 10);
        assert_eq!((t.len(), t.capacity()), (0, 0));
        assert!(t.get(0x9E37_79B9).is_none());
    }
}
