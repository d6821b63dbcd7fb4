//! The revocation cache: whether an access token or an API key is revoked,
//! and its account, without a storage round trip on every request.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::time::Duration;

use parking_lot::Mutex;
use ytvc_domain::accounts::User;
use ytvc_domain::auth::{AccessClaims, AuthError, AuthService};
use ytvc_domain::ids::{ApiKeyId, TokenId, UserId};
use ytvc_domain::keys::{ApiKey, ApiKeys, KeyDigest, KeySecret};

use super::blocking;
use crate::http::error::ApiError;

/// What the revocation cache remembers of one access token or API key.
#[derive(Debug, Clone)]
struct Known {
    revoked: bool,
    user: Option<User>,
    /// The key as stored (API keys only).
    key: Option<ApiKey>,
    checked_ms: u64,
}

/// Caches, per access token and per API key (by digest), whether it is
/// revoked and its account (and the key's record), for at most `ttl`. A
/// revocation made on this instance is seen at once (it is written here
/// too); one made on another instance within `ttl`.
pub struct RevocationCache {
    ttl_ms: u64,
    clock: crate::clock::AppClock,
    entries: Mutex<HashMap<TokenId, Known>>,
    keys: Mutex<HashMap<KeyDigest, Known>>,
    /// Keys revoked on this instance: a lookup that raced the revocation
    /// (read before it was stored) cannot cache the key as live.
    revoked_keys: Mutex<HashSet<ApiKeyId>>,
}

const MAX_CACHED: usize = 100_000;

/// Stores `known` under `subject`, first dropping stale answers (and, if
/// that is not enough, everything) when the map is full.
fn remember<K: Hash + Eq>(map: &mut HashMap<K, Known>, subject: K, known: Known, ttl_ms: u64) {
    let now = known.checked_ms;
    if map.len() >= MAX_CACHED {
        map.retain(|_, k| k.revoked || (now.saturating_sub(k.checked_ms) < ttl_ms));
        if map.len() >= MAX_CACHED {
            map.clear();
        }
    }
    map.insert(subject, known);
}

/// Whether `k` holds the live account of `user`.
fn holds_account_of(k: &Known, user: UserId) -> bool {
    !k.revoked && k.user.as_ref().is_some_and(|u| u.id == user)
}

impl RevocationCache {
    /// A cache whose answers are at most `ttl` old.
    #[must_use]
    pub fn new(ttl: Duration, clock: crate::clock::AppClock) -> Self {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        Self {
            ttl_ms,
            clock,
            entries: Mutex::new(HashMap::new()),
            keys: Mutex::new(HashMap::new()),
            revoked_keys: Mutex::new(HashSet::new()),
        }
    }

    fn now_ms(&self) -> u64 {
        ytvc_rate_limit::Clock::now_millis(&self.clock)
    }

    fn fresh(&self, k: &Known, now: u64) -> bool {
        now.saturating_sub(k.checked_ms) < self.ttl_ms && now >= k.checked_ms
    }

    /// Resolves a verified token to its current account, or AUTH_003 when revoked.
    ///
    /// # Errors
    /// AUTH_003 when revoked; AUTH_002 when the account is gone; storage errors.
    pub async fn resolve(
        &self,
        auth: &AuthService,
        claims: &AccessClaims,
    ) -> Result<User, ApiError> {
        if let Some(k) = self.entries.lock().get(&claims.token).cloned() {
            if k.revoked {
                return Err(AuthError::Revoked.into());
            }
            if self.fresh(&k, self.now_ms())
                && let Some(user) = k.user
            {
                return Ok(user);
            }
        }
        let auth = auth.clone();
        let c = claims.clone();
        let (revoked, user) = blocking(move || {
            let revoked = auth.is_revoked(&c)?;
            let user = if revoked {
                None
            } else {
                Some(auth.current_user(&c)?)
            };
            Ok((revoked, user))
        })
        .await?;
        let known = Known {
            revoked,
            user: user.clone(),
            key: None,
            checked_ms: self.now_ms(),
        };
        remember(&mut self.entries.lock(), claims.token, known, self.ttl_ms);
        user.ok_or_else(|| AuthError::Revoked.into())
    }

