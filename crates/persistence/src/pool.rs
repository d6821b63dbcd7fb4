//! The connection pool and the `Database` handle the server holds.

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use crate::migrations::{self, Revert};
use crate::{AnyConnection, Backend, DbError};

/// A connection checked out of the pool.
pub type PooledConn = PooledConnection<Manager>;

/// How to reach the database and size the pool.
///
/// The pool keeps `pool_size` connections open (opened at start, reopened
/// when closed) and opens up to `max_overflow` more under load; a connection
/// idle for `idle_timeout` is closed (r2d2 checks every 30 s), and the pool
/// then reopens connections up to `pool_size`. So the extra connections go
/// away 60 to 90 s after a burst with the defaults.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `sqlite://PATH`, `sqlite:PATH`, a bare path, or `postgres://…`.
    pub url: String,
    /// Connections the pool keeps open (default 10, at least 1).
    pub pool_size: u32,
    /// Extra connections opened beyond `pool_size` under load (default 5):
    /// at most `pool_size + max_overflow` are open at once.
    pub max_overflow: u32,
    /// How long a connection may sit idle before it is closed (default 60 s).
    pub idle_timeout: Duration,
    /// How long a checkout (or the first connect) may wait (default 5 s).
    pub connection_timeout: Duration,
    /// How long SQLite waits on a locked database before giving up (default 5 s).
    pub sqlite_busy_timeout: Duration,
}

impl DbConfig {
    /// A configuration with the defaults for everything but the URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 10,
            max_overflow: 5,
            idle_timeout: Duration::from_secs(60),
            connection_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
        }
    }

    /// The default embedded database: `ytvc.db` inside `data_dir`.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        Self::new(format!("sqlite://{}", data_dir.join("ytvc.db").display()))
    }
}

/// Opens connections for the pool: picks the backend from the URL (so a dead
/// PostgreSQL reports its real error instead of a generic "invalid URL") and
/// configures each new SQLite connection (WAL, busy timeout, foreign keys).
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
    url: String,
    busy_timeout_ms: u128,
}

impl Manager {
    fn establish(&self) -> Result<AnyConnection, DbError> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url)
                .map(AnyConnection::Postgresql)
                .map_err(|e| DbError::Unavailable(redact(&e.to_string(), &self.url))),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(Backend::sqlite_path(&self.url))
                    .map_err(|e| DbError::Unavailable(e.to_string()))?;
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    self.busy_timeout_ms
                ))
                .map_err(|e| DbError::Unavailable(e.to_string()))?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = DbError;

    fn connect(&self) -> Result<AnyConnection, DbError> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::from)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// The handle to the database: a pool plus what it was built from.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    backend: Backend,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .field("state", &self.pool.state())
            .finish()
    }
}

impl Database {
    /// Connects (failing fast with the real cause when the database cannot be
    /// reached), builds the pool and applies pending migrations.
    ///
    /// # Errors
    /// [`DbError::InvalidUrl`] for a URL of another scheme,
    /// [`DbError::Unavailable`] when the first connection fails,
    /// [`DbError::Migration`] when a migration fails.
    pub fn connect(config: &DbConfig) -> Result<Self, DbError> {
        let db = Self::connect_without_migrations(config)?;
        db.migrate()?;
        Ok(db)
    }

    /// Like [`Database::connect`] but leaves the schema alone.
    ///
    /// # Errors
    /// As [`Database::connect`], without the migration case.
    pub fn connect_without_migrations(config: &DbConfig) -> Result<Self, DbError> {
        let backend = Backend::from_url(&config.url).map_err(DbError::InvalidUrl)?;
        let url = match backend {
            Backend::Postgres => with_connect_timeout(&config.url, config.connection_timeout),
            Backend::Sqlite => {
                let path = Path::new(Backend::sqlite_path(&config.url));
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        DbError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                config.url.clone()
            }
        };
        let manager = Manager {
            backend,
            url,
            busy_timeout_ms: config.sqlite_busy_timeout.as_millis(),
        };
        // One direct connection first: r2d2 would retry until its timeout and
        // then report only "timed out"; this reports the real cause at once.
        let first = manager.establish()?;
        drop(first);
        let size = config.pool_size.max(1);
        let pool = Pool::builder()
            .max_size(size.saturating_add(config.max_overflow))
            .min_idle(Some(size))
            // r2d2 panics on a zero idle timeout.
            .idle_timeout(Some(config.idle_timeout.max(Duration::from_millis(1))))
            .connection_timeout(config.connection_timeout)
            .test_on_check_out(false)
            .build_unchecked(manager);
        Ok(Self { pool, backend })
    }

    /// Applies every pending migration of this backend.
    ///
    /// # Errors
    /// [`DbError::Migration`] with the failing migration's message.
    pub fn migrate(&self) -> Result<Vec<String>, DbError> {
        let mut conn = self.conn()?;
        migrations::run(&mut conn)
    }

    /// Reverts applied migrations, newest first, each in its own transaction
    /// (its `down.sql`); serialised with [`Database::migrate`] on PostgreSQL by
    /// the same advisory lock. Returns the names reverted, in that order
    /// (`2026-11-28-000005_jobs`, …); empty when none is applied.
    ///
    /// # Errors
    /// [`DbError::Migration`] naming the migration that failed (and those
    /// already reverted before it, which stay reverted), or an applied
    /// migration this build does not know.
    pub fn revert_migrations(&self, which: Revert) -> Result<Vec<String>, DbError> {
        let mut conn = self.conn()?;
        migrations::revert(&mut conn, which)
    }

    /// Checks a connection out of the pool (blocking up to the timeout).
    ///
    /// # Errors
    /// [`DbError::PoolTimeout`] when none becomes free in time.
    pub fn conn(&self) -> Result<PooledConn, DbError> {
        self.pool.get().map_err(DbError::from)
    }

    /// Runs `SELECT 1` on a pooled connection.
    ///
    /// # Errors
    /// The error of the checkout or the query.
    pub fn ping(&self) -> Result<(), DbError> {
        let mut conn = self.conn()?;
        diesel::sql_query("SELECT 1").execute(&mut *conn)?;
        Ok(())
    }

    /// Which backend this database is.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Connections open and idle right now.
    #[must_use]
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }
}

/// Adds libpq's `connect_timeout` (whole seconds, at least 1) when the URL has none,
/// so an unroutable host fails within the configured time.
fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let secs = timeout.as_secs().max(1);
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={secs}")
}

/// Removes the password of `url` from `message`, should a driver echo it.
fn redact(message: &str, url: &str) -> String {
    match password_of(url) {
        Some(pw) if !pw.is_empty() => message.replace(pw, "***"),
        _ => message.to_owned(),
    }
}

fn password_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    userinfo.split_once(':').map(|(_, pw)| pw)
}

/// Shortens r2d2's error for the pool type it is used with.
impl From<r2d2::Error> for DbError {
    fn from(e: r2d2::Error) -> Self {
        DbError::PoolTimeout(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeout_is_added_once() {
        let t = Duration::from_millis(2500);
        assert_eq!(
            with_connect_timeout("postgres://h/db", t),
            "postgres://h/db?connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?sslmode=disable", t),
            "postgres://h/db?sslmode=disable&connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?connect_timeout=9", t),
            "postgres://h/db?connect_timeout=9"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(password_of("postgres://u:s3cret@h/db"), Some("s3cret"));
        assert_eq!(password_of("postgres://u@h/db"), None);
        assert_eq!(
            redact("auth failed for s3cret", "postgres://u:s3cret@h/db"),
            "auth failed for ***"
        );
    }
}
