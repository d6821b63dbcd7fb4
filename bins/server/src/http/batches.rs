//! `/v1/batches`: submit, list, read and cancel batches. Each handler parses
//! its input, calls one use case of the video service and renders its answer.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use ytvc_domain::validation::RawVideoRequest;
use ytvc_domain::videos::{PageRequest, SubmitKind};
use ytvc_error_codes::{ApiResponse, Page};

use super::auth::{ApiUser, Authed, blocking};
use super::body::JsonObject;
use super::error::{ApiError, parse_value};
use super::submit::{Front, accepted, admit};
use super::videos::VideoRequest;
use super::views::{BatchView, accepted_body};
use crate::state::AppState;

/// A batch request.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "reef series", "videos": [{"prompt": "Coral reefs at dawn, a calm documentary"},
    {"prompt": "How parrotfish keep reefs clean", "duration_seconds": 45}]}))]
pub struct BatchRequest {
    /// Optional name.
    pub name: Option<String>,
    /// 1..=plan batch limit video requests.
    pub videos: Vec<VideoRequest>,
}

/// Paging of the batch list (unknown parameters are refused with VAL_009,
/// so a filter this list does not have is never silently ignored).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
}

/// Submits a batch: 1..=plan limit videos, all or nothing. Each item is
/// validated (errors name the item index), then the batch, every video, its
/// job and its reservation are written in ONE transaction. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/batches", tag = "batches", request_body = BatchRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key (kept 24 h)")),
    responses(
        (status = 202, description = "Accepted and queued", body = ApiResponse<BatchView>),
        (status = 409, description = "VAL_010: Idempotency-Key reused with another body", body = ytvc_error_codes::ErrorBody),
        (status = 422, description = "BATCH_001 empty, QUOTA_002 too large, VAL_* for an item (details.index)", body = ytvc_error_codes::ErrorBody,
         example = json!({"error": {"code": "QUOTA_002", "message": "Batch of 6 is larger than the plan allows (5)",
            "details": {"requested": 6, "batch_size_limit": 5}, "request_id": "…"}, "timestamp": "2026-01-28T14:00:00.000Z"})),
        (status = 429, description = "RATE_001 / RATE_002 / QUOTA_003", body = ytvc_error_codes::ErrorBody),
    ))]
#[post("/v1/batches")]
pub async fn create_batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    authed: Authed<web::Json<JsonObject>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: body } = authed;
    let body = body.into_inner().0;
    // The size as sent (an invalid body is validation's to report).
    let size = body
        .get("videos")
        .and_then(Value::as_array)
        .map(Vec::len)
        .filter(|n| *n > 0);
    let (ticket, body) = match admit(&req, &state, &who, SubmitKind::Batch { size }, body).await? {
        Front::Replay(answer) => return Ok(answer),
        Front::Fresh(ticket, body) => (ticket, body),
    };
    let request: BatchRequest = parse_value(body)?;
    let items = request
        .videos
        .into_iter()
        .map(RawVideoRequest::from)
        .collect();
    let videos = state.videos.clone();
    let body =
        blocking(move || Ok(videos.submit_batch(ticket, request.name, items, &accepted_body)?))
            .await?;
    Ok(accepted(body))
}

/// Lists the caller's batches, newest first.
#[utoipa::path(get, path = "/v1/batches", tag = "batches", params(PageParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of batches", body = ApiResponse<Page<BatchView>>),
        (status = 400, description = "VAL_009: bad cursor or limit, or an unknown parameter", body = ytvc_error_codes::ErrorBody),
    ))]
#[get("/v1/batches")]
pub async fn list_batches(
    state: web::Data<AppState>,
    authed: Authed<web::Query<PageParams>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: q } = authed;
    let q = q.into_inner();
    let page = PageRequest {
        cursor: q.cursor,
        limit: q.limit,
    };
    let (videos, user) = (state.videos.clone(), who.user.id);
    let page = blocking(move || Ok(videos.batches(user, &page)?)).await?;
    let page = page.map(|b| BatchView::new(&b, None));
    Ok(HttpResponse::Ok().json(ApiResponse::new(Page {
        items: page.items,
        next_cursor: page.next_cursor,
    })))
}

/// One of the caller's batches with progress counts per status and its videos.
#[utoipa::path(get, path = "/v1/batches/{id}", tag = "batches", params(("id" = String, Path, description = "Batch id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The batch", body = ApiResponse<BatchView>),
        (status = 404, description = "NOT_FOUND_002", body = ytvc_error_codes::ErrorBody),
    ))]
#[get("/v1/batches/{id}")]
pub async fn get_batch(
    state: web::Data<AppState>,
    who: ApiUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (videos, user) = (state.videos.clone(), who.user.id);
    let (batch, items) = blocking(move || Ok(videos.batch(user, &id)?)).await?;
    Ok(HttpResponse::Ok().json(ApiResponse::new(BatchView::new(&batch, Some(&items)))))
}

/// Cancels every not-yet-started video of a batch (running ones at their next step).
#[utoipa::path(post, path = "/v1/batches/{id}/cancel", tag = "batches", params(("id" = String, Path, description = "Batch id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The batch after cancelling", body = ApiResponse<BatchView>),
        (status = 404, description = "NOT_FOUND_002", body = ytvc_error_codes::ErrorBody),
        (status = 409, description = "BATCH_003: already finished", body = ytvc_error_codes::ErrorBody),
    ))]
#[post("/v1/batches/{id}/cancel")]
pub async fn cancel_batch(
    state: web::Data<AppState>,
    who: ApiUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (videos, user) = (state.videos.clone(), who.user.id);
    let batch = blocking(move || Ok(videos.cancel_batch(user, &id)?)).await?;
    Ok(HttpResponse::Ok().json(ApiResponse::new(BatchView::new(&batch, None))))
}

/// Registers the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_batch)
        .service(list_batches)
        .service(get_batch)
        .service(cancel_batch);
}
