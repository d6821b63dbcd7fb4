//! `/v1/videos`: submit, list, read and cancel videos. Each handler parses
//! its input, calls one use case of the video service and renders its answer.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use ytvc_domain::validation::RawVideoRequest;
use ytvc_domain::videos::{PageRequest, SubmitKind, VideoFilter};
use ytvc_error_codes::{ApiResponse, Page};

use super::auth::{ApiUser, Authed, blocking};
use super::body::JsonObject;
use super::error::{ApiError, parse_value};
use super::submit::{Front, accepted, admit};
use super::views::{VideoView, accepted_body};
use crate::state::AppState;

/// A video request (`POST /v1/videos`, and each item of a batch).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"prompt": "A two-minute documentary about coral reefs and how they recover",
    "title": "Coral comeback", "duration_seconds": 120, "style": "documentary", "aspect_ratio": "16:9",
    "voice": "narrator_female", "language": "en"}))]
pub struct VideoRequest {
    /// What the video is about: 10..=2000 characters after trimming.
    pub prompt: Option<String>,
    /// Optional title, 1..=200 characters.
    pub title: Option<String>,
    /// 5..=600 seconds (default 60).
    pub duration_seconds: Option<i64>,
    /// cinematic (default), documentary, animated, minimal, vlog or educational.
    pub style: Option<String>,
    /// 16:9 (default), 9:16 or 1:1.
    pub aspect_ratio: Option<String>,
    /// narrator_male, narrator_female, neutral (default) or none.
    pub voice: Option<String>,
    /// A language tag such as en (default), en-US, es, fr, de, pt-BR, hi, ja.
    pub language: Option<String>,
}

impl From<VideoRequest> for RawVideoRequest {
    fn from(r: VideoRequest) -> Self {
        RawVideoRequest {
            prompt: r.prompt,
            title: r.title,
            duration_seconds: r.duration_seconds,
            style: r.style,
            aspect_ratio: r.aspect_ratio,
            voice: r.voice,
            language: r.language,
        }
    }
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this status.
    pub status: Option<String>,
    /// Only this batch.
    pub batch_id: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
}

/// Submits one video. Checks, in order: authentication, the `api` and `video`
/// rate limits, the `Idempotency-Key` (a replay or a conflict), the monthly
/// quota, then validation (prompt screen and every field); the video, its
/// job and its quota reservation are written in one transaction.
#[utoipa::path(post, path = "/v1/videos", tag = "videos", request_body = VideoRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key (kept 24 h)")),
    responses(
        (status = 202, description = "Accepted and queued", body = ApiResponse<VideoView>),
        (status = 409, description = "VAL_010: Idempotency-Key reused with another body", body = ytvc_error_codes::ErrorBody),
        (status = 422, description = "VAL_002..VAL_007: invalid field", body = ytvc_error_codes::ErrorBody,
         example = json!({"error": {"code": "VAL_002", "message": "Prompt too short (min 10 chars)",
            "details": {"field": "prompt", "length": 5, "min": 10}, "request_id": "…"}, "timestamp": "2026-01-28T14:00:00.000Z"})),
        (status = 429, description = "RATE_001 / RATE_003 / QUOTA_001", body = ytvc_error_codes::ErrorBody,
         example = json!({"error": {"code": "QUOTA_001", "message": "Monthly video quota of 10 exhausted; it resets at 2026-02-01T00:00:00.000Z",
            "details": {"limit": 10, "used": 10, "remaining": 0, "reset_at": "2026-02-01T00:00:00.000Z"}, "request_id": "…"},
            "timestamp": "2026-01-28T14:00:00.000Z"})),
    ))]
#[post("/v1/videos")]
pub async fn create_video(
    req: HttpRequest,
    state: web::Data<AppState>,
    authed: Authed<web::Json<JsonObject>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: body } = authed;
    let (ticket, body) =
        match admit(&req, &state, &who, SubmitKind::Video, body.into_inner().0).await? {
            Front::Replay(answer) => return Ok(answer),
            Front::Fresh(ticket, body) => (ticket, body),
        };
    let request: VideoRequest = parse_value(body)?;
    let videos = state.videos.clone();
    let body =
        blocking(move || Ok(videos.submit_video(ticket, request.into(), &accepted_body)?)).await?;
    Ok(accepted(body))
}

/// Lists the caller's videos, newest first, with cursor pagination.
#[utoipa::path(get, path = "/v1/videos", tag = "videos", params(ListParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of videos", body = ApiResponse<Page<VideoView>>),
        (status = 400, description = "VAL_009: bad status, batch_id, cursor or limit", body = ytvc_error_codes::ErrorBody),
    ))]
#[get("/v1/videos")]
pub async fn list_videos(
    state: web::Data<AppState>,
    authed: Authed<web::Query<ListParams>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: q } = authed;
    let q = q.into_inner();
    let filter = VideoFilter {
        status: q.status,
        batch_id: q.batch_id,
        page: PageRequest {
            cursor: q.cursor,
            limit: q.limit,
        },
    };
    let (videos, user) = (state.videos.clone(), who.user.id);
    let page = blocking(move || Ok(videos.videos(user, &filter)?)).await?;
    let page = page.map(|v| VideoView::from(&v));
    Ok(HttpResponse::Ok().json(ApiResponse::new(Page {
        items: page.items,
        next_cursor: page.next_cursor,
    })))
}

/// One of the caller's videos (another user's id answers NOT_FOUND_001).
#[utoipa::path(get, path = "/v1/videos/{id}", tag = "videos", params(("id" = String, Path, description = "Video id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The video", body = ApiResponse<VideoView>),
        (status = 404, description = "NOT_FOUND_001", body = ytvc_error_codes::ErrorBody),
    ))]
#[get("/v1/videos/{id}")]
pub async fn get_video(
    state: web::Data<AppState>,
    who: ApiUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (videos, user) = (state.videos.clone(), who.user.id);
    let video = blocking(move || Ok(videos.video(user, &id)?)).await?;
    Ok(HttpResponse::Ok().json(ApiResponse::new(VideoView::from(&video))))
}

/// Cancels a video: a queued one at once (its quota is released); a
/// processing one at its worker's next step; a finished one is VIDEO_003.
#[utoipa::path(post, path = "/v1/videos/{id}/cancel", tag = "videos", params(("id" = String, Path, description = "Video id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled (or, while processing, cancellation requested)", body = ApiResponse<VideoView>),
        (status = 404, description = "NOT_FOUND_001", body = ytvc_error_codes::ErrorBody),
        (status = 409, description = "VIDEO_003: already finished", body = ytvc_error_codes::ErrorBody),
    ))]
#[post("/v1/videos/{id}/cancel")]
pub async fn cancel_video(
    state: web::Data<AppState>,
    who: ApiUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (videos, user) = (state.videos.clone(), who.user.id);
    let video = blocking(move || Ok(videos.cancel_video(user, &id)?)).await?;
    Ok(HttpResponse::Ok().json(ApiResponse::new(VideoView::from(&video))))
}

/// Registers the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_video)
        .service(list_videos)
        .service(get_video)
        .service(cancel_video);
}
