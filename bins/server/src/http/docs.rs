//! The OpenAPI document, Swagger UI at `/docs` and ReDoc at `/redoc`, all
//! served from the binary (no internet needed).

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth, catalog, health, quota, videos};

const DESCRIPTION: &str = r#"The API platform of an AI video creator: authenticate, submit a video or a batch of
videos described by a prompt, and follow them as they are scripted by an LLM, given visuals
(Veo clips, Imagen stills) and narration (text-to-speech), and assembled.

## Envelopes
Success: `{"data": ..., "timestamp": "RFC 3339"}`; lists put `items` and `next_cursor` in `data`.
Failure: `{"error": {"code", "message", "details", "request_id"}, "timestamp"}` with one of the
49 catalog codes (`GET /v1/errors`). Every response carries `X-Request-Id`.

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
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from POST /v1/auth/login or /v1/auth/refresh",
                    ))
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
        videos::create_video, videos::list_videos, videos::get_video, videos::cancel_video, videos::get_artifact,
        videos::create_batch, videos::list_batches, videos::get_batch, videos::cancel_batch,
        quota::get_quota, videos::usage,
        health::health, health::ready, catalog::list_errors, super::metrics::metrics,
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
        (name = "videos", description = "Submit videos and follow their progress"),
        (name = "batches", description = "Submit many videos at once, transactionally"),
        (name = "analytics", description = "Usage over time"),
        (name = "health", description = "Liveness, readiness and the error catalog"),
    ),
)]
pub struct ApiDoc;

/// The document, with the running version filled in.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

const REDOC_JS: &[u8] = include_bytes!("../../assets/redoc.standalone.js");

const REDOC_HTML: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ytvc API reference</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <redoc spec-url="/openapi.json"></redoc>
  <script src="/redoc/redoc.standalone.js"></script>
</body>
</html>
"#;

/// ReDoc's page.
#[get("/redoc")]
pub async fn redoc() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(REDOC_HTML)
}

/// ReDoc's script (MIT, from the npm package `redoc`, vendored).
#[get("/redoc/redoc.standalone.js")]
pub async fn redoc_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(REDOC_JS)
}

/// `/docs` → `/docs/` (Swagger UI lives under the slash).
#[get("/docs")]
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/docs/"))
        .finish()
}

/// Registers `/openapi.json`, Swagger UI and ReDoc.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(docs_redirect)
        .service(utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi()))
        .service(redoc)
        .service(redoc_js);
}
