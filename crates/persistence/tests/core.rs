//! The persistence core on every configured backend.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use ytvc_persistence::testing::TestDb;
use ytvc_persistence::{Backend, Database, DbConfig, DbError};

#[test]
fn migrations_apply_and_ping_works_on_every_backend() {
    for db in TestDb::all() {
        db.database().ping().unwrap();
        // Re-running migrations is a no-op.
        assert!(
            db.database().migrate().unwrap().is_empty(),
            "{:?}",
            db.backend()
        );
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = db.database().conn().unwrap();
        let c: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM users")
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(c.n, 0);
    }
}

#[test]
fn sqlite_runs_in_wal_mode_with_foreign_keys_and_busy_timeout() {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let db = TestDb::sqlite();
    let mut conn = db.database().conn().unwrap();
    let q = |conn: &mut ytvc_persistence::PooledConn, sql: &str| {
        diesel::sql_query(sql)
            .get_result::<Row>(&mut **conn)
            .unwrap()
            .v
    };
    assert_eq!(
        q(
            &mut conn,
            "SELECT journal_mode AS v FROM pragma_journal_mode"
        ),
        "wal"
    );
    assert_eq!(
        q(
            &mut conn,
            "SELECT CAST(foreign_keys AS TEXT) AS v FROM pragma_foreign_keys"
        ),
        "1"
    );
    assert_eq!(
        q(
            &mut conn,
            "SELECT CAST(timeout AS TEXT) AS v FROM pragma_busy_timeout"
        ),
        "5000"
    );
}

#[test]
fn duplicate_email_is_a_constraint_error() {
    for db in TestDb::all() {
        let mut conn = db.database().conn().unwrap();
        let insert = "INSERT INTO users (id, email, password_hash, created_at, updated_at) \
                      VALUES ('{id}', 'a@example.com', 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)";
        diesel::sql_query(insert.replace("{id}", "1"))
            .execute(&mut *conn)
            .unwrap();
        let err = diesel::sql_query(insert.replace("{id}", "2"))
            .execute(&mut *conn)
            .unwrap_err();
        assert!(
            matches!(DbError::from(err), DbError::Constraint(_)),
            "{:?}",
            db.backend()
        );
    }
}

#[test]
fn unreachable_postgres_fails_fast_with_the_real_cause() {
    // Nothing listens on port 1: the connection is refused at once.
    let mut config = DbConfig::new("postgres://postgres@127.0.0.1:1/none");
    config.connection_timeout = Duration::from_secs(2);
    let started = Instant::now();
    let err = Database::connect(&config).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let msg = err.to_string();
    assert!(matches!(err, DbError::Unavailable(_)), "{msg}");
    assert!(
        msg.contains("refused") || msg.contains("127.0.0.1"),
        "{msg}"
    );
}

#[test]
fn unknown_scheme_is_refused() {
    let err = Database::connect(&DbConfig::new("mysql://h/db")).unwrap_err();
    assert!(matches!(err, DbError::InvalidUrl(_)));
}

#[test]
fn default_sqlite_file_is_created_under_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let db = Database::connect(&DbConfig::sqlite_in(&data)).unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    assert!(data.join("ytvc.db").exists());
}

#[test]
fn pool_size_is_configurable_and_checkout_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = DbConfig::new(format!("sqlite://{}", dir.path().join("p.db").display()));
    config.max_connections = 2;
    config.connection_timeout = Duration::from_millis(200);
    let db = Database::connect(&config).unwrap();
    let a = db.conn().unwrap();
    let b = db.conn().unwrap();
    let err = db.conn().map(|_| ()).unwrap_err();
    assert!(matches!(err, DbError::PoolTimeout(_)), "{err}");
    assert_eq!(err.code().as_str(), "DB_002");
    drop((a, b));
    db.conn().unwrap();
}
