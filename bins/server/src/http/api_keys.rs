//! `/v1/api-keys`: create (the key is shown once), list and revoke the
//! caller's API keys. Each handler parses its input, calls one use case of
//! `ApiKeys` and renders its answer; all three need the `account` scope of a
//! key (a session has it).

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ytvc_domain::keys::{ApiKey, CreatedKey, NewKeyRequest};
use ytvc_error_codes::{ApiResponse, format_timestamp};

use super::auth::{ApiUser, Authed, blocking};
use super::body::JsonObject;
use super::error::{ApiError, parse_value};
use crate::state::AppState;

/// A scope an API key can hold (see the `bearer` security scheme for which
/// routes need which).
#[derive(Debug, Serialize, ToSchema)]
pub enum ScopeName {
    /// Read videos, batches, artifacts, analytics and the quota.
    #[serde(rename = "videos:read")]
    VideosRead,
    /// Submit and cancel videos and batches.
    #[serde(rename = "videos:write")]
    VideosWrite,
    /// Publish videos (routes to come).
    #[serde(rename = "publish")]
    Publish,
    /// Manage webhooks (routes to come).
    #[serde(rename = "webhooks")]
    Webhooks,
    /// `GET /v1/auth/me`, these routes, admin calls.
    #[serde(rename = "account")]
    Account,
}

/// A new API key.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "nightly uploader", "scopes": ["videos:read", "videos:write"], "expires_in_days": 90}))]
pub struct ApiKeyRequest {
    /// Your name for it: 1..=100 characters after trimming.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// At least one scope. A key making a key may grant only scopes it holds.
    #[schema(value_type = Vec<ScopeName>, min_items = 1)]
    pub scopes: Vec<String>,
    /// Days until it expires, 1..=365; absent: it never expires.
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: Option<i64>,
}

impl From<ApiKeyRequest> for NewKeyRequest {
    fn from(r: ApiKeyRequest) -> Self {
        NewKeyRequest {
            name: Some(r.name),
            scopes: Some(r.scopes),
            expires_in_days: r.expires_in_days,
        }
    }
}

/// An API key as lists show it: never the key itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// Id (`DELETE /v1/api-keys/{id}`).
    pub id: String,
    /// Your name for it.
    pub name: String,
    /// What it may do.
    #[schema(value_type = Vec<ScopeName>)]
    pub scopes: Vec<&'static str>,
    /// `ytvc_` and the key's first 8 random characters, to recognise it.
    pub prefix: String,
    /// Created at (RFC 3339).
    pub created_at: String,
    /// Refused from then on (RFC 3339); `null`: never expires.
    pub expires_at: Option<String>,
    /// Whether it has expired.
    pub expired: bool,
    /// Last authenticated a request (to the minute; RFC 3339), `null`: never.
    pub last_used_at: Option<String>,
    /// Revoked at (RFC 3339): set only in the answer to its revocation.
    pub revoked_at: Option<String>,
}

impl ApiKeyView {
    fn new(k: &ApiKey, now: DateTime<Utc>) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name.clone(),
            scopes: k.scopes.names(),
            prefix: k.prefix.clone(),
            created_at: format_timestamp(k.created_at),
            expires_at: k.expires_at.map(format_timestamp),
            expired: k.is_expired(now),
            last_used_at: k.last_used_at.map(format_timestamp),
            revoked_at: k.revoked_at.map(format_timestamp),
        }
    }
}

/// A key just created: the key itself, shown this once, and its record.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKeyView {
    /// The key: send it as `Authorization: Bearer ytvc_…`. Store it now;
    /// only its hash is kept, it cannot be shown again.
    pub key: String,
    /// The key as `GET /v1/api-keys` shows it.
    pub api_key: ApiKeyView,
}

impl CreatedApiKeyView {
    fn new(made: &CreatedKey, now: DateTime<Utc>) -> Self {
        Self {
            key: made.secret.expose().to_owned(),
            api_key: ApiKeyView::new(&made.key, now),
        }
    }
}

fn now(state: &AppState) -> DateTime<Utc> {
    ytvc_quota::Clock::now(&state.clock)
}

/// Creates an API key for the caller; the key is in this answer only. A key
/// calling this may grant only scopes it holds itself (AUTH_005 naming the
/// first one it lacks); a session may grant any.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = ApiKeyRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `key` is shown this once", body = ApiResponse<CreatedApiKeyView>),
        (status = 403, description = "AUTH_005: the calling key lacks `account` or a scope it grants (`details.scope`), or the account holds 100 live keys", body = ytvc_error_codes::ErrorBody),
        (status = 422, description = "VAL_005 / VAL_006 / VAL_007: bad name, scopes or expires_in_days", body = ytvc_error_codes::ErrorBody,
         example = json!({"error": {"code": "VAL_007", "message": "Unsupported value 'videos:delete' for field 'scopes[1]' (allowed: videos:read, videos:write, publish, webhooks, account)",
            "details": {"field": "scopes[1]", "value": "videos:delete", "allowed": ["videos:read", "videos:write", "publish", "webhooks", "account"]},
            "request_id": "…"}, "timestamp": "2026-01-28T14:00:00.000Z"})),
    ))]
#[post("/v1/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    authed: Authed<web::Json<JsonObject>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: body } = authed;
    let request: ApiKeyRequest = parse_value(body.into_inner().0)?;
    let keys = state.keys.clone();
    let made =
        blocking(move || Ok(keys.create(&who.user, &who.credential, request.into())?)).await?;
    let view = CreatedApiKeyView::new(&made, now(&state));
    Ok(HttpResponse::Created().json(ApiResponse::new(view)))
}

/// The caller's API keys that are not revoked (expired ones included), newest
/// first. Never the keys themselves.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    responses(
        (status = 200, description = "The keys", body = ApiResponse<Vec<ApiKeyView>>),
    ))]
#[get("/v1/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    who: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let (keys, user) = (state.keys.clone(), who.user.id);
    let list = blocking(move || Ok(keys.list(user)?)).await?;
    let at = now(&state);
    let views: Vec<ApiKeyView> = list.iter().map(|k| ApiKeyView::new(k, at)).collect();
    Ok(HttpResponse::Ok().json(ApiResponse::new(views)))
}

/// Revokes one of the caller's API keys: refused at once on this instance,
/// within the revocation cache bound (≤ 2 s by default) on others. Another
/// user's key, an unknown id or a key already revoked is KEY_001.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys",
    params(("id" = String, Path, description = "API key id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked: the key with its `revoked_at`", body = ApiResponse<ApiKeyView>),
        (status = 404, description = "KEY_001: no such key of yours", body = ytvc_error_codes::ErrorBody),
    ))]
#[delete("/v1/api-keys/{id}")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    who: ApiUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (keys, user) = (state.keys.clone(), who.user.id);
    let key = blocking(move || Ok(keys.revoke(user, &id)?)).await?;
    state.revocations.mark_key_revoked(key.id);
    Ok(HttpResponse::Ok().json(ApiResponse::new(ApiKeyView::new(&key, now(&state)))))
}

/// Registers the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_api_key)
        .service(list_api_keys)
        .service(revoke_api_key);
}
