//! The account routes and the bodies they read and write.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use ytvc_domain::accounts::{Role, User, UserChange};
use ytvc_domain::auth::{AuthError, TokenPair};
use ytvc_domain::ids::UserId;
use ytvc_error_codes::{ApiResponse, ErrorCode};
use ytvc_quota::PlanName;

use super::blocking;
use super::extractors::{ApiUser, Authed, IpLimited};
use crate::http::body::{JsonObject, object_from_slice};
use crate::http::error::{ApiError, deserialize_error, parse_value};
use crate::state::AppState;

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
    IpLimited(body): IpLimited<web::Json<JsonObject>>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    let Credentials { email, password } = parse_value(body.into_inner().0)?;
    let user = blocking(move || Ok(auth.register(&email, &password)?)).await?;
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
    IpLimited(body): IpLimited<web::Json<JsonObject>>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    let Credentials { email, password } = parse_value(body.into_inner().0)?;
    let pair = blocking(move || Ok(auth.login(&email, &password)?)).await?;
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
    IpLimited(body): IpLimited<web::Json<JsonObject>>,
) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    let token = parse_value::<RefreshRequest>(body.into_inner().0)?.refresh_token;
    let pair = blocking(move || Ok(auth.refresh(&token)?)).await?;
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
        let value = object_from_slice(&body).map_err(|e| deserialize_error(&e))?;
        parse_value::<LogoutRequest>(value)?.refresh_token
    };
    // Keys were refused by the route's scope rule; a session remains.
    let claims = who
        .credential
        .session()
        .cloned()
        .ok_or(AuthError::Forbidden("logout ends a session"))?;
    let (auth, revoked) = (state.auth.clone(), claims.clone());
    blocking(move || Ok(auth.logout(&revoked, refresh_token.as_deref())?)).await?;
    state.revocations.mark_revoked(&claims);
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
    authed: Authed<web::Json<JsonObject>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: body } = authed;
    if who.user.role != Role::Admin {
        return Err(AuthError::Forbidden("admin role required").into());
    }
    let id: UserId = id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::UserNotFound))?;
    let body: UserUpdate = parse_value(body.into_inner().0)?;
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
        change.role = Some(Role::parse("role", &role)?);
    }
    let auth = state.auth.clone();
    let actor = who.user.clone();
    let user = blocking(move || Ok(auth.update_user(&actor, id, &change)?)).await?;
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
