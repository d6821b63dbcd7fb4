//! Videos, batches and usage analytics over HTTP.

use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use ytvc_domain::accounts::Role;
use ytvc_domain::ids::{BatchId, UserId, VideoId};
use ytvc_domain::validation::RawVideoRequest;
use ytvc_domain::videos::{
    self, Batch, CancelResult, IDEMPOTENCY_TTL, IdempotencyRecord, PrepareError, Submission,
    SubmitError, Video, VideoQuery, VideoStatus,
};
use ytvc_error_codes::{ApiResponse, ErrorCode, Page, format_timestamp};
use ytvc_quota::QuotaStore as _;

use super::auth::{ApiUser, Authed, blocking, record_limit};
use super::error::ApiError;
use super::quota::quota_error;
use crate::limits::LimitKind;
use crate::state::AppState;

// ---------------------------------------------------------------- views

/// A failure of a video.
#[derive(Debug, Serialize, ToSchema)]
pub struct VideoErrorView {
    /// The catalog code.
    #[schema(example = "VIDEO_001")]
    pub code: String,
    /// A client-safe message.
    pub message: String,
}

/// One downloadable artifact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactView {
    /// File name.
    #[schema(example = "manifest.json")]
    pub name: String,
    /// Where to download it.
    #[schema(example = "/v1/videos/0193…/artifacts/manifest.json")]
    pub url: String,
}

/// A scene that did not get its first-choice visual.
#[derive(Debug, Serialize, ToSchema)]
pub struct FallbackView {
    /// 1-based scene number.
    #[schema(example = 2)]
    pub scene: u32,
    /// What the scene shows instead of a clip: `still` or `title_card`.
    #[schema(example = "still")]
    pub visual_source: String,
    /// The catalog codes of the generators that failed, in order.
    #[schema(example = json!(["MEDIA_001"]))]
    pub failed: Vec<String>,
}

/// A video as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a1b2-…", "status": "queued", "prompt": "A two-minute documentary about coral reefs",
    "title": null, "duration_seconds": 60, "style": "documentary", "aspect_ratio": "16:9", "voice": "neutral",
    "language": "en", "batch_id": null, "batch_index": null, "priority": 3, "attempts": 0, "error": null,
    "artifacts": null, "video_url": null, "degraded": false, "fallbacks": [], "created_at": "2026-01-28T14:00:00.000Z", "updated_at": "2026-01-28T14:00:00.000Z",
    "started_at": null, "completed_at": null}))]
pub struct VideoView {
    /// Id.
    pub id: String,
    /// `queued`, `processing`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// The screened prompt.
    pub prompt: String,
    /// Title, if given.
    pub title: Option<String>,
    /// Target length.
    pub duration_seconds: u32,
    /// Style.
    pub style: String,
    /// Aspect ratio.
    pub aspect_ratio: String,
    /// Voice.
    pub voice: String,
    /// Language.
    pub language: String,
    /// Its batch, if any.
    pub batch_id: Option<String>,
    /// Its position in the batch.
    pub batch_index: Option<u32>,
    /// Queue priority (1 = first).
    pub priority: u8,
    /// Runs so far.
    pub attempts: u32,
    /// Why it failed.
    pub error: Option<VideoErrorView>,
    /// The artifacts, once completed.
    pub artifacts: Option<Vec<ArtifactView>>,
    /// Where to download the assembled MP4, once completed.
    pub video_url: Option<String>,
    /// Whether any scene fell back from a clip to a still or a title card
    /// (a service failed or its circuit was open).
    pub degraded: bool,
    /// The scenes that fell back, and why (empty unless `degraded`).
    pub fallbacks: Vec<FallbackView>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// RFC 3339.
    pub started_at: Option<String>,
    /// RFC 3339.
    pub completed_at: Option<String>,
}

/// The downloadable files of a completed video: the manifest and every file it lists.
fn manifest_files(manifest: &Value) -> Vec<String> {
    let mut out = vec![ytvc_domain::pipeline::MANIFEST_FILE.to_owned()];
    if let Ok(m) = serde_json::from_value::<ytvc_domain::media::Manifest>(manifest.clone()) {
        out.extend(
            m.files()
                .map(|f| f.name.clone())
                .filter(|n| is_plain_name(n)),
        );
    }
    out
}

/// A file name without any path component.
fn is_plain_name(s: &str) -> bool {
    ytvc_domain::media::is_artifact_name(s)
}

