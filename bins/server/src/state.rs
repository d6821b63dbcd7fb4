//! What every handler shares.

use std::sync::Arc;
use std::time::Instant;

use ytvc_domain::auth::AuthService;
use ytvc_domain::keys::ApiKeys;
use ytvc_domain::videos::VideoService;
use ytvc_persistence::{Database, SqlAccounts};

use crate::clock::AppClock;
use crate::config::Config;
use crate::http::auth::RevocationCache;
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
    /// The accounts store (users, sessions, revocations, API keys).
    pub accounts: SqlAccounts,
    /// The API-key use cases.
    pub keys: ApiKeys,
    /// Revocation and account cache of access tokens and API keys.
    pub revocations: RevocationCache,
    /// Rate limits.
    pub limits: Limits,
    /// The video use cases (submissions, reads, cancels, artifacts, usage, quota).
    pub videos: VideoService,
    /// The job queue (counts for metrics).
    pub jobs: Arc<dyn ytvc_domain::jobs::JobQueue>,
    /// Request and limiter counters.
    pub metrics: Arc<crate::http::metrics::Metrics>,
    /// The media providers, routes and circuit breakers.
    pub media: crate::media::MediaStatus,
    /// The providers check run at start (`None`: `YTVC_PROVIDERS_CHECK=off`).
    pub providers_check: Option<crate::providers::CheckReport>,
    /// The in-process worker's counters, when it runs here.
    pub worker_stats: Option<Arc<crate::worker::WorkerStats>>,
}
