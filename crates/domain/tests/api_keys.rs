//! The API-key use cases ([`ApiKeys`]) over in-memory fakes: format and
//! storage of the secret, validation, the scope-subset rule, expiry,
//! revocation and the last-use throttle.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use support::FakeUsers;
use ytvc_domain::accounts::{Role, User};
use ytvc_domain::auth::{AccessClaims, AuthError};
use ytvc_domain::ids::{ApiKeyId, SessionId, TokenId, UserId};
use ytvc_domain::keys::{
    ApiKey, ApiKeys, Credential, Entropy, KeyDigest, KeyRepository, KeySecret, NewKeyRequest,
    Scope, Scopes,
};
use ytvc_domain::repo::RepoError;
use ytvc_domain::validation::Email;
use ytvc_error_codes::ErrorCode;
use ytvc_quota::{AnchorDay, Clock, ManualClock, PlanName};

/// Keys in memory, by digest.
#[derive(Default)]
struct FakeKeys(Mutex<Vec<(KeyDigest, ApiKey)>>);

impl KeyRepository for FakeKeys {
    fn insert_key(&self, key: &ApiKey, digest: &KeyDigest) -> Result<(), RepoError> {
        self.0.lock().unwrap().push((*digest, key.clone()));
        Ok(())
    }

    fn by_digest(&self, digest: &KeyDigest) -> Result<Option<ApiKey>, RepoError> {
        let keys = self.0.lock().unwrap();
        Ok(keys
            .iter()
            .find(|(d, _)| d == digest)
            .map(|(_, k)| k.clone()))
    }

    fn list(&self, user: UserId) -> Result<Vec<ApiKey>, RepoError> {
        let keys = self.0.lock().unwrap();
        let mut out: Vec<ApiKey> = keys
            .iter()
            .map(|(_, k)| k.clone())
            .filter(|k| k.user == user && k.revoked_at.is_none())
            .collect();
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    fn revoke(
        &self,
        user: UserId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiKey>, RepoError> {
        let mut keys = self.0.lock().unwrap();
        let found = keys
            .iter_mut()
            .map(|(_, k)| k)
            .find(|k| k.id == id && k.user == user && k.revoked_at.is_none());
        Ok(found.map(|k| {
            k.revoked_at = Some(now);
            k.clone()
        }))
    }

    fn touch(
        &self,
        id: ApiKeyId,
        at: DateTime<Utc>,
        unless_after: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let mut keys = self.0.lock().unwrap();
        for (_, k) in keys.iter_mut().filter(|(_, k)| k.id == id) {
            if k.last_used_at.is_none_or(|t| t <= unless_after) {
                k.last_used_at = Some(at);
            }
        }
        Ok(())
    }
}

/// Different bytes on every call (a counter), never the same key twice.
#[derive(Default)]
struct CountingEntropy(AtomicU64);

impl Entropy for CountingEntropy {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let n = self.0.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
            chunk.copy_from_slice(&n.to_le_bytes()[..chunk.len()]);
        }
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

struct World {
    clock: ManualClock,
    keys: Arc<FakeKeys>,
    users: Arc<FakeUsers>,
    service: ApiKeys,
}

fn world() -> World {
    let clock = ManualClock::new(t0());
    let keys = Arc::new(FakeKeys::default());
    let users = Arc::new(FakeUsers::default());
    let service = ApiKeys::new(
        keys.clone(),
        users.clone(),
        Arc::new(CountingEntropy::default()),
        Arc::new(clock.clone()),
    );
    World {
        clock,
        keys,
        users,
        service,
    }
}

impl World {
    fn user(&self) -> User {
        let user = User {
            id: UserId::new(),
            email: Email::parse(format!("k{}@example.com", uuid::Uuid::new_v4().simple())).unwrap(),
            password_hash: String::new(),
            role: Role::User,
            plan: PlanName::FREE,
            billing_anchor_day: AnchorDay::FIRST,
            created_at: t0(),
            updated_at: t0(),
        };
        self.users.0.lock().unwrap().push(user.clone());
        user
    }

    fn stored(&self) -> usize {
        self.keys.0.lock().unwrap().len()
    }
}

fn session(user: &User) -> Credential {
    Credential::Session(AccessClaims {
        user: user.id,
        token: TokenId::new(),
        session: SessionId::new(),
        role: user.role,
        plan: user.plan.clone(),
        issued_at: t0(),
        expires_at: t0() + TimeDelta::minutes(15),
    })
}

fn ask(name: &str, scopes: &[&str]) -> NewKeyRequest {
    NewKeyRequest {
        name: Some(name.into()),
        scopes: Some(scopes.iter().map(|s| (*s).to_owned()).collect()),
        expires_in_days: None,
    }
}

fn code(e: &AuthError) -> ErrorCode {
    e.code()
}

#[test]
fn a_key_is_shown_once_stored_as_its_digest_and_authenticates_its_owner() {
    let w = world();
    let ada = w.user();
    let made = w
        .service
        .create(&ada, &session(&ada), ask("ci", &["videos:read"]))
        .unwrap();
    let text = made.secret.expose().to_owned();
    assert!(KeySecret::parse(&text).is_ok());
    assert_eq!(made.key.prefix, &text[..13]);
    assert_eq!(made.key.name, "ci");
    assert_eq!(made.key.scopes.names(), ["videos:read"]);
    assert_eq!(made.key.expires_at, None);
    {
        let stored = w.keys.0.lock().unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].0, made.secret.digest());
        assert!(!format!("{:?}", stored[0].1).contains(&text[13..]));
    }
    let (key, owner) = w.service.authenticate(&made.secret.digest()).unwrap();
    assert_eq!((key.id, owner.id), (made.key.id, ada.id));
    let listed = w.service.list(ada.id).unwrap();
    assert_eq!(listed, std::slice::from_ref(&made.key));
    assert!(w.service.list(w.user().id).unwrap().is_empty());
    // An unknown (well-formed) key.
    let other = KeySecret::generate(&CountingEntropy(AtomicU64::new(3)));
    let err = w.service.authenticate(&other.digest()).unwrap_err();
    assert_eq!(code(&err), ErrorCode::InvalidToken);
}

