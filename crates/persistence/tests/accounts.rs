//! Users, refresh-token rotation and revocations on every configured backend.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use ytvc_domain::accounts::{Role, User, UserChange};
use ytvc_domain::auth::{RefreshRecord, RotateOutcome, SessionRepository, UserRepository};
use ytvc_domain::ids::{SessionId, TokenId, UserId};
use ytvc_domain::repo::RepoError;
use ytvc_domain::validation::Email;
use ytvc_persistence::SqlAccounts;
use ytvc_persistence::testing::TestDb;
use ytvc_quota::{AnchorDay, PlanName};

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn user(email: &str) -> User {
    User {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        password_hash: "$argon2id$fake".into(),
        role: Role::User,
        plan: PlanName::FREE,
        billing_anchor_day: AnchorDay::FIRST,
        created_at: t0(),
        updated_at: t0(),
    }
}

#[test]
fn users_round_trip_and_emails_are_unique() {
    for db in TestDb::all() {
        let repo = SqlAccounts::new(db.database().clone());
        let u = user("a@example.com");
        repo.insert(&u).unwrap();
        assert_eq!(repo.by_id(u.id).unwrap().unwrap(), u);
        assert_eq!(repo.by_email(&u.email).unwrap().unwrap().id, u.id);
        assert!(
            repo.by_email(&Email::parse("b@example.com").unwrap())
                .unwrap()
                .is_none()
        );
        let dup = repo.insert(&user("a@example.com")).unwrap_err();
        assert!(
            matches!(dup, RepoError::Duplicate(_)),
            "{dup:?} on {:?}",
            db.backend()
        );

        let change = UserChange {
            plan: Some(PlanName::PRO),
            role: Some(Role::Admin),
        };
        let later = t0() + TimeDelta::minutes(5);
        let updated = repo.update(u.id, &change, later).unwrap().unwrap();
        assert_eq!(updated.plan, PlanName::PRO);
        assert_eq!(updated.role, Role::Admin);
        assert_eq!(updated.updated_at, later);
        assert!(
            repo.update(UserId::new(), &change, later)
                .unwrap()
                .is_none()
        );
    }
}

fn session(repo: &SqlAccounts, u: &User, hash: &str) -> SessionId {
    let session = SessionId::new();
    repo.insert_refresh(&RefreshRecord {
        token_hash: hash.into(),
        session,
        user: u.id,
        created_at: t0(),
        expires_at: t0() + TimeDelta::days(30),
    })
    .unwrap();
    session
}

#[test]
fn rotation_kills_the_old_token_and_reuse_revokes_the_family() {
    for db in TestDb::all() {
        let repo = SqlAccounts::new(db.database().clone());
        let u = user("r@example.com");
        repo.insert(&u).unwrap();
        let sid = session(&repo, &u, "h1");
        let now = t0() + TimeDelta::minutes(1);
        let exp = now + TimeDelta::days(30);
        assert_eq!(
            repo.rotate("h1", "h2", now, exp, exp).unwrap(),
            RotateOutcome::Rotated {
                user: u.id,
                session: sid
            }
        );
        assert_eq!(
            repo.rotate("h2", "h3", now, exp, exp).unwrap(),
            RotateOutcome::Rotated {
                user: u.id,
                session: sid
            }
        );
        // h1 again: theft. The family dies, including the newest token h3.
        assert_eq!(
            repo.rotate("h1", "hx", now, exp, exp).unwrap(),
            RotateOutcome::Reused { session: sid }
        );
        assert_eq!(
            repo.rotate("h3", "h4", now, exp, exp).unwrap(),
            RotateOutcome::Invalid
        );
        assert!(
            repo.is_revoked(TokenId::new(), sid, now).unwrap(),
            "access tokens of the session are refused"
        );
        assert_eq!(
            repo.rotate("unknown", "h5", now, exp, exp).unwrap(),
            RotateOutcome::Invalid
        );
    }
}

#[test]
fn expired_refresh_tokens_do_not_rotate() {
    for db in TestDb::all() {
        let repo = SqlAccounts::new(db.database().clone());
        let u = user("e@example.com");
        repo.insert(&u).unwrap();
        session(&repo, &u, "old");
        let late = t0() + TimeDelta::days(31);
        assert_eq!(
            repo.rotate("old", "new", late, late, late).unwrap(),
            RotateOutcome::Invalid
        );
    }
}

#[test]
fn concurrent_rotations_of_one_token_let_exactly_one_win() {
    for db in TestDb::all() {
        let repo = Arc::new(SqlAccounts::new(db.database().clone()));
        let u = user("c@example.com");
        repo.insert(&u).unwrap();
        session(&repo, &u, "shared");
        let now = t0() + TimeDelta::minutes(1);
        let exp = now + TimeDelta::days(30);
        let outcomes: Vec<RotateOutcome> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let repo = repo.clone();
                    s.spawn(move || {
                        repo.rotate("shared", &format!("next-{i}"), now, exp, exp)
                            .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won = outcomes
            .iter()
            .filter(|o| matches!(o, RotateOutcome::Rotated { .. }))
            .count();
        assert_eq!(won, 1, "{outcomes:?} on {:?}", db.backend());
        // The losers presented a token that had just been rotated: that is
        // reuse, so the family is revoked (later ones find it revoked).
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, RotateOutcome::Reused { .. })),
            "{outcomes:?}"
        );
        let winner_next = (0..8)
            .map(|i| format!("next-{i}"))
            .find(|h| repo.session_of(h).unwrap().is_some())
            .expect("the winner's new token was stored");
        assert_eq!(
            repo.rotate(&winner_next, "after", now, exp, exp).unwrap(),
            RotateOutcome::Invalid
        );
    }
}

#[test]
fn revoked_tokens_are_refused_until_they_expire() {
    for db in TestDb::all() {
        let repo = SqlAccounts::new(db.database().clone());
        let jti = TokenId::new();
        let sid = SessionId::new();
        let until = t0() + TimeDelta::minutes(15);
        assert!(!repo.is_revoked(jti, sid, t0()).unwrap());
        repo.revoke_token(jti, until, t0()).unwrap();
        repo.revoke_token(jti, until, t0()).unwrap(); // idempotent
        assert!(repo.is_revoked(jti, sid, t0()).unwrap());
        assert!(
            !repo
                .is_revoked(jti, sid, until + TimeDelta::seconds(1))
                .unwrap()
        );
        assert_eq!(
            repo.purge_expired(until + TimeDelta::seconds(1)).unwrap(),
            1
        );
    }
}