impl From<&Video> for VideoView {
    fn from(v: &Video) -> Self {
        let p = &v.params;
        let manifest = v
            .artifacts
            .as_ref()
            .filter(|_| v.status == VideoStatus::Completed)
            .and_then(|m| serde_json::from_value::<ytvc_domain::media::Manifest>(m.clone()).ok());
        let fallbacks: Vec<FallbackView> = manifest
            .iter()
            .flat_map(|m| &m.scenes)
            .filter(|s| !s.fallback_codes.is_empty())
            .map(|s| FallbackView {
                scene: s.index,
                visual_source: s.visual_source.as_str().to_owned(),
                failed: s.fallback_codes.clone(),
            })
            .collect();
        let video_url = manifest
            .as_ref()
            .and_then(|m| m.video.as_ref())
            .filter(|f| is_plain_name(&f.name))
            .map(|f| format!("/v1/videos/{}/artifacts/{}", v.id, f.name));
        Self {
            id: v.id.to_string(),
            status: v.status.as_str().to_owned(),
            prompt: p.prompt.clone(),
            title: p.title.clone(),
            duration_seconds: p.duration_seconds,
            style: p.style.clone(),
            aspect_ratio: p.aspect_ratio.clone(),
            voice: p.voice.clone(),
            language: p.language.clone(),
            batch_id: v.batch.map(|(b, _)| b.to_string()),
            batch_index: v.batch.map(|(_, i)| i),
            priority: v.priority,
            attempts: v.attempts,
            error: v.error_code.as_ref().map(|code| VideoErrorView {
                code: code.clone(),
                message: v.error_message.clone().unwrap_or_default(),
            }),
            artifacts: v
                .artifacts
                .as_ref()
                .filter(|_| v.status == VideoStatus::Completed)
                .map(|m| {
                    manifest_files(m)
                        .into_iter()
                        .map(|name| ArtifactView {
                            url: format!("/v1/videos/{}/artifacts/{name}", v.id),
                            name,
                        })
                        .collect()
                }),
            video_url,
            degraded: manifest.as_ref().is_some_and(|m| m.degraded) || !fallbacks.is_empty(),
            fallbacks,
            created_at: format_timestamp(v.created_at),
            updated_at: format_timestamp(v.updated_at),
            started_at: v.started_at.map(format_timestamp),
            completed_at: v.completed_at.map(format_timestamp),
        }
    }
}

/// Items of a batch per status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressView {
    /// Waiting.
    pub queued: u32,
    /// Running.
    pub processing: u32,
    /// Done.
    pub completed: u32,
    /// Failed.
    pub failed: u32,
    /// Cancelled.
    pub cancelled: u32,
}

/// A batch as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// Id.
    pub id: String,
    /// Optional name.
    pub name: Option<String>,
    /// `queued`, `processing`, `completed`, `partially_failed`, `failed` or `cancelled`.
    pub status: String,
    /// Number of videos.
    pub total: u32,
    /// Videos per status.
    pub progress: ProgressView,
    /// The videos (on create and get).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub videos: Option<Vec<VideoView>>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

fn batch_view(b: &Batch, videos: Option<&[Video]>) -> BatchView {
    BatchView {
        id: b.id.to_string(),
        name: b.name.clone(),
        status: b.status.as_str().to_owned(),
        total: b.total,
        progress: ProgressView {
            queued: b.counts.queued,
            processing: b.counts.processing,
            completed: b.counts.completed,
            failed: b.counts.failed,
            cancelled: b.counts.cancelled,
        },
        videos: videos.map(|vs| vs.iter().map(VideoView::from).collect()),
        created_at: format_timestamp(b.created_at),
        updated_at: format_timestamp(b.updated_at),
    }
}

// ---------------------------------------------------------------- requests

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

// ---------------------------------------------------------------- helpers

fn invalid_query(what: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery)
        .message(format!("Invalid {what}"))
        .details(json!({ "parameter": what }))
}

fn encode_cursor(t: DateTime<Utc>, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}|{id}", t.timestamp_micros()))
}

