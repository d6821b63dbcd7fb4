//! Migrations, embedded per backend: applied at start-up, reverted on request.

use diesel::backend::Backend as DieselBackend;
use diesel::migration::{MigrationSource, MigrationVersion};
use diesel::{PgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::{AnyConnection, DbError};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// A fixed key for the PostgreSQL advisory lock that serialises concurrent
/// migrators (several instances starting at once, or one reverting).
const MIGRATION_LOCK_KEY: i64 = 0x7974_7663_6d69_6772; // "ytvcmigr"

/// Which applied migrations [`crate::Database::revert_migrations`] reverts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revert {
    /// The last `n` applied (newest first); fewer when fewer are applied.
    Last(usize),
    /// Every applied migration.
    All,
}

/// Applies pending migrations; returns the versions applied.
pub(crate) fn run(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    match conn {
        AnyConnection::Sqlite(c) => versions(c.run_pending_migrations(SQLITE)),
        AnyConnection::Postgresql(c) => locked(c, |c| versions(c.run_pending_migrations(POSTGRES))),
    }
}

fn versions(
    result: diesel::migration::Result<Vec<MigrationVersion<'_>>>,
) -> Result<Vec<String>, DbError> {
    result
        .map(|v| v.iter().map(ToString::to_string).collect())
        .map_err(|e| DbError::Migration(e.to_string()))
}

/// Reverts applied migrations, newest first, each in its own transaction;
/// returns the names reverted (`2026-11-28-000005_jobs`, …) in that order.
pub(crate) fn revert(conn: &mut AnyConnection, which: Revert) -> Result<Vec<String>, DbError> {
    match conn {
        AnyConnection::Sqlite(c) => revert_with(c, SQLITE, which),
        AnyConnection::Postgresql(c) => locked(c, |c| revert_with(c, POSTGRES, which)),
    }
}

fn revert_with<DB, C>(
    conn: &mut C,
    source: EmbeddedMigrations,
    which: Revert,
) -> Result<Vec<String>, DbError>
where
    DB: DieselBackend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    let migrations = source.migrations().map_err(failed)?;
    // Newest first.
    let applied = conn.applied_migrations().map_err(failed)?;
    let count = match which {
        Revert::Last(n) => n.min(applied.len()),
        Revert::All => applied.len(),
    };
    let mut reverted = Vec::with_capacity(count);
    for version in applied.into_iter().take(count) {
        let Some(migration) = migrations.iter().find(|m| m.name().version() == version) else {
            return Err(DbError::Migration(format!(
                "applied migration {version} is unknown to this build, so it cannot be reverted{}",
                done(&reverted)
            )));
        };
        let name = migration.name().to_string();
        conn.revert_migration(migration.as_ref())
            .map_err(|e| DbError::Migration(format!("reverting {name}: {e}{}", done(&reverted))))?;
        reverted.push(name);
    }
    Ok(reverted)
}

/// What a failure message adds about the migrations reverted before it.
fn done(reverted: &[String]) -> String {
    if reverted.is_empty() {
        String::new()
    } else {
        format!(" (already reverted: {})", reverted.join(", "))
    }
}

/// Runs `f` holding the migration advisory lock (released even when `f` fails).
fn locked<T>(
    c: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(c)?;
    let result = f(c);
    let unlocked =
        diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(c);
    let value = result?;
    unlocked?;
    Ok(value)
}
