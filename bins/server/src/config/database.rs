//! The database: its URL and its connection pool.

use std::path::Path;
use std::time::Duration;

use super::secret::Secret;
use super::setting::{DefaultValue, Setting};
use super::sources::{Sources, number};

pub(super) const URL: Setting = Setting {
    key: "database_url",
    var: "DATABASE_URL",
    default: DefaultValue::Unset("SQLite file `ytvc.db` in the data dir"),
    meaning: "`sqlite://PATH` or `postgres://…`",
};
pub(super) const POOL_SIZE: Setting = Setting {
    key: "db_pool_size",
    var: "YTVC_DB_POOL_SIZE",
    default: DefaultValue::Value("10"),
    meaning: "database connections the pool keeps open (1..=1000)",
};
pub(super) const POOL_MAX_OVERFLOW: Setting = Setting {
    key: "db_pool_max_overflow",
    var: "YTVC_DB_POOL_MAX_OVERFLOW",
    default: DefaultValue::Value("5"),
    meaning: "extra connections opened under load beyond the pool size (0..=1000); a connection idle for 60 s is closed (checked every 30 s) and the pool reopens up to its size",
};
pub(super) const CONNECT_TIMEOUT_MS: Setting = Setting {
    key: "db_connect_timeout_ms",
    var: "YTVC_DB_CONNECT_TIMEOUT_MS",
    default: DefaultValue::Value("5000"),
    meaning: "connect / pool checkout timeout in milliseconds",
};

/// The database settings (see [`super::Config`]).
pub(super) struct DatabaseSettings {
    pub(super) url: Secret<String>,
    pub(super) pool_size: u32,
    pub(super) max_overflow: u32,
    pub(super) connect_timeout: Duration,
}

impl DatabaseSettings {
    /// Parses and validates the group; without a URL, the embedded SQLite
    /// database in `data_dir`.
    pub(super) fn load(src: &mut Sources, data_dir: &Path) -> Self {
        let url = src.optional(&URL, |s| {
            let lower = s.to_ascii_lowercase();
            if lower.starts_with("postgres://")
                || lower.starts_with("postgresql://")
                || lower.starts_with("sqlite:")
            {
                Ok(s.to_owned())
            } else {
                Err("expected sqlite://PATH or postgres://USER@HOST/DB".into())
            }
        });
        Self {
            url: Secret::new(
                url.unwrap_or_else(|| ytvc_persistence::DbConfig::sqlite_in(data_dir).url),
            ),
            pool_size: src.value(&POOL_SIZE, number(1..=1000)),
            max_overflow: src.value(&POOL_MAX_OVERFLOW, number(0..=1000)),
            connect_timeout: Duration::from_millis(
                src.value(&CONNECT_TIMEOUT_MS, number(100..=600_000)),
            ),
        }
    }
}
