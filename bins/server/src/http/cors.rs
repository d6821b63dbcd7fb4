//! CORS with an allow-list of origins (none by default). An allowed origin
//! gets `Access-Control-Allow-Origin: <that origin>` (never `*`) with
//! credentials allowed; a disallowed one gets no CORS headers at all, so the
//! browser blocks it. Preflights (`OPTIONS` with
//! `Access-Control-Request-Method`) are answered here with 204.

use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

/// The allowed origins, shared by the middleware.
#[derive(Debug, Clone, Default)]
pub struct CorsOrigins(pub Rc<Vec<String>>);

const ALLOW_METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS: &str = "authorization, content-type, idempotency-key, x-request-id";
const EXPOSE_HEADERS: &str = "x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, \
ratelimit, ratelimit-policy, retry-after";

fn allowed_origin(req: &ServiceRequest) -> Option<HeaderValue> {
    let origins = req.app_data::<web::Data<CorsOrigins>>()?;
    let origin = req.headers().get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    origins.0.iter().any(|o| o == text).then(|| origin.clone())
}

fn add_cors(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// The CORS middleware.
///
/// # Errors
/// Those of the inner service.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let origin = allowed_origin(&req);
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut resp = HttpResponse::NoContent().finish();
        let headers = resp.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = origin {
            add_cors(headers, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        return Ok(req.into_response(resp));
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    if let Some(origin) = origin {
        add_cors(res.headers_mut(), origin);
    }
    Ok(res)
}
