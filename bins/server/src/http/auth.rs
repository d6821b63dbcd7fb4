//! Accounts over HTTP: register, login, refresh, logout, me, the admin's user
//! update; the `Authenticated` / `ApiUser` extractors every protected route
//! uses; and the revocation cache that keeps revocation checks cheap.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, get, patch, post, web};
use futures::future::LocalBoxFuture;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use ytvc_domain::accounts::{Role, User, UserChange};
use ytvc_domain::auth::{AccessClaims, AuthError, AuthService, TokenPair};
use ytvc_domain::ids::{TokenId, UserId};
use ytvc_error_codes::{ApiResponse, ErrorCode};
use ytvc_quota::PlanName;

use super::error::{ApiError, parse_value};
use super::middleware::LoggedUser;
use crate::limits::{AppliedLimits, LimitKind};
use crate::state::AppState;

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = e.code();
        match e {
            AuthError::Validation(v) => ApiError::new(code)
                .message(v.to_string())
                .details(v.details()),
            AuthError::EmailTaken => ApiError::new(code).message("This email cannot be registered"),
            AuthError::Forbidden(why) => ApiError::new(code).message(format!("Not allowed: {why}")),
            AuthError::InvalidToken(why) => ApiError::new(code).cause(why),
            other => ApiError::new(code).cause(other),
        }
    }
}

/// Runs blocking use-case code on the blocking pool.
///
/// # Errors
/// The closure's error, or INTERNAL_001 when the pool fails.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    web::block(f).await.map_err(ApiError::internal)?
}

/// An account as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub id: String,
    /// Normalised email.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// `user` or `admin`.
    #[schema(example = "user")]
    pub role: String,
    /// Plan name.
    #[schema(example = "free")]
    pub plan: String,
    /// Day of the month the billing cycle starts.
    #[schema(example = 1)]
    pub billing_anchor_day: u8,
    /// Created at (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.as_str().to_owned(),
            role: u.role.as_str().to_owned(),
            plan: u.plan.as_str().to_owned(),
            billing_anchor_day: u.billing_anchor_day.get(),
            created_at: ytvc_error_codes::format_timestamp(u.created_at),
            updated_at: ytvc_error_codes::format_timestamp(u.updated_at),
        }
    }
}

/// Register or log in.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery staple"}))]
pub struct Credentials {
    /// Email (trimmed and lower-cased).
    pub email: String,
    /// Password, 8..=128 characters.
    pub password: String,
}

/// Refresh or log out.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"refresh_token": "q3Yx…"}))]
pub struct RefreshRequest {
    /// The refresh token from login or the previous refresh.
    pub refresh_token: String,
}

/// Log out (the refresh token is optional: the session of the access token is revoked anyway).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LogoutRequest {
    /// A refresh token of the same account whose session should end too.
    pub refresh_token: Option<String>,
}

/// Login / refresh answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9…", "refresh_token": "q3Yx…",
    "token_type": "Bearer", "expires_in": 900, "refresh_expires_in": 2_592_000}))]
pub struct TokenView {
    /// JWT access token; send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Opaque refresh token; rotates on every use.
    pub refresh_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
}

impl From<TokenPair> for TokenView {
    fn from(p: TokenPair) -> Self {
        Self {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            token_type: p.token_type.to_owned(),
            expires_in: p.expires_in,
            refresh_expires_in: p.refresh_expires_in,
        }
    }
}

/// An admin's change to an account.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"plan": "pro"}))]
pub struct UserUpdate {
    /// New plan (a configured plan name).
    pub plan: Option<String>,
    /// New role: `user` or `admin`.
    pub role: Option<String>,
}

/// The client IP used for per-IP limits.
#[must_use]
pub fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return first.to_owned();
    }
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

/// Records a rate-limit decision on the request, for the response headers.
pub fn record_limit(req: &HttpRequest, applied: crate::limits::Applied) {
    let mut ext = req.extensions_mut();
    match ext.get_mut::<AppliedLimits>() {
        Some(list) => list.0.push(applied),
        None => {
            ext.insert(AppliedLimits(vec![applied]));
        }
    }
}

async fn limit_ip(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let ip = client_ip(req, state.config.trust_forwarded_for);
    let applied = state.limits.check_ip(&ip).await?;
    record_limit(req, applied);
    Ok(())
}

/// Creates an account (closed when registration is turned off). Limited per client IP.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = Credentials,
    responses(
        (status = 201, description = "Account created", body = ApiResponse<UserView>),
        (status = 409, description = "VAL_010: the email cannot be registered", body = ytvc_error_codes::ErrorBody),
        (status = 422, description = "VAL_005 / VAL_006 / VAL_007: bad email or password", body = ytvc_error_codes::ErrorBody,
         example = json!({"error": {"code": "VAL_005", "message": "Password must be 8..=128 characters",
            "details": {"field": "password", "min": 8, "max": 128}, "request_id": "…"}, "timestamp": "2026-01-28T14:00:00.000Z"})),
        (status = 403, description = "AUTH_005: registration is closed", body = ytvc_error_codes::ErrorBody),
        (status = 429, description = "RATE_001: too many attempts from this IP", body = ytvc_error_codes::ErrorBody),
    ))]
