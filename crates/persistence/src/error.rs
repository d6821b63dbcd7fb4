//! The persistence error type and its one mapping to the catalog.

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
    /// A unique, foreign-key or check constraint was violated.
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
                    K::UniqueViolation
                    | K::ForeignKeyViolation
                    | K::NotNullViolation
                    | K::CheckViolation => DbError::Constraint(msg),
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

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        DbError::PoolTimeout(e.to_string())
    }
}

fn is_sqlite_busy(msg: &str) -> bool {
    msg.contains("database is locked") || msg.contains("database is busy")
}