    /// Resolves a well-formed API key to its record and its owner's current
    /// account. A cached answer is at most `ttl` old; expiry is checked on
    /// every call.
    ///
    /// # Errors
    /// AUTH_003 when revoked; AUTH_002 when unknown, expired or its account
    /// is gone; storage errors.
    pub async fn resolve_key(
        &self,
        keys: &ApiKeys,
        secret: &KeySecret,
    ) -> Result<(ApiKey, User), ApiError> {
        let digest = secret.digest();
        if let Some(k) = self.keys.lock().get(&digest).cloned() {
            if k.revoked {
                return Err(AuthError::Revoked.into());
            }
            if self.fresh(&k, self.now_ms())
                && let (Some(key), Some(user)) = (k.key, k.user)
            {
                key.check(ytvc_quota::Clock::now(&self.clock))?;
                return Ok((key, user));
            }
        }
        let lookup = keys.clone();
        let found = blocking(move || Ok(lookup.authenticate(&digest))).await?;
        // Checked and stored under the map's lock: a revocation made here
        // meanwhile either is seen now or finds the entry to mark.
        let mut map = self.keys.lock();
        let (revoked, known) = match found {
            Ok((key, user)) => {
                let revoked = self.revoked_keys.lock().contains(&key.id);
                (revoked, (!revoked).then_some((key, user)))
            }
            Err(AuthError::Revoked) => (true, None),
            // Unknown, expired, gone, or storage trouble: not cached (an
            // unknown key is not worth a slot).
            Err(e) => return Err(e.into()),
        };
        let entry = Known {
            revoked,
            user: known.as_ref().map(|(_, u)| u.clone()),
            key: known.as_ref().map(|(k, _)| k.clone()),
            checked_ms: self.now_ms(),
        };
        remember(&mut map, digest, entry, self.ttl_ms);
        drop(map);
        known.ok_or_else(|| AuthError::Revoked.into())
    }

    /// Remembers the revocation of API key `id` made here (effective at
    /// once on this instance).
    pub fn mark_key_revoked(&self, id: ApiKeyId) {
        let mut revoked = self.revoked_keys.lock();
        if revoked.len() >= MAX_CACHED {
            revoked.clear();
        }
        revoked.insert(id);
        drop(revoked);
        for k in self.keys.lock().values_mut() {
            if k.key.as_ref().is_some_and(|key| key.id == id) {
                k.revoked = true;
                k.user = None;
            }
        }
    }

    /// Remembers a revocation made here (effective at once on this instance).
    pub fn mark_revoked(&self, claims: &AccessClaims) {
        let now = self.now_ms();
        let mut entries = self.entries.lock();
        // Other cached tokens of this user are re-checked (their session may
        // be the one just revoked).
        entries.retain(|_, k| !holds_account_of(k, claims.user));
        entries.insert(
            claims.token,
            Known {
                revoked: true,
                user: None,
                key: None,
                checked_ms: now,
            },
        );
    }