#[post("/v1/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    IpLimited(body): IpLimited<web::Json<serde_json::Value>>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    let Credentials { email, password } = parse_value(body.into_inner())?;
    let user = blocking(move || auth.register(&email, &password).map_err(ApiError::from)).await?;
    Ok(HttpResponse::Created().json(ApiResponse::new(UserView::from(&user))))
}

/// Exchanges email and password for an access token and a refresh token. Limited per client IP.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = Credentials,
    responses(
        (status = 200, description = "Logged in", body = ApiResponse<TokenView>),
        (status = 401, description = "AUTH_004: wrong email or password", body = ytvc_error_codes::ErrorBody,
         example = json!({"error": {"code": "AUTH_004", "message": "Wrong email or password", "details": null,
            "request_id": "…"}, "timestamp": "2026-01-28T14:00:00.000Z"})),
        (status = 429, description = "RATE_001: too many attempts from this IP", body = ytvc_error_codes::ErrorBody),
    ))]
#[post("/v1/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    IpLimited(body): IpLimited<web::Json<serde_json::Value>>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    let Credentials { email, password } = parse_value(body.into_inner())?;
    let pair = blocking(move || auth.login(&email, &password).map_err(ApiError::from)).await?;
    Ok(HttpResponse::Ok().json(ApiResponse::new(TokenView::from(pair))))
}

/// Rotates a refresh token: the presented one dies, a new pair is issued. Presenting a
/// token that was already rotated revokes its whole session (AUTH_006). Limited per client IP.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = ApiResponse<TokenView>),
        (status = 401, description = "AUTH_006: refresh token invalid, expired, revoked or reused", body = ytvc_error_codes::ErrorBody),
        (status = 429, description = "RATE_001: too many attempts from this IP", body = ytvc_error_codes::ErrorBody),
    ))]
#[post("/v1/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    IpLimited(body): IpLimited<web::Json<serde_json::Value>>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    let token = parse_value::<RefreshRequest>(body.into_inner())?.refresh_token;
    let pair = blocking(move || auth.refresh(&token).map_err(ApiError::from)).await?;
    Ok(HttpResponse::Ok().json(ApiResponse::new(TokenView::from(pair))))
}

/// Revokes the presented access token and its session (and the session of the given
/// refresh token). Takes effect at once on this instance, within the revocation cache
/// bound (≤ 2 s by default) on others.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = LogoutRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Logged out", body = ApiResponse<Object>, example = json!({"data": {"logged_out": true}, "timestamp": "2026-01-28T14:00:00.000Z"})),
        (status = 401, description = "AUTH_001 / AUTH_002 / AUTH_003", body = ytvc_error_codes::ErrorBody),
    ))]
#[post("/v1/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    authed: Authed<web::Bytes>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: body } = authed;
    // No body at all is a logout of this session only; a body must be the
    // JSON object the endpoint documents.
    let refresh_token = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let ct = req.content_type().to_ascii_lowercase();
        let json = ct == "application/json" || ct.ends_with("+json");
        if !json {
            return Err(ApiError::new(ErrorCode::MalformedRequest)
                .message("Content-Type must be application/json")
                .details(json!({ "expected_content_type": "application/json" })));
        }
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| super::error::deserialize_error(&e))?;
        parse_value::<LogoutRequest>(value)?.refresh_token
    };
    let auth = state.auth.clone();
    let claims = who.claims.clone();
    blocking(move || {
        auth.logout(&claims, refresh_token.as_deref())
            .map_err(ApiError::from)
    })
    .await?;
    state.revocations.mark_revoked(&who.claims);
    Ok(HttpResponse::Ok().json(ApiResponse::new(json!({ "logged_out": true }))))
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = ApiResponse<UserView>),
        (status = 401, description = "AUTH_001 / AUTH_002 / AUTH_003", body = ytvc_error_codes::ErrorBody,
         example = json!({"error": {"code": "AUTH_001", "message": "Authentication required", "details": null,
            "request_id": "…"}, "timestamp": "2026-01-28T14:00:00.000Z"})),
        (status = 429, description = "RATE_001", body = ytvc_error_codes::ErrorBody),
    ))]
#[get("/v1/auth/me")]
pub async fn me(who: ApiUser) -> HttpResponse {
    HttpResponse::Ok().json(ApiResponse::new(UserView::from(&who.user)))
}

/// Changes an account's plan or role (admins only). A plan change applies at once.
#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "auth", request_body = UserUpdate,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The updated account", body = ApiResponse<UserView>),
        (status = 403, description = "AUTH_005: admin role required", body = ytvc_error_codes::ErrorBody),
        (status = 404, description = "NOT_FOUND_003: no such user", body = ytvc_error_codes::ErrorBody),
        (status = 422, description = "VAL_007: unknown plan or role", body = ytvc_error_codes::ErrorBody),
    ))]
