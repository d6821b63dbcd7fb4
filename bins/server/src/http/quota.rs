//! `GET /v1/quota`, and the one mapping of quota errors to the catalog.

use std::collections::BTreeMap;

use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use ytvc_error_codes::{ApiResponse, ErrorCode, format_timestamp};
use ytvc_quota::QuotaError;

use super::auth::{Authenticated, blocking, record_limit};
use super::error::ApiError;
use crate::limits::LimitKind;
use crate::state::AppState;

fn retry_until(reset_at: DateTime<Utc>, now: DateTime<Utc>) -> HeaderValue {
    let secs = (reset_at - now).num_seconds().max(1);
    HeaderValue::from(u64::try_from(secs).unwrap_or(1))
}

/// Maps a quota refusal (or failure) to its catalog code, with details and,
/// for 429s, `Retry-After` until the cycle resets.
#[must_use]
pub fn quota_error(e: &QuotaError, now: DateTime<Utc>) -> ApiError {
    match e {
        QuotaError::BatchTooLarge { requested, limit } => ApiError::new(ErrorCode::BatchTooLarge)
            .message(format!("Batch of {requested} is larger than the plan allows ({limit})"))
            .details(json!({ "requested": requested, "batch_size_limit": limit })),
        QuotaError::Exhausted { limit, used, reset_at } => ApiError::new(ErrorCode::QuotaExhausted)
            .message(format!("Monthly video quota of {limit} exhausted; it resets at {}", format_timestamp(*reset_at)))
            .details(json!({ "limit": limit, "used": used, "remaining": 0, "reset_at": format_timestamp(*reset_at) }))
            .header(RETRY_AFTER, retry_until(*reset_at, now)),
        QuotaError::InsufficientForBatch { limit, used, requested, remaining, reset_at } => {
            ApiError::new(ErrorCode::QuotaInsufficient)
                .message(format!("Batch of {requested} exceeds the remaining monthly quota of {remaining}"))
                .details(json!({ "limit": limit, "used": used, "requested": requested, "remaining": remaining,
                    "reset_at": format_timestamp(*reset_at) }))
                .header(RETRY_AFTER, retry_until(*reset_at, now))
        }
        QuotaError::Store(s) => ApiError::new(ErrorCode::DatabaseUnavailable).cause(s),
        other => ApiError::internal(other),
    }
}

/// The state of one rate-limit policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitState {
    /// Units per window.
    pub limit: u32,
    /// Units left now.
    pub remaining: u32,
    /// Window length in seconds.
    pub window_seconds: u64,
    /// When the oldest counted unit leaves the window (RFC 3339).
    pub reset_at: String,
}

/// The caller's quota and limits.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"plan": "pro", "quota": 100, "used": 37, "reserved": 2, "remaining": 63,
    "reset_at": "2026-02-01T00:00:00.000Z", "cycle_start": "2026-01-01T00:00:00.000Z", "batch_size_limit": 20, "priority": 2,
    "rate_limits": {"api": {"limit": 300, "remaining": 290, "window_seconds": 3600, "reset_at": "2026-01-28T14:20:00.000Z"}}}))]
pub struct QuotaView {
    /// Plan name.
    pub plan: String,
    /// Videos per billing cycle; `null` = unlimited.
    pub quota: Option<u32>,
    /// Committed + reserved this cycle.
    pub used: u64,
    /// Reserved by videos not finished yet.
    pub reserved: u64,
    /// Left this cycle; `null` = unlimited.
    pub remaining: Option<u64>,
    /// When the cycle ends and usage starts from zero (RFC 3339).
    pub reset_at: String,
    /// When the current cycle started (RFC 3339).
    pub cycle_start: String,
    /// Most videos in one batch.
    pub batch_size_limit: u32,
    /// Queue priority (1 = first).
    pub priority: u8,
    /// The state of the caller's rate limits (`api`, `batch`, `video`).
    pub rate_limits: BTreeMap<String, LimitState>,
}

/// The caller's monthly quota, billing cycle and rate limits. Does not count
/// against the API rate limit.
#[utoipa::path(get, path = "/v1/quota", tag = "videos", security(("bearer" = [])),
    responses(
        (status = 200, description = "Quota and limits", body = ApiResponse<QuotaView>),
        (status = 401, description = "AUTH_001 / AUTH_002 / AUTH_003", body = ytvc_error_codes::ErrorBody),
    ))]
#[get("/v1/quota")]
pub async fn get_quota(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let (videos, user) = (state.videos.clone(), who.user.clone());
    let status = blocking(move || Ok(videos.quota_status(&user)?)).await?;
    let mut rate_limits = BTreeMap::new();
    for kind in [LimitKind::Api, LimitKind::Batch, LimitKind::Video] {
        if let Some(a) = state.limits.peek_user(&who.user, kind).await {
            rate_limits.insert(
                kind.name().to_owned(),
                LimitState {
                    limit: a.decision.limit(),
                    remaining: a.decision.remaining(),
                    window_seconds: a.policy.window().as_secs(),
                    reset_at: a.decision.reset_at_rfc3339(),
                },
            );
            // Not counted, but like every /v1 answer it carries the API
            // limit's headers (as they stand).
            if kind == LimitKind::Api {
                record_limit(&req, a);
            }
        }
    }
    Ok(HttpResponse::Ok().json(ApiResponse::new(QuotaView {
        plan: status.plan.as_str().to_owned(),
        quota: status.quota,
        used: status.used,
        reserved: status.reserved,
        remaining: status.remaining,
        reset_at: format_timestamp(status.reset_at),
        cycle_start: format_timestamp(status.cycle_start),
        batch_size_limit: status.batch_size_limit,
        priority: status.priority,
        rate_limits,
    })))
}