fn decode_cursor(c: &str) -> Result<(DateTime<Utc>, String), ApiError> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| invalid_query("cursor"))?;
    let text = String::from_utf8(raw).map_err(|_| invalid_query("cursor"))?;
    let (micros, id) = text
        .split_once('|')
        .ok_or_else(|| invalid_query("cursor"))?;
    let micros: i64 = micros.parse().map_err(|_| invalid_query("cursor"))?;
    let t = Utc
        .timestamp_micros(micros)
        .single()
        .ok_or_else(|| invalid_query("cursor"))?;
    uuid::Uuid::parse_str(id).map_err(|_| invalid_query("cursor"))?;
    Ok((t, id.to_owned()))
}

fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(20),
        Some(n @ 1..=100) => Ok(n),
        Some(_) => Err(invalid_query("limit").message("limit must be 1..=100")),
    }
}

fn prepare_error(e: PrepareError, now: DateTime<Utc>) -> ApiError {
    match e {
        PrepareError::Invalid(v) => ApiError::new(v.code())
            .message(v.to_string())
            .details(v.details()),
        PrepareError::EmptyBatch => {
            ApiError::new(ErrorCode::BatchEmpty).message("A batch needs at least one video")
        }
        PrepareError::Quota(q) => quota_error(&q, now),
        other => ApiError::internal(other),
    }
}

fn submit_error(
    e: SubmitError,
    batch_units: Option<usize>,
    used_before: Option<u64>,
    now: DateTime<Utc>,
) -> ApiError {
    match e {
        // Items are reserved one by one inside one transaction: a refusal
        // in a batch (of any size) means the batch does not fit (nothing
        // was kept): QUOTA_003.
        SubmitError::Quota(ytvc_quota::QuotaError::Exhausted {
            limit,
            used,
            reset_at,
        }) if batch_units.is_some() => {
            let units = batch_units.unwrap_or(1);
            let used = used_before.unwrap_or(used);
            let remaining = u64::from(limit).saturating_sub(used);
            quota_error(
                &ytvc_quota::QuotaError::InsufficientForBatch {
                    limit,
                    used,
                    requested: u32::try_from(units).unwrap_or(u32::MAX),
                    remaining,
                    reset_at,
                },
                now,
            )
        }
        SubmitError::Quota(q) => quota_error(&q, now),
        SubmitError::IdempotencyRace => ApiError::new(ErrorCode::WriteConflict)
            .message("A request with this Idempotency-Key is in progress; retry")
            .details(json!({ "header": "Idempotency-Key" })),
        SubmitError::Repo(r) => ApiError::new(r.code()).cause(r),
        other => ApiError::internal(other),
    }
}

/// The `Idempotency-Key` of a request, validated.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let k = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
    match k {
        Some(k) => Ok(Some(k.to_owned())),
        None => Err(ApiError::new(ErrorCode::InvalidQuery)
            .message("Idempotency-Key must be 1..=255 visible ASCII characters")
            .details(json!({ "header": "Idempotency-Key" }))),
    }
}

/// SHA-256 of the canonical form of the JSON body (key order and spacing do not matter).
fn request_hash(body: &Value) -> String {
    hex::encode(Sha256::digest(serde_json::to_vec(body).unwrap_or_default()))
}

fn parse_body<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    super::error::parse_value(body)
}

/// Replays a stored answer, or refuses a reused key.
async fn replay(
    state: &AppState,
    user: UserId,
    key: &str,
    scope: &str,
    hash: &str,
) -> Result<Option<HttpResponse>, ApiError> {
    let repo = state.videos.clone();
    let now = ytvc_quota::Clock::now(&state.clock);
    let key_owned = key.to_owned();
    let stored = blocking(move || {
        repo.idempotent(user, &key_owned, now)
            .map_err(|e| ApiError::new(e.code()).cause(e))
    })
    .await?;
    match stored {
        None => Ok(None),
        Some(r) if r.scope == scope && r.request_hash == hash => {
            let status = actix_web::http::StatusCode::from_u16(r.status)
                .unwrap_or(actix_web::http::StatusCode::ACCEPTED);
            Ok(Some(
                HttpResponse::build(status)
                    .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
                    .insert_header(("idempotent-replayed", "true"))
                    .body(r.body),
            ))
        }
        Some(_) => Err(ApiError::new(ErrorCode::AlreadyExists)
            .message("This Idempotency-Key was used with another request")
            .details(json!({ "header": "Idempotency-Key" }))),
    }
}

