//! What every handler shares.

use std::sync::Arc;
use std::time::Instant;

use ytvc_persistence::Database;

use crate::config::Config;

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
}
