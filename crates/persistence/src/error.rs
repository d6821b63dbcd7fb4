//! The persistence error type, its one mapping to the catalog
//! ([`DbError::code`]) and its one mapping to the domain's [`RepoError`].
//!
//! A unique violation is a duplicate (`VAL_010`, [`RepoError::Duplicate`])
//! on every path; any other violated constraint (foreign key, check, not
//! null) is [`DbError::Constraint`] (`DB_004`).

use ytvc_domain::repo::RepoError;
use ytvc_error_codes::ErrorCode;

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The URL is not usable (unknown scheme, bad path).
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database cannot be reached or refused the connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// No pooled connection became free within the configured timeout.
    #[error("database pool exhausted: {0}")]
    PoolTimeout(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A concurrent transaction won (serialization failure, SQLite busy).
    #[error("write conflict: {0}")]
    Conflict(String),
    /// A unique constraint was violated: the row already exists.
    #[error("already exists: {0}")]
    Duplicate(String),
    /// A foreign-key, check or not-null constraint was violated.
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// Any other database error.
    #[error("database error: {0}")]
    Query(String),
}

impl DbError {
    /// The catalog code a client sees for this error.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            DbError::Unavailable(_) => ErrorCode::DatabaseUnavailable,
            DbError::PoolTimeout(_) => ErrorCode::PoolExhausted,
            DbError::Conflict(_) => ErrorCode::WriteConflict,
            DbError::Duplicate(_) => ErrorCode::AlreadyExists,
            DbError::Constraint(_) => ErrorCode::ConstraintViolation,
            DbError::NotFound => ErrorCode::ResourceNotFound,
            DbError::InvalidUrl(_) => ErrorCode::Misconfigured,
            DbError::Migration(_) | DbError::Query(_) => ErrorCode::Unexpected,
        }
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => DbError::NotFound,
            E::DatabaseError(kind, info) => {
                let msg = info.message().to_owned();
                match kind {
                    K::UniqueViolation => DbError::Duplicate(msg),
                    K::ForeignKeyViolation | K::NotNullViolation | K::CheckViolation => {
                        DbError::Constraint(msg)
                    }
                    K::SerializationFailure => DbError::Conflict(msg),
                    K::ClosedConnection | K::UnableToSendCommand => DbError::Unavailable(msg),
                    _ if is_sqlite_busy(&msg) => DbError::Conflict(msg),
                    _ => DbError::Query(msg),
                }
            }
            other => DbError::Query(other.to_string()),
        }
    }
}

/// The repositories' error: the same meaning as [`DbError::code`] wherever
/// `RepoError` has it. `RepoError` has no constraint variant, so a
/// violated foreign-key, check or not-null constraint is
/// [`RepoError::Other`] (a bug or a vanished parent row, logged), never a
/// duplicate.
impl From<DbError> for RepoError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => RepoError::NotFound,
            DbError::Duplicate(m) => RepoError::Duplicate(m),
            DbError::Conflict(m) => RepoError::Conflict(m),
            DbError::Unavailable(m) => RepoError::Unavailable(m),
            DbError::PoolTimeout(m) => RepoError::Busy(m),
            DbError::Constraint(m) => RepoError::Constraint(m),
            other @ (DbError::InvalidUrl(_) | DbError::Migration(_) | DbError::Query(_)) => {
                RepoError::Other(other.to_string())
            }
        }
    }
}

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        DbError::PoolTimeout(e.to_string())
    }
}

fn is_sqlite_busy(msg: &str) -> bool {
    msg.contains("database is locked") || msg.contains("database is busy")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path from a database error gives the same code.
    #[test]
    fn repo_errors_keep_the_code_of_the_db_error() {
        let cases = [
            DbError::NotFound,
            DbError::Duplicate("users_email_key".into()),
            DbError::Conflict("busy".into()),
            DbError::Unavailable("down".into()),
            DbError::PoolTimeout("5 s".into()),
            DbError::Constraint("FOREIGN KEY constraint failed".into()),
        ];
        for e in cases {
            let code = e.code();
            assert_eq!(RepoError::from(e).code(), code);
        }
        assert_eq!(DbError::Duplicate(String::new()).code().as_str(), "VAL_010");
        let constraint = DbError::Constraint("FOREIGN KEY constraint failed".into());
        assert_eq!(constraint.code().as_str(), "DB_004");
        // Not a duplicate: its own variant, the same DB_004.
        assert!(matches!(
            RepoError::from(constraint),
            RepoError::Constraint(m) if m.contains("FOREIGN KEY")
        ));
    }
}
