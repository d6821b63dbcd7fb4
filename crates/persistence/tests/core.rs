//! The persistence core on every configured backend.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use ytvc_domain::repo::RepoError;
use ytvc_persistence::testing::TestDb;
use ytvc_persistence::{Backend, Database, DbConfig, DbError, Revert};

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
fn a_unique_violation_is_a_duplicate_and_other_constraints_are_constraints() {
    for db in TestDb::all() {
        let backend = db.backend();
        let mut conn = db.database().conn().unwrap();
        let insert = "INSERT INTO users (id, email, password_hash, created_at, updated_at) \
                      VALUES ('{id}', 'a@example.com', 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)";
        diesel::sql_query(insert.replace("{id}", "1"))
            .execute(&mut *conn)
            .unwrap();
        let mut fails =
            |sql: &str| DbError::from(diesel::sql_query(sql).execute(&mut *conn).expect_err(sql));
        // The email is taken: a duplicate (VAL_010), also as a RepoError.
        let duplicate = fails(&insert.replace("{id}", "2"));
        assert!(matches!(duplicate, DbError::Duplicate(_)), "{backend:?}");
        assert_eq!(duplicate.code().as_str(), "VAL_010");
        assert_eq!(RepoError::from(duplicate).code().as_str(), "VAL_010");
        // A missing parent, a failed check: constraints (DB_004), never
        // duplicates.
        for sql in [
            "INSERT INTO revocations (subject, kind, revoked_at, expires_at) \
             VALUES ('s', 'neither', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            "INSERT INTO refresh_tokens (token_hash, session_id, user_id, status, created_at, \
             expires_at) VALUES ('h', 's', 'no-such-user', 'active', CURRENT_TIMESTAMP, \
             CURRENT_TIMESTAMP)",
        ] {
            let constraint = fails(sql);
            assert!(
                matches!(constraint, DbError::Constraint(_)),
                "{backend:?}: {constraint:?}"
            );
            assert_eq!(constraint.code().as_str(), "DB_004");
            assert!(!matches!(
                RepoError::from(constraint),
                RepoError::Duplicate(_)
            ));
        }
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
    config.pool_size = 2;
    config.max_overflow = 0;
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

#[test]
fn the_pool_keeps_its_size_and_overflows_up_to_size_plus_overflow() {
    for db in TestDb::all() {
        let mut config = DbConfig::new(db.url());
        config.pool_size = 2;
        config.max_overflow = 3;
        config.connection_timeout = Duration::from_millis(300);
        let pool = Database::connect(&config).unwrap();
        // The pool opens its size by itself (in the background).
        let started = Instant::now();
        while pool.pool_state().0 < 2 {
            assert!(started.elapsed() < Duration::from_secs(5), "never filled");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Under load it opens more than its size: up to size + overflow.
        let mut held: Vec<_> = (0..5).map(|_| pool.conn().unwrap()).collect();
        for conn in &mut held {
            diesel::sql_query("SELECT 1").execute(&mut **conn).unwrap();
        }
        assert_eq!(pool.pool_state(), (5, 0), "{:?}", db.backend());
        // And never more: the next checkout waits, then fails as exhausted.
        let started = Instant::now();
        let err = pool.conn().map(|_| ()).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert!(matches!(err, DbError::PoolTimeout(_)), "{err}");
        assert_eq!(err.code().as_str(), "DB_002");
        assert_eq!(pool.pool_state(), (5, 0), "{:?}", db.backend());
        drop(held);
        assert_eq!(pool.pool_state(), (5, 5));
        pool.ping().unwrap();
    }
}

/// The tables of the database's schema, sorted.
fn tables(db: &Database) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
             WHERE table_schema = current_schema()"
        }
    };
    let mut conn = db.conn().unwrap();
    let mut names: Vec<String> = diesel::sql_query(sql)
        .load::<Name>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    names.sort();
    names
}

