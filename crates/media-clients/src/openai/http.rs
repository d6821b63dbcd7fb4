//! One HTTP client per service (its timeouts and key), the error bodies of
//! OpenAI-compatible servers ([`ApiError`]) and the classification of every
//! answer: see the module docs of [`openai`](super) for the rules.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use ytvc_domain::media::{MediaError, Service};

use super::{CallTimeouts, Secret};
use crate::resilience::Failure;
use crate::wire::{
    bad_response, excerpt, parse_go_duration, parse_retry_after, read_capped, refused, rejected,
    seconds, transport_failure, unavailable,
};

/// The largest successful answer read (base64 images, a long WAV): 64 MB.
const MAX_ANSWER_BYTES: usize = 64 << 20;
/// The most of an error body read: 64 KB.
const MAX_ERROR_BYTES: usize = 64 << 10;

/// The error of a non-2xx answer, from whichever shape the server uses:
///
/// - `{"error": {"message", "type", "param", "code"}}` (OpenAI, Ollama,
///   vLLM, LocalAI; `code` may be a number);
/// - `{"error": "text"}` (LM Studio and others);
/// - the bare object `{"message", "type", "param", "code"}` (older vLLM);
/// - FastAPI's `{"detail": {"error", "message", "type"}}` (Kokoro-FastAPI),
///   `{"detail": "text"}` or `{"detail": [{"msg", ...}]}` (a 422);
/// - anything else: the start of the body as the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ApiError {
    /// The human-readable message.
    pub(super) message: String,
    /// `type` (`invalid_request_error`, `insufficient_quota`, `tokens`, ...).
    pub(super) kind: String,
    /// `code` (`model_not_found`, `rate_limit_exceeded`, ...; Kokoro's
    /// `detail.error` goes here too).
    pub(super) code: String,
    /// `param` (`response_format`, `model`, ...).
    pub(super) param: String,
}

impl ApiError {
    /// Reads an error body (see the type's docs).
    pub(super) fn from_body(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            let text = String::from_utf8_lossy(body);
            return Self {
                message: text.trim().to_owned(),
                ..Self::default()
            };
        };
        let value = match value {
            Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            other => other,
        };
        match value.get("error").or_else(|| value.get("detail")) {
            Some(Value::String(message)) => Self {
                message: message.clone(),
                ..Self::default()
            },
            Some(Value::Array(items)) => Self {
                message: items
                    .iter()
                    .filter_map(|i| i.get("msg").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("; "),
                ..Self::default()
            },
            Some(object @ Value::Object(_)) => Self::from_object(object),
            _ => Self::from_object(&value),
        }
    }

    fn from_object(object: &Value) -> Self {
        let text = |key: &str| match object.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let mut code = text("code");
        if code.is_empty() {
            // Kokoro-FastAPI: `{"detail": {"error": "model_not_found", ...}}`.
            code = text("error");
        }
        Self {
            message: text("message"),
            kind: text("type"),
            code,
            param: text("param"),
        }
    }

    /// Whether `code` or `type` is `word`.
    fn is(&self, word: &str) -> bool {
        self.code.eq_ignore_ascii_case(word) || self.kind.eq_ignore_ascii_case(word)
    }

    /// Whether a 429 means the account's quota or credit is used up
    /// (`insufficient_quota`), not a rate limit.
    pub(super) fn is_quota_exhausted(&self) -> bool {
        let m = self.message.to_ascii_lowercase();
        self.is("insufficient_quota")
            || self.is("billing_hard_limit_reached")
            || m.contains("exceeded your current quota")
            || m.contains("check your plan and billing")
    }

    /// Whether a 4xx is a safety block: Azure's `content_filter`, DALL·E's
    /// `content_policy_violation`, GPT image's `moderation_blocked`, or a
    /// message naming the safety system.
    pub(super) fn is_safety_block(&self) -> bool {
        let m = self.message.to_ascii_lowercase();
        self.is("content_filter")
            || self.is("content_policy_violation")
            || self.is("moderation_blocked")
            || m.contains("safety system")
            || m.contains("content management policy")
    }

    /// Whether the error is about the request parameter `param` (its
    /// `param`, or a message naming it): how a server says it does not
    /// support `response_format` / `json_schema`.
    pub(super) fn names_param(&self, param: &str, also: &str) -> bool {
        let m = self.message.to_ascii_lowercase();
        self.param.starts_with(param) || m.contains(param) || m.contains(also)
    }