#[patch("/v1/admin/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    id: web::Path<String>,
    authed: Authed<web::Json<serde_json::Value>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: body } = authed;
    if who.user.role != Role::Admin {
        return Err(AuthError::Forbidden("admin role required").into());
    }
    let id: UserId = id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::UserNotFound))?;
    let body: UserUpdate = parse_value(body.into_inner())?;
    let mut change = UserChange::default();
    if let Some(plan) = body.plan {
        match PlanName::parse(&plan) {
            Ok(p) if state.config.plans.contains(p.as_str()) => change.plan = Some(p),
            _ => {
                let allowed: Vec<&str> =
                    state.config.plans.iter().map(|p| p.name.as_str()).collect();
                let shown: String = plan.chars().take(64).collect();
                return Err(ApiError::new(ErrorCode::UnsupportedValue)
                    .message(format!("Unsupported plan `{shown}`"))
                    .details(json!({ "field": "plan", "value": shown, "allowed": allowed })));
            }
        }
    }
    if let Some(role) = body.role {
        change.role =
            Some(Role::parse("role", &role).map_err(|e| ApiError::from(AuthError::Validation(e)))?);
    }
    let auth = state.auth.clone();
    let actor = who.user.clone();
    let user = blocking(move || {
        auth.update_user(&actor, id, &change)
            .map_err(ApiError::from)
    })
    .await?;
    state.revocations.forget_user(user.id);
    Ok(HttpResponse::Ok().json(ApiResponse::new(UserView::from(&user))))
}

/// Registers the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(update_user);
}

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
            let revoked = auth.is_revoked(&c).map_err(ApiError::from)?;
            let user = if revoked {
                None
            } else {
                Some(auth.current_user(&c).map_err(ApiError::from)?)
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

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Err(AuthError::MissingCredentials.into());
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::from(AuthError::InvalidToken("non-ASCII header".into())))?;
    let mut parts = value.splitn(2, ' ');
    match (parts.next(), parts.next()) {
        (Some(scheme), Some(token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(AuthError::InvalidToken("not a bearer token".into()).into()),
    }
}

/// An authenticated caller (token verified, not revoked, account loaded),
/// WITHOUT counting the API rate limit (used by `GET /v1/quota`).
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The account as stored now.
    pub user: User,
    /// The verified claims.
    pub claims: AccessClaims,
}

impl Authenticated {
    async fn extract(req: &HttpRequest) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::internal("application state missing"))?
            .clone();
        let result = async {
            let token = bearer(req)?;
            let claims = state.auth.verify(&token)?;
            let user = state.revocations.resolve(&state.auth, &claims).await?;
            Ok::<_, ApiError>(Self { user, claims })
        }
        .await;
        match result {
            Ok(who) => {
                req.extensions_mut()
                    .insert(LoggedUser(who.user.id.to_string()));
                Ok(who)
            }
            Err(err) => {
                // Failed authentications count against the client IP (token
                // guessing is credential stuffing too) and carry its headers.
                limit_ip(req, &state).await?;
                Err(err)
            }
        }
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Self::extract(&req).await })
    }
}

/// An authenticated caller whose request was counted against the plan's
/// general API limit (authenticate → rate limit → handler).
#[derive(Debug, Clone)]
pub struct ApiUser {
    /// The account as stored now.
    pub user: User,
    /// The verified claims.
    pub claims: AccessClaims,
}

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let who = Authenticated::extract(&req).await?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("application state missing"))?
                .clone();
            let applied = state.limits.check_user(&who.user, LimitKind::Api).await?;
            record_limit(&req, applied);
            Ok(Self {
                user: who.user,
                claims: who.claims,
            })
        })
    }
}

/// An [`ApiUser`] and `T` (a body or query extractor), with `T` extracted
/// only once the caller is authenticated and counted: a request is answered
/// in the order authenticate → rate limit → the rest, whatever else is wrong
/// with it (a bad body from an unknown caller is AUTH_001, and a bad body
/// from a known one still counts against its API limit).
#[derive(Debug)]
pub struct Authed<T> {
    /// The caller.
    pub who: ApiUser,
    /// What `T` extracted.
    pub data: T,
}

impl<T> FromRequest for Authed<T>
where
    T: FromRequest + 'static,
    T::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let who = ApiUser::from_request(&req, &mut Payload::None).await?;
            let data = T::from_request(&req, &mut payload)
                .await
                .map_err(Into::into)?;
            Ok(Self { who, data })
        })
    }
}

/// `T` (the body) extracted only once the request was counted against its
/// client IP's limit (register, login, refresh): a malformed body counts too,
/// and its answer carries the limit's headers like every /v1 answer.
#[derive(Debug)]
pub struct IpLimited<T>(pub T);

impl<T> FromRequest for IpLimited<T>
where
    T: FromRequest + 'static,
    T::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("application state missing"))?
                .clone();
            limit_ip(&req, &state).await?;
            let data = T::from_request(&req, &mut payload)
                .await
                .map_err(Into::into)?;
            Ok(Self(data))
        })
    }
}
