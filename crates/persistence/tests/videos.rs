//! The video store: a submission is one transaction, on every backend.

use chrono::{TimeZone, Utc};
use diesel::RunQueryDsl;
use ytvc_domain::accounts::{Role, User};
use ytvc_domain::auth::UserRepository;
use ytvc_domain::ids::UserId;
use ytvc_domain::jobs::RetryPolicy;
use ytvc_domain::validation::{Email, RawVideoRequest};
use ytvc_domain::videos::{
    self, CancelResult, SubmitError, VideoQuery, VideoRepository, VideoStatus,
};
use ytvc_persistence::testing::TestDb;
use ytvc_persistence::{SqlAccounts, SqlQuotaStore, SqlVideos};
use ytvc_quota::{AnchorDay, Plan, PlanName, QuotaStore, UserKey, cycle_for};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
}

fn user(db: &TestDb) -> User {
    let u = User {
        id: UserId::new(),
        email: Email::parse(format!("{}@example.com", uuid::Uuid::new_v4().simple())).unwrap(),
        password_hash: "x".into(),
        role: Role::User,
        plan: PlanName::FREE,
        billing_anchor_day: AnchorDay::FIRST,
        created_at: now(),
        updated_at: now(),
    };
    SqlAccounts::new(db.database().clone()).insert(&u).unwrap();
    u
}

fn raw(i: usize) -> RawVideoRequest {
    RawVideoRequest {
        prompt: Some(format!("A calm documentary about coral reefs, part {i}")),
        ..RawVideoRequest::default()
    }
}

fn count(db: &TestDb, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.database().conn().unwrap();
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<N>(&mut *conn)
        .unwrap()
        .n
}

fn used(db: &TestDb, u: &User) -> u64 {
    SqlQuotaStore::new(db.database().clone())
        .usage(
            &UserKey::from(u.id.to_string()),
            cycle_for(u.billing_anchor_day, now()).start(),
        )
        .unwrap()
        .used()
}

#[test]
fn a_failure_mid_batch_leaves_nothing_behind() {
    for db in TestDb::all() {
        let store = SqlVideos::new(db.database().clone());
        let u = user(&db);
        let plan = Plan::free();
        let mut sub = videos::prepare_batch(
            &u,
            &plan,
            Some("x".into()),
            (0..5).map(raw).collect(),
            now(),
            &RetryPolicy::default(),
        )
        .unwrap();
        // Inject a failure at the fourth item: its id repeats the second's.
        sub.videos[3].video.id = sub.videos[1].video.id;
        let err = store.submit(&sub).unwrap_err();
        assert!(matches!(err, SubmitError::Repo(_)), "{err:?}");
        for table in ["batches", "videos", "jobs", "quota_reservations"] {
            assert_eq!(count(&db, table), 0, "{table} on {:?}", db.backend());
        }
        assert_eq!(used(&db, &u), 0, "quota untouched");
    }
}

#[test]
fn a_batch_larger_than_the_remaining_quota_is_refused_whole() {
    for db in TestDb::all() {
        let store = SqlVideos::new(db.database().clone());
        let u = user(&db);
        let plan = Plan::free();
        for i in 0..8 {
            store
                .submit(
                    &videos::prepare_video(&u, &plan, raw(i), now(), &RetryPolicy::default())
                        .unwrap(),
                )
                .unwrap();
        }
        let sub = videos::prepare_batch(
            &u,
            &plan,
            None,
            (0..3).map(raw).collect(),
            now(),
            &RetryPolicy::default(),
        )
        .unwrap();
        let err = store.submit(&sub).unwrap_err();
        assert!(matches!(err, SubmitError::Quota(_)), "{err:?}");
        assert_eq!(count(&db, "videos"), 8);
        assert_eq!(count(&db, "batches"), 0);
        assert_eq!(used(&db, &u), 8);
    }
}

#[test]
fn concurrent_submissions_never_overspend() {
    for db in TestDb::all() {
        let store = std::sync::Arc::new(SqlVideos::new(db.database().clone()));
        let u = user(&db);
        let plan = Plan::free();
        let ok = std::thread::scope(|s| {
            let handles: Vec<_> = (0..24)
                .map(|i| {
                    let store = store.clone();
                    let u = u.clone();
                    let plan = plan.clone();
                    s.spawn(move || {
                        let sub = if i % 3 == 0 {
                            videos::prepare_batch(
                                &u,
                                &plan,
                                None,
                                (0..2).map(raw).collect(),
                                now(),
                                &RetryPolicy::default(),
                            )
                            .unwrap()
                        } else {
                            videos::prepare_video(&u, &plan, raw(i), now(), &RetryPolicy::default())
                                .unwrap()
                        };
                        match store.submit(&sub) {
                            Ok(()) => sub.videos.len(),
                            Err(SubmitError::Quota(_)) => 0,
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum::<usize>()
        });
        assert!(ok <= 10, "{ok} videos accepted on {:?}", db.backend());
        assert_eq!(ok, 10, "demand exceeded supply, so the quota fills exactly");
        assert_eq!(count(&db, "videos"), 10);
        assert_eq!(used(&db, &u), 10);
    }
}

#[test]
fn cancel_and_lists() {
    for db in TestDb::all() {
        let store = SqlVideos::new(db.database().clone());
        let u = user(&db);
        let plan = Plan::free();
        let sub = videos::prepare_video(&u, &plan, raw(0), now(), &RetryPolicy::default()).unwrap();
        let id = sub.videos[0].video.id;
        store.submit(&sub).unwrap();
        let listed = store
            .videos(
                u.id,
                &VideoQuery {
                    limit: 10,
                    ..VideoQuery::default()
                },
            )
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].spec.prompt.as_str(),
            "A calm documentary about coral reefs, part 0"
        );
        match store.cancel_video(u.id, id, now()).unwrap().unwrap() {
            CancelResult::Cancelled(v) => assert_eq!(v.status, VideoStatus::Cancelled),
            other => panic!("{other:?}"),
        }
        assert_eq!(used(&db, &u), 0);
        assert!(matches!(
            store.cancel_video(u.id, id, now()).unwrap().unwrap(),
            CancelResult::TooLate(_)
        ));
        let stranger = UserId::new();
        assert!(store.cancel_video(stranger, id, now()).unwrap().is_none());
        assert!(store.video(stranger, id).unwrap().is_none());
    }
}
