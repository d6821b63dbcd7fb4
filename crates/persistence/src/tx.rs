//! Write transactions over both backends.
//!
//! SQLite takes its write lock at `BEGIN IMMEDIATE` (a deferred transaction
//! that reads and then writes can fail with a stale snapshot instead of
//! waiting); PostgreSQL runs a plain transaction in which the statements'
//! own row locks (`FOR UPDATE`, guarded updates) do the job.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::Error as DieselError;

use crate::{AnyConnection, DbError};

/// Runs `f` in a write transaction fit for [`reserve_in`](crate::quota_store::reserve_in) and [`settle_in`](crate::quota_store::settle_in):
/// `BEGIN IMMEDIATE` on SQLite (diesel's
/// `SqliteConnection::immediate_transaction`, but handing `f` the
/// [`AnyConnection`]), a plain (`READ COMMITTED`) transaction on PostgreSQL,
/// where the row locks taken by the quota functions do the job. Commits when
/// `f` returns `Ok`, rolls back otherwise.
///
/// Use it for a transaction that creates other rows along with a
/// reservation:
///
/// ```no_run
/// # use ytvc_persistence::{Database, quota_store::reserve_in, tx::write_transaction};
/// # fn demo(db: &Database, request: &ytvc_quota::ReserveRequest) -> Result<(), ytvc_quota::QuotaError> {
/// let mut conn = db.conn().expect("connection");
/// let reservation = write_transaction(&mut conn, |conn| {
///     // ... insert the video and its job with `conn` ...
///     reserve_in(conn, request)
/// })?;
/// # let _ = reservation; Ok(()) }
/// ```
///
/// # Errors
///
/// The error of `f`, or of `BEGIN`/`COMMIT`/`ROLLBACK` (converted with
/// `E: From<diesel::result::Error>`). A `QuotaError` closure gets those as
/// [`QuotaError::Store`](ytvc_quota::QuotaError::Store).
///
/// When a transaction is already open on `conn`, `f` runs in a savepoint of
/// it (on SQLite the outer transaction must then be an immediate one).
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: IntoTxError,
{
    type Tm = AnyConnection;
    let nested = <Tm as TransactionManager<Tm>>::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(E::from_diesel)?
        .is_some();
    match conn {
        // Inside an open transaction: a savepoint, the outer BEGIN decides.
        _ if nested => <Tm as TransactionManager<Tm>>::begin_transaction(conn),
        AnyConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        AnyConnection::Postgresql(_) => <Tm as TransactionManager<Tm>>::begin_transaction(conn),
    }
    .map_err(E::from_diesel)?;
    match f(conn) {
        Ok(value) => {
            <Tm as TransactionManager<Tm>>::commit_transaction(conn).map_err(E::from_diesel)?;
            Ok(value)
        }
        Err(e) => match <Tm as TransactionManager<Tm>>::rollback_transaction(conn) {
            Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(E::from_diesel(rollback)),
        },
    }
}

/// Error types [`write_transaction`] can return: anything built from a
/// diesel error, and [`QuotaError`](ytvc_quota::QuotaError) (as
/// [`QuotaError::Store`](ytvc_quota::QuotaError::Store)).
pub trait IntoTxError {
    /// Wraps a failure of `BEGIN`, `COMMIT` or `ROLLBACK`.
    fn from_diesel(e: DieselError) -> Self;
}

impl IntoTxError for DieselError {
    fn from_diesel(e: DieselError) -> Self {
        e
    }
}

impl IntoTxError for DbError {
    fn from_diesel(e: DieselError) -> Self {
        DbError::from(e)
    }
}
