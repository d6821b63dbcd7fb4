//! Fresh databases for tests: a temp SQLite file, and a brand-new PostgreSQL
//! database per test when `YTVC_TEST_DATABASE_URL` is set.
//!
//! ```no_run
//! use ytvc_persistence::testing::TestDb;
//! for db in TestDb::all() {
//!     db.database().ping().unwrap();
//! }
//! ```

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::{Backend, Database, DbConfig};

/// The variable naming an admin PostgreSQL URL for tests.
pub const TEST_DATABASE_URL_VAR: &str = "YTVC_TEST_DATABASE_URL";

/// A migrated database that disappears when dropped.
pub struct TestDb {
    database: Database,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A migrated SQLite database in a fresh temp directory.
    ///
    /// # Panics
    /// When the temp directory or the database cannot be created (a test setup failure).
    #[must_use]
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let database = Database::connect(&DbConfig::new(&url)).expect("sqlite test database");
        Self {
            database,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A migrated, brand-new PostgreSQL database, or `None` (with a printed
    /// reason) when `YTVC_TEST_DATABASE_URL` is not set.
    ///
    /// # Panics
    /// When the variable is set but the server cannot be used: a configured
    /// backend that does not work must fail the test, not skip it.
    #[must_use]
    pub fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var(TEST_DATABASE_URL_VAR) else {
            eprintln!("skipping PostgreSQL: {TEST_DATABASE_URL_VAR} is not set");
            return None;
        };
        assert_eq!(
            Backend::from_url(&admin_url),
            Ok(Backend::Postgres),
            "{TEST_DATABASE_URL_VAR} must be a postgres:// URL"
        );
        let name = format!("ytvc_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL_VAR} unreachable: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        let url = replace_database(&admin_url, &name);
        let database = Database::connect(&DbConfig::new(&url)).expect("postgres test database");
        Some(Self {
            database,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// SQLite always, plus PostgreSQL when configured.
    #[must_use]
    pub fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        dbs.extend(Self::postgres());
        dbs
    }

    /// The migrated database.
    #[must_use]
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Its URL (for a second process or a server under test).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its backend.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.database.backend()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// Replaces the database name (the path) of a PostgreSQL URL, keeping the query.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(replace_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            replace_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