    /// Drops the cached account of `user` (after a plan or role change
    /// here), for its access tokens and its API keys.
    pub fn forget_user(&self, user: UserId) {
        self.entries
            .lock()
            .retain(|_, k| !holds_account_of(k, user));
        self.keys.lock().retain(|_, k| !holds_account_of(k, user));
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use ytvc_domain::accounts::Role;
    use ytvc_domain::ids::SessionId;
    use ytvc_domain::validation::Email;
    use ytvc_quota::{AnchorDay, PlanName};

    use super::*;
    use crate::clock::AppClock;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 28, 14, 0, 0).unwrap()
    }

    fn user() -> User {
        User {
            id: UserId::new(),
            email: Email::parse("ada@example.com").unwrap(),
            password_hash: String::new(),
            role: Role::User,
            plan: PlanName::parse("free").unwrap(),
            billing_anchor_day: AnchorDay::FIRST,
            created_at: t0(),
            updated_at: t0(),
        }
    }

    fn claims(user: &User) -> AccessClaims {
        AccessClaims {
            user: user.id,
            token: TokenId::new(),
            session: SessionId::new(),
            role: user.role,
            plan: user.plan.clone(),
            issued_at: t0(),
            expires_at: t0(),
        }
    }

    /// Caches `user` as the account of `claims`, checked now.
    fn remember(cache: &RevocationCache, claims: &AccessClaims, user: &User) {
        let known = Known {
            revoked: false,
            user: Some(user.clone()),
            key: None,
            checked_ms: cache.now_ms(),
        };
        cache.entries.lock().insert(claims.token, known);
    }

    fn cached_user(cache: &RevocationCache, claims: &AccessClaims) -> Option<UserId> {
        let entries = cache.entries.lock();
        entries.get(&claims.token)?.user.as_ref().map(|u| u.id)
    }

    #[test]
    fn an_answer_is_fresh_for_the_ttl_only() {
        let clock = AppClock::manual(t0());
        let cache = RevocationCache::new(Duration::from_secs(2), clock.clone());
        let now = cache.now_ms();
        let known = Known {
            revoked: false,
            user: None,
            key: None,
            checked_ms: now,
        };
        assert!(cache.fresh(&known, now));
        clock.advance(Duration::from_millis(1999));
        assert!(cache.fresh(&known, cache.now_ms()));
        clock.advance(Duration::from_millis(1));
        assert!(!cache.fresh(&known, cache.now_ms()));
        // Checked "in the future" (a clock that went back): not trusted.
        assert!(!cache.fresh(&known, now - 1));
    }

    #[test]
    fn a_revocation_here_is_remembered_and_rechecks_the_users_other_tokens() {
        let cache = RevocationCache::new(Duration::from_secs(2), AppClock::system());
        let (ada, bob) = (user(), user());
        let (ada_1, ada_2, bob_1) = (claims(&ada), claims(&ada), claims(&bob));
        for (c, u) in [(&ada_1, &ada), (&ada_2, &ada), (&bob_1, &bob)] {
            remember(&cache, c, u);
        }
        cache.mark_revoked(&ada_1);
        let entries = cache.entries.lock();
        assert!(entries[&ada_1.token].revoked);
        assert!(!entries.contains_key(&ada_2.token));
        assert!(entries.contains_key(&bob_1.token));
    }

    #[test]
    fn forgetting_a_user_keeps_revocations() {
        let cache = RevocationCache::new(Duration::from_secs(2), AppClock::system());
        let (ada, bob) = (user(), user());
        let (ada_1, ada_2, bob_1) = (claims(&ada), claims(&ada), claims(&bob));
        remember(&cache, &ada_1, &ada);
        remember(&cache, &bob_1, &bob);
        let revoked = Known {
            revoked: true,
            user: None,
            key: None,
            checked_ms: cache.now_ms(),
        };
        cache.entries.lock().insert(ada_2.token, revoked);
        cache.forget_user(ada.id);
        assert_eq!(cached_user(&cache, &ada_1), None);
        assert_eq!(cached_user(&cache, &bob_1), Some(bob.id));
        assert!(cache.entries.lock()[&ada_2.token].revoked);
    }
}

#[cfg(test)]
mod key_tests {
    use std::sync::Arc;

    use chrono::{TimeDelta, TimeZone, Utc};
    use ytvc_domain::accounts::Role;
    use ytvc_domain::auth::UserRepository;
    use ytvc_domain::ids::SessionId;
    use ytvc_domain::keys::{CreatedKey, Credential, KeyRepository, NewKeyRequest};
    use ytvc_domain::validation::Email;
    use ytvc_error_codes::ErrorCode;
    use ytvc_persistence::SqlAccounts;
    use ytvc_persistence::testing::TestDb;
    use ytvc_quota::{AnchorDay, PlanName};

    use super::*;
    use crate::clock::AppClock;

    /// A user with keys in a fresh SQLite database, the use cases over it
    /// and a 2 s cache on a manual clock.
    struct World {
        _db: TestDb,
        accounts: SqlAccounts,
        keys: ApiKeys,
        clock: AppClock,
        cache: RevocationCache,
        user: User,
    }

    fn world() -> World {
        let db = TestDb::sqlite();
        let accounts = SqlAccounts::new(db.database().clone());
        let t0 = Utc.with_ymd_and_hms(2026, 1, 28, 14, 0, 0).unwrap();
        let clock = AppClock::manual(t0);
        let keys = ApiKeys::new(
            Arc::new(accounts.clone()),
            Arc::new(accounts.clone()),
            Arc::new(ytvc_auth::OsEntropy),
            Arc::new(clock.clone()),
        );
        let user = User {
            id: UserId::new(),
            email: Email::parse("keys@example.com").unwrap(),
            password_hash: String::new(),
            role: Role::User,
            plan: PlanName::FREE,
            billing_anchor_day: AnchorDay::FIRST,
            created_at: t0,
            updated_at: t0,
        };
        UserRepository::insert(&accounts, &user).unwrap();
        let cache = RevocationCache::new(Duration::from_secs(2), clock.clone());
        World {
            _db: db,
            accounts,
            keys,
            clock,
            cache,
            user,
        }
    }

