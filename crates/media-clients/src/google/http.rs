//! One HTTP client per service (its connect and total timeouts), and the
//! classification of every answer into a [`Failure`]: see the module docs of
//! [`google`](super) for the rules.

use std::time::{Duration, SystemTime};

use std::future::Future;

use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use ytvc_domain::media::{MediaError, Service};

use super::config::CallTimeouts;
use crate::resilience::Failure;

pub(crate) use crate::wire::{bad_response, excerpt, refused, unavailable};

/// `@type` of the google.rpc details the classification reads.
const RETRY_INFO: &str = "type.googleapis.com/google.rpc.RetryInfo";
const QUOTA_FAILURE: &str = "type.googleapis.com/google.rpc.QuotaFailure";
const ERROR_INFO: &str = "type.googleapis.com/google.rpc.ErrorInfo";

/// The most redirects a download follows.
const MAX_REDIRECTS: usize = 5;

/// A `reqwest` client for one service.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    service: Service,
}

impl Http {
    /// A client with `timeouts` whose failures are `service`'s.
    pub(crate) fn new(service: Service, timeouts: CallTimeouts) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .user_agent(concat!("ytvc/", env!("CARGO_PKG_VERSION")))
            // Redirects are followed by `get_following` only, which decides
            // where credentials may go.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, service })
    }

    /// The underlying client (to build requests).
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request`; a 2xx answer's body, else the classified failure.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Vec<u8>, Failure> {
        let response = request
            .send()
            .await
            .map_err(|e| transport_failure(self.service, &e))?;
        self.body_of(response).await
    }

    /// GETs `url`, following up to [`MAX_REDIRECTS`] redirects itself:
    /// `authorize` adds credentials only to URLs under `trusted` (a URL
    /// prefix), so a key never follows a redirect to another host.
    pub(crate) async fn get_following<A, Fut>(
        &self,
        url: &str,
        trusted: Option<&str>,
        authorize: A,
    ) -> Result<Vec<u8>, Failure>
    where
        A: Fn(RequestBuilder) -> Fut,
        Fut: Future<Output = Result<RequestBuilder, Failure>>,
    {
        let unusable = |what: &str| Failure::permanent(bad_response(self.service, what));
        let mut current =
            reqwest::Url::parse(url).map_err(|_| unusable("the download URI is not a URL"))?;
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self.client.get(current.clone());
            if trusted.is_some_and(|t| current.as_str().starts_with(t)) {
                request = authorize(request).await?;
            }
            let response = request
                .send()
                .await
                .map_err(|e| transport_failure(self.service, &e))?;
            if !response.status().is_redirection() {
                return self.body_of(response).await;
            }
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| unusable("a redirect without a location"))?;
            current = current
                .join(location)
                .map_err(|_| unusable("a redirect to an invalid location"))?;
            if !matches!(current.scheme(), "https" | "http") {
                return Err(unusable("a redirect to a non-HTTP location"));
            }
        }
        Err(unusable("too many redirects"))
    }

    async fn body_of(&self, mut response: reqwest::Response) -> Result<Vec<u8>, Failure> {
        let status = response.status();
        let headers = response.headers().clone();
        // Read in chunks up to a cap: an answer is never buffered without
        // bound (a clip or base64 media is tens of MB at most; an error
        // body is small).
        let cap = if status.is_success() {
            MAX_ANSWER_BYTES
        } else {
            MAX_ERROR_BYTES
        };
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_failure(self.service, &e))?
        {
            if body.len() + chunk.len() > cap {
                if !status.is_success() {
                    // Classify on what was read: the status decides most.
                    break;
                }
                return Err(Failure::permanent(bad_response(
                    self.service,
                    format!("the answer is larger than {cap} bytes"),
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            Ok(body)
        } else {
            Err(classify_status(self.service, status, &headers, &body))
        }
    }

    /// Sends `request` and parses a 2xx answer as JSON (unparsable →
    /// `BadResponse`, never retried).
    pub(crate) async fn send_json(&self, request: RequestBuilder) -> Result<Value, Failure> {
        let body = self.send(request).await?;
        serde_json::from_slice(&body)
            .map_err(|_| Failure::permanent(bad_response(self.service, "the answer is not JSON")))
    }
}

/// The largest successful answer read (a Veo clip, base64 images or audio
/// in JSON): 256 MB.
const MAX_ANSWER_BYTES: usize = 256 << 20;
/// The most of an error body read: 64 KB.
const MAX_ERROR_BYTES: usize = 64 << 10;

/// A failure before any HTTP status: a timeout (connect or total) is
/// `Timeout`, anything else (refused connection, reset, broken body) is
/// `Unavailable`; both may be retried. The URL is left out of the reason.
pub(crate) fn transport_failure(service: Service, error: &reqwest::Error) -> Failure {
    if error.is_timeout() {
        return Failure::transient(MediaError::Timeout { service });
    }
    let what = if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "reading the answer failed"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    let reason = if detail.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {}", excerpt(&detail))
    };
    Failure::transient(unavailable(service, reason))
}

/// A `google.rpc.Status`, as found in `{"error": {...}}` bodies and in a
/// long-running operation's `error`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RpcStatus {
    /// The HTTP code in an error body, the `google.rpc.Code` in an operation.
    pub(crate) code: i64,
    /// `RESOURCE_EXHAUSTED`, `UNAVAILABLE`, ... (empty when absent).
    pub(crate) status: String,
    /// The human-readable message.
    pub(crate) message: String,
    /// The `details[]` objects.
    pub(crate) details: Vec<Value>,
}

impl RpcStatus {
    /// Reads an error body: `{"error": {...}}`, a one-element array of it
    /// (some endpoints), or a bare status object. Anything else gives an
    /// empty status.
    pub(crate) fn from_body(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Self::default();
        };
        let value = match value {
            Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            other => other,
        };
        Self::from_value(value.get("error").unwrap_or(&value))
    }

    /// Reads a status object (`code`, `status`, `message`, `details`).
    pub(crate) fn from_value(value: &Value) -> Self {
        Self {
            code: value.get("code").and_then(Value::as_i64).unwrap_or(0),
            status: str_at(value, "status").to_owned(),
            message: str_at(value, "message").to_owned(),
            details: value
                .get("details")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn details_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.details
            .iter()
            .filter(move |d| d.get("@type").and_then(Value::as_str) == Some(kind))
    }

    /// The `RetryInfo.retryDelay`, if any.
    pub(crate) fn retry_delay(&self) -> Option<Duration> {
        self.details_of(RETRY_INFO)
            .find_map(|d| d.get("retryDelay"))
            .and_then(|d| match d {
                Value::String(s) => parse_proto_duration(s),
                // The proto form `{"seconds": 37, "nanos": 0}`.
                Value::Object(_) => {
                    let secs = d.get("seconds").and_then(json_u64).unwrap_or(0);
                    let nanos = d.get("nanos").and_then(json_u64).unwrap_or(0);
                    // A huge value is simply "too long" (never waited for),
                    // never an overflow.
                    Duration::from_secs(secs)
                        .checked_add(Duration::from_nanos(nanos))
                        .or(Some(Duration::MAX))
                }
                _ => None,
            })
    }

    /// Whether the status looks like a safety block (a 4xx or a failed
    /// operation whose message names the safety filters).
    pub(crate) fn is_safety_block(&self) -> bool {
        let m = self.message.to_ascii_lowercase();
        [
            "responsible ai",
            "usage guidelines",
            "sensitive words",
            "safety",
            "prohibited",
            "violat",
            "filtered",
        ]
        .iter()
        .any(|w| m.contains(w))
    }

    /// The reason string for logs: `HTTP 503 UNAVAILABLE: <message excerpt>`.
    pub(crate) fn reason(&self, prefix: &str) -> String {
        let mut out = prefix.to_owned();
        if !self.status.is_empty() {
            out.push(' ');
            out.push_str(&self.status);
        }
        if !self.message.is_empty() {
            out.push_str(": ");
            out.push_str(&excerpt(&self.message));
        }
        out
    }

    /// The quota verdict of a 429 / `RESOURCE_EXHAUSTED` (see the module
    /// docs of [`google`](super)).
    pub(crate) fn quota_verdict(&self) -> QuotaVerdict {
        // Every name a quota limit goes by in the answer, and whether each
        // `QuotaFailure` violation names a per-day quota.
        let mut names: Vec<String> = Vec::new();
        let mut zero_limit = false;
        let mut violations = 0usize;
        let mut other_violations = 0usize;
        for detail in self.details_of(QUOTA_FAILURE) {
            for v in detail
                .get("violations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                violations += 1;
                let own: Vec<String> = ["quotaId", "quotaMetric", "subject", "description"]
                    .iter()
                    .map(|key| str_at(v, key).to_ascii_lowercase())
                    .collect();
                if !own.iter().any(|n| names_per_day(n)) {
                    other_violations += 1;
                }
                names.extend(own);
                zero_limit |= v.get("quotaValue").is_some_and(is_zero);
            }
        }
        for detail in self.details_of(ERROR_INFO) {
            if let Some(meta) = detail.get("metadata") {
                for key in ["quota_limit", "quota_metric", "quota_location"] {
                    names.push(str_at(meta, key).to_ascii_lowercase());
                }
                zero_limit |= meta.get("quota_limit_value").is_some_and(is_zero);
            }
        }
        let message = self.message.to_ascii_lowercase();
        names.push(message.clone());
        zero_limit |= message.contains("limit: 0,") || message.ends_with("limit: 0");

        if zero_limit {
            return QuotaVerdict::Exhausted;
        }
        let retry_info = self.retry_delay().is_some();
        if names.iter().any(|n| names_per_day(n)) {
            // A per-day quota listed beside shorter ones, with a RetryInfo:
            // the server says when to come back, so it is capacity. Alone,
            // or without a RetryInfo, it resets tomorrow.
            return if retry_info && other_violations > 0 {
                QuotaVerdict::Capacity
            } else {
                QuotaVerdict::Exhausted
            };
        }
        if retry_info {
            return QuotaVerdict::Capacity;
        }
        let per_minute = names.iter().any(|n| {
            [
                "perminute",
                "per minute",
                "per_minute",
                "per-minute",
                "persecond",
            ]
            .iter()
            .any(|w| n.contains(w))
        });
        if per_minute || message.contains("try again later") {
            return QuotaVerdict::Capacity;
        }
        let quota_words = [
            "exceeded your current quota",
            "quota exceeded",
            "check your plan and billing",
            "billing details",
        ];
        if violations > 0 || quota_words.iter().any(|w| message.contains(w)) {
            return QuotaVerdict::Exhausted;
        }
        QuotaVerdict::Capacity
    }
}

/// Whether a (lower-case) quota name or message names a per-day quota.
fn names_per_day(name: &str) -> bool {
    ["perday", "per day", "per_day", "daily", "per-day"]
        .iter()
        .any(|w| name.contains(w))
}

/// What a 429 / `RESOURCE_EXHAUSTED` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuotaVerdict {
    /// Short-term: capacity or a per-minute rate limit. Retried.
    Capacity,
    /// The quota is used up until it resets (a day) or was never granted.
    /// Final.
    Exhausted,
}

/// Classifies a non-2xx answer (see the module docs of [`google`](super)).
pub(crate) fn classify_status(
    service: Service,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Failure {
    let rpc = RpcStatus::from_body(body);
    let server_wait = rpc.retry_delay().or_else(|| {
        headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()))
    });
    let prefix = format!("HTTP {}", status.as_u16());
    match status.as_u16() {
        429 => match rpc.quota_verdict() {
            QuotaVerdict::Exhausted => Failure::permanent(MediaError::QuotaExhausted { service }),
            QuotaVerdict::Capacity => Failure::transient(unavailable(service, rpc.reason(&prefix)))
                .retry_after(server_wait),
        },
        408 | 504 => Failure::transient(MediaError::Timeout { service }).retry_after(server_wait),
        500..=599 => {
            Failure::transient(unavailable(service, rpc.reason(&prefix))).retry_after(server_wait)
        }
        400 | 403 if rpc.is_safety_block() => {
            Failure::permanent(refused(service, rpc.reason(&prefix)))
        }
        400..=499 => Failure::permanent(MediaError::Rejected {
            service,
            reason: rpc.reason(&prefix),
        }),
        _ => Failure::permanent(bad_response(service, format!("unexpected {prefix}"))),
    }
}

/// Classifies the `error` of a finished long-running operation (a
/// `google.rpc.Status` with a `google.rpc.Code`): `Err((error, counts))`
/// where `counts` says whether the service's breaker should count it as a
/// failure.
pub(crate) fn classify_operation_error(service: Service, rpc: &RpcStatus) -> (MediaError, bool) {
    let prefix = format!("operation failed (code {})", rpc.code);
    match rpc.code {
        // DEADLINE_EXCEEDED
        4 => (MediaError::Timeout { service }, true),
        // RESOURCE_EXHAUSTED
        8 => match rpc.quota_verdict() {
            QuotaVerdict::Exhausted => (MediaError::QuotaExhausted { service }, false),
            QuotaVerdict::Capacity => (unavailable(service, rpc.reason(&prefix)), true),
        },
        // UNKNOWN, ABORTED, INTERNAL, UNAVAILABLE
        2 | 10 | 13 | 14 => (unavailable(service, rpc.reason(&prefix)), true),
        _ if rpc.is_safety_block() => (refused(service, rpc.reason(&prefix)), false),
        // PERMISSION_DENIED, UNAUTHENTICATED
        7 | 16 => (unavailable(service, rpc.reason(&prefix)), false),
        _ => (bad_response(service, rpc.reason(&prefix)), false),
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (a date in the past
/// is zero).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses a JSON `google.protobuf.Duration` (`"37s"`, `"0.050s"`).
pub(crate) fn parse_proto_duration(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().strip_suffix('s')?.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

/// The string at `key`, or `""`.
pub(crate) fn str_at<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn json_u64(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

fn is_zero(value: &Value) -> bool {
    json_u64(value) == Some(0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn classify(status: u16, body: &Value) -> Failure {
        classify_status(
            Service::Llm,
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.to_string().as_bytes(),
        )
    }

    fn too_many(message: &str, details: &Value) -> Value {
        json!({"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED", "details": details}})
    }

    #[test]
    fn durations() {
        assert_eq!(parse_proto_duration("37s"), Some(Duration::from_secs(37)));
        assert_eq!(
            parse_proto_duration("0.050s"),
            Some(Duration::from_millis(50))
        );
        assert_eq!(parse_proto_duration("-1s"), None);
        assert_eq!(parse_proto_duration("12"), None);
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn a_rejected_request_is_final_for_the_call_and_the_job() {
        let body = json!({"error": {"code": 403,
            "message": "Cloud Text-to-Speech API has not been used in project 123 before or it is disabled.",
            "status": "PERMISSION_DENIED"}});
        let f = classify_status(
            Service::Tts,
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            body.to_string().as_bytes(),
        );
        assert!(f.permanent && !f.may_retry());
        assert!(
            matches!(f.error, MediaError::Rejected { .. }),
            "{:?}",
            f.error
        );
        assert_eq!(f.error.code().as_str(), "MEDIA_003");
        assert!(!f.error.retryable(), "the job is not retried either");
    }

    #[test]
    fn quota_rules() {
        let per_minute = json!([
            {"@type": QUOTA_FAILURE, "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                "quotaValue": "10"}]},
            {"@type": RETRY_INFO, "retryDelay": "37s"}
        ]);
        let billing =
            "You exceeded your current quota, please check your plan and billing details.";
        let f = classify(429, &too_many(billing, &per_minute));
        assert!(!f.permanent && f.retry_after == Some(Duration::from_secs(37)));
        assert!(matches!(f.error, MediaError::Unavailable { .. }));

        let per_day = json!([
            {"@type": QUOTA_FAILURE, "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                "quotaValue": "250"}]},
            {"@type": RETRY_INFO, "retryDelay": "43000s"}
        ]);
        let f = classify(429, &too_many(billing, &per_day));
        assert!(f.permanent);
        assert_eq!(
            f.error,
            MediaError::QuotaExhausted {
                service: Service::Llm
            }
        );

        // A per-day quota among per-minute ones, with a RetryInfo (the
        // shape of googleapis/python-genai#2044): the server's delay is
        // honoured. Without the RetryInfo it is final.
        let violation = |metric: &str, id: &str| {
            json!({"quotaMetric": format!("generativelanguage.googleapis.com/{metric}"),
                "quotaId": id, "quotaDimensions": {"location": "global", "model": "gemini-3.8-flash"}})
        };
        let several = [
            violation(
                "generate_content_free_tier_requests",
                "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            ),
            violation(
                "generate_content_free_tier_requests",
                "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            ),
            violation(
                "generate_content_free_tier_input_token_count",
                "GenerateContentInputTokensPerModelPerMinute-FreeTier",
            ),
        ];
        let mixed = json!([
            {"@type": QUOTA_FAILURE, "violations": several},
            {"@type": RETRY_INFO, "retryDelay": "47s"}
        ]);
        let f = classify(429, &too_many(billing, &mixed));
        assert!(!f.permanent, "{:?}", f.error);
        assert_eq!(f.retry_after, Some(Duration::from_secs(47)));
        assert!(matches!(f.error, MediaError::Unavailable { .. }));
        let no_hint = json!([{"@type": QUOTA_FAILURE, "violations": several}]);
        assert!(classify(429, &too_many(billing, &no_hint)).permanent);
        // Several violations, every one per day: final despite the hint.
        let daily = json!([
            {"@type": QUOTA_FAILURE, "violations": [
                violation("generate_content_free_tier_requests", "GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
                violation("generate_content_free_tier_input_token_count", "GenerateContentInputTokensPerModelPerDay-FreeTier")]},
            {"@type": RETRY_INFO, "retryDelay": "47s"}
        ]);
        assert!(classify(429, &too_many(billing, &daily)).permanent);

        // Only a Help link: the billing message decides.
        let help = json!([{"@type": "type.googleapis.com/google.rpc.Help", "links": []}]);
        assert!(classify(429, &too_many(billing, &help)).permanent);
        // Zero limit: never granted.
        let zero = json!([{"@type": QUOTA_FAILURE, "violations": [{
            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "quotaValue": "0"}]}]);
        assert!(classify(429, &too_many(billing, &zero)).permanent);
        // ErrorInfo naming a daily limit.
        let info = json!([{"@type": ERROR_INFO, "reason": "RATE_LIMIT_EXCEEDED",
            "metadata": {"quota_limit": "Gemini25ProRequestsPerDay"}}]);
        assert!(classify(429, &too_many("Quota exceeded for quota metric", &info)).permanent);

        // An absurd proto-form delay is "too long", never an overflow panic.
        let huge = json!([{"@type": RETRY_INFO,
            "retryDelay": {"seconds": "18446744073709551615", "nanos": 999_999_999}}]);
        let f = classify(429, &too_many("Please try again later.", &huge));
        assert_eq!(f.retry_after, Some(Duration::MAX));
        assert_eq!(
            crate::resilience::Backoff::default().delay(1, 0.5, f.retry_after),
            None
        );

        // Capacity: retried.
        for message in [
            "Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
            "Resource has been exhausted (e.g. check quota).",
        ] {
            let f = classify(429, &too_many(message, &json!([])));
            assert!(!f.permanent, "{message}");
            assert!(f.may_retry());
        }
    }

    #[test]
    fn statuses() {
        let body = json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}});
        let f = classify(503, &body);
        assert!(f.may_retry());
        assert_eq!(
            f.error.to_string(),
            "llm unavailable: HTTP 503 UNAVAILABLE: The model is overloaded."
        );
        let f = classify(
            400,
            &json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}}),
        );
        assert!(f.permanent && matches!(f.error, MediaError::Rejected { .. }));
        let f = classify(
            400,
            &json!({"error": {"code": 400, "message": "Image generation failed with the following error: The prompt could not be submitted. This prompt contains sensitive words that violate Google's Responsible AI practices.", "status": "INVALID_ARGUMENT"}}),
        );
        assert!(f.permanent && matches!(f.error, MediaError::Refused { .. }));
        assert!(classify(408, &json!({})).may_retry());
        assert!(matches!(
            classify(504, &json!("x")).error,
            MediaError::Timeout { .. }
        ));
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        let f = classify_status(
            Service::Tts,
            StatusCode::SERVICE_UNAVAILABLE,
            &headers,
            b"<html>",
        );
        assert_eq!(f.retry_after, Some(Duration::from_secs(3)));
    }

    #[test]
    fn operation_errors() {
        let rpc = |code, message: &str| RpcStatus {
            code,
            message: message.into(),
            ..RpcStatus::default()
        };
        let (e, counts) = classify_operation_error(Service::Veo, &rpc(13, "Internal error"));
        assert!(counts && matches!(e, MediaError::Unavailable { .. }));
        let (e, counts) = classify_operation_error(
            Service::Veo,
            &rpc(3, "The prompt violates Vertex AI's usage guidelines."),
        );
        assert!(!counts && matches!(e, MediaError::Refused { .. }));
        assert_eq!(e.code().as_str(), "VIDEO_001");
        let (e, _) = classify_operation_error(Service::Veo, &rpc(3, "bad aspect ratio"));
        assert!(matches!(e, MediaError::BadResponse { .. }));
    }
}
