//! `GET /v1/errors`: the catalog, generated from the enum.

use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;
use ytvc_error_codes::{ApiResponse, Category, ErrorCode};

/// One catalog entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogEntry {
    /// The stable code.
    pub code: ErrorCode,
    /// Its family.
    pub category: Category,
    /// The HTTP status it is sent with.
    #[schema(example = 422)]
    pub http_status: u16,
    /// Whether the same request may succeed later unchanged.
    pub retryable: bool,
    /// The default message.
    #[schema(example = "Prompt too short (min 10 chars)")]
    pub message: &'static str,
}

/// Every catalog entry, in catalog order.
#[must_use]
pub fn entries() -> Vec<CatalogEntry> {
    ErrorCode::ALL
        .iter()
        .map(|&code| CatalogEntry {
            code,
            category: code.category(),
            http_status: code.http_status(),
            retryable: code.retryable(),
            message: code.default_message(),
        })
        .collect()
}

/// Lists the error catalog (51 codes). Public and not counted against any
/// limit; it carries the caller IP's limit headers like every /v1 answer.
#[utoipa::path(
    get, path = "/v1/errors", tag = "health",
    responses((status = 200, description = "The whole catalog", body = ApiResponse<Vec<CatalogEntry>>)),
)]
#[get("/v1/errors")]
pub async fn list_errors(
    req: actix_web::HttpRequest,
    state: actix_web::web::Data<crate::state::AppState>,
) -> HttpResponse {
    let ip = super::auth::client_ip(&req, state.config.trust_forwarded_for);
    super::auth::record_limit(&req, state.limits.peek_ip(&ip).await);
    HttpResponse::Ok().json(ApiResponse::new(entries()))
}
