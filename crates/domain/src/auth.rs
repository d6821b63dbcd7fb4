//! Authentication: the ports it needs and the use case that drives them.
//!
//! Access tokens are short-lived signed tokens ([`TokenService`]); refresh
//! tokens are opaque random strings stored only as hashes, grouped in a
//! session (a family) and rotated on every use. Presenting a refresh token
//! that was already rotated is treated as theft: the whole session is revoked.
//! Revocations (logout, theft) are stored, so every server instance honours
//! them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use ytvc_error_codes::ErrorCode;
use ytvc_quota::{AnchorDay, Clock, PlanName};

use crate::accounts::{Role, User, UserChange};
use crate::ids::{SessionId, TokenId, UserId};
use crate::repo::RepoError;
use crate::validation::{Email, Password, ValidationError};

/// Why a request could not be authenticated or authorised.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No credentials were presented (AUTH_001).
    #[error("credentials missing")]
    MissingCredentials,
    /// The access token is malformed, badly signed, expired or for another audience (AUTH_002).
    #[error("token invalid: {0}")]
    InvalidToken(String),
    /// The access token or its session was revoked (AUTH_003).
    #[error("token revoked")]
    Revoked,
    /// Wrong email or password (AUTH_004).
    #[error("wrong email or password")]
    BadCredentials,
    /// The account may not do this (AUTH_005).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The API key lacks the scope this needs (AUTH_005, `details.scope`).
    #[error("missing scope {0}")]
    MissingScope(crate::keys::Scope),
    /// No such API key of the caller's, or it is already revoked (KEY_001).
    #[error("API key not found")]
    KeyNotFound,
    /// The refresh token is unknown, expired, revoked or was reused (AUTH_006).
    #[error("refresh token invalid or reused")]
    InvalidRefresh,
    /// The email is already registered (VAL_010).
    #[error("email already registered")]
    EmailTaken,
    /// No such user (NOT_FOUND_003).
    #[error("user not found")]
    UserNotFound,
    /// Bad input.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// A signing or hashing failure (logged, never shown).
    #[error("internal: {0}")]
    Internal(String),
}

impl AuthError {
    /// The catalog code a client sees.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::MissingCredentials => ErrorCode::MissingCredentials,
            AuthError::InvalidToken(_) => ErrorCode::InvalidToken,
            AuthError::Revoked => ErrorCode::RevokedToken,
            AuthError::BadCredentials => ErrorCode::InvalidCredentials,
            AuthError::Forbidden(_) | AuthError::MissingScope(_) => ErrorCode::Forbidden,
            AuthError::KeyNotFound => ErrorCode::ApiKeyNotFound,
            AuthError::InvalidRefresh => ErrorCode::InvalidRefreshToken,
            AuthError::EmailTaken => ErrorCode::AlreadyExists,
            AuthError::UserNotFound => ErrorCode::UserNotFound,
            AuthError::Validation(e) => e.code(),
            AuthError::Repo(e) => e.code(),
            AuthError::Internal(_) => ErrorCode::Unexpected,
        }
    }
}

/// What a verified access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// `sub`.
    pub user: UserId,
    /// `jti`.
    pub token: TokenId,
    /// `sid`: the refresh-token family this access token was issued from.
    pub session: SessionId,
    /// `role` at issue time (authorisation re-reads the account).
    pub role: Role,
    /// `plan` at issue time (limits re-read the account).
    pub plan: PlanName,
    /// `iat`.
    pub issued_at: DateTime<Utc>,
    /// `exp`.
    pub expires_at: DateTime<Utc>,
}

/// A freshly signed access token.
#[derive(Debug, Clone)]
pub struct IssuedAccess {
    /// The compact token.
    pub token: String,
    /// Its claims.
    pub claims: AccessClaims,
}

