//! What one operation of the document implies, whatever its annotation
//! says: the responses it must document and the catalog codes they show.

use serde_json::{Map, Value};
use ytvc_error_codes::ErrorCode;

/// Operations with a rate limit of their own, on top of the general API one.
pub(super) const RESOURCE_RATE_LIMITS: [(&str, &str, ErrorCode); 2] = [
    ("post", "/v1/videos", ErrorCode::VideoRateExceeded),
    ("post", "/v1/batches", ErrorCode::BatchRateExceeded),
];

/// The NOT_FOUND code of the resource a path names, by prefix, the first
/// match winning (else NOT_FOUND_004).
pub(super) const NOT_FOUND_BY_PREFIX: [(&str, ErrorCode); 5] = [
    ("/v1/videos/{id}/artifacts/", ErrorCode::ResourceNotFound),
    ("/v1/videos/", ErrorCode::VideoNotFound),
    ("/v1/batches/", ErrorCode::BatchNotFound),
    ("/v1/admin/users/", ErrorCode::UserNotFound),
    ("/v1/api-keys/", ErrorCode::ApiKeyNotFound),
];

/// What one operation is, as far as completion cares.
pub(super) struct Op<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) secured: bool,
    /// The component name of the JSON request body (`""` when inline), if any.
    pub(super) json_body: Option<String>,
    /// The required fields of the JSON request body.
    pub(super) body_required: Vec<String>,
    /// Whether the JSON request body has fields (one of the wrong type is VAL_007).
    pub(super) body_fields: bool,
    pub(super) query: bool,
    pub(super) idempotency_key: bool,
}

impl<'a> Op<'a> {
    pub(super) fn new(
        method: &'a str,
        path: &'a str,
        op: &Value,
        schemas: &Map<String, Value>,
    ) -> Self {
        let secured = op["security"]
            .as_array()
            .is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()));
        let body_schema = op
            .pointer("/requestBody/content/application~1json/schema")
            .cloned();
        let body_component = body_schema
            .as_ref()
            .map(|s| ref_name(s).unwrap_or_default().to_owned());
        let body_required = body_schema
            .as_ref()
            .map(|s| resolve(s, schemas))
            .and_then(|s| s["required"].as_array())
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let body_fields = body_schema
            .as_ref()
            .map(|s| resolve(s, schemas))
            .and_then(|s| s["properties"].as_object())
            .is_some_and(|p| !p.is_empty());
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        Self {
            method,
            path,
            secured,
            json_body: body_component,
            body_required,
            body_fields,
            query: params.iter().any(|p| p["in"] == "query"),
            idempotency_key: params
                .iter()
                .any(|p| p["in"] == "header" && p["name"] == "Idempotency-Key"),
        }
    }

    pub(super) fn is_v1(&self) -> bool {
        self.path.starts_with("/v1/")
    }

    /// RATE_001 plus the operation's own limit.
    fn rate_codes(&self) -> Vec<ErrorCode> {
        let mut codes = vec![ErrorCode::ApiRateExceeded];
        codes.extend(
            RESOURCE_RATE_LIMITS
                .iter()
                .filter(|(m, p, _)| *m == self.method && *p == self.path)
                .map(|(_, _, c)| *c),
        );
        codes
    }

    fn not_found_code(&self) -> ErrorCode {
        NOT_FOUND_BY_PREFIX
            .iter()
            .find(|(prefix, _)| self.path.starts_with(prefix))
            .map_or(ErrorCode::ResourceNotFound, |(_, c)| *c)
    }

    /// The codes a response of `status` must show, whatever its annotation says.
    pub(super) fn implied_codes(&self, status: u16) -> Vec<ErrorCode> {
        match status {
            401 if self.secured => vec![
                ErrorCode::MissingCredentials,
                ErrorCode::InvalidToken,
                ErrorCode::RevokedToken,
            ],
            // An API key without the operation's scope.
            403 if self.secured => vec![ErrorCode::Forbidden],
            429 if self.secured => self.rate_codes(),
            400 => {
                let mut codes = Vec::new();
                if self.json_body.is_some() {
                    codes.push(ErrorCode::MalformedRequest);
                }
                if self.query || self.idempotency_key {
                    codes.push(ErrorCode::InvalidQuery);
                }
                codes
            }
            404 if self.path.contains('{') => vec![self.not_found_code()],
            408 if self.json_body.is_some() => vec![ErrorCode::BodyTimeout],
            413 if self.json_body.is_some() => vec![ErrorCode::PayloadTooLarge],
            422 if self.json_body.is_some() => {
                let mut codes = Vec::new();
                if !self.body_required.is_empty() {
                    codes.push(ErrorCode::MissingField);
                }
                if self.body_fields {
                    codes.push(ErrorCode::UnsupportedValue);
                }
                codes
            }
            _ => Vec::new(),
        }
    }

    /// The code a response of `status` shows when nothing names one.
    pub(super) fn natural_code(&self, status: u16) -> Option<ErrorCode> {
        let code = match status {
            400 if self.json_body.is_none() => ErrorCode::InvalidQuery,
            400 => ErrorCode::MalformedRequest,
            401 => ErrorCode::InvalidToken,
            403 => ErrorCode::Forbidden,
            404 => self.not_found_code(),
            409 => ErrorCode::AlreadyExists,
            413 => ErrorCode::PayloadTooLarge,
            422 => ErrorCode::MissingField,
            429 => *self.rate_codes().last()?,
            500 => ErrorCode::Unexpected,
            503 => ErrorCode::ServiceUnavailable,
            _ => {
                return ErrorCode::ALL
                    .iter()
                    .copied()
                    .find(|c| c.http_status() == status);
            }
        };
        Some(code)
    }

    /// The responses the operation must document: `(status, codes)`.
    pub(super) fn required_responses(&self) -> Vec<(u16, Vec<ErrorCode>)> {
        let mut out = Vec::new();
        if self.secured {
            out.push((401, self.implied_codes(401)));
            out.push((403, self.implied_codes(403)));
            out.push((429, self.implied_codes(429)));
        }
        for status in [400, 408, 413, 422, 404] {
            let codes = self.implied_codes(status);
            if !codes.is_empty() {
                out.push((status, codes));
            }
        }
        out
    }
}

