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

#[cfg(test)]
mod tests {
    use actix_web::test::{TestRequest, call_service, init_service, read_body};
    use actix_web::{App, http::StatusCode};

    use super::*;

    fn header<B>(res: &actix_web::dev::ServiceResponse<B>, name: &str) -> String {
        let value = res
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or_default());
        value.unwrap_or_default().to_owned()
    }

    #[actix_web::test]
    async fn the_pages_are_served_from_the_binary() {
        let app = init_service(
            App::new()
                .service(docs_redirect)
                .service(redoc)
                .service(redoc_js),
        )
        .await;
        let res = call_service(&app, TestRequest::get().uri("/docs").to_request()).await;
        assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(header(&res, "location"), "/docs/");
        let res = call_service(&app, TestRequest::get().uri("/redoc").to_request()).await;
        assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8");
        let page = String::from_utf8(read_body(res).await.to_vec()).unwrap();
        assert!(page.contains(r#"<script src="/redoc/redoc.standalone.js">"#));
        assert!(page.contains(r#"spec-url="/openapi.json""#));
        let req = TestRequest::get().uri("/redoc/redoc.standalone.js");
        let res = call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, "cache-control"), "public, max-age=86400");
        assert_eq!(read_body(res).await.len(), REDOC_JS.len());
    }
}