#[test]
fn bad_requests_are_validation_errors_and_store_nothing() {
    let w = world();
    let ada = w.user();
    let by = session(&ada);
    let long = "n".repeat(ApiKeys::MAX_NAME_CHARS + 1);
    let cases: Vec<(NewKeyRequest, ErrorCode, &str)> = vec![
        (
            NewKeyRequest {
                name: None,
                ..ask("x", &["account"])
            },
            ErrorCode::MissingField,
            "name",
        ),
        (ask("   ", &["account"]), ErrorCode::OutOfRange, "name"),
        (ask(&long, &["account"]), ErrorCode::OutOfRange, "name"),
        (
            ask("a\u{7}b", &["account"]),
            ErrorCode::UnsupportedValue,
            "name",
        ),
        (
            NewKeyRequest {
                scopes: None,
                ..ask("x", &[])
            },
            ErrorCode::MissingField,
            "scopes",
        ),
        (ask("x", &[]), ErrorCode::UnsupportedValue, "scopes"),
        (
            ask("x", &["account", "root"]),
            ErrorCode::UnsupportedValue,
            "scopes[1]",
        ),
        (
            NewKeyRequest {
                expires_in_days: Some(0),
                ..ask("x", &["account"])
            },
            ErrorCode::OutOfRange,
            "expires_in_days",
        ),
        (
            NewKeyRequest {
                expires_in_days: Some(366),
                ..ask("x", &["account"])
            },
            ErrorCode::OutOfRange,
            "expires_in_days",
        ),
    ];
    for (request, expected, field) in cases {
        let err = w.service.create(&ada, &by, request).unwrap_err();
        assert_eq!(code(&err), expected, "{err}");
        let AuthError::Validation(v) = err else {
            panic!("a validation error")
        };
        assert_eq!(v.field(), field);
    }
    assert_eq!(w.stored(), 0);
    let made = w
        .service
        .create(&ada, &by, ask("  trimmed  ", &["account"]))
        .unwrap();
    assert_eq!(made.key.name, "trimmed");
}

