//! `ApiError`: the one type every handler fails with, rendered as the error
//! envelope. Internal errors of other crates are converted here, at the edge.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};
use ytvc_domain::auth::AuthError;
use ytvc_domain::jobs::JobError;
use ytvc_domain::repo::RepoError;
use ytvc_domain::validation::ValidationError;
use ytvc_error_codes::{ErrorBody, ErrorCode};

/// A failed request: a catalog code, an optional message and details, extra
/// headers (e.g. `Retry-After`) and, for logs only, the internal cause.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Option<String>,
    details: Option<Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
    cause: Option<String>,
}

impl ApiError {
    /// An error with the code's default message.
    #[must_use]
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: None,
            details: None,
            headers: Vec::new(),
            cause: None,
        }
    }

    /// Replaces the client-facing message.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the details object.
    #[must_use]
    pub fn details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Records the internal cause: logged, never sent to the client.
    #[must_use]
    pub fn cause(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// An unexpected failure; `cause` goes to the logs only.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::Unexpected).cause(cause)
    }

    /// The catalog code.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The internal cause, for the request log.
    #[must_use]
    pub fn internal_cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// The envelope for this error, with the request id filled in.
    #[must_use]
    pub fn body(&self, request_id: &str) -> ErrorBody {
        let mut body = ErrorBody::new(self.code, request_id);
        if let Some(m) = &self.message {
            body = body.with_message(m.clone());
        }
        if let Some(d) = &self.details {
            body = body.with_details(d.clone());
        }
        body
    }

    /// Renders the full response with the given request id.
    #[must_use]
    pub fn render(&self, request_id: &str) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        for (name, value) in &self.headers {
            res.insert_header((name.clone(), value.clone()));
        }
        res.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"));
        res.json(self.body(request_id))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            self.code,
            self.message
                .as_deref()
                .unwrap_or(self.code.default_message())
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Rendered without a request id here; the request middleware re-renders
    /// it with the id of the request (it sees the error on the response).
    fn error_response(&self) -> HttpResponse {
        self.render("")
    }
}

impl From<ytvc_persistence::DbError> for ApiError {
    fn from(e: ytvc_persistence::DbError) -> Self {
        ApiError::new(e.code()).cause(e)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = e.code();
        match e {
            AuthError::Validation(v) => v.into(),
            AuthError::EmailTaken => ApiError::new(code).message("This email cannot be registered"),
            AuthError::Forbidden(why) => ApiError::new(code).message(format!("Not allowed: {why}")),
            AuthError::MissingScope(scope) => ApiError::new(code)
                .message(format!("This API key lacks the scope `{scope}`"))
                .details(json!({ "scope": scope.as_str() })),
            AuthError::InvalidToken(why) => ApiError::new(code).cause(why),
            other => ApiError::new(code).cause(other),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(v: ValidationError) -> Self {
        ApiError::new(v.code())
            .message(v.to_string())
            .details(v.details())
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        ApiError::new(e.code()).cause(e)
    }
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        ApiError::new(e.code()).cause(e)
    }
}

impl From<ytvc_domain::videos::VideoError> for ApiError {
    fn from(e: ytvc_domain::videos::VideoError) -> Self {
        use ytvc_domain::videos::VideoError as E;
        let code = e.code();
        let header = || json!({ "header": "Idempotency-Key" });
        match e {
            E::Invalid(v) => v.into(),
            E::EmptyBatch => ApiError::new(code).message("A batch needs at least one video"),
            E::Quota { error, at } => super::quota::quota_error(&error, at),
            E::BadIdempotencyKey => ApiError::new(code)
                .message("Idempotency-Key must be 1..=255 visible ASCII characters")
                .details(header()),
            E::IdempotencyConflict => ApiError::new(code)
                .message("This Idempotency-Key was used with another request")
                .details(header()),
            E::IdempotencyRace => ApiError::new(code)
                .message("A request with this Idempotency-Key is in progress; retry")
                .details(header()),
            E::UserNotFound(Some(user)) => ApiError::new(code)
                .message("No user with this id")
                .details(json!({ "user_id": user.to_string() })),
            E::NotCancellable(status) => ApiError::new(code)
                .message(format!("The video is already {}", status.as_str()))
                .details(json!({ "status": status.as_str() })),
            E::BatchNotCancellable(status) => ApiError::new(code)
                .message(format!("The batch is already {}", status.as_str()))
                .details(json!({ "status": status.as_str() })),
            E::NotReady(status) => ApiError::new(code)
                .message(format!("The video is {}", status.as_str()))
                .details(json!({ "status": status.as_str() })),
            E::ArtifactNotFound(name) => ApiError::new(code)
                .message("No such artifact")
                .details(json!({ "name": name })),
            E::ArtifactsExpired(at) => ApiError::new(code)
                .message("The artifacts of this video were deleted by the retention policy")
                .details(json!({ "expired_at": ytvc_error_codes::format_timestamp(at) })),
            E::ArtifactUnreadable(cause) => ApiError::new(code).cause(cause),
            E::InvalidQuery { parameter, message } => ApiError::new(code)
                .message(message.map_or_else(|| format!("Invalid {parameter}"), str::to_owned))
                .details(json!({ "parameter": parameter })),
            E::Forbidden(why) => ApiError::new(code).message(why),
            E::UnknownPlan(plan) => ApiError::new(code).cause(format!("unknown plan {plan}")),
            E::Repo(cause) => cause.into(),
            other => ApiError::new(code).cause(other),
        }
    }
}

/// Maps actix's JSON body errors to the catalog (VAL_001, VAL_006, VAL_008).
pub fn json_error(err: &actix_web::error::JsonPayloadError, limit: usize) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::Overflow { .. } | J::OverflowKnownLength { .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge)
                .message(format!("Request body larger than {limit} bytes"))
                .details(json!({ "limit_bytes": limit }))
        }
        J::ContentType => ApiError::new(ErrorCode::MalformedRequest)
            .message("Content-Type must be application/json")
            .details(json!({ "expected_content_type": "application/json" })),
        J::Deserialize(e) => deserialize_error(e),
        J::Payload(actix_web::error::PayloadError::Overflow) => {
            ApiError::new(ErrorCode::PayloadTooLarge)
                .message(format!("Request body larger than {limit} bytes"))
                .details(json!({ "limit_bytes": limit }))
        }
        other => ApiError::new(ErrorCode::MalformedRequest).cause(other),
    }
}