    /// The reason for logs: `HTTP 404 model_not_found: <message excerpt>`.
    pub(super) fn reason(&self, status: u16) -> String {
        let mut out = format!("HTTP {status}");
        let label = if self.code.is_empty() {
            &self.kind
        } else {
            &self.code
        };
        if !label.is_empty() {
            out.push(' ');
            out.push_str(&excerpt(label));
        }
        if !self.message.is_empty() {
            out.push_str(": ");
            out.push_str(&excerpt(&self.message));
        }
        out
    }
}

/// A failed call: the classified [`Failure`], and what the server said
/// (for the callers that decide on it: the `response_format` fallbacks,
/// the model check).
#[derive(Debug, Clone)]
pub(super) struct HttpError {
    /// The classified failure.
    pub(super) failure: Failure,
    /// The HTTP status, if the server answered.
    pub(super) status: Option<u16>,
    /// The error body (empty without an answer), boxed: most calls succeed.
    pub(super) api: Box<ApiError>,
}

impl From<HttpError> for Failure {
    fn from(error: HttpError) -> Self {
        error.failure
    }
}

impl From<Failure> for HttpError {
    fn from(failure: Failure) -> Self {
        Self {
            failure,
            status: None,
            api: Box::default(),
        }
    }
}

/// A `reqwest` client for one service, and the key it sends.
#[derive(Debug, Clone)]
pub(super) struct Http {
    client: reqwest::Client,
    service: Service,
    key: Option<Secret>,
}

impl Http {
    /// A client with `timeouts` whose failures are `service`'s, sending
    /// `key` (if any) as a bearer token.
    pub(super) fn new(
        service: Service,
        timeouts: CallTimeouts,
        key: Option<Secret>,
    ) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .user_agent(concat!("ytvc/", env!("CARGO_PKG_VERSION")))
            // A redirect could carry the key elsewhere: none is followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            service,
            key,
        })
    }

    /// Whether a key is sent.
    pub(super) fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// POSTs `body` as JSON to `url`; a 2xx answer's body.
    pub(super) async fn post(&self, url: &str, body: &Value) -> Result<Vec<u8>, HttpError> {
        self.send(self.client.post(url).json(body)).await
    }

    /// GETs `url`; a 2xx answer's body.
    pub(super) async fn get(&self, url: &str) -> Result<Vec<u8>, HttpError> {
        self.send(self.client.get(url)).await
    }

    /// POSTs `body` and parses a 2xx answer as JSON (unparsable →
    /// `BadResponse`, never retried).
    pub(super) async fn post_json(&self, url: &str, body: &Value) -> Result<Value, HttpError> {
        let bytes = self.post(url, body).await?;
        self.json(&bytes)
    }

    /// Parses a 2xx body as JSON.
    pub(super) fn json(&self, bytes: &[u8]) -> Result<Value, HttpError> {
        serde_json::from_slice(bytes).map_err(|_| {
            Failure::permanent(bad_response(self.service, "the answer is not JSON")).into()
        })
    }

    async fn send(&self, mut request: RequestBuilder) -> Result<Vec<u8>, HttpError> {
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose());
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_failure(self.service, &e))?;
        let status = response.status();
        let cap = if status.is_success() {
            MAX_ANSWER_BYTES
        } else {
            MAX_ERROR_BYTES
        };
        let body = read_capped(self.service, &mut response, cap).await?;
        if status.is_success() {
            if body.cut {
                return Err(Failure::permanent(bad_response(
                    self.service,
                    format!("the answer is larger than {cap} bytes"),
                ))
                .into());
            }
            return Ok(body.bytes);
        }
        // An error body is classified on what was read: the status decides
        // most.
        let mut api = ApiError::from_body(&body.bytes);
        if let Some(key) = &self.key {
            api.message = redact(&api.message, key);
        }
        let failure = classify_status(
            self.service,
            status,
            response.headers(),
            &api,
            SystemTime::now(),
        );
        Err(HttpError {
            failure,
            status: Some(status.as_u16()),
            api: Box::new(api),
        })
    }
}

/// `text` with every occurrence of the key replaced by `***` (a server may
/// echo the key it refused).
fn redact(text: &str, key: &Secret) -> String {
    let key = key.expose();
    if key.len() < 4 {
        return text.to_owned();
    }
    text.replace(key, "***")
}