#[test]
fn a_key_grants_only_a_subset_of_its_own_scopes_a_session_any() {
    let w = world();
    let ada = w.user();
    let all: Vec<&str> = Scope::NAMES.to_vec();
    let root = w
        .service
        .create(&ada, &session(&ada), ask("root", &all))
        .unwrap();
    assert_eq!(root.key.scopes, Scopes::ALL);
    let reader = w
        .service
        .create(
            &ada,
            &Credential::Key(root.key),
            ask("r", &["videos:read", "account"]),
        )
        .unwrap();
    let by_reader = Credential::Key(reader.key.clone());
    // Equal or fewer scopes: fine.
    w.service
        .create(&ada, &by_reader, ask("r2", &["account"]))
        .unwrap();
    // One more: refused, naming it, nothing stored.
    let before = w.stored();
    let err = w
        .service
        .create(&ada, &by_reader, ask("w", &["videos:read", "videos:write"]))
        .unwrap_err();
    assert!(
        matches!(err, AuthError::MissingScope(Scope::VideosWrite)),
        "{err:?}"
    );
    assert_eq!(code(&err), ErrorCode::Forbidden);
    assert_eq!(w.stored(), before);
    // The credential's own scopes answer `require`.
    assert!(by_reader.require(Scope::VideosRead).is_ok());
    assert!(matches!(
        by_reader.require(Scope::Publish),
        Err(AuthError::MissingScope(Scope::Publish))
    ));
    assert!(session(&ada).require(Scope::Webhooks).is_ok());
}

#[test]
fn a_key_never_makes_a_key_that_outlives_it() {
    let w = world();
    let ada = w.user();
    let mut ask_for = ask("short", &["account", "videos:read"]);
    ask_for.expires_in_days = Some(10);
    let short = w.service.create(&ada, &session(&ada), ask_for).unwrap();
    let by_short = Credential::Key(short.key);
    let before = w.stored();
    // No expiry, or one past the creator's: refused, nothing stored.
    let err = w
        .service
        .create(&ada, &by_short, ask("forever", &["videos:read"]))
        .unwrap_err();
    assert_eq!(code(&err), ErrorCode::MissingField, "{err:?}");
    let mut longer = ask("longer", &["videos:read"]);
    longer.expires_in_days = Some(11);
    let err = w.service.create(&ada, &by_short, longer).unwrap_err();
    assert_eq!(code(&err), ErrorCode::OutOfRange, "{err:?}");
    assert_eq!(w.stored(), before);
    // Within its days left: fine; a session may still grant any lifetime.
    let mut within = ask("within", &["videos:read"]);
    within.expires_in_days = Some(10);
    let child = w.service.create(&ada, &by_short, within).unwrap();
    assert!(child.key.expires_at <= by_short_expiry(&by_short));
    assert!(
        w.service
            .create(&ada, &session(&ada), ask("forever", &["videos:read"]))
            .is_ok()
    );
}

fn by_short_expiry(by: &Credential) -> Option<DateTime<Utc>> {
    match by {
        Credential::Key(key) => key.expires_at,
        Credential::Session(_) => None,
    }
}

