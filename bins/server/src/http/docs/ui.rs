//! The documentation pages: Swagger UI lives under `/docs/` (see
//! `configure`), ReDoc at `/redoc` with its vendored script.

use actix_web::{HttpResponse, get};

const REDOC_JS: &[u8] = include_bytes!("../../../assets/redoc.standalone.js");

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
