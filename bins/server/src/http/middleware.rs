//! The request middleware: request id, panic capture, the body deadline,
//! the error envelope for every failure, security headers and the request
//! log line.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use futures::FutureExt;

use super::error::{self, ApiError};

/// The header carrying the request id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request, in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The authenticated user of the request, for the request log (set by auth).
#[derive(Debug, Clone)]
pub struct LoggedUser(pub String);

/// Keeps an incoming id only when it is short and plain (no log injection).
fn valid_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Wraps every request; see the module docs.
///
/// # Errors
/// Never: every failure is turned into an enveloped response.
pub async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let logger = req
        .app_data::<web::Data<slog::Logger>>()
        .map(|l| l.get_ref().clone());
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let body_timeout = req
        .app_data::<web::Data<crate::state::AppState>>()
        .map(|s| s.config.body_timeout);
    let expired = Rc::new(Cell::new(false));
    if let Some(timeout) = body_timeout
        && has_body(req.headers())
    {
        let inner = req.take_payload();
        let stream: Pin<
            Box<dyn futures::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>,
        > = Box::pin(Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(timeout)),
            expired: expired.clone(),
        });
        req.set_payload(stream.into());
    }
    let too_slow = || {
        let ms = body_timeout.map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
        HttpResponse::from_error(
            ApiError::new(ytvc_error_codes::ErrorCode::BodyTimeout)
                .message(format!("The request body did not arrive within {ms} ms"))
                .details(serde_json::json!({ "timeout_ms": ms })),
        )
    };
    // No clone of the request may be held across the call: the router needs
    // it uniquely. A failure without a request is answered through an error.
    let outcome = AssertUnwindSafe(next.call(req)).catch_unwind().await;
    let mut outcome_log = Outcome {
        code: None,
        cause: None,
    };
    let result = match outcome {
        Ok(Ok(res)) => {
            let (req, resp) = res.map_into_boxed_body().into_parts();
            let resp = if expired.get() { too_slow() } else { resp };
            let mut resp = finish(resp, &id, &method, &path, &mut outcome_log);
            close_if(&mut resp, expired.get());
            if let Some(applied) = req.extensions().get::<crate::limits::AppliedLimits>()
                && !resp.headers().contains_key("x-ratelimit-limit")
            {
                crate::limits::write_headers(&applied.0, resp.headers_mut());
            }
            let route = req
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned());
            let user = req.extensions().get::<LoggedUser>().map(|u| u.0.clone());
            if let Some(m) = req.app_data::<web::Data<super::metrics::Metrics>>() {
                m.observe(
                    &method,
                    &route,
                    resp.status().as_u16(),
                    started.elapsed().as_secs_f64(),
                );
            }
            let res = ServiceResponse::new(req, resp);
            log_request(
                logger.as_ref(),
                &res.status(),
                &id,
                &method,
                &route,
                user,
                started,
                &outcome_log,
            );
            return Ok(res);
        }
        Ok(Err(err)) => {
            let resp = if expired.get() {
                too_slow()
            } else {
                err.error_response()
            };
            let mut resp = finish(resp, &id, &method, &path, &mut outcome_log);
            close_if(&mut resp, expired.get());
            resp
        }
        Err(_) => {
            let resp = ApiError::internal("handler panicked").render(&id);
            finish(resp, &id, &method, &path, &mut outcome_log)
        }
    };
    log_request(
        logger.as_ref(),
        &result.status(),
        &id,
        &method,
        "unmatched",
        None,
        started,
        &outcome_log,
    );
    Err(actix_web::error::InternalError::from_response("request failed", result).into())
}

/// The Content-Security-Policy of the documentation pages (Swagger UI under
/// `/docs`, ReDoc at `/redoc`): every script and style sheet from this
/// server (no inline script: both load theirs from files), inline styles
/// (both set style attributes, ReDoc injects its `<style>`), ReDoc's search
/// worker from a `blob:`, requests to this server only, no framing.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
connect-src 'self'; worker-src 'self' blob:; manifest-src 'self'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// `/docs`, `/docs/…` and `/redoc…`: the pages [`DOCS_CSP`] applies to.
fn is_docs_page(path: &str) -> bool {
    path == "/docs" || path.starts_with("/docs/") || path.starts_with("/redoc")
}