/// Runs a prepared submission: stores it (with the idempotency record) and answers 202.
async fn submit(
    state: &AppState,
    user: UserId,
    mut submission: Submission,
    idem: Option<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let now = ytvc_quota::Clock::now(&state.clock);
    let data = match &submission.batch {
        Some(b) => {
            let vids: Vec<Video> = submission.videos.iter().map(|v| v.video.clone()).collect();
            serde_json::to_string(&ApiResponse::at(batch_view(b, Some(&vids)), now))
        }
        None => serde_json::to_string(&ApiResponse::at(
            VideoView::from(&submission.videos[0].video),
            now,
        )),
    }
    .map_err(ApiError::internal)?;
    if let Some((key, scope, hash)) = idem {
        submission.idempotency = Some(IdempotencyRecord {
            user,
            key,
            scope,
            request_hash: hash,
            status: 202,
            created_at: now,
            body: data.clone(),
            expires_at: now + IDEMPOTENCY_TTL,
        });
    }
    let units = submission.videos.len();
    let is_batch = submission.batch.is_some();
    let repo = state.videos.clone();
    let quota = state.quota.clone();
    blocking(move || {
        // For a batch, read the usage first so a refusal reports exact
        // figures; the reservations themselves are the transactional guard.
        let used_before = match submission.videos.first() {
            Some(first) if is_batch => quota
                .store()
                .usage(&first.reserve.user, first.reserve.cycle.start())
                .ok()
                .map(|u| u.used()),
            _ => None,
        };
        repo.submit(&submission)
            .map_err(|e| submit_error(e, is_batch.then_some(units), used_before, now))
    })
    .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(data))
}

/// What the shared front of both POSTs decided.
enum Admission {
    /// An earlier request with this `Idempotency-Key` and body: its answer.
    Replay(HttpResponse),
    /// A new request; `(key, scope, body hash)` when it carries a key.
    Fresh(Option<(String, String, String)>),
}

/// The shared front of `POST /v1/videos` and `POST /v1/batches`: the
/// resource's rate limit (after the general one the extractor applied), then
/// the `Idempotency-Key` replay or conflict.
async fn admit(
    req: &HttpRequest,
    state: &AppState,
    who: &ApiUser,
    kind: LimitKind,
    scope: &str,
    body: &Value,
) -> Result<Admission, ApiError> {
    let applied = state.limits.check_user(&who.user, kind).await?;
    record_limit(req, applied);
    let Some(key) = idempotency_key(req)? else {
        return Ok(Admission::Fresh(None));
    };
    let hash = request_hash(body);
    match replay(state, who.user.id, &key, scope, &hash).await? {
        Some(resp) => Ok(Admission::Replay(resp)),
        None => Ok(Admission::Fresh(Some((key, scope.to_owned(), hash)))),
    }
}

// ---------------------------------------------------------------- handlers

/// Submits one video. Checks, in order: authentication, the `api` and `video`
/// rate limits, validation (prompt screen and every field), the monthly
/// quota; the video, its job and its quota reservation are written in one
/// transaction. Honours `Idempotency-Key`.
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
    authed: Authed<web::Json<Value>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: body } = authed;
    let body = body.into_inner();
    let idem = match admit(
        &req,
        &state,
        &who,
        LimitKind::Video,
        "POST /v1/videos",
        &body,
    )
    .await?
    {
        Admission::Replay(resp) => return Ok(resp),
        Admission::Fresh(idem) => idem,
    };
    check_quota(&state, &who, None).await?;
    let request: VideoRequest = parse_body(body)?;
    let plan = state.plan_of(&who.user)?;
    let now = ytvc_quota::Clock::now(&state.clock);
    let submission = videos::prepare_video(&who.user, &plan, request.into(), now, &state.retry)
        .map_err(|e| prepare_error(e, now))?;
    submit(&state, who.user.id, submission, idem).await
}

/// Submits a batch: 1..=plan limit videos, all or nothing. Each item is
/// validated (errors name the item index), then the batch, every video, its
/// job and its reservation are written in ONE transaction. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/batches", tag = "batches", request_body = BatchRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key (kept 24 h)")),
    responses(
        (status = 202, description = "Accepted and queued", body = ApiResponse<BatchView>),
        (status = 422, description = "BATCH_001 empty, QUOTA_002 too large, VAL_* for an item (details.index)", body = ytvc_error_codes::ErrorBody,
         example = json!({"error": {"code": "QUOTA_002", "message": "Batch of 6 is larger than the plan allows (5)",
            "details": {"requested": 6, "batch_size_limit": 5}, "request_id": "…"}, "timestamp": "2026-01-28T14:00:00.000Z"})),
        (status = 429, description = "RATE_001 / RATE_002 / QUOTA_003", body = ytvc_error_codes::ErrorBody),
    ))]