/// A user with a submitted batch and an API key: rows in users, batches,
/// videos, jobs, idempotency keys, both quota tables and api_keys.
fn populate(db: &Database, email: &str) {
    use chrono::{TimeZone, Utc};
    use ytvc_domain::accounts::{Role, User};
    use ytvc_domain::auth::UserRepository;
    use ytvc_domain::ids::UserId;
    use ytvc_domain::jobs::RetryPolicy;
    use ytvc_domain::validation::{Email, RawVideoRequest};
    use ytvc_domain::videos::{self, VideoRepository};
    use ytvc_quota::{AnchorDay, Plan, PlanName};

    let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
    let user = User {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        password_hash: "x".into(),
        role: Role::User,
        plan: PlanName::FREE,
        billing_anchor_day: AnchorDay::FIRST,
        created_at: now,
        updated_at: now,
    };
    let accounts = ytvc_persistence::SqlAccounts::new(db.clone());
    accounts.insert(&user).unwrap();
    assert_eq!(
        accounts.by_email(&user.email).unwrap().map(|u| u.id),
        Some(user.id)
    );
    let key = ytvc_domain::keys::ApiKey {
        id: ytvc_domain::ids::ApiKeyId::new(),
        user: user.id,
        name: "ci".into(),
        scopes: ytvc_domain::keys::Scopes::ALL,
        prefix: "ytvc_00000000".into(),
        created_at: now,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
    };
    let mut digest = ytvc_domain::keys::KeyDigest([0; 32]);
    digest.0[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    ytvc_domain::keys::KeyRepository::insert_key(&accounts, &key, &digest).unwrap();
    let raw = |i: usize| RawVideoRequest {
        prompt: Some(format!("A calm documentary about coral reefs, part {i}")),
        ..RawVideoRequest::default()
    };
    let batch = videos::prepare_batch(
        &user,
        &Plan::free(),
        Some("key-1".into()),
        (0..2).map(raw).collect(),
        now,
        &RetryPolicy::default(),
    )
    .unwrap();
    ytvc_persistence::SqlVideos::new(db.clone())
        .submit(&batch)
        .unwrap();
}

#[test]
fn every_migration_reverts_and_applies_again_on_a_populated_database() {
    const NEWEST_FIRST: [&str; 7] = [
        "2026-11-28-000007_api_keys",
        "2026-11-28-000006_artifact_retention",
        "2026-11-28-000005_jobs",
        "2026-11-28-000004_videos",
        "2026-11-28-000003_auth",
        "2026-11-28-000002_quota",
        "2026-11-28-000001_users",
    ];
    for db in TestDb::all() {
        let database = db.database();
        let backend = db.backend();
        let schema = tables(database);
        assert_eq!(
            schema,
            [
                "__diesel_schema_migrations",
                "api_keys",
                "batches",
                "idempotency_keys",
                "jobs",
                "quota_reservations",
                "quota_usage",
                "refresh_tokens",
                "revocations",
                "users",
                "videos",
            ],
            "{backend:?}"
        );
        populate(database, "first@example.com");

        // The last one (a column), then applied again.
        let reverted = database.revert_migrations(Revert::Last(1)).unwrap();
        assert_eq!(reverted, NEWEST_FIRST[..1], "{backend:?}");
        assert!(!tables(database).contains(&"api_keys".to_owned()));
        assert_eq!(database.migrate().unwrap().len(), 1, "{backend:?}");
        // The last two (a table and a column), then applied again.
        let reverted = database.revert_migrations(Revert::Last(2)).unwrap();
        assert_eq!(reverted, NEWEST_FIRST[..2], "{backend:?}");
        assert!(!tables(database).contains(&"api_keys".to_owned()));
        assert!(tables(database).contains(&"jobs".to_owned()));
        assert_eq!(database.migrate().unwrap().len(), 2, "{backend:?}");
        // The last three, the jobs table with them, then applied again.
        let reverted = database.revert_migrations(Revert::Last(3)).unwrap();
        assert_eq!(reverted, NEWEST_FIRST[..3], "{backend:?}");
        assert!(!tables(database).contains(&"jobs".to_owned()));
        assert_eq!(database.migrate().unwrap().len(), 3, "{backend:?}");
        assert_eq!(tables(database), schema, "{backend:?}");

        // Two, then everything left: every down.sql runs, newest first.
        let mut reverted = database.revert_migrations(Revert::Last(2)).unwrap();
        reverted.extend(database.revert_migrations(Revert::All).unwrap());
        assert_eq!(reverted, NEWEST_FIRST, "{backend:?}");
        assert_eq!(
            tables(database),
            ["__diesel_schema_migrations"],
            "{backend:?}"
        );
        assert!(database.revert_migrations(Revert::All).unwrap().is_empty());
        assert!(
            database
                .revert_migrations(Revert::Last(3))
                .unwrap()
                .is_empty()
        );

        // Applied again from scratch: the same schema, and the stores work.
        assert_eq!(database.migrate().unwrap().len(), 7, "{backend:?}");
        assert_eq!(tables(database), schema, "{backend:?}");
        populate(database, "first@example.com");
        // More than are applied reverts what there is.
        database.revert_migrations(Revert::Last(2)).unwrap();
        assert_eq!(
            database.revert_migrations(Revert::Last(10)).unwrap(),
            NEWEST_FIRST[2..],
            "{backend:?}"
        );
        database.migrate().unwrap();
        populate(database, "again@example.com");
    }
}
