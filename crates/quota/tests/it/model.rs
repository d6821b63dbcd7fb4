//! The manager + in-memory store against a simple reference model.

use std::collections::HashMap;

use proptest::prelude::*;
use ytvc_quota::{
    AnchorDay, Clock as _, DateTime, PlanName, QuotaError, QuotaStore, ReleaseReason,
    ReservationId, ReservationState, SettleOutcome, TimeDelta, UserKey, Utc, cycle_for,
};

use crate::support::{manager_at, name};

#[derive(Debug, Clone)]
enum Op {
    Reserve { user: usize, units: u32 },
    Commit(usize),
    Release(usize),
    Advance { minutes: i64 },
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..USERS.len(), 0u32..=11).prop_map(|(user, units)| Op::Reserve { user, units }),
        2 => any::<usize>().prop_map(Op::Commit),
        2 => any::<usize>().prop_map(Op::Release),
        1 => (0i64..=120).prop_map(|minutes| Op::Advance { minutes }),
        1 => (0i64..=20_000).prop_map(|minutes| Op::Advance { minutes }),
        1 => Just(Op::Sweep),
    ]
}

/// (user key, plan, quota, batch limit, anchor day)
const USERS: [(&str, &str, Option<u32>, u32, u8); 4] = [
    ("u-tiny", "tiny", Some(3), 3, 1),
    ("u-free", "free", Some(10), 5, 31),
    ("u-hundred", "hundred", Some(100), 10, 15),
    ("u-ent", "enterprise", None, 100, 29),
];

const TTL_HOURS: i64 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ok,
    ZeroUnits,
    BatchTooLarge,
    Exhausted,
    Insufficient,
}