/// The name of a `#/components/schemas/...` reference.
pub(super) fn ref_name(schema: &Value) -> Option<&str> {
    schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// The schema itself, through one reference.
fn resolve<'a>(schema: &'a Value, schemas: &'a Map<String, Value>) -> &'a Value {
    ref_name(schema)
        .and_then(|n| schemas.get(n))
        .unwrap_or(schema)
}

/// The catalog codes a text names, in order: `AUTH_001`, and ranges such as
/// `VAL_002..VAL_007`.
pub(super) fn codes_in(text: &str) -> Vec<ErrorCode> {
    let mut out: Vec<ErrorCode> = Vec::new();
    let tokens = text
        .split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '.'));
    for token in tokens.map(|t| t.trim_matches('.')) {
        let found: Vec<ErrorCode> = match token.split_once("..") {
            Some((a, b)) => match (a.parse::<ErrorCode>(), b.parse::<ErrorCode>()) {
                (Ok(a), Ok(b)) if a.category() == b.category() => {
                    let pos = |c| ErrorCode::ALL.iter().position(|x| *x == c);
                    match (pos(a), pos(b)) {
                        (Some(i), Some(j)) if i <= j => ErrorCode::ALL[i..=j].to_vec(),
                        _ => Vec::new(),
                    }
                }
                _ => Vec::new(),
            },
            None => token.parse().into_iter().collect(),
        };
        for code in found {
            if !out.contains(&code) {
                out.push(code);
            }
        }
    }
    out
}

/// `CODE: default message; CODE: ...`.
pub(super) fn describe(codes: &[ErrorCode]) -> String {
    let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    let messages: Vec<&str> = codes.iter().map(|c| c.default_message()).collect();
    format!("{}: {}", names.join(" / "), messages.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_from_descriptions() {
        assert_eq!(
            codes_in("NOT_FOUND_001 (video) / NOT_FOUND_004 (artifact)"),
            [ErrorCode::VideoNotFound, ErrorCode::ResourceNotFound]
        );
        assert_eq!(
            codes_in("VAL_002..VAL_004: invalid field"),
            [
                ErrorCode::PromptTooShort,
                ErrorCode::PromptTooLong,
                ErrorCode::PromptRejected
            ]
        );
        assert_eq!(
            codes_in("BATCH_001 empty, VAL_* for an item (details.index)."),
            [ErrorCode::BatchEmpty]
        );
        assert!(codes_in("A dependency is down").is_empty());
    }
}
