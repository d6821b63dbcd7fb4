//! The two response envelopes every ytvc endpoint answers with.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// Serialises instants as RFC 3339 UTC with millisecond precision and a `Z`.
mod rfc3339_millis {
    use super::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// The success envelope: `{"data": <T>, "timestamp": "<RFC 3339>"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiResponse<T> {
    /// The payload.
    pub data: T,
    /// When the response was produced (RFC 3339, UTC).
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub timestamp: DateTime<Utc>,
}

impl<T> ApiResponse<T> {
    /// Wraps `data`, stamped now.
    pub fn new(data: T) -> Self {
        Self::at(data, Utc::now())
    }

    /// Wraps `data` with an explicit timestamp.
    pub fn at(data: T, timestamp: DateTime<Utc>) -> Self {
        Self { data, timestamp }
    }
}

/// One page of a list: the items and the cursor of the next page, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items of this page, newest first.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The error envelope:
/// `{"error": {"code","message","details","request_id"}, "timestamp"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "error": {
        "code": "VAL_002",
        "message": "Prompt too short (min 10 chars)",
        "details": {"field": "prompt", "length": 5},
        "request_id": "0b9c2f8e-5d1f-4f7e-9b7a-2f1c3d4e5f60"
    },
    "timestamp": "2026-01-28T14:00:00.000Z"
})))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
    /// When the response was produced (RFC 3339, UTC).
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub timestamp: DateTime<Utc>,
}

/// The inside of the error envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// The catalog code, e.g. `VAL_002`.
    pub code: ErrorCode,
    /// A human-readable, client-safe message.
    pub message: String,
    /// Structured details (which field, which limit); `null` when there are none.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
    /// The request id (also in the `X-Request-Id` header), for support.
    pub request_id: String,
}

impl ErrorBody {
    /// An error body with the code's default message and no details.
    pub fn new(code: ErrorCode, request_id: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: code.default_message().to_owned(),
                details: None,
                request_id: request_id.into(),
            },
            timestamp: Utc::now(),
        }
    }

    /// Replaces the message.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.error.message = message.into();
        self
    }

    /// Sets the details object.
    #[must_use]
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.error.details = Some(details);
        self
    }

    /// Sets the timestamp (tests, replay).
    #[must_use]
    pub fn at(mut self, timestamp: DateTime<Utc>) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// The HTTP status this body is sent with.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        self.error.code.http_status()
    }
}

/// Formats an instant the way every ytvc timestamp is written.
#[must_use]
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 28, 14, 0, 0).unwrap()
    }

    #[test]
    fn success_envelope_json_is_stable() {
        let body = ApiResponse::at(json!({"id": 1}), t0());
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"data":{"id":1},"timestamp":"2026-01-28T14:00:00.000Z"}"#
        );
    }

    #[test]
    fn error_envelope_json_is_stable() {
        let body = ErrorBody::new(ErrorCode::PromptTooShort, "req-1")
            .with_details(json!({"field": "prompt", "length": 5}))
            .at(t0());
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"VAL_002","message":"Prompt too short (min 10 chars)","details":{"field":"prompt","length":5},"request_id":"req-1"},"timestamp":"2026-01-28T14:00:00.000Z"}"#
        );
        assert_eq!(body.http_status(), 422);
        let back: ErrorBody = serde_json::from_str(&serde_json::to_string(&body).unwrap()).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn error_without_details_has_null_details() {
        let body = ErrorBody::new(ErrorCode::Unexpected, "r").at(t0());
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["error"]["details"], serde_json::Value::Null);
        assert_eq!(v["error"]["message"], "Internal server error");
    }

    #[test]
    fn page_has_next_cursor() {
        let page = Page {
            items: vec![1, 2],
            next_cursor: None,
        };
        assert_eq!(
            serde_json::to_string(&page).unwrap(),
            r#"{"items":[1,2],"next_cursor":null}"#
        );
    }
}