fn kind(result: &Result<ytvc_quota::Reservation, QuotaError>) -> Kind {
    match result {
        Ok(_) => Kind::Ok,
        Err(QuotaError::ZeroUnits) => Kind::ZeroUnits,
        Err(QuotaError::BatchTooLarge { .. }) => Kind::BatchTooLarge,
        Err(QuotaError::Exhausted { .. }) => Kind::Exhausted,
        Err(QuotaError::InsufficientForBatch { .. }) => Kind::Insufficient,
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

struct ModelReservation {
    id: ReservationId,
    user: usize,
    units: u32,
    cycle_start: DateTime<Utc>,
    created_at: DateTime<Utc>,
    state: ReservationState,
}

#[derive(Default)]
struct Model {
    reservations: Vec<ModelReservation>,
    /// (user, cycle start) -> (committed, reserved)
    usage: HashMap<(usize, DateTime<Utc>), (u64, u64)>,
}

impl Model {
    fn expire(&mut self, now: DateTime<Utc>) {
        let cutoff = now - TimeDelta::hours(TTL_HOURS);
        for r in &mut self.reservations {
            if r.state == ReservationState::Pending && r.created_at < cutoff {
                r.state = ReservationState::Released(ReleaseReason::Expired);
                self.usage.get_mut(&(r.user, r.cycle_start)).unwrap().1 -= u64::from(r.units);
            }
        }
    }

    fn used(&self, user: usize, cycle_start: DateTime<Utc>) -> (u64, u64) {
        self.usage
            .get(&(user, cycle_start))
            .copied()
            .unwrap_or_default()
    }
}

fn anchor(user: usize) -> AnchorDay {
    AnchorDay::new(USERS[user].4).unwrap()
}

fn plan(user: usize) -> PlanName {
    name(USERS[user].1)
}

fn key(user: usize) -> UserKey {
    UserKey::from(USERS[user].0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn manager_matches_the_reference_model(ops in prop::collection::vec(op(), 1..150)) {
        let (quotas, clock, store) = manager_at("2024-01-28T12:00:00Z");
        let quotas = quotas.with_reservation_ttl(TimeDelta::hours(TTL_HOURS));
        let mut model = Model::default();

        for op in ops {
            let now = clock.now();
            match op {
                Op::Reserve { user, units } => {
                    let (_, _, quota, batch, _) = USERS[user];
                    let expected = if units == 0 {
                        Kind::ZeroUnits
                    } else if units > batch {
                        Kind::BatchTooLarge
                    } else {
                        // Lazy expiry happens only once the batch checks pass.
                        model.expire(now);
                        let cycle = cycle_for(anchor(user), now);
                        let (c, r) = model.used(user, cycle.start());
                        match quota {
                            Some(q) if c + r + u64::from(units) > u64::from(q) => {
                                if units == 1 { Kind::Exhausted } else { Kind::Insufficient }
                            }
                            _ => Kind::Ok,
                        }
                    };
                    let actual = quotas.reserve(&key(user), &plan(user), anchor(user), units);
                    prop_assert_eq!(kind(&actual), expected, "reserve {} x{}", user, units);
                    if let Ok(res) = actual {
                        let cycle = cycle_for(anchor(user), now);
                        prop_assert_eq!(res.cycle_start, cycle.start());
                        model.usage.entry((user, cycle.start())).or_default().1 += u64::from(units);
                        model.reservations.push(ModelReservation {
                            id: res.id,
                            user,
                            units,
                            cycle_start: cycle.start(),
                            created_at: now,
                            state: ReservationState::Pending,
                        });
                    }
                }
                Op::Commit(i) | Op::Release(i) => {
                    if model.reservations.is_empty() {
                        continue;
                    }
                    let commit = matches!(op, Op::Commit(_));
                    let index = i % model.reservations.len();
                    let r = &mut model.reservations[index];
                    let expected = match (r.state, commit) {
                        (ReservationState::Pending, _) => Some(SettleOutcome::Applied),
                        (ReservationState::Committed, true)
                        | (ReservationState::Released(_), false) => Some(SettleOutcome::AlreadySettled),
                        _ => None,
                    };
                    let actual = if commit { quotas.commit(r.id) } else { quotas.release(r.id) };
                    match (expected, actual) {
                        (Some(e), Ok(a)) => prop_assert_eq!(e, a),
                        (None, Err(QuotaError::Conflict { .. })) => {}
                        (e, a) => prop_assert!(false, "expected {:?}, got {:?}", e, a),
                    }
                    if expected == Some(SettleOutcome::Applied) {
                        let usage = model.usage.get_mut(&(r.user, r.cycle_start)).unwrap();
                        usage.1 -= u64::from(r.units);
                        if commit {
                            usage.0 += u64::from(r.units);
                            r.state = ReservationState::Committed;
                        } else {
                            r.state = ReservationState::Released(ReleaseReason::Released);
                        }
                    }
                }
                Op::Advance { minutes } => clock.advance(TimeDelta::minutes(minutes)),
                Op::Sweep => {
                    let before = model
                        .reservations
                        .iter()
                        .filter(|r| r.state == ReservationState::Pending)
                        .count();
                    model.expire(now);
                    let after = model
                        .reservations
                        .iter()
                        .filter(|r| r.state == ReservationState::Pending)
                        .count();
                    prop_assert_eq!(quotas.release_expired().unwrap(), (before - after) as u64);
                }
            }

            // After every step: status equals the model and never overspends.
            let now = clock.now();
            for (user, &(_, _, quota, _, _)) in USERS.iter().enumerate() {
                let s = quotas.status(&key(user), &plan(user), anchor(user)).unwrap();
                let cycle = cycle_for(anchor(user), now);
                let (c, r) = model.used(user, cycle.start());
                prop_assert_eq!((s.committed, s.reserved, s.used), (c, r, c + r));
                if let Some(q) = quota {
                    prop_assert!(s.used <= u64::from(q), "overspent: {:?}", s);
                    prop_assert_eq!(s.remaining, Some(u64::from(q) - s.used));
                }
            }
        }

        // Every cycle ever touched, and every reservation, agree too.
        for (&(user, start), &(c, r)) in &model.usage {
            let u = store.usage(&key(user), start).unwrap();
            prop_assert_eq!((u.committed, u.reserved), (c, r));
        }
        for r in &model.reservations {
            prop_assert_eq!(quotas.reservation(r.id).unwrap().unwrap().state, r.state);
        }
        prop_assert_eq!(
            store.pending_count(),
            model.reservations.iter().filter(|r| r.state == ReservationState::Pending).count()
        );
    }
}