/// Whether the request announces a body (a length above zero, or chunks).
fn has_body(headers: &actix_web::http::header::HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// A body that trickled in past its deadline closes the connection (what
/// is left of it is never read).
fn close_if(resp: &mut HttpResponse<BoxBody>, expired: bool) {
    if expired {
        resp.head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
}

/// The request payload with a deadline: counted from the end of the
/// headers (when the middleware sees the request), the whole body must have
/// arrived by then; after it the stream fails and `expired` is set, which
/// turns the answer into 408 HTTP_002.
struct Deadline {
    inner: actix_web::dev::Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl futures::Stream for Deadline {
    type Item = Result<web::Bytes, actix_web::error::PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired.get() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = futures::Stream::poll_next(Pin::new(&mut self.inner), cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired.set(true);
            return Poll::Ready(Some(Err(actix_web::error::PayloadError::Io(
                std::io::Error::new(std::io::ErrorKind::TimedOut, "request body timeout"),
            ))));
        }
        Poll::Pending
    }
}

/// What the log line reports of a failure.
struct Outcome {
    code: Option<ytvc_error_codes::ErrorCode>,
    cause: Option<String>,
}

/// Puts every failure in the envelope with this request's id, and adds the
/// request id and security headers to every response.
fn finish(
    resp: HttpResponse<BoxBody>,
    id: &str,
    method: &str,
    path: &str,
    out: &mut Outcome,
) -> HttpResponse<BoxBody> {
    let mut resp = if resp.status().as_u16() >= 400 {
        let mapped;
        let api = match resp.error().and_then(|e| e.as_error::<ApiError>()) {
            Some(api) => api,
            None => {
                mapped = match resp.error() {
                    Some(e) => error::for_status(resp.status(), method, path).cause(e),
                    None => error::for_status(resp.status(), method, path),
                };
                &mapped
            }
        };
        out.code = Some(api.code());
        out.cause = api.internal_cause().map(str::to_owned);
        let mut new = api.render(id);
        // Keep headers the original response set (Allow, Retry-After, rate limits).
        for (name, value) in resp.headers() {
            if name != header::CONTENT_TYPE
                && name != header::CONTENT_LENGTH
                && !new.headers().contains_key(name)
            {
                new.headers_mut().insert(name.clone(), value.clone());
            }
        }
        new
    } else {
        resp
    };
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(id) {
        headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if is_docs_page(path) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        );
    }
    if path.starts_with("/v1/") {
        // API answers are per user (and carry tokens): never cached.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

#[allow(clippy::too_many_arguments)]
fn log_request(
    log: Option<&slog::Logger>,
    status: &actix_web::http::StatusCode,
    id: &str,
    method: &str,
    route: &str,
    user: Option<String>,
    started: Instant,
    out: &Outcome,
) {
    let Some(log) = log else { return };
    let status = status.as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let code = out.code.map(|c| c.as_str());
    if status >= 500 {
        slog::error!(log, "request";
            "request_id" => id, "method" => method, "route" => route, "status" => status,
            "latency_ms" => latency_ms, "user_id" => user, "code" => code, "cause" => out.cause.as_deref());
    } else {
        slog::info!(log, "request";
            "request_id" => id, "method" => method, "route" => route, "status" => status,
            "latency_ms" => latency_ms, "user_id" => user, "code" => code, "cause" => out.cause.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::valid_request_id;
    use crate::http::error;
    use actix_web::test as atest;
    use actix_web::{App, HttpResponse, web};
    use serde_json::Value;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
    }

    async fn echo(body: web::Json<Body>) -> HttpResponse {
        HttpResponse::Ok().body(body.name.clone())
    }

    async fn boom() -> HttpResponse {
        panic!("secret internal detail")
    }

    /// A small app with the real middleware and extractor configuration.
    async fn app() -> impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    > {
        let limit = 64;
        atest::init_service(
            App::new()
                .app_data(
                    web::JsonConfig::default()
                        .limit(limit)
                        .error_handler(move |err, _| error::json_error(&err, limit).into()),
                )
                .route("/echo", web::post().to(echo))
                .route("/boom", web::get().to(boom))
                .default_service(web::to(crate::http::not_found))
                .wrap(actix_web::middleware::from_fn(super::request_context)),
        )
        .await
    }

    async fn call(req: atest::TestRequest) -> (u16, Value, String) {
        let app = app().await;
        let res = match atest::try_call_service(&app, req.to_request()).await {
            Ok(res) => res.map_into_boxed_body(),
            Err(err) => {
                let resp = err.error_response();
                let req = atest::TestRequest::default().to_http_request();
                actix_web::dev::ServiceResponse::new(req, resp)
            }
        };
        let status = res.status().as_u16();
        let rid = res
            .headers()
            .get("x-request-id")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = atest::read_body_json(res).await;
        (status, body, rid)
    }

    #[actix_web::test]
    async fn malformed_json_is_val_001() {
        let (status, body, rid) = call(
            atest::TestRequest::post()
                .uri("/echo")
                .insert_header(("content-type", "application/json"))
                .set_payload("{nope"),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "VAL_001");
        assert_eq!(body["error"]["request_id"], rid);
    }

    #[actix_web::test]
    async fn wrong_content_type_is_val_001() {
        let (status, body, _) = call(
            atest::TestRequest::post()
                .uri("/echo")
                .insert_header(("content-type", "text/plain"))
                .set_payload("{}"),
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "VAL_001");
        assert_eq!(
            body["error"]["details"]["expected_content_type"],
            "application/json"
        );
    }

    #[actix_web::test]
    async fn missing_field_is_val_006() {
        let (status, body, _) = call(
            atest::TestRequest::post()
                .uri("/echo")
                .set_json(serde_json::json!({})),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["code"], "VAL_006");
        assert_eq!(body["error"]["details"]["field"], "name");
    }

    #[actix_web::test]
    async fn oversized_body_is_val_008() {
        let big = serde_json::json!({ "name": "x".repeat(500) });
        let (status, body, _) = call(atest::TestRequest::post().uri("/echo").set_json(big)).await;
        assert_eq!(status, 413);
        assert_eq!(body["error"]["code"], "VAL_008");
        assert_eq!(body["error"]["details"]["limit_bytes"], 64);
    }

    #[actix_web::test]
    async fn a_panic_is_internal_001_without_leaking() {
        let (status, body, rid) = call(atest::TestRequest::get().uri("/boom")).await;
        assert_eq!(status, 500);
        assert_eq!(body["error"]["code"], "INTERNAL_001");
        assert_eq!(body["error"]["request_id"], rid);
        assert!(!body.to_string().contains("secret internal detail"));
        assert!(!body.to_string().contains("panicked"));
    }

    #[test]
    fn request_ids_are_screened() {
        assert!(valid_request_id("abc-123_x.y:z"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a b"));
        assert!(!valid_request_id("line\nbreak"));
        assert!(!valid_request_id(&"a".repeat(129)));
    }
}
