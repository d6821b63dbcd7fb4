//! Errors of quota operations.

use std::error::Error as StdError;

use chrono::{DateTime, Utc};

use crate::plan::PlanName;
use crate::reservation::{ReservationId, ReservationState, Settle};

/// Why a quota operation was refused or failed.
///
/// The three quota denials map to the catalog codes (done by the host, not
/// here): [`QuotaError::Exhausted`] → `QUOTA_001`,
/// [`QuotaError::BatchTooLarge`] → `QUOTA_002`,
/// [`QuotaError::InsufficientForBatch`] → `QUOTA_003`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuotaError {
    /// A reservation of zero units was requested.
    #[error("a reservation must hold at least one unit")]
    ZeroUnits,
    /// More units than the plan's batch size limit (checked before the quota).
    #[error("batch of {requested} exceeds the plan's batch size limit of {limit}")]
    BatchTooLarge {
        /// Units requested.
        requested: u32,
        /// The plan's batch size limit.
        limit: u32,
    },
    /// A single unit was requested and no quota is left in this cycle.
    #[error("monthly quota of {limit} exhausted ({used} used); resets at {reset_at}")]
    Exhausted {
        /// The plan's quota per cycle.
        limit: u32,
        /// Committed + reserved in the current cycle (may exceed `limit`
        /// after a downgrade).
        used: u64,
        /// When the cycle ends and the quota resets.
        reset_at: DateTime<Utc>,
    },
    /// A batch (more than one unit) does not fit in the remaining quota;
    /// nothing was reserved.
    #[error(
        "batch of {requested} exceeds the remaining quota of {remaining} \
         ({used} of {limit} used); resets at {reset_at}"
    )]
    InsufficientForBatch {
        /// The plan's quota per cycle.
        limit: u32,
        /// Committed + reserved in the current cycle.
        used: u64,
        /// Units requested.
        requested: u32,
        /// Units still available (`limit - used`, at least 0).
        remaining: u64,
        /// When the cycle ends and the quota resets.
        reset_at: DateTime<Utc>,
    },
    /// The plan name is not in the catalog.
    #[error("unknown plan `{0}`")]
    UnknownPlan(PlanName),
    /// No reservation has this id (never made, or purged after settling).
    #[error("reservation {0} not found")]
    ReservationNotFound(ReservationId),
    /// A reservation with this id already exists; nothing was reserved.
    #[error("reservation {0} already exists")]
    DuplicateReservation(ReservationId),
    /// Commit of a released reservation, or release of a committed one.
    #[error("cannot {attempted} reservation {id}: it is already {current}")]
    Conflict {
        /// The reservation.
        id: ReservationId,
        /// What was attempted.
        attempted: Settle,
        /// Its state, which was left unchanged.
        current: ReservationState,
    },
    /// The store failed (database down, serialization failure, ...).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl QuotaError {
    /// Whether this is a quota or batch-size denial (as opposed to a misuse
    /// or a store failure).
    pub const fn is_denial(&self) -> bool {
        matches!(
            self,
            Self::BatchTooLarge { .. } | Self::Exhausted { .. } | Self::InsufficientForBatch { .. }
        )
    }

    /// When retrying could succeed: the cycle's reset, for quota denials.
    pub const fn reset_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Exhausted { reset_at, .. } | Self::InsufficientForBatch { reset_at, .. } => {
                Some(*reset_at)
            }
            _ => None,
        }
    }
}

/// A failure inside a [`crate::QuotaStore`] implementation.
#[derive(Debug, thiserror::Error)]
#[error("quota store: {message}")]
pub struct StoreError {
    message: String,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl StoreError {
    /// A store error with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// A store error wrapping its cause (e.g. a diesel error).
    pub fn with_source(
        message: impl Into<String>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The message, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }
}
