//! The OpenAPI document, Swagger UI at `/docs` and ReDoc at `/redoc`, all
//! served from the binary (no internet needed).
//!
//! The handlers' `#[utoipa::path]` annotations say what is particular to each
//! operation. What the product contract asks of *every* operation is added
//! in one pass over the generated document (`complete`), so a new endpoint
//! gets it without anyone having to remember:
//!
//! - a secured operation documents 401 (AUTH_001/002/003), 403 (AUTH_005:
//!   an API key without the operation's scope, `details.scope`) and 429
//!   (RATE_001 plus its own rate limit, see `RESOURCE_RATE_LIMITS`), and its
//!   security requirement names that scope (`scopes`, from the server's
//!   scope table); a JSON body 400 (VAL_001), 408 (HTTP_002), 413 (VAL_008)
//!   and 422 (VAL_006 when it has required fields, VAL_007 when it has
//!   fields); query parameters 400 (VAL_009); a path id 404 (the
//!   resource's NOT_FOUND code, see `NOT_FOUND_BY_PREFIX`): `operation`;
//! - every error response gets its own examples: one error envelope per
//!   catalog code it names (an `ErrorBody` built from the `ErrorCode`: code,
//!   status, default message), with the details the server really sends
//!   (`examples`);
//! - every success response gets an example in the success envelope,
//!   composed from the examples of its schemas;
//! - every response declares `X-Request-Id`, every /v1 response the
//!   rate-limit headers and every 429 `Retry-After` (`components/headers`);
//! - constraints the derive cannot express come from the domain's validation
//!   constants (`VideoRequest`), and nullable fields the server always sends
//!   are `required` (`schemas`);
//! - annotations that contradict their handler are corrected
//!   (`fix_annotations`: query structs documented as path parameters,
//!   logout's optional body, ...).
//!
//! Files: this one (the document and the routes), `ui` (the Swagger UI and
//! ReDoc pages), `complete` (the pass over the document), `operation` (what
//! each operation implies), `schemas` (component schema fixes), `scopes`
//! (each operation's API-key scope) and `examples` (the examples, built from
//! the catalog and the domain).

mod complete;
mod examples;
mod operation;
mod schemas;
mod scopes;
mod ui;

use std::sync::LazyLock;

use actix_web::web;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::{
    analytics, api_keys, artifacts, auth, batches, catalog, health, metrics, quota, videos,
};
pub use ui::{docs_redirect, redoc, redoc_js};

const DESCRIPTION: &str = r#"The API platform of an AI video creator: authenticate, submit a video or a batch of
videos described by a prompt, and follow them as they are scripted by an LLM, given visuals
(Veo clips, Imagen stills) and narration (text-to-speech), and assembled.

## Envelopes
Success: `{"data": ..., "timestamp": "RFC 3339"}`; lists put `items` and `next_cursor` in `data`.
Failure: `{"error": {"code", "message", "details", "request_id"}, "timestamp"}` with one of
the catalog codes (`GET /v1/errors`: the seed's 49, then the appended families). Every response carries `X-Request-Id`.

## Plans
| limit | free | pro | enterprise |
|---|---|---|---|
| API requests (any /v1 call) | 100/h | 300/h | 1000/h |
| batch creations (POST /v1/batches) | 5/h | 15/h | 50/h |
| video generations (POST /v1/videos) | 20/h | 60/h | 200/h |
| videos per billing month | 10 | 100 | unlimited |
| max videos in one batch | 5 | 20 | 100 |
| queue priority (1 = first) | 3 | 2 | 1 |

Rate limits are sliding windows: in any trailing hour at most the limit is admitted. Every /v1
response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` and the IETF
`RateLimit-Policy` / `RateLimit` headers; a rejection is 429 with `Retry-After`.
"#;

/// The bearer scheme: both credentials, and the scope table.
const BEARER_DESCRIPTION: &str = "Either credential, as `Authorization: Bearer …`:\n\n\
- an **access token** (a JWT) from `POST /v1/auth/login` or `/v1/auth/refresh`: the user's own \
session, which holds every scope;\n\
- an **API key** (`ytvc_` + 51 characters + a 6-character checksum) from `POST /v1/api-keys`, \
which holds the scopes it was made with: `videos:read` (read videos, batches, artifacts, \
analytics, quota), `videos:write` (submit and cancel videos and batches), `account` (`/v1/auth/me`, \
`/v1/api-keys`, admin calls), `publish` and `webhooks` (routes to come). A key spends its owner's \
rate limits and quota.\n\n\
Each operation's security requirement names the scope a key needs; a key without it gets 403 \
AUTH_005 with `details.scope`. `POST /v1/auth/logout` takes an access token only. A mistyped key \
(bad checksum) is AUTH_002, an expired one AUTH_002, a revoked one AUTH_003 (at once on the \
instance that revoked it, within 2 s on the others).";

/// Adds the bearer security scheme.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(BEARER_DESCRIPTION))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of the whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ytvc API",
        description = DESCRIPTION,
        license(name = "MIT"),
    ),
    paths(
        auth::register, auth::login, auth::refresh, auth::logout, auth::me, auth::update_user,
        api_keys::create_api_key, api_keys::list_api_keys, api_keys::revoke_api_key,
        videos::create_video, videos::list_videos, videos::get_video, videos::cancel_video, artifacts::get_artifact,
        batches::create_batch, batches::list_batches, batches::get_batch, batches::cancel_batch,
        quota::get_quota, analytics::usage,
        health::health, health::ready, catalog::list_errors, metrics::metrics,
    ),
    components(schemas(
        ytvc_error_codes::ErrorBody,
        ytvc_error_codes::ErrorDetail,
        ytvc_error_codes::ErrorCode,
        ytvc_error_codes::Category,
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Accounts, access and refresh tokens"),
        (name = "api-keys", description = "Long-lived keys for scripts and services, with scopes"),
        (name = "videos", description = "Submit videos and follow their progress"),
        (name = "batches", description = "Submit many videos at once, transactionally"),
        (name = "analytics", description = "Usage over time"),
        (name = "health", description = "Liveness, readiness and the error catalog"),
    ),
)]
pub struct ApiDoc;

/// The complete document, built once.
static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
    let value = completed_value();
    let mut doc = serde_json::from_value(value).unwrap_or_else(|_| generated());
    complete::order_artifact_content(&mut doc);
    doc
});

/// The document, with the running version filled in and completed (see the
/// module docs).
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    DOCUMENT.clone()
}

/// What the annotations alone produce.
fn generated() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The generated document as JSON, completed.
fn completed_value() -> Value {
    let mut value = serde_json::to_value(generated()).unwrap_or(Value::Null);
    complete::complete(&mut value);
    value
}

/// Registers `/openapi.json`, Swagger UI and ReDoc.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(docs_redirect)
        .service(utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi()))
        .service(redoc)
        .service(redoc_js);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_completed_document_survives_the_typed_model() {
        let value = completed_value();
        let typed: utoipa::openapi::OpenApi =
            serde_json::from_value(value.clone()).expect("a valid utoipa document");
        assert_eq!(serde_json::to_value(&typed).unwrap(), value);
        assert_eq!(serde_json::to_value(openapi()).unwrap(), value);
    }
}
