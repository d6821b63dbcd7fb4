//! API keys on every configured backend: stored by digest, listed without
//! revoked ones, revoked once and only by their owner, last use guarded,
//! deleted with their owner.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use ytvc_domain::accounts::{Role, User};
use ytvc_domain::auth::UserRepository;
use ytvc_domain::ids::{ApiKeyId, UserId};
use ytvc_domain::keys::{ApiKey, Entropy, KeyDigest, KeyRepository, KeySecret, Scope, Scopes};
use ytvc_domain::repo::RepoError;
use ytvc_domain::validation::Email;
use ytvc_persistence::SqlAccounts;
use ytvc_persistence::testing::TestDb;
use ytvc_quota::{AnchorDay, PlanName};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn user(repo: &SqlAccounts, email: &str) -> User {
    let u = User {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        password_hash: "$argon2id$fake".into(),
        role: Role::User,
        plan: PlanName::FREE,
        billing_anchor_day: AnchorDay::FIRST,
        created_at: t0(),
        updated_at: t0(),
    };
    repo.insert(&u).unwrap();
    u
}

/// Fresh bytes per call, from UUIDs (the tests need distinct keys, not
/// secure ones).
struct UuidEntropy;

impl Entropy for UuidEntropy {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(16) {
            chunk.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..chunk.len()]);
        }
    }
}

/// A key of `owner` made `minutes` after t0, stored; returns it and its digest.
fn key(repo: &SqlAccounts, owner: &User, minutes: i64, scopes: Scopes) -> (ApiKey, KeyDigest) {
    let secret = KeySecret::generate(&UuidEntropy);
    let created_at = t0() + TimeDelta::minutes(minutes);
    let key = ApiKey {
        id: ApiKeyId::new(),
        user: owner.id,
        name: format!("key {minutes}"),
        scopes,
        prefix: secret.display_prefix().to_owned(),
        created_at,
        expires_at: Some(created_at + TimeDelta::days(30)),
        last_used_at: None,
        revoked_at: None,
    };
    repo.insert_key(&key, &secret.digest()).unwrap();
    (key, secret.digest())
}

fn read() -> Scopes {
    [Scope::VideosRead].into_iter().collect()
}

#[test]
fn keys_round_trip_by_digest_and_list_newest_first() {
    for db in TestDb::all() {
        let repo = SqlAccounts::new(db.database().clone());
        let ada = user(&repo, "ada@example.com");
        let bob = user(&repo, "bob@example.com");
        let (first, first_digest) = key(&repo, &ada, 0, read());
        let (second, _) = key(&repo, &ada, 5, Scopes::ALL);
        let (bobs, _) = key(&repo, &bob, 1, read());
        let mut never = second.clone();
        never.id = ApiKeyId::new();
        never.expires_at = None;
        never.created_at = t0() + TimeDelta::minutes(9);
        let never_digest = KeySecret::generate(&UuidEntropy).digest();
        repo.insert_key(&never, &never_digest).unwrap();

        assert_eq!(repo.by_digest(&first_digest).unwrap(), Some(first.clone()));
        assert_eq!(repo.by_digest(&never_digest).unwrap(), Some(never.clone()));
        let unknown = KeySecret::generate(&UuidEntropy).digest();
        assert_eq!(repo.by_digest(&unknown).unwrap(), None);
        assert_eq!(
            repo.list(ada.id).unwrap(),
            [never, second, first.clone()],
            "{:?}",
            db.backend()
        );
        assert_eq!(repo.list(bob.id).unwrap(), [bobs]);
        assert!(repo.list(UserId::new()).unwrap().is_empty());

        // The digest is unique.
        let mut twin = first.clone();
        twin.id = ApiKeyId::new();
        let dup = repo.insert_key(&twin, &first_digest).unwrap_err();
        assert!(matches!(dup, RepoError::Duplicate(_)), "{dup:?}");
    }
}

#[test]
fn a_key_is_revoked_once_and_only_by_its_owner() {
    for db in TestDb::all() {
        let repo = SqlAccounts::new(db.database().clone());
        let ada = user(&repo, "ada@example.com");
        let bob = user(&repo, "bob@example.com");
        let (k, digest) = key(&repo, &ada, 0, read());
        let later = t0() + TimeDelta::hours(1);
        assert_eq!(repo.revoke(bob.id, k.id, later).unwrap(), None);
        assert_eq!(repo.revoke(ada.id, ApiKeyId::new(), later).unwrap(), None);
        let revoked = repo.revoke(ada.id, k.id, later).unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(later));
        assert_eq!(repo.revoke(ada.id, k.id, later).unwrap(), None, "once");
        // Still found by digest (a presented revoked key is AUTH_003, not
        // unknown), no longer listed.
        let found = repo.by_digest(&digest).unwrap().unwrap();
        assert_eq!(found.revoked_at, Some(later));
        assert!(repo.list(ada.id).unwrap().is_empty());
    }
}

#[test]
fn last_use_is_kept_unless_a_minute_old_and_keys_go_with_their_owner() {
    for db in TestDb::all() {
        let repo = SqlAccounts::new(db.database().clone());
        let ada = user(&repo, "ada@example.com");
        let (k, digest) = key(&repo, &ada, 0, read());
        let last_used = |repo: &SqlAccounts| repo.by_digest(&digest).unwrap().unwrap().last_used_at;
        let minute = TimeDelta::seconds(60);
        let at = t0() + TimeDelta::hours(1);
        repo.touch(k.id, at, at - minute).unwrap();
        assert_eq!(last_used(&repo), Some(at));
        // Another instance, 30 s later: its write is not due.
        let soon = at + TimeDelta::seconds(30);
        repo.touch(k.id, soon, soon - minute).unwrap();
        assert_eq!(last_used(&repo), Some(at), "{:?}", db.backend());
        // A minute later it is.
        let later = at + minute;
        repo.touch(k.id, later, later - minute).unwrap();
        assert_eq!(last_used(&repo), Some(later));
        // Unknown ids are a no-op.
        repo.touch(ApiKeyId::new(), later, later - minute).unwrap();

        // Deleting the account deletes its keys (ON DELETE CASCADE).
        use diesel::RunQueryDsl;
        let mut conn = db.database().conn().unwrap();
        diesel::sql_query(format!("DELETE FROM users WHERE id = '{}'", ada.id))
            .execute(&mut *conn)
            .unwrap();
        drop(conn);
        assert_eq!(repo.by_digest(&digest).unwrap(), None, "{:?}", db.backend());
    }
}