#[post("/v1/batches")]
pub async fn create_batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    authed: Authed<web::Json<Value>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: body } = authed;
    let body = body.into_inner();
    let idem = match admit(
        &req,
        &state,
        &who,
        LimitKind::Batch,
        "POST /v1/batches",
        &body,
    )
    .await?
    {
        Admission::Replay(resp) => return Ok(resp),
        Admission::Fresh(idem) => idem,
    };
    // The size as sent (an invalid body is the handler's to report).
    if let Some(n) = body
        .get("videos")
        .and_then(Value::as_array)
        .map(Vec::len)
        .filter(|n| *n > 0)
    {
        check_quota(&state, &who, Some(n)).await?;
    }
    let request: BatchRequest = parse_body(body)?;
    let plan = state.plan_of(&who.user)?;
    let now = ytvc_quota::Clock::now(&state.clock);
    let items = request
        .videos
        .into_iter()
        .map(RawVideoRequest::from)
        .collect();
    let submission =
        videos::prepare_batch(&who.user, &plan, request.name, items, now, &state.retry)
            .map_err(|e| prepare_error(e, now))?;
    submit(&state, who.user.id, submission, idem).await
}

/// The quota step of authenticate → rate limit → quota → handler: a
/// submission the quota cannot take (one video, or a batch of `batch`
/// videos) is refused before its body is validated. A fast answer only: the
/// reservation in `submit` stays the transactional guard.
async fn check_quota(
    state: &AppState,
    who: &ApiUser,
    batch: Option<usize>,
) -> Result<(), ApiError> {
    let plan = state.plan_of(&who.user)?;
    if batch.is_none() && plan.is_unlimited() {
        return Ok(());
    }
    let now = ytvc_quota::Clock::now(&state.clock);
    let quota = state.quota.clone();
    let user = who.user.clone();
    let status = blocking(move || {
        quota
            .status_for_plan(
                &ytvc_quota::UserKey::from(user.id.to_string()),
                &plan,
                user.billing_anchor_day,
            )
            .map_err(|e| quota_error(&e, now))
    })
    .await?;
    let refusal = match (batch, status.quota, status.remaining) {
        (Some(n), _, _) if n > status.batch_size_limit as usize => {
            Some(ytvc_quota::QuotaError::BatchTooLarge {
                requested: u32::try_from(n).unwrap_or(u32::MAX),
                limit: status.batch_size_limit,
            })
        }
        (Some(n), Some(limit), Some(remaining)) if n as u64 > remaining => {
            Some(ytvc_quota::QuotaError::InsufficientForBatch {
                limit,
                used: status.used,
                requested: u32::try_from(n).unwrap_or(u32::MAX),
                remaining,
                reset_at: status.reset_at,
            })
        }
        (None, Some(limit), Some(0)) => Some(ytvc_quota::QuotaError::Exhausted {
            limit,
            used: status.used,
            reset_at: status.reset_at,
        }),
        _ => None,
    };
    refusal.map_or(Ok(()), |e| Err(quota_error(&e, now)))
}

fn parse_video_id(raw: &str) -> Result<VideoId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(ErrorCode::VideoNotFound))
}

fn parse_batch_id(raw: &str) -> Result<BatchId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(ErrorCode::BatchNotFound))
}

