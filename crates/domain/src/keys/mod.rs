//! API keys: long-lived credentials a user makes for scripts and services,
//! sent like access tokens (`Authorization: Bearer ytvc_…`).
//!
//! - **Format** ([`KeySecret`], `format`): `ytvc_` + 51 random base62
//!   characters + a 6-character CRC-32 checksum; a mistyped key is refused
//!   (AUTH_002) before any storage read. Storage keeps SHA-256 of the key
//!   ([`KeyDigest`]), never the key; it is shown once, when created.
//! - **Scopes** ([`Scope`]): `videos:read`, `videos:write`, `publish`,
//!   `webhooks`, `account`. A key holds the scopes it was made with; a
//!   session (a JWT from login) holds them all ([`Credential::scopes`]). A
//!   route that needs a scope the caller lacks answers AUTH_005 with
//!   `details.scope` ([`AuthError::MissingScope`]); which route needs which
//!   scope is the server's table.
//! - **Creation** ([`ApiKeys::create`]): a key made by a key may hold only
//!   scopes its maker holds (else AUTH_005 naming the first missing one); a
//!   session may grant any. Optional expiry after 1..=365 days; at most
//!   [`ApiKeys::MAX_ACTIVE_PER_USER`] unexpired keys per account.
//! - **Authentication** ([`ApiKeys::authenticate`]): by digest; a revoked
//!   key is AUTH_003, an expired one AUTH_002 (like an expired JWT), an
//!   unknown one AUTH_002. A key acts as its owner: it spends the owner's
//!   rate limits and quota.
//! - **Last use** ([`ApiKeys::touch_due`], [`ApiKeys::touch`]): written at
//!   most once a minute per key (an in-memory throttle here, and a guarded
//!   update in storage so several instances do not write more either).
//! - **Revocation** ([`ApiKeys::revoke`]): stored at once; the server's
//!   cache honours it at once on the instance that revoked and within its
//!   bound (2 s by default) on the others.

mod format;
mod scope;
mod service;

use chrono::{DateTime, Utc};

pub use format::{
    CHECKSUM_CHARS, DISPLAYED_CHARS, Entropy, KEY_LEN, KEY_PREFIX, KeyDigest, KeySecret,
    RANDOM_CHARS,
};
pub use scope::{Scope, Scopes};
pub use service::{ApiKeys, CreatedKey, NewKeyRequest};

use crate::auth::{AccessClaims, AuthError};
use crate::ids::{ApiKeyId, UserId};
use crate::repo::RepoError;

/// A stored API key (never the key itself: see [`KeySecret`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Its public id (`DELETE /v1/api-keys/{id}`).
    pub id: ApiKeyId,
    /// Its owner, whose limits and quota it spends.
    pub user: UserId,
    /// The owner's name for it.
    pub name: String,
    /// What it may do.
    pub scopes: Scopes,
    /// [`KeySecret::display_prefix`]: how listings show it.
    pub prefix: String,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Refused from then on; `None`: never expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked at; `None` while live.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether it has expired at `now`.
    #[must_use]
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// Whether it may authenticate a request at `now`.
    ///
    /// # Errors
    /// [`AuthError::Revoked`] (AUTH_003) once revoked;
    /// [`AuthError::InvalidToken`] (AUTH_002) once expired.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), AuthError> {
        if self.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        if self.is_expired(now) {
            return Err(AuthError::InvalidToken("API key expired".into()));
        }
        Ok(())
    }
}

/// Stored API keys.
pub trait KeyRepository: Send + Sync {
    /// Stores a new key under the digest of its secret.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the digest or id exists; storage errors.
    fn insert_key(&self, key: &ApiKey, digest: &KeyDigest) -> Result<(), RepoError>;

    /// The key whose secret has this digest (revoked or not).
    ///
    /// # Errors
    /// Storage errors.
    fn by_digest(&self, digest: &KeyDigest) -> Result<Option<ApiKey>, RepoError>;

    /// The user's keys that are not revoked (expired ones included), newest
    /// first.
    ///
    /// # Errors
    /// Storage errors.
    fn list(&self, user: UserId) -> Result<Vec<ApiKey>, RepoError>;

    /// Revokes the user's key `id` at `now`; `None` when the user has no
    /// such key or it was already revoked.
    ///
    /// # Errors
    /// Storage errors.
    fn revoke(
        &self,
        user: UserId,
        id: ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiKey>, RepoError>;

    /// Sets `last_used_at = at` unless it is already later than
    /// `unless_after` (another instance wrote it recently).
    ///
    /// # Errors
    /// Storage errors.
    fn touch(
        &self,
        id: ApiKeyId,
        at: DateTime<Utc>,
        unless_after: DateTime<Utc>,
    ) -> Result<(), RepoError>;
}

/// How a request authenticated: the user's own session (a JWT) or one of
/// their API keys.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A verified access token.
    Session(AccessClaims),
    /// A live API key.
    Key(ApiKey),
}

impl Credential {
    /// What it may do: every scope for a session, the key's own otherwise.
    #[must_use]
    pub fn scopes(&self) -> Scopes {
        match self {
            Credential::Session(_) => Scopes::ALL,
            Credential::Key(key) => key.scopes,
        }
    }

    /// Whether it holds `scope`.
    ///
    /// # Errors
    /// [`AuthError::MissingScope`] (AUTH_005, `details.scope`) when it does not.
    pub fn require(&self, scope: Scope) -> Result<(), AuthError> {
        if self.scopes().contains(scope) {
            Ok(())
        } else {
            Err(AuthError::MissingScope(scope))
        }
    }

    /// The access token's claims, for a session.
    #[must_use]
    pub fn session(&self) -> Option<&AccessClaims> {
        match self {
            Credential::Session(claims) => Some(claims),
            Credential::Key(_) => None,
        }
    }

    /// The key, for an API key.
    #[must_use]
    pub fn api_key(&self) -> Option<&ApiKey> {
        match self {
            Credential::Session(_) => None,
            Credential::Key(key) => Some(key),
        }
    }
}
