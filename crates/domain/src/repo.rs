//! The error every repository port returns, and its one mapping to the catalog.

use ytvc_error_codes::ErrorCode;

/// What a repository (a storage port) can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was hit (e.g. the email is taken); names the rule.
    #[error("already exists: {0}")]
    Duplicate(String),
    /// A concurrent writer won; the operation may be retried.
    #[error("write conflict: {0}")]
    Conflict(String),
    /// The store cannot be reached.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// No connection became free in time.
    #[error("storage busy: {0}")]
    Busy(String),
    /// A foreign-key, check or not-null rule was broken (a unique rule is
    /// [`RepoError::Duplicate`]); names the rule.
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// Anything else (logged, never shown to clients).
    #[error("storage error: {0}")]
    Other(String),
}

impl RepoError {
    /// The catalog code a client sees.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            RepoError::NotFound => ErrorCode::ResourceNotFound,
            RepoError::Duplicate(_) => ErrorCode::AlreadyExists,
            RepoError::Conflict(_) => ErrorCode::WriteConflict,
            RepoError::Unavailable(_) => ErrorCode::DatabaseUnavailable,
            RepoError::Busy(_) => ErrorCode::PoolExhausted,
            RepoError::Constraint(_) => ErrorCode::ConstraintViolation,
            RepoError::Other(_) => ErrorCode::Unexpected,
        }
    }
}