/// Signs and verifies access tokens and makes refresh tokens.
pub trait TokenService: Send + Sync {
    /// Signs an access token for `user` in `session`, issued at `now`.
    ///
    /// # Errors
    /// [`AuthError::Internal`] when signing fails.
    fn issue(
        &self,
        user: &User,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> Result<IssuedAccess, AuthError>;

    /// Verifies signature, algorithm, `exp`/`nbf`/`iat` against `now`, `iss`,
    /// `aud` and the claim shapes.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for any failure (the reason is for logs).
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, AuthError>;

    /// A new opaque refresh token (at least 256 random bits) and its hash.
    fn new_refresh_token(&self) -> (String, String);

    /// The stored hash of a presented refresh token.
    fn hash_refresh_token(&self, plain: &str) -> String;

    /// Lifetime of access tokens.
    fn access_ttl(&self) -> Duration;

    /// Lifetime of a refresh session.
    fn refresh_ttl(&self) -> Duration;
}

/// Hashes and checks passwords.
pub trait PasswordHasher: Send + Sync {
    /// The PHC string of `password` (argon2id).
    ///
    /// # Errors
    /// [`AuthError::Internal`] when hashing fails.
    fn hash(&self, password: &Password) -> Result<String, AuthError>;

    /// Whether `password` matches `hash` (constant time).
    fn verify(&self, password: &Password, hash: &str) -> bool;

    /// Spends the time of one real verification, for unknown emails, so a
    /// login does not reveal whether the account exists.
    fn verify_dummy(&self, password: &Password);
}

/// Stored accounts.
pub trait UserRepository: Send + Sync {
    /// Stores a new user.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] when the email is taken; storage errors.
    fn insert(&self, user: &User) -> Result<(), RepoError>;

    /// The user with this (normalised) email.
    ///
    /// # Errors
    /// Storage errors.
    fn by_email(&self, email: &Email) -> Result<Option<User>, RepoError>;

    /// The user with this id.
    ///
    /// # Errors
    /// Storage errors.
    fn by_id(&self, id: UserId) -> Result<Option<User>, RepoError>;

    /// Applies `change`; `None` when there is no such user.
    ///
    /// # Errors
    /// Storage errors.
    fn update(
        &self,
        id: UserId,
        change: &UserChange,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, RepoError>;
}

/// A refresh token as stored (only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// SHA-256 of the token.
    pub token_hash: String,
    /// Its family.
    pub session: SessionId,
    /// Its owner.
    pub user: UserId,
    /// Issued at.
    pub created_at: DateTime<Utc>,
    /// Dead after.
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// It was the live token: it is now dead and the new one is live.
    Rotated {
        /// The owner.
        user: UserId,
        /// The family (unchanged).
        session: SessionId,
    },
    /// It had already been rotated: theft. The whole session is now revoked.
    Reused {
        /// The revoked family.
        session: SessionId,
    },
    /// Unknown, expired or revoked.
    Invalid,
}

/// Refresh sessions and revocations.
pub trait SessionRepository: Send + Sync {
    /// Stores the first refresh token of a new session.
    ///
    /// # Errors
    /// Storage errors.
    fn insert_refresh(&self, record: &RefreshRecord) -> Result<(), RepoError>;

    /// Atomically rotates `presented_hash` into `next_hash` (same session,
    /// new expiry `next_expires_at`), or detects reuse and revokes the
    /// session (recorded until `revoke_until`), or reports it invalid.
    ///
    /// # Errors
    /// Storage errors.
    fn rotate(
        &self,
        presented_hash: &str,
        next_hash: &str,
        now: DateTime<Utc>,
        next_expires_at: DateTime<Utc>,
        revoke_until: DateTime<Utc>,
    ) -> Result<RotateOutcome, RepoError>;

    /// The session and owner of a refresh token, if it exists.
    ///
    /// # Errors
    /// Storage errors.
    fn session_of(&self, token_hash: &str) -> Result<Option<(SessionId, UserId)>, RepoError>;

