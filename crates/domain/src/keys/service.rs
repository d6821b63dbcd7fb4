//! [`ApiKeys`]: create, list, revoke and authenticate API keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use ytvc_quota::Clock;

use super::{ApiKey, Credential, Entropy, KeyDigest, KeyRepository, KeySecret, Scopes};
use crate::accounts::User;
use crate::auth::{AuthError, UserRepository};
use crate::ids::{ApiKeyId, UserId};
use crate::validation::{ValidationError, ValidationErrorKind};

/// A key request as the HTTP layer reads it (every field optional, so the
/// use case names what is missing).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewKeyRequest {
    /// The owner's name for the key: 1..=100 characters, trimmed.
    pub name: Option<String>,
    /// Scope names, at least one.
    pub scopes: Option<Vec<String>>,
    /// Days until it expires (1..=365); absent: never.
    pub expires_in_days: Option<i64>,
}

/// A key just made: the stored record and the key itself, which is never
/// available again.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// What storage keeps.
    pub key: ApiKey,
    /// The key (show it to its owner now; only its digest is stored).
    pub secret: KeySecret,
}

/// The API-key use cases (see the module docs).
#[derive(Clone)]
pub struct ApiKeys {
    keys: Arc<dyn KeyRepository>,
    users: Arc<dyn UserRepository>,
    entropy: Arc<dyn Entropy>,
    clock: Arc<dyn Clock>,
    /// When this instance last wrote each key's `last_used_at`.
    touched: Arc<Mutex<HashMap<ApiKeyId, DateTime<Utc>>>>,
}

const NAME_FIELD: &str = "name";
const EXPIRY_FIELD: &str = "expires_in_days";
/// More remembered writes than this and the old ones are forgotten.
const MAX_TOUCHED: usize = 100_000;