    impl World {
        fn key(&self) -> CreatedKey {
            let session = Credential::Session(AccessClaims {
                user: self.user.id,
                token: TokenId::new(),
                session: SessionId::new(),
                role: self.user.role,
                plan: self.user.plan.clone(),
                issued_at: ytvc_quota::Clock::now(&self.clock),
                expires_at: ytvc_quota::Clock::now(&self.clock),
            });
            let request = NewKeyRequest {
                name: Some("k".into()),
                scopes: Some(vec!["videos:read".into()]),
                expires_in_days: None,
            };
            self.keys.create(&self.user, &session, request).unwrap()
        }

        async fn code(&self, made: &CreatedKey) -> Option<ErrorCode> {
            match self.cache.resolve_key(&self.keys, &made.secret).await {
                Ok((key, user)) => {
                    assert_eq!((key.id, user.id), (made.key.id, self.user.id));
                    None
                }
                Err(e) => Some(e.code()),
            }
        }
    }

    #[actix_web::test]
    async fn a_revocation_elsewhere_shows_within_the_ttl_and_one_here_at_once() {
        let w = world();
        let (elsewhere, here) = (w.key(), w.key());
        assert_eq!(w.code(&elsewhere).await, None);
        assert_eq!(w.code(&here).await, None);
        // Revoked in storage by another instance: the cached answer stands
        // until it is `ttl` old, then the revocation is seen (and kept).
        let now = ytvc_quota::Clock::now(&w.clock);
        w.accounts
            .revoke(w.user.id, elsewhere.key.id, now)
            .unwrap()
            .unwrap();
        w.clock.advance(Duration::from_millis(1999));
        assert_eq!(w.code(&elsewhere).await, None);
        w.clock.advance(Duration::from_millis(1));
        assert_eq!(w.code(&elsewhere).await, Some(ErrorCode::RevokedToken));
        w.clock.advance(Duration::from_secs(60));
        assert_eq!(w.code(&elsewhere).await, Some(ErrorCode::RevokedToken));
        // Revoked here: at once, though its entry is fresh.
        w.keys.revoke(w.user.id, &here.key.id.to_string()).unwrap();
        w.cache.mark_key_revoked(here.key.id);
        assert_eq!(w.code(&here).await, Some(ErrorCode::RevokedToken));
    }

    #[actix_web::test]
    async fn a_lookup_racing_a_revocation_here_does_not_cache_the_key_as_live() {
        let w = world();
        let k = w.key();
        // Marked revoked here before its (stale) live row was read.
        w.cache.mark_key_revoked(k.key.id);
        assert_eq!(w.code(&k).await, Some(ErrorCode::RevokedToken));
        assert!(w.cache.keys.lock()[&k.secret.digest()].revoked);
    }

    #[actix_web::test]
    async fn expiry_is_checked_on_a_cached_answer_and_accounts_are_forgotten() {
        let w = world();
        let mut k = w.key();
        // A key that expires in one second, stored beside the first.
        let secret = KeySecret::generate(&ytvc_auth::OsEntropy);
        k.key.id = ApiKeyId::new();
        k.key.prefix = secret.display_prefix().to_owned();
        k.key.expires_at = Some(ytvc_quota::Clock::now(&w.clock) + TimeDelta::seconds(1));
        w.accounts.insert_key(&k.key, &secret.digest()).unwrap();
        k.secret = secret;
        assert_eq!(w.code(&k).await, None);
        w.clock.advance(Duration::from_secs(1));
        assert_eq!(w.code(&k).await, Some(ErrorCode::InvalidToken));
        // An unknown key is not cached; a plan change forgets the account.
        let live = w.key();
        assert_eq!(w.code(&live).await, None);
        assert!(w.cache.keys.lock().contains_key(&live.secret.digest()));
        w.cache.forget_user(w.user.id);
        assert!(!w.cache.keys.lock().contains_key(&live.secret.digest()));
        let unknown = KeySecret::generate(&ytvc_auth::OsEntropy);
        let err = w.cache.resolve_key(&w.keys, &unknown).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidToken);
        assert!(!w.cache.keys.lock().contains_key(&unknown.digest()));
    }
}