    /// Kills every refresh token of the session and records the session as
    /// revoked until `until` (access tokens carrying it are refused).
    ///
    /// # Errors
    /// Storage errors.
    fn revoke_session(
        &self,
        session: SessionId,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;

    /// Records one access token as revoked until it expires.
    ///
    /// # Errors
    /// Storage errors.
    fn revoke_token(
        &self,
        token: TokenId,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;

    /// Whether the token or its session is revoked.
    ///
    /// # Errors
    /// Storage errors.
    fn is_revoked(
        &self,
        token: TokenId,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
}

/// What login and refresh answer.
#[derive(Debug, Clone, Serialize)]
pub struct TokenPair {
    /// The access token (JWT).
    pub access_token: String,
    /// The new refresh token (opaque; store it safely, it is shown once).
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
}

/// Settings of the use case.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Whether `register` is open (false for invite-only deployments).
    pub registration_open: bool,
    /// The plan of self-registered accounts.
    pub default_plan: PlanName,
}

/// The authentication use case.
#[derive(Clone)]
pub struct AuthService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenService>,
    clock: Arc<dyn Clock>,
    settings: AuthSettings,
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

impl AuthService {
    /// Wires the use case to its ports.
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn TokenService>,
        clock: Arc<dyn Clock>,
        settings: AuthSettings,
    ) -> Self {
        Self {
            users,
            sessions,
            hasher,
            tokens,
            clock,
            settings,
        }
    }

    /// The user repository (for read-only lookups by the edge).
    #[must_use]
    pub fn users(&self) -> &Arc<dyn UserRepository> {
        &self.users
    }

    /// Creates an account with the default plan and role `user`.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] when registration is closed; validation
    /// errors; [`AuthError::EmailTaken`].
    pub fn register(&self, email: &str, password: &str) -> Result<User, AuthError> {
        if !self.settings.registration_open {
            return Err(AuthError::Forbidden("registration is closed"));
        }
        self.create_user(
            email,
            password,
            Role::User,
            self.settings.default_plan.clone(),
        )
    }

    /// Creates an account with the given role and plan (CLI, admins).
    ///
    /// # Errors
    /// Validation errors; [`AuthError::EmailTaken`]; storage errors.
    pub fn create_user(
        &self,
        email: &str,
        password: &str,
        role: Role,
        plan: PlanName,
    ) -> Result<User, AuthError> {
        let email = Email::parse(email)?;
        let password = Password::parse(password)?;
        let now = self.clock.now();
        let user = User {
            id: UserId::new(),
            email,
            password_hash: self.hasher.hash(&password)?,
            role,
            plan,
            billing_anchor_day: AnchorDay::FIRST,
            created_at: now,
            updated_at: now,
        };
        match self.users.insert(&user) {
            Ok(()) => Ok(user),
            Err(RepoError::Duplicate(_)) => Err(AuthError::EmailTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks the credentials and opens a session.
    ///
    /// Unknown emails, malformed emails and wrong passwords all answer
    /// [`AuthError::BadCredentials`] after the same amount of hashing work.
    ///
    /// # Errors
    /// [`AuthError::BadCredentials`]; storage errors.
    pub fn login(&self, email: &str, password: &str) -> Result<TokenPair, AuthError> {
        // An over-long password is refused before any hashing (no DoS), but
        // after the same dummy work, so its timing says nothing either.
        let password = match Password::parse(password) {
            Ok(p) => p,
            Err(_) => {
                if let Ok(dummy) = Password::parse("ytvc-timing-dummy") {
                    self.hasher.verify_dummy(&dummy);
                }
                return Err(AuthError::BadCredentials);
            }
        };
        let user = match Email::parse(email) {
            Ok(email) => self.users.by_email(&email)?,
            Err(_) => None,
        };
        let Some(user) = user else {
            self.hasher.verify_dummy(&password);
            return Err(AuthError::BadCredentials);
        };
        if !self.hasher.verify(&password, &user.password_hash) {
            return Err(AuthError::BadCredentials);
        }
        self.open_session(&user)
    }

    fn open_session(&self, user: &User) -> Result<TokenPair, AuthError> {
        let now = self.clock.now();
        let session = SessionId::new();
        let (plain, hash) = self.tokens.new_refresh_token();
        self.sessions.insert_refresh(&RefreshRecord {
            token_hash: hash,
            session,
            user: user.id,
            created_at: now,
            expires_at: now + delta(self.tokens.refresh_ttl()),
        })?;
        let access = self.tokens.issue(user, session, now)?;
        Ok(self.pair(access, plain))
    }

    fn pair(&self, access: IssuedAccess, refresh: String) -> TokenPair {
        TokenPair {
            access_token: access.token,
            refresh_token: refresh,
            token_type: "Bearer",
            expires_in: self.tokens.access_ttl().as_secs(),
            refresh_expires_in: self.tokens.refresh_ttl().as_secs(),
        }
    }

    /// Rotates a refresh token: the presented one dies, a new pair is issued.
    /// A token presented twice revokes its whole session.
    ///
    /// # Errors
    /// [`AuthError::InvalidRefresh`]; storage errors.
    pub fn refresh(&self, presented: &str) -> Result<TokenPair, AuthError> {
        if presented.is_empty() || presented.len() > 256 {
            return Err(AuthError::InvalidRefresh);
        }
        let now = self.clock.now();
        let presented_hash = self.tokens.hash_refresh_token(presented);
        let (plain, next_hash) = self.tokens.new_refresh_token();
        let ttl = delta(self.tokens.refresh_ttl());
        let outcome =
            self.sessions
                .rotate(&presented_hash, &next_hash, now, now + ttl, now + ttl)?;
        match outcome {
            RotateOutcome::Rotated { user, session } => {
                let user = self.users.by_id(user)?.ok_or(AuthError::InvalidRefresh)?;
                let access = self.tokens.issue(&user, session, now)?;
                Ok(self.pair(access, plain))
            }
            RotateOutcome::Reused { .. } | RotateOutcome::Invalid => Err(AuthError::InvalidRefresh),
        }
    }

    /// Revokes the presented access token and its whole session (and the
    /// session of `refresh_token` when given and owned by the same user).
    ///
    /// # Errors
    /// Storage errors.
    pub fn logout(
        &self,
        claims: &AccessClaims,
        refresh_token: Option<&str>,
    ) -> Result<(), AuthError> {
        let now = self.clock.now();
        let until = now + delta(self.tokens.refresh_ttl());
        self.sessions
            .revoke_token(claims.token, claims.expires_at, now)?;
        self.sessions.revoke_session(claims.session, until, now)?;
        if let Some(plain) = refresh_token.filter(|t| !t.is_empty() && t.len() <= 256) {
            let hash = self.tokens.hash_refresh_token(plain);
            if let Some((session, owner)) = self.sessions.session_of(&hash)?
                && owner == claims.user
                && session != claims.session
            {
                self.sessions.revoke_session(session, until, now)?;
            }
        }
        Ok(())
    }

    /// Verifies an access token's signature and claims (no revocation check:
    /// see [`AuthService::is_revoked`], which the edge caches).
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`].
    pub fn verify(&self, token: &str) -> Result<AccessClaims, AuthError> {
        self.tokens.verify(token, self.clock.now())
    }

    /// Whether the token or its session has been revoked.
    ///
    /// # Errors
    /// Storage errors.
    pub fn is_revoked(&self, claims: &AccessClaims) -> Result<bool, AuthError> {
        Ok(self
            .sessions
            .is_revoked(claims.token, claims.session, self.clock.now())?)
    }

    /// The current account of a verified token (plan and role as stored now).
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] when the account no longer exists.
    pub fn current_user(&self, claims: &AccessClaims) -> Result<User, AuthError> {
        self.users
            .by_id(claims.user)?
            .ok_or_else(|| AuthError::InvalidToken("account no longer exists".into()))
    }

    /// An admin changes another account's plan or role.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] unless `actor` is an admin;
    /// [`AuthError::UserNotFound`].
    pub fn update_user(
        &self,
        actor: &User,
        id: UserId,
        change: &UserChange,
    ) -> Result<User, AuthError> {
        if actor.role != Role::Admin {
            return Err(AuthError::Forbidden("admin role required"));
        }
        self.users
            .update(id, change, self.clock.now())?
            .ok_or(AuthError::UserNotFound)
    }
}
