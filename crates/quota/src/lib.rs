#![doc = include_str!("../README.md")]

mod clock;
mod cycle;
mod error;
mod manager;
mod plan;
mod reservation;
mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cycle::{
    AnchorDay, Cycle, InvalidAnchorDay, cycle_for, cycle_start_in_month, days_in_month,
};
pub use error::{QuotaError, StoreError};
pub use manager::{DEFAULT_RESERVATION_TTL_SECS, QuotaManager, QuotaStatus};
pub use plan::{
    InvalidPlanName, MAX_PLAN_NAME_LEN, Plan, PlanConfigError, PlanName, Plans, RateLimitSpec,
    RateLimits,
};
pub use reservation::{
    ReleaseReason, Reservation, ReservationId, ReservationState, ReserveRequest, Settle,
    SettleOutcome, Usage, UserKey, check_batch, check_reservation, decide_settlement, remaining,
};
pub use store::{InMemoryQuotaStore, QuotaStore};

/// Re-export of the `chrono` types used in this crate's API.
pub use chrono::{DateTime, TimeDelta, Utc};
