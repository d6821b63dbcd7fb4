//! What every handler shares.

use std::sync::Arc;
use std::time::Instant;

use ytvc_domain::accounts::User;
use ytvc_domain::auth::AuthService;
use ytvc_domain::ids::VideoId;
use ytvc_domain::jobs::RetryPolicy;
use ytvc_domain::videos::VideoRepository;
use ytvc_error_codes::ErrorCode;
use ytvc_persistence::{Database, SqlAccounts, SqlQuotaStore};
use ytvc_quota::{Plan, QuotaManager};

use crate::clock::AppClock;
use crate::config::Config;
use crate::http::auth::RevocationCache;
use crate::http::error::ApiError;
use crate::limits::Limits;

/// The shared state of the HTTP layer (cheap to clone: handles and `Arc`s).
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The database pool.
    pub db: Database,
    /// The root logger.
    pub log: slog::Logger,
    /// When the process started (uptime).
    pub started: Instant,
    /// The clock (manual in tests).
    pub clock: AppClock,
    /// The authentication use case.
    pub auth: AuthService,
    /// The accounts store (users, sessions, revocations).
    pub accounts: SqlAccounts,
    /// Revocation and account cache of access tokens.
    pub revocations: RevocationCache,
    /// Rate limits.
    pub limits: Limits,
    /// Videos and batches.
    pub videos: Arc<dyn VideoRepository>,
    /// Quotas (status; reservations happen inside the video store's transactions).
    pub quota: Arc<QuotaManager<SqlQuotaStore, AppClock>>,
    /// How failed jobs are retried.
    pub retry: RetryPolicy,
    /// The job queue (counts for metrics).
    pub jobs: Arc<dyn ytvc_domain::jobs::JobQueue>,
    /// Request and limiter counters.
    pub metrics: Arc<crate::http::metrics::Metrics>,
    /// The media provider and its circuit breakers.
    pub media: crate::media::MediaStatus,
    /// The in-process worker's counters, when it runs here.
    pub worker_stats: Option<Arc<crate::worker::WorkerStats>>,
}

impl AppState {
    /// The plan of `user` from the catalog.
    ///
    /// # Errors
    /// INTERNAL_003 when the account names a plan the catalog lacks.
    pub fn plan_of(&self, user: &User) -> Result<Plan, ApiError> {
        self.config
            .plans
            .get(user.plan.as_str())
            .cloned()
            .ok_or_else(|| {
                ApiError::new(ErrorCode::Misconfigured)
                    .cause(format!("unknown plan {}", user.plan.as_str()))
            })
    }

    /// Where a video's artifacts live.
    #[must_use]
    pub fn artifact_dir(&self, video: VideoId) -> std::path::PathBuf {
        self.config
            .data_dir
            .join("artifacts")
            .join(video.to_string())
    }
}
