//! `GET /v1/analytics/usage`: per-day usage of the caller (or, for admins,
//! of another user).

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use ytvc_domain::videos::UsageQuery;
use ytvc_error_codes::ApiResponse;

use super::auth::{Authed, blocking};
use super::error::ApiError;
use crate::state::AppState;

/// Analytics range.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// First day (YYYY-MM-DD, UTC), default 30 days ago.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD, UTC, inclusive), default today.
    pub to: Option<String>,
    /// Admins only: another user's id.
    pub user_id: Option<String>,
}

/// Per-day usage: submitted, completed, failed, cancelled, average processing
/// seconds and success rate (admins may pass `user_id`).
#[utoipa::path(get, path = "/v1/analytics/usage", tag = "analytics", params(UsageParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "One entry per day with activity", body = ApiResponse<Object>,
         example = json!({"data": {"from": "2026-01-01", "to": "2026-01-31", "days": [{"date": "2026-01-28", "submitted": 4,
            "completed": 3, "failed": 1, "cancelled": 0, "average_processing_seconds": 42.5, "success_rate": 0.75}]},
            "timestamp": "2026-01-31T12:00:00.000Z"})),
        (status = 400, description = "VAL_009: bad date range", body = ytvc_error_codes::ErrorBody),
        (status = 403, description = "AUTH_005: user_id is for admins", body = ytvc_error_codes::ErrorBody),
        (status = 404, description = "NOT_FOUND_003: no user with this user_id", body = ytvc_error_codes::ErrorBody),
    ))]
#[get("/v1/analytics/usage")]
pub async fn usage(
    state: web::Data<AppState>,
    authed: Authed<web::Query<UsageParams>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: q } = authed;
    let q = q.into_inner();
    let query = UsageQuery {
        from: q.from,
        to: q.to,
        user_id: q.user_id,
    };
    let videos = state.videos.clone();
    let report = blocking(move || Ok(videos.usage(&who.user, &query)?)).await?;
    Ok(HttpResponse::Ok().json(ApiResponse::new(json!({
        "user_id": report.user.to_string(),
        "from": report.from.to_string(),
        "to": report.to.to_string(),
        "days": report.days,
    }))))
}
