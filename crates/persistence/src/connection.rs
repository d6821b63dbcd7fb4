//! One diesel connection type over both backends.

use std::fmt;

/// A connection to either supported database.
///
/// Query code is written once against this type; the rare backend-specific
/// statement matches on the variant.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL (several server instances, production).
    Postgresql(diesel::PgConnection),
    /// SQLite (the embedded default: one file, one process).
    Sqlite(diesel::SqliteConnection),
}

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `sqlite://PATH`, `sqlite:PATH` or a bare file path.
    Sqlite,
}

impl Backend {
    /// Picks the backend from the URL scheme. A URL without a known scheme is
    /// refused rather than guessed, except a bare path, which is SQLite.
    ///
    /// # Errors
    /// Returns a message naming the scheme when it is neither SQLite nor PostgreSQL.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let lower = url.trim().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if lower.starts_with("sqlite:") || !lower.contains("://") {
            Ok(Backend::Sqlite)
        } else {
            let scheme = lower.split("://").next().unwrap_or_default();
            Err(format!(
                "unsupported database URL scheme `{scheme}` (use sqlite://PATH or postgres://...)"
            ))
        }
    }

    /// The file path of a SQLite URL (`sqlite://data/x.db`, `sqlite:x.db`, `x.db`).
    #[must_use]
    pub fn sqlite_path(url: &str) -> &str {
        let url = url.trim();
        url.strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        })
    }
}

impl AnyConnection {
    /// The backend of this connection.
    #[must_use]
    pub fn backend(&self) -> Backend {
        match self {
            AnyConnection::Postgresql(_) => Backend::Postgres,
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_scheme() {
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Ok(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db"),
            Ok(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("sqlite://data/ytvc.db"),
            Ok(Backend::Sqlite)
        );
        assert_eq!(Backend::from_url("sqlite:ytvc.db"), Ok(Backend::Sqlite));
        assert_eq!(Backend::from_url("./ytvc.db"), Ok(Backend::Sqlite));
        let err = Backend::from_url("mysql://h/db").unwrap_err();
        assert!(err.contains("mysql"), "{err}");
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            Backend::sqlite_path("sqlite://data/ytvc.db"),
            "data/ytvc.db"
        );
        assert_eq!(Backend::sqlite_path("sqlite:///tmp/a.db"), "/tmp/a.db");
        assert_eq!(Backend::sqlite_path("sqlite:a.db"), "a.db");
        assert_eq!(Backend::sqlite_path("a.db"), "a.db");
    }
}