fn repo_error(e: ytvc_domain::repo::RepoError) -> ApiError {
    ApiError::new(e.code()).cause(e)
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
    let limit = page_limit(q.limit)?;
    let status = q
        .status
        .as_deref()
        .map(|s| VideoStatus::parse(s).ok_or_else(|| invalid_query("status")))
        .transpose()?;
    let batch = q
        .batch_id
        .as_deref()
        .map(|b| b.parse::<BatchId>().map_err(|_| invalid_query("batch_id")))
        .transpose()?;
    let before = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let repo = state.videos.clone();
    let user = who.user.id;
    let query = VideoQuery {
        status,
        batch,
        before,
        limit: limit + 1,
    };
    let mut rows = blocking(move || repo.videos(user, &query).map_err(repo_error)).await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|v| encode_cursor(v.created_at, &v.id.to_string()))
    } else {
        None
    };
    let items = rows.iter().map(VideoView::from).collect();
    Ok(HttpResponse::Ok().json(ApiResponse::new(Page { items, next_cursor })))
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
    let id = parse_video_id(&id)?;
    let repo = state.videos.clone();
    let user = who.user.id;
    let video = blocking(move || repo.video(user, id).map_err(repo_error))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::VideoNotFound))?;
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
    let id = parse_video_id(&id)?;
    let repo = state.videos.clone();
    let user = who.user.id;
    let now = ytvc_quota::Clock::now(&state.clock);
    let result = blocking(move || repo.cancel_video(user, id, now).map_err(repo_error))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::VideoNotFound))?;
    match result {
        CancelResult::Cancelled(v) | CancelResult::Requested(v) => {
            Ok(HttpResponse::Ok().json(ApiResponse::new(VideoView::from(&v))))
        }
        CancelResult::TooLate(v) => Err(ApiError::new(ErrorCode::VideoNotCancellable)
            .message(format!("The video is already {}", v.status.as_str()))
            .details(json!({ "status": v.status.as_str() }))),
    }
}

/// Downloads one artifact of a completed video (owner only).
#[utoipa::path(get, path = "/v1/videos/{id}/artifacts/{name}", tag = "videos",
    params(("id" = String, Path, description = "Video id"), ("name" = String, Path, description = "Artifact file name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, description = "NOT_FOUND_001 (video) / NOT_FOUND_004 (artifact)", body = ytvc_error_codes::ErrorBody),
        (status = 409, description = "VIDEO_002: not ready", body = ytvc_error_codes::ErrorBody),
    ))]
#[get("/v1/videos/{id}/artifacts/{name}")]
pub async fn get_artifact(
    state: web::Data<AppState>,
    who: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let id = parse_video_id(&id)?;
    let repo = state.videos.clone();
    let user = who.user.id;
    let video = blocking(move || repo.video(user, id).map_err(repo_error))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::VideoNotFound))?;
    if video.status != VideoStatus::Completed {
        return Err(ApiError::new(ErrorCode::VideoNotReady)
            .message(format!("The video is {}", video.status.as_str()))
            .details(json!({ "status": video.status.as_str() })));
    }
    let listed = video
        .artifacts
        .as_ref()
        .map(manifest_files)
        .unwrap_or_default();
    if !is_plain_name(&name) || !listed.contains(&name) {
        return Err(ApiError::new(ErrorCode::ResourceNotFound)
            .message("No such artifact")
            .details(json!({ "name": name })));
    }
    let path = state.artifact_dir(id).join(&name);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| ApiError::new(ErrorCode::ResourceNotFound).cause(e))?;
    let content_type = match name.rsplit('.').next() {
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("apng") => "image/apng",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("wav") => "audio/wav",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes))
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
    let limit = page_limit(q.limit)?;
    let before = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let repo = state.videos.clone();
    let user = who.user.id;
    let mut rows =
        blocking(move || repo.batches(user, before, limit + 1).map_err(repo_error)).await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|b| encode_cursor(b.created_at, &b.id.to_string()))
    } else {
        None
    };
    let items = rows.iter().map(|b| batch_view(b, None)).collect();
    Ok(HttpResponse::Ok().json(ApiResponse::new(Page { items, next_cursor })))
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
    let id = parse_batch_id(&id)?;
    let repo = state.videos.clone();
    let user = who.user.id;
    let (batch, vids) = blocking(move || {
        let b = repo
            .batch(user, id)
            .map_err(repo_error)?
            .ok_or_else(|| ApiError::new(ErrorCode::BatchNotFound))?;
        let q = VideoQuery {
            batch: Some(id),
            limit: 101,
            ..VideoQuery::default()
        };
        let mut vids = Vec::new();
        let mut page = repo.videos(user, &q).map_err(repo_error)?;
        while !page.is_empty() {
            let last = page.last().map(|v| (v.created_at, v.id.to_string()));
            let full = page.len() >= 101;
            vids.append(&mut page);
            if !full {
                break;
            }
            let q = VideoQuery {
                batch: Some(id),
                limit: 101,
                before: last,
                ..VideoQuery::default()
            };
            page = repo.videos(user, &q).map_err(repo_error)?;
        }
        vids.sort_by_key(|v| v.batch.map(|(_, i)| i));
        Ok((b, vids))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ApiResponse::new(batch_view(&batch, Some(&vids)))))
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
    let id = parse_batch_id(&id)?;
    let repo = state.videos.clone();
    let user = who.user.id;
    let now = ytvc_quota::Clock::now(&state.clock);
    let batch = blocking(move || {
        let b = repo
            .batch(user, id)
            .map_err(repo_error)?
            .ok_or_else(|| ApiError::new(ErrorCode::BatchNotFound))?;
        if b.counts.queued + b.counts.processing == 0 {
            return Err(ApiError::new(ErrorCode::BatchNotCancellable)
                .message(format!("The batch is already {}", b.status.as_str()))
                .details(json!({ "status": b.status.as_str() })));
        }
        repo.cancel_batch(user, id, now)
            .map_err(repo_error)?
            .ok_or_else(|| ApiError::new(ErrorCode::BatchNotFound))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ApiResponse::new(batch_view(&batch, None))))
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
    ))]