/// Classifies a non-2xx answer (see the module docs of [`openai`](super)).
pub(super) fn classify_status(
    service: Service,
    status: StatusCode,
    headers: &HeaderMap,
    api: &ApiError,
    now: SystemTime,
) -> Failure {
    let code = status.as_u16();
    let reason = api.reason(code);
    match code {
        429 if api.is_quota_exhausted() => {
            Failure::permanent(MediaError::QuotaExhausted { service })
        }
        429 => Failure::transient(unavailable(service, reason))
            .retry_after(rate_limit_wait(headers, api, now)),
        408 | 504 => Failure::transient(MediaError::Timeout { service })
            .retry_after(server_wait(headers, now)),
        // 409: a lock timeout, which OpenAI's own client retries.
        409 | 500..=599 => {
            Failure::transient(unavailable(service, reason)).retry_after(server_wait(headers, now))
        }
        400..=499 if api.is_safety_block() => Failure::permanent(refused(service, reason)),
        400..=499 => Failure::permanent(rejected(service, reason)),
        // Redirects are not followed (they could carry the key elsewhere):
        // the base URL is to be fixed.
        300..=399 => {
            let to = header(headers, LOCATION.as_str()).map_or(String::new(), excerpt);
            Failure::permanent(rejected(
                service,
                format!("HTTP {code} to {to:?} not followed: set the base URL to the final one"),
            ))
        }
        _ => Failure::permanent(bad_response(service, format!("unexpected HTTP {code}"))),
    }
}

/// The header `name` as text.
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The wait a server asks for: `retry-after-ms` (OpenAI's), else
/// `Retry-After` (seconds or an HTTP date).
fn server_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    header(headers, "retry-after-ms")
        .and_then(|ms| ms.trim().parse::<f64>().ok())
        .and_then(|ms| seconds(ms / 1000.0))
        .or_else(|| header(headers, RETRY_AFTER.as_str()).and_then(|v| parse_retry_after(v, now)))
}

/// The wait of a rate-limited (429) answer: the server's
/// [`server_wait`], else the reset of the limit that was hit
/// (`x-ratelimit-reset-requests` / `-tokens`: the one whose
/// `x-ratelimit-remaining-*` is 0, else the one the error's `type` or
/// message names, else the longer), else the message's "try again in 1.5s".
fn rate_limit_wait(headers: &HeaderMap, api: &ApiError, now: SystemTime) -> Option<Duration> {
    if let Some(wait) = server_wait(headers, now) {
        return Some(wait);
    }
    let reset = |what: &str| {
        header(headers, &format!("x-ratelimit-reset-{what}")).and_then(parse_go_duration)
    };
    let exhausted = |what: &str| {
        header(headers, &format!("x-ratelimit-remaining-{what}"))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .is_some_and(|left| left <= 0.0)
    };
    let message = api.message.to_ascii_lowercase();
    let names = |what: &str| {
        api.kind.eq_ignore_ascii_case(what) || message.contains(&format!("{what} per"))
    };
    let (requests, tokens) = (reset("requests"), reset("tokens"));
    let hit = match (exhausted("requests"), exhausted("tokens")) {
        (true, false) => requests,
        (false, true) => tokens,
        _ if names("requests") && !names("tokens") => requests.or(tokens),
        _ if names("tokens") && !names("requests") => tokens.or(requests),
        _ => requests.max(tokens),
    };
    hit.or_else(|| message_wait(&api.message))
}