impl ApiKeys {
    /// Unexpired, unrevoked keys one account may hold.
    pub const MAX_ACTIVE_PER_USER: usize = 100;
    /// The longest name.
    pub const MAX_NAME_CHARS: usize = 100;
    /// The longest lifetime, in days.
    pub const MAX_EXPIRY_DAYS: i64 = 365;
    /// `last_used_at` is written at most this often per key.
    pub const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);

    /// Wires the use case to its ports.
    pub fn new(
        keys: Arc<dyn KeyRepository>,
        users: Arc<dyn UserRepository>,
        entropy: Arc<dyn Entropy>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            keys,
            users,
            entropy,
            clock,
            touched: Arc::default(),
        }
    }

    /// Makes a key for `owner`, asked for with credential `by` (the
    /// owner's session or one of their keys).
    ///
    /// # Errors
    /// Validation errors (VAL_005 / VAL_006 / VAL_007); AUTH_005 with the
    /// first scope `by` lacks ([`AuthError::MissingScope`]); AUTH_005 when
    /// the account already holds [`Self::MAX_ACTIVE_PER_USER`] live keys;
    /// storage errors. Nothing is stored on error.
    pub fn create(
        &self,
        owner: &User,
        by: &Credential,
        request: NewKeyRequest,
    ) -> Result<CreatedKey, AuthError> {
        let name = parse_name(request.name)?;
        let scopes = Scopes::parse_list(
            request
                .scopes
                .as_deref()
                .ok_or_else(|| ValidationError::missing(Scopes::FIELD))?,
        )?;
        let lifetime = request.expires_in_days.map(parse_expiry).transpose()?;
        if let Some(missing) = scopes.first_missing_from(by.scopes()) {
            return Err(AuthError::MissingScope(missing));
        }
        let now = self.clock.now();
        if let Some(ends) = by_expiry(by) {
            // A key never outlives the key that made it: within its days left.
            let days_left = (ends - now).num_days();
            match request.expires_in_days {
                None => return Err(ValidationError::missing(EXPIRY_FIELD).into()),
                Some(days) if days > days_left => {
                    return Err(ValidationError::new(
                        EXPIRY_FIELD,
                        ValidationErrorKind::OutOfRange {
                            value: days,
                            min: 1,
                            max: days_left,
                        },
                    )
                    .into());
                }
                Some(_) => {}
            }
        }
        let live = self.keys.list(owner.id)?;
        if live.iter().filter(|k| !k.is_expired(now)).count() >= Self::MAX_ACTIVE_PER_USER {
            return Err(AuthError::Forbidden(
                "an account holds at most 100 live API keys; revoke one first",
            ));
        }
        let secret = KeySecret::generate(self.entropy.as_ref());
        let key = ApiKey {
            id: ApiKeyId::new(),
            user: owner.id,
            name,
            scopes,
            prefix: secret.display_prefix().to_owned(),
            created_at: now,
            expires_at: lifetime.map(|days| now + days),
            last_used_at: None,
            revoked_at: None,
        };
        self.keys.insert_key(&key, &secret.digest())?;
        Ok(CreatedKey { key, secret })
    }

    /// The owner's keys that are not revoked, newest first.
    ///
    /// # Errors
    /// Storage errors.
    pub fn list(&self, owner: UserId) -> Result<Vec<ApiKey>, AuthError> {
        Ok(self.keys.list(owner)?)
    }

    /// Revokes the owner's key `id` (the path segment as given).
    ///
    /// # Errors
    /// [`AuthError::KeyNotFound`] (KEY_001) for a malformed id, another
    /// user's key or one already revoked; storage errors.
    pub fn revoke(&self, owner: UserId, id: &str) -> Result<ApiKey, AuthError> {
        let id: ApiKeyId = id.parse().map_err(|_| AuthError::KeyNotFound)?;
        self.keys
            .revoke(owner, id, self.clock.now())?
            .ok_or(AuthError::KeyNotFound)
    }

    /// The live key with this digest and its owner's account as stored now.
    ///
    /// # Errors
    /// AUTH_002 for an unknown or expired key or a deleted account; AUTH_003
    /// for a revoked key; storage errors.
    pub fn authenticate(&self, digest: &KeyDigest) -> Result<(ApiKey, User), AuthError> {
        let key = self
            .keys
            .by_digest(digest)?
            .ok_or_else(|| AuthError::InvalidToken("unknown API key".into()))?;
        key.check(self.clock.now())?;
        let user = self
            .users
            .by_id(key.user)?
            .ok_or_else(|| AuthError::InvalidToken("account no longer exists".into()))?;
        Ok((key, user))
    }

    /// The instant to record as `key`'s last use if a write is due now:
    /// neither this instance (since it started) nor the stored value says
    /// it was used within [`Self::TOUCH_EVERY`]. A `Some` counts as written.
    #[must_use]
    pub fn touch_due(&self, key: &ApiKey) -> Option<DateTime<Utc>> {
        let now = self.clock.now();
        let recent = |at: &DateTime<Utc>| now - *at < Self::TOUCH_EVERY && *at <= now;
        if key.last_used_at.as_ref().is_some_and(recent) {
            return None;
        }
        let mut touched = self
            .touched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if touched.get(&key.id).is_some_and(recent) {
            return None;
        }
        if touched.len() >= MAX_TOUCHED {
            touched.retain(|_, at| recent(at));
        }
        touched.insert(key.id, now);
        Some(now)
    }

    /// Records `at` as the key's last use (a write [`Self::touch_due`] asked
    /// for), unless storage already holds a use within a minute of it.
    ///
    /// # Errors
    /// Storage errors.
    pub fn touch(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), AuthError> {
        Ok(self.keys.touch(id, at, at - Self::TOUCH_EVERY)?)
    }
}

fn parse_name(raw: Option<String>) -> Result<String, ValidationError> {
    let raw = raw.ok_or_else(|| ValidationError::missing(NAME_FIELD))?;
    let name = raw.trim();
    if name.chars().any(char::is_control) {
        return Err(ValidationError::malformed(
            NAME_FIELD,
            "control characters are not allowed",
        ));
    }
    let length = name.chars().count();
    if !(1..=ApiKeys::MAX_NAME_CHARS).contains(&length) {
        return Err(ValidationError::new(
            NAME_FIELD,
            ValidationErrorKind::LengthOutOfRange {
                length: Some(length),
                min: 1,
                max: ApiKeys::MAX_NAME_CHARS,
            },
        ));
    }
    Ok(name.to_owned())
}

/// When the key that asks expires (`None` for a session or a key without
/// an expiry).
fn by_expiry(by: &Credential) -> Option<DateTime<Utc>> {
    match by {
        Credential::Key(key) => key.expires_at,
        Credential::Session(_) => None,
    }
}

fn parse_expiry(days: i64) -> Result<TimeDelta, ValidationError> {
    if !(1..=ApiKeys::MAX_EXPIRY_DAYS).contains(&days) {
        return Err(ValidationError::new(
            EXPIRY_FIELD,
            ValidationErrorKind::OutOfRange {
                value: days,
                min: 1,
                max: ApiKeys::MAX_EXPIRY_DAYS,
            },
        ));
    }
    Ok(TimeDelta::days(days))
}