#[get("/v1/analytics/usage")]
pub async fn usage(
    state: web::Data<AppState>,
    authed: Authed<web::Query<UsageParams>>,
) -> Result<HttpResponse, ApiError> {
    let Authed { who, data: q } = authed;
    let q = q.into_inner();
    let today = ytvc_quota::Clock::now(&state.clock).date_naive();
    let day = |s: &Option<String>, default: NaiveDate, what: &str| match s {
        None => Ok(default),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| invalid_query(what)),
    };
    let from = day(&q.from, today - chrono::Days::new(30), "from")?;
    let to = day(&q.to, today, "to")?;
    if from > to || (to - from).num_days() > 366 {
        return Err(invalid_query("from")
            .message("from must not be after to, and the range at most 366 days"));
    }
    let user = match q.user_id {
        None => who.user.id,
        Some(_) if who.user.role != Role::Admin => {
            return Err(ApiError::new(ErrorCode::Forbidden).message("user_id is for admins"));
        }
        Some(id) => id
            .parse::<UserId>()
            .map_err(|_| ApiError::new(ErrorCode::UserNotFound))?,
    };
    let start = from
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| invalid_query("from"))?;
    let end = (to + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| invalid_query("to"))?;
    if user != who.user.id {
        let accounts = state.accounts.clone();
        let exists = blocking(move || {
            ytvc_domain::auth::UserRepository::by_id(&accounts, user)
                .map_err(|e| ApiError::new(e.code()).cause(e))
        })
        .await?;
        if exists.is_none() {
            return Err(ApiError::new(ErrorCode::UserNotFound)
                .message("No user with this id")
                .details(json!({ "user_id": user.to_string() })));
        }
    }
    let repo = state.videos.clone();
    let days = blocking(move || repo.usage(user, start, end).map_err(repo_error)).await?;
    Ok(HttpResponse::Ok().json(ApiResponse::new(json!({
        "user_id": user.to_string(),
        "from": from.to_string(),
        "to": to.to_string(),
        "days": days,
    }))))
}

/// Registers the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_video)
        .service(list_videos)
        .service(get_video)
        .service(cancel_video)
        .service(get_artifact)
        .service(create_batch)
        .service(list_batches)
        .service(get_batch)
        .service(cancel_batch)
        .service(usage);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let id = uuid::Uuid::now_v7().to_string();
        let c = encode_cursor(t, &id);
        assert_eq!(decode_cursor(&c).unwrap(), (t, id));
        assert!(decode_cursor("!!!").is_err());
        assert!(
            decode_cursor(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1|x")).is_err()
        );
    }

    #[test]
    fn artifact_names_are_plain() {
        assert!(is_plain_name("scene-01.png"));
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", "%2e%2e"] {
            assert!(!is_plain_name(bad), "{bad}");
        }
        assert_eq!(
            manifest_files(&json!({"not": "a manifest"})),
            vec!["manifest.json".to_owned()]
        );
    }

    #[test]
    fn request_hash_ignores_key_order() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":[1,2]}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{ "b": [1,2], "a": 1 }"#).unwrap();
        assert_eq!(request_hash(&a), request_hash(&b));
        assert_ne!(
            request_hash(&a),
            request_hash(&json!({"a": 2, "b": [1, 2]}))
        );
    }
}
