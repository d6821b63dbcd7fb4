//! The revocation cache: whether an access token is revoked, and its
//! account, without a storage round trip on every request.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use ytvc_domain::accounts::User;
use ytvc_domain::auth::{AccessClaims, AuthError, AuthService};
use ytvc_domain::ids::{TokenId, UserId};

use super::blocking;
use crate::http::error::ApiError;

/// What the revocation cache remembers of one access token.
#[derive(Debug, Clone)]
struct Known {
    revoked: bool,
    user: Option<User>,
    checked_ms: u64,
}

/// Caches, per access token, whether it is revoked and its account, for at
/// most `ttl`. A revocation made on this instance is seen at once (it is
/// written here too); one made on another instance within `ttl`.
pub struct RevocationCache {
    ttl_ms: u64,
    clock: crate::clock::AppClock,
    entries: Mutex<HashMap<TokenId, Known>>,
}

const MAX_CACHED: usize = 100_000;

impl RevocationCache {
    /// A cache whose answers are at most `ttl` old.
    #[must_use]
    pub fn new(ttl: Duration, clock: crate::clock::AppClock) -> Self {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        Self {
            ttl_ms,
            clock,
            entries: Mutex::new(HashMap::new()),
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
        let now = self.now_ms();
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_CACHED {
            entries.retain(|_, k| k.revoked || (now.saturating_sub(k.checked_ms) < self.ttl_ms));
            if entries.len() >= MAX_CACHED {
                entries.clear();
            }
        }
        entries.insert(
            claims.token,
            Known {
                revoked,
                user: user.clone(),
                checked_ms: now,
            },
        );
        drop(entries);
        user.ok_or_else(|| AuthError::Revoked.into())
    }

    /// Remembers a revocation made here (effective at once on this instance).
    pub fn mark_revoked(&self, claims: &AccessClaims) {
        let now = self.now_ms();
        let mut entries = self.entries.lock();
        // Other cached tokens of this user are re-checked (their session may
        // be the one just revoked).
        entries.retain(|_, k| k.revoked || k.user.as_ref().is_none_or(|u| u.id != claims.user));
        entries.insert(
            claims.token,
            Known {
                revoked: true,
                user: None,
                checked_ms: now,
            },
        );
    }

    /// Drops the cached account of `user` (after a plan or role change here).
    pub fn forget_user(&self, user: UserId) {
        self.entries
            .lock()
            .retain(|_, k| k.revoked || k.user.as_ref().is_none_or(|u| u.id != user));
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
            checked_ms: cache.now_ms(),
        };
        cache.entries.lock().insert(ada_2.token, revoked);
        cache.forget_user(ada.id);
        assert_eq!(cached_user(&cache, &ada_1), None);
        assert_eq!(cached_user(&cache, &bob_1), Some(bob.id));
        assert!(cache.entries.lock()[&ada_2.token].revoked);
    }
}