/// "Please try again in 644ms." / "in 1.5s" / "in 7m12s" in a message.
fn message_wait(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("try again in ")? + "try again in ".len();
    let token: String = lower[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    parse_go_duration(token.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn api(body: &Value) -> ApiError {
        ApiError::from_body(body.to_string().as_bytes())
    }

    fn classify(status: u16, headers: &[(&str, &str)], body: &Value) -> Failure {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        classify_status(
            Service::Llm,
            StatusCode::from_u16(status).unwrap(),
            &map,
            &api(body),
            SystemTime::now(),
        )
    }

    #[test]
    fn error_shapes() {
        let openai = api(
            &json!({"error": {"message": "The model `gpt-9` does not exist or you do not have access to it.",
            "type": "invalid_request_error", "param": null, "code": "model_not_found"}}),
        );
        assert_eq!(openai.code, "model_not_found");
        assert_eq!(
            openai.reason(404),
            "HTTP 404 model_not_found: The model `gpt-9` does not exist or you do not have access to it."
        );
        let kokoro = api(
            &json!({"detail": {"error": "model_not_found", "message": "Model 'x' not found", "type": "invalid_request_error"}}),
        );
        assert_eq!(
            (kokoro.code.as_str(), kokoro.message.as_str()),
            ("model_not_found", "Model 'x' not found")
        );
        let lm_studio =
            api(&json!({"error": "'response_format.json_schema.schema' must be an object"}));
        assert!(lm_studio.names_param("response_format", "json_schema"));
        let fastapi = api(
            &json!({"detail": [{"loc": ["body", "speed"], "msg": "Input should be less than or equal to 4", "type": "less_than_equal"}]}),
        );
        assert_eq!(fastapi.message, "Input should be less than or equal to 4");
        let local_ai = api(&json!({"error": {"code": 500, "message": "rpc error", "type": ""}}));
        assert_eq!(local_ai.code, "500");
        let text = ApiError::from_body(b"404 page not found");
        assert_eq!(text.message, "404 page not found");
    }

    #[test]
    fn quota_and_rate_limits() {
        let quota = json!({"error": {"message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}});
        let f = classify(429, &[("retry-after", "1")], &quota);
        assert!(f.permanent && matches!(f.error, MediaError::QuotaExhausted { .. }));

        let tpm = json!({"error": {"message": "Rate limit reached for gpt-4o-mini in organization org-x on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms.",
            "type": "tokens", "param": null, "code": "rate_limit_exceeded"}});
        let ms = Duration::from_millis;
        let f = classify(429, &[], &tpm);
        assert!(f.may_retry());
        assert_eq!(f.retry_after, Some(ms(644)), "from the message");
        let both = [
            ("x-ratelimit-reset-requests", "20ms"),
            ("x-ratelimit-reset-tokens", "6m0s"),
        ];
        assert_eq!(classify(429, &both, &tpm).retry_after, Some(ms(360_000)));
        let rpm = json!({"error": {"message": "Rate limit reached on requests per min (RPM)", "type": "requests", "code": "rate_limit_exceeded"}});
        assert_eq!(classify(429, &both, &rpm).retry_after, Some(ms(20)));
        let remaining = [
            ("x-ratelimit-reset-requests", "1s"),
            ("x-ratelimit-reset-tokens", "6m0s"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-remaining-tokens", "149984"),
        ];
        assert_eq!(
            classify(429, &remaining, &json!({})).retry_after,
            Some(ms(1000))
        );
        assert_eq!(
            classify(
                429,
                &[("retry-after-ms", "250"), ("retry-after", "9")],
                &tpm
            )
            .retry_after,
            Some(ms(250))
        );
        assert_eq!(
            classify(503, &[("retry-after", "2")], &json!({})).retry_after,
            Some(ms(2000))
        );
    }

    #[test]
    fn statuses() {
        let not_found = json!({"error": {"message": "model \"llama3\" not found, try pulling it first", "type": "not_found_error"}});
        for status in [400, 401, 403, 404, 422] {
            let f = classify(status, &[], &not_found);
            assert!(f.permanent && matches!(f.error, MediaError::Rejected { .. }));
            assert!(!f.error.retryable(), "the job is not retried either");
        }
        for status in [409, 500, 502, 503] {
            let f = classify(status, &[], &json!({"error": {"message": "overloaded"}}));
            assert!(f.may_retry() && matches!(f.error, MediaError::Unavailable { .. }));
        }
        assert!(matches!(
            classify(504, &[], &json!({})).error,
            MediaError::Timeout { .. }
        ));
        let moved = classify(
            301,
            &[("location", "https://api.example.test/v1/chat")],
            &json!({}),
        );
        assert!(moved.permanent && matches!(moved.error, MediaError::Rejected { .. }));
        assert!(
            moved
                .error
                .to_string()
                .contains("\"https://api.example.test/v1/chat\" not followed")
        );
        let blocked = json!({"error": {"message": "Your request was rejected by the safety system.", "type": "image_generation_user_error", "code": "moderation_blocked"}});
        assert!(matches!(
            classify(400, &[], &blocked).error,
            MediaError::Refused { .. }
        ));
    }

    #[test]
    fn an_echoed_key_is_redacted() {
        let key = Secret::new("sk-proj-abcdefghijklmnop");
        let echoed = format!("Incorrect API key provided: {}.", key.expose());
        assert_eq!(redact(&echoed, &key), "Incorrect API key provided: ***.");
    }
}
