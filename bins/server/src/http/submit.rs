//! The shared front of `POST /v1/videos` and `POST /v1/batches`: the
//! resource's rate limit (after the general one the extractor applied),
//! then the video service's admission (`Idempotency-Key` replay or
//! conflict, the quota pre-check), and the 202 answer.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use ytvc_domain::videos::{Admission, SubmitKind, Ticket};

use super::auth::{ApiUser, blocking, record_limit};
use super::error::ApiError;
use crate::limits::LimitKind;
use crate::state::AppState;

/// What the front decided.
pub enum Front {
    /// An earlier request with this `Idempotency-Key` and body: its answer.
    Replay(HttpResponse),
    /// A new submission, with its body (to validate) handed back.
    Fresh(Box<Ticket>, Value),
}

/// Applies the rate limit of `kind`'s resource, then admits the submission.
///
/// # Errors
/// RATE_002 / RATE_003, the admission's refusals (VAL_009, VAL_010,
/// QUOTA_*), storage errors.
pub async fn admit(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    who: &ApiUser,
    kind: SubmitKind,
    body: Value,
) -> Result<Front, ApiError> {
    let limit = match kind {
        SubmitKind::Video => LimitKind::Video,
        SubmitKind::Batch { .. } => LimitKind::Batch,
    };
    let applied = state.limits.check_user(&who.user, limit).await?;
    record_limit(req, applied);
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| v.as_bytes().to_vec());
    let (videos, user) = (state.videos.clone(), who.user.clone());
    let (admission, body) = blocking(move || {
        let admission = videos.admit(&user, kind, key.as_deref(), &body)?;
        Ok((admission, body))
    })
    .await?;
    Ok(match admission {
        Admission::Replay { status, body } => Front::Replay(
            HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::ACCEPTED))
                .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
                .insert_header(("idempotent-replayed", "true"))
                .body(body),
        ),
        Admission::Fresh(ticket) => Front::Fresh(ticket, body),
    })
}

/// The 202 answer with the body the submission stored.
#[must_use]
pub fn accepted(body: String) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(body)
}