#[test]
fn an_expired_key_is_auth_002_and_a_revoked_one_auth_003() {
    let w = world();
    let ada = w.user();
    let mut request = ask("short-lived", &["videos:read"]);
    request.expires_in_days = Some(1);
    let made = w.service.create(&ada, &session(&ada), request).unwrap();
    assert_eq!(made.key.expires_at, Some(t0() + TimeDelta::days(1)));
    let digest = made.secret.digest();
    w.clock.advance(TimeDelta::days(1) - TimeDelta::seconds(1));
    assert!(w.service.authenticate(&digest).is_ok());
    w.clock.advance(TimeDelta::seconds(1));
    let err = w.service.authenticate(&digest).unwrap_err();
    assert_eq!(code(&err), ErrorCode::InvalidToken, "{err}");
    // Listed until revoked, so its owner sees it expired.
    assert_eq!(w.service.list(ada.id).unwrap().len(), 1);

    let live = w
        .service
        .create(&ada, &session(&ada), ask("live", &["videos:read"]))
        .unwrap();
    let id = live.key.id.to_string();
    // Another user's key, a malformed id: not found.
    let bob = w.user();
    assert_eq!(
        code(&w.service.revoke(bob.id, &id).unwrap_err()),
        ErrorCode::ApiKeyNotFound
    );
    assert_eq!(
        code(&w.service.revoke(ada.id, "not-a-uuid").unwrap_err()),
        ErrorCode::ApiKeyNotFound
    );
    assert!(w.service.authenticate(&live.secret.digest()).is_ok());
    let revoked = w.service.revoke(ada.id, &id).unwrap();
    assert_eq!(revoked.revoked_at, Some(w.clock.now()));
    let err = w.service.authenticate(&live.secret.digest()).unwrap_err();
    assert_eq!(code(&err), ErrorCode::RevokedToken);
    assert_eq!(
        code(&w.service.revoke(ada.id, &id).unwrap_err()),
        ErrorCode::ApiKeyNotFound
    );
    assert!(
        w.service
            .list(ada.id)
            .unwrap()
            .iter()
            .all(|k| k.id != live.key.id)
    );
}

#[test]
fn an_account_holds_at_most_100_live_keys() {
    let w = world();
    let ada = w.user();
    let by = session(&ada);
    let mut first = None;
    for i in 0..ApiKeys::MAX_ACTIVE_PER_USER {
        let made = w
            .service
            .create(&ada, &by, ask(&format!("k{i}"), &["account"]))
            .unwrap();
        first.get_or_insert(made.key.id);
    }
    let err = w
        .service
        .create(&ada, &by, ask("one more", &["account"]))
        .unwrap_err();
    assert_eq!(code(&err), ErrorCode::Forbidden);
    assert!(
        err.to_string()
            .contains(&ApiKeys::MAX_ACTIVE_PER_USER.to_string())
    );
    w.service
        .revoke(ada.id, &first.unwrap().to_string())
        .unwrap();
    w.service
        .create(&ada, &by, ask("after a revoke", &["account"]))
        .unwrap();
    // Another account is not affected.
    let bob = w.user();
    w.service
        .create(&bob, &session(&bob), ask("bob", &["account"]))
        .unwrap();
}

#[test]
fn last_use_is_written_at_most_once_a_minute_per_key() {
    let w = world();
    let ada = w.user();
    let by = session(&ada);
    let a = w
        .service
        .create(&ada, &by, ask("a", &["account"]))
        .unwrap()
        .key;
    let b = w
        .service
        .create(&ada, &by, ask("b", &["account"]))
        .unwrap()
        .key;
    let first = w.service.touch_due(&a).expect("first use is written");
    w.service.touch(a.id, first).unwrap();
    assert!(w.service.touch_due(&b).is_some(), "per key");
    w.clock.advance(TimeDelta::seconds(59));
    assert_eq!(w.service.touch_due(&a), None);
    w.clock.advance(TimeDelta::seconds(1));
    let second = w.service.touch_due(&a).expect("a minute later");
    assert_eq!(second, t0() + TimeDelta::seconds(60));
    // A stored recent use (another instance wrote it) is enough too.
    let fresh = ApiKeys::new(
        w.keys.clone(),
        w.users.clone(),
        Arc::new(CountingEntropy::default()),
        Arc::new(w.clock.clone()),
    );
    let mut seen = a.clone();
    seen.last_used_at = Some(second - TimeDelta::seconds(10));
    assert_eq!(fresh.touch_due(&seen), None);
    // Storage keeps the first of two writes within a minute.
    w.service
        .touch(a.id, first + TimeDelta::seconds(30))
        .unwrap();
    let stored = w.service.list(ada.id).unwrap();
    let stored_a = stored.iter().find(|k| k.id == a.id).unwrap();
    assert_eq!(stored_a.last_used_at, Some(first));
}