/// A serde error as VAL_006 (missing field), VAL_007 (a value of the wrong
/// type or shape: the JSON is valid, the field is not) or VAL_001 (anything
/// else), with the position; never the body itself.
pub fn deserialize_error(e: &serde_json::Error) -> ApiError {
    field_error(None, e)
}

/// Parses a JSON value as `T`; a failure names the field (`videos[2].prompt`).
///
/// # Errors
/// As [`deserialize_error`], with `details.field` the path of the value.
pub fn parse_value<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(super::body::Strict(&body)).map_err(|e| {
        let path = e.path().to_string();
        let path = (path != ".").then_some(path);
        field_error(path, e.inner())
    })
}

fn field_error(path: Option<String>, e: &serde_json::Error) -> ApiError {
    let text = e.to_string();
    let reason = text.split(" at line ").next().unwrap_or(&text);
    let reason: String = reason.chars().take(200).collect();
    // serde: "missing field `prompt` at line 1 column 2"
    if let Some(rest) = text.strip_prefix("missing field `")
        && let Some(name) = rest.split('`').next()
    {
        let field = match path {
            Some(parent) => format!("{parent}.{name}"),
            None => name.to_owned(),
        };
        return ApiError::new(ErrorCode::MissingField)
            .message(format!("Required field '{field}' is missing"))
            .details(json!({ "field": field }));
    }
    // A well-formed body whose value does not fit its field ("invalid type:
    // string \"60\", expected i64"): the field's fault, not the JSON's.
    let misfit = [
        "invalid type",
        "invalid value",
        "invalid length",
        "unknown variant",
    ]
    .iter()
    .any(|p| text.starts_with(p));
    // A body of the wrong shape as a whole (`[]` for an object) has no
    // field to blame: VAL_001 below.
    if misfit && let Some(field) = path {
        return ApiError::new(ErrorCode::UnsupportedValue)
            .message(format!("Unsupported value for field '{field}': {reason}"))
            .details(json!({ "field": field, "reason": reason }));
    }
    let mut details = json!({ "reason": reason });
    let mut message = "Request body is not valid JSON for this endpoint".to_owned();
    // The body's own rules (`body::JsonObject`): one key once, an object.
    if let Some(rest) = text.strip_prefix("duplicate key `")
        && let Some(key) = rest.rsplit_once('`').map(|(k, _)| k)
    {
        message = format!("Duplicate key '{key}' in the request body");
        details["key"] = json!(key);
    } else if text.contains("expected a JSON object") {
        message = "Request body must be a JSON object".to_owned();
    }
    if e.line() > 0 {
        details["line"] = json!(e.line());
        details["column"] = json!(e.column());
    }
    ApiError::new(ErrorCode::MalformedRequest)
        .message(message)
        .details(details)
}

/// Maps query-string errors to VAL_009.
pub fn query_error(err: &actix_web::error::QueryPayloadError) -> ApiError {
    let reason: String = err.to_string().chars().take(200).collect();
    ApiError::new(ErrorCode::InvalidQuery).details(json!({ "reason": reason }))
}

/// Maps path-segment errors (a malformed id) to NOT_FOUND_004.
pub fn path_error(err: &actix_web::error::PathError) -> ApiError {
    ApiError::new(ErrorCode::ResourceNotFound).cause(err)
}

/// The error a response of `status` gets when no handler produced an
/// `ApiError` (actix's own 404/405/413 and the like).
#[must_use]
pub fn for_status(status: StatusCode, method: &str, path: &str) -> ApiError {
    match status.as_u16() {
        404 => ApiError::new(ErrorCode::ResourceNotFound)
            .message(format!("No route for {method} {path}"))
            .details(json!({ "method": method, "path": path })),
        // Its `Allow` header is kept (`middleware::finish`).
        405 => ApiError::new(ErrorCode::MethodNotAllowed)
            .message(format!("{method} is not allowed on {path}"))
            .details(json!({ "method": method, "path": path })),
        408 => ApiError::new(ErrorCode::BodyTimeout),
        400 | 415 => ApiError::new(ErrorCode::MalformedRequest),
        413 => ApiError::new(ErrorCode::PayloadTooLarge),
        503 => ApiError::new(ErrorCode::ServiceUnavailable),
        _ => ApiError::new(ErrorCode::Unexpected).cause(format!("unhandled status {status}")),
    }
}
