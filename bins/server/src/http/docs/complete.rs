//! The one pass over the generated document (see the module docs of
//! `docs`): required responses, their codes and examples, the headers every
//! response declares, and corrections of annotations.

use serde_json::{Map, Value, json};
use ytvc_error_codes::ErrorCode;

use super::examples::{
    Defaults, EXAMPLE_REQUEST_ID, EXAMPLE_RETRY_AFTER, EXAMPLE_USER_ID, METRICS_EXAMPLE,
    add_component_examples, envelope, error_example, example_of, stamp, success_data,
};
use super::operation::{Op, codes_in, describe, ref_name};
use super::schemas::{constrain_schemas, dedupe_inline_copies};

/// The HTTP methods of a path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The response headers every /v1 answer carries (the most constraining
/// rate-limit policy of the request).
const RATE_LIMIT_HEADERS: [&str; 5] = [
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
];

/// The header every answer carries.
const REQUEST_ID_HEADER: &str = "X-Request-Id";

/// The header of every 429.
const RETRY_AFTER_HEADER: &str = "Retry-After";

/// Completes the generated document; see the module docs of `docs`.
pub(super) fn complete(doc: &mut Value) {
    let d = Defaults::load();
    fix_annotations(doc);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        dedupe_inline_copies(schemas);
        constrain_schemas(schemas);
        add_component_examples(schemas, &d);
    }
    let components = doc
        .as_object_mut()
        .map(|o| o.entry("components").or_insert_with(|| json!({})));
    if let Some(Value::Object(components)) = components {
        components.insert("headers".into(), header_components(&d));
    }
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut envelope_examples: Vec<(String, Value)> = Vec::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            for method in METHODS {
                let Some(op_value) = item.get_mut(method) else {
                    continue;
                };
                let op = Op::new(method, path, op_value, &schemas);
                super::scopes::document_scope(op_value, method, path, op.secured);
                add_required_responses(op_value, &op);
                let Some(responses) = op_value.get_mut("responses").and_then(Value::as_object_mut)
                else {
                    continue;
                };
                for (status, response) in responses.iter_mut() {
                    let Ok(status) = status.parse::<u16>() else {
                        continue;
                    };
                    if status >= 400 {
                        complete_error(response, status, &op, &d);
                    } else if (200..300).contains(&status) {
                        complete_success(response, &op, &schemas, &d, &mut envelope_examples);
                    }
                    declare_headers(response, status, &op);
                }
            }
        }
    }
    // The envelope schemas show the example too.
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, example) in envelope_examples {
            if let Some(Value::Object(s)) = schemas.get_mut(&name) {
                s.entry("example").or_insert(example);
            }
        }
    }
}

/// Corrections of handlers' annotations that do not match what they do.
/// Each is a no-op once the annotation is right.
fn fix_annotations(doc: &mut Value) {
    // `IntoParams` without `parameter_in` makes query structs path parameters
    // (required, nullable), which no path template names: they are optional
    // query parameters. An optional parameter is absent, never `null`.
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            for method in METHODS {
                let Some(Value::Array(params)) = item.pointer_mut(&format!("/{method}/parameters"))
                else {
                    continue;
                };
                for param in params.iter_mut() {
                    let name = param["name"].as_str().unwrap_or_default().to_owned();
                    constrain_parameter(param, &name);
                    if param["in"] == "path" && !path.contains(&format!("{{{name}}}")) {
                        param["in"] = json!("query");
                        param["required"] = json!(false);
                    }
                    if param["required"] != true
                        && let Some(Value::Array(types)) = param.pointer_mut("/schema/type")
                    {
                        types.retain(|t| t != "null");
                        if let [only] = types.as_slice() {
                            let only = only.clone();
                            param["schema"]["type"] = only;
                        }
                    }
                }
            }
        }
    }
    // logout reads its body itself: none (empty or blank) ends this session
    // only; otherwise it must be the JSON `LogoutRequest`. The body is optional.
    if let Some(Value::Object(body)) = doc.pointer_mut("/paths/~1v1~1auth~1logout/post/requestBody")
    {
        body.insert("required".into(), Value::Bool(false));
    }
    // usage answers `user_id` too.
    if let Some(Value::Object(data)) = doc.pointer_mut(
        "/paths/~1v1~1analytics~1usage/get/responses/200/content/application~1json/example/data",
    ) {
        data.entry("user_id").or_insert(json!(EXAMPLE_USER_ID));
    }
    // An artifact is whatever file it is.
    if let Some(Value::Object(ok)) =
        doc.pointer_mut("/paths/~1v1~1videos~1{id}~1artifacts~1{name}/get/responses/200")
    {
        let file = json!({ "schema": { "type": "string", "format": "binary" } });
        let content: Map<String, Value> = ARTIFACT_MEDIA_TYPES
            .iter()
            .map(|t| {
                // manifest.json and storyboard.json are JSON documents.
                let media = if *t == "application/json" {
                    json!({ "schema": { "type": "object" },
                            "example": { "version": 2, "video_id": "01a2429d-fd9a-7317-a63b-0f3c6245ad63",
                                         "total_duration_seconds": 60, "provider": "local", "scenes": [] } })
                } else {
                    file.clone()
                };
                ((*t).to_owned(), media)
            })
            .collect();
        ok.insert("content".into(), Value::Object(content));
        ok.insert(
            "description".into(),
            json!(
                "The file, as an attachment (`Content-Disposition: attachment; filename=\"...\"`). \
                 Its `Content-Type` follows the extension: `application/json` (manifest.json, \
                 storyboard.json), `image/png`, `image/apng`, `image/jpeg`, `audio/wav`, `video/mp4`, else \
                 `application/octet-stream`. The names are those listed in the video's `artifacts`."
            ),
        );
        ok.entry("headers").or_insert_with(|| {
            json!({ "Content-Disposition": {
                "description": "`attachment; filename=\"<name>\"`",
                "schema": { "type": "string" },
                "example": "attachment; filename=\"video.mp4\""
            }})
        });
    }
}

/// The media types an artifact is served with (`Artifact::content_type`).
const ARTIFACT_MEDIA_TYPES: [&str; 7] = [
    "video/mp4",
    "image/png",
    "image/apng",
    "image/jpeg",
    "audio/wav",
    "application/json",
    "application/octet-stream",
];

/// The artifact download lists `application/octet-stream` first: the one
/// media type that fits every artifact, which a generated client reads as a
/// file (openapi-python-client takes the first it knows). The JSON pass
/// sorts keys; the typed document keeps the order set here.
pub(super) fn order_artifact_content(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    let Some(RefOr::T(ok)) = doc
        .paths
        .paths
        .get_mut("/v1/videos/{id}/artifacts/{name}")
        .and_then(|item| item.get.as_mut())
        .and_then(|op| op.responses.responses.get_mut("200"))
    else {
        return;
    };
    if let Some(media) = ok.content.shift_remove("application/octet-stream") {
        ok.content
            .shift_insert(0, "application/octet-stream".to_owned(), media);
    }
}

/// What the server enforces of a parameter that its type does not say.
fn constrain_parameter(param: &mut Value, name: &str) {
    use ytvc_domain::videos::IdempotencyKey;
    use ytvc_domain::videos::paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
    let Some(Value::Object(schema)) = param.get_mut("schema") else {
        return;
    };
    match name {
        "limit" => {
            schema.insert("minimum".into(), json!(1));
            schema.insert("maximum".into(), json!(MAX_PAGE_SIZE));
            schema.insert("default".into(), json!(DEFAULT_PAGE_SIZE));
        }
        "from" | "to" => {
            schema.insert("format".into(), json!("date"));
        }
        "Idempotency-Key" => {
            schema.insert("pattern".into(), json!("^[!-~]+$"));
            schema.insert("minLength".into(), json!(1));
            schema.insert("maxLength".into(), json!(IdempotencyKey::MAX_LEN));
        }
        _ => {}
    }
}

/// Success: an example in the envelope for every JSON body, the metrics sample.
fn complete_success(
    response: &mut Value,
    op: &Op<'_>,
    schemas: &Map<String, Value>,
    d: &Defaults,
    envelope_examples: &mut Vec<(String, Value)>,
) {
    let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
        return;
    };
    for (media_type, media) in content.iter_mut() {
        let Value::Object(media) = media else {
            continue;
        };
        if media.contains_key("example") || media.contains_key("examples") {
            continue;
        }
        if media_type.starts_with("text/plain") && op.path == "/metrics" {
            media.insert("example".into(), json!(METRICS_EXAMPLE));
        } else if media_type.contains("json") {
            let schema = media.get("schema").cloned().unwrap_or(Value::Null);
            let example = match success_data(op, d) {
                Some(data) => envelope(data),
                None => {
                    let mut example = example_of(&schema, schemas, 0);
                    // The envelope's timestamp is the answer's, not a placeholder.
                    if example.get("timestamp").is_some() {
                        example["timestamp"] = json!(stamp(0));
                    }
                    if let Some(name) = ref_name(&schema) {
                        envelope_examples.push((name.to_owned(), example.clone()));
                    }
                    example
                }
            };
            media.insert("example".into(), example);
        }
    }
}

/// The error envelope schema.
fn error_content() -> Value {
    json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } })
}

/// Adds the responses the operation must document and does not.
fn add_required_responses(op_value: &mut Value, op: &Op<'_>) {
    let Some(Value::Object(responses)) = op_value.get_mut("responses") else {
        return;
    };
    for (status, codes) in op.required_responses() {
        responses.entry(status.to_string()).or_insert_with(
            || json!({ "description": describe(&codes), "content": error_content() }),
        );
    }
}

/// An error response: its codes, their examples, a description naming them.
fn complete_error(response: &mut Value, status: u16, op: &Op<'_>, d: &Defaults) {
    let Value::Object(resp) = response else {
        return;
    };
    let description = resp
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let content = resp.entry("content").or_insert_with(error_content);
    if content.as_object().is_some_and(Map::is_empty) {
        *content = error_content();
    }
    let Some(content) = content.as_object_mut() else {
        return;
    };
    // The examples the annotation wrote itself, by code.
    let mut given: Vec<(ErrorCode, Value)> = Vec::new();
    for media in content.values() {
        let mut found: Vec<Value> = media.get("example").cloned().into_iter().collect();
        if let Some(examples) = media["examples"].as_object() {
            found.extend(examples.values().filter_map(|e| e.get("value").cloned()));
        }
        for mut example in found {
            if let Some(code) = example
                .pointer("/error/code")
                .and_then(Value::as_str)
                .and_then(|c| c.parse::<ErrorCode>().ok())
                .filter(|c| c.http_status() == status)
            {
                // Placeholders ("…") become a request id like the server's.
                example["error"]["request_id"] = json!(EXAMPLE_REQUEST_ID);
                given.push((code, example));
            }
        }
    }
    let named: Vec<ErrorCode> = codes_in(&description)
        .into_iter()
        .filter(|c| c.http_status() == status)
        .collect();
    let mut codes = named.clone();
    for code in given
        .iter()
        .map(|(c, _)| *c)
        .chain(op.implied_codes(status))
    {
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    if codes.is_empty() {
        codes.extend(op.natural_code(status));
    }
    if codes.is_empty() {
        return;
    }
    let unnamed: Vec<ErrorCode> = codes
        .iter()
        .copied()
        .filter(|c| !named.contains(c))
        .collect();
    let new_description = if named.is_empty() {
        let prefix = describe(&codes);
        Some(if description.is_empty() {
            prefix
        } else {
            format!("{prefix}. {description}")
        })
    } else if unnamed.is_empty() {
        None
    } else {
        Some(format!("{description}; also {}", describe(&unnamed)))
    };
    let example_for = |code: ErrorCode| {
        given
            .iter()
            .find(|(c, _)| *c == code)
            .map_or_else(|| error_example(code, op, d), |(_, e)| e.clone())
    };
    for (media_type, media) in content.iter_mut() {
        let Value::Object(media) = media else {
            continue;
        };
        if !media_type.contains("json") {
            continue;
        }
        media.remove("example");
        media.remove("examples");
        if let [code] = codes.as_slice() {
            media.insert("example".into(), example_for(*code));
        } else {
            let examples: Map<String, Value> = codes
                .iter()
                .map(|&code| {
                    (
                        code.as_str().to_owned(),
                        json!({
                            "summary": format!("{code}: {}", code.default_message()),
                            "value": example_for(code)
                        }),
                    )
                })
                .collect();
            media.insert("examples".into(), Value::Object(examples));
        }
    }
    if let Some(text) = new_description {
        resp.insert("description".into(), json!(text));
    }
}

/// `X-Request-Id` everywhere, the rate-limit headers on /v1, `Retry-After` on 429.
fn declare_headers(response: &mut Value, status: u16, op: &Op<'_>) {
    let Value::Object(resp) = response else {
        return;
    };
    let mut names = vec![REQUEST_ID_HEADER];
    if op.is_v1() {
        names.extend(RATE_LIMIT_HEADERS);
    }
    if status == 429 {
        names.push(RETRY_AFTER_HEADER);
    }
    let headers = resp.entry("headers").or_insert_with(|| json!({}));
    let Value::Object(headers) = headers else {
        return;
    };
    for name in names {
        if !headers.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            headers.insert(
                name.to_owned(),
                json!({ "$ref": format!("#/components/headers/{name}") }),
            );
        }
    }
}

/// `components/headers`.
fn header_components(d: &Defaults) -> Value {
    let api = d.plan.rate_limits.api;
    let remaining = api.limit.saturating_sub(3);
    let reset_secs = 1200;
    json!({
        REQUEST_ID_HEADER: {
            "description": "The id of this request, also `error.request_id` in an error body. \
                            An incoming `X-Request-Id` of 1..=128 characters of `A-Za-z0-9-_.:` \
                            is kept; otherwise the server makes one (a UUID).",
            "schema": { "type": "string", "maxLength": 128 },
            "example": EXAMPLE_REQUEST_ID
        },
        "X-RateLimit-Limit": {
            "description": "Requests the most constraining rate-limit policy of this request \
                            admits in its sliding window.",
            "schema": { "type": "integer", "minimum": 1 },
            "example": api.limit
        },
        "X-RateLimit-Remaining": {
            "description": "Requests that policy still admits now.",
            "schema": { "type": "integer", "minimum": 0 },
            "example": remaining
        },
        "X-RateLimit-Reset": {
            "description": "RFC 3339 UTC instant at which the oldest request still counted leaves \
                            the window (so `X-RateLimit-Remaining` grows); when it is 0, when the \
                            next request is admitted.",
            "schema": { "type": "string", "format": "date-time" },
            "example": stamp(reset_secs)
        },
        "RateLimit-Policy": {
            "description": "IETF draft header: the policy's name, quota (`q`) and window in \
                            seconds (`w`).",
            "schema": { "type": "string" },
            "example": format!("\"api\";q={};w={}", api.limit, api.window_secs)
        },
        "RateLimit": {
            "description": "IETF draft header: the policy's name, the requests remaining (`r`) \
                            and the seconds until `X-RateLimit-Reset` (`t`).",
            "schema": { "type": "string" },
            "example": format!("\"api\";r={remaining};t={reset_secs}")
        },
        RETRY_AFTER_HEADER: {
            "description": "Whole seconds (rounded up) after which the refused request can \
                            succeed: when the rate-limit window admits it again, or when the \
                            monthly quota resets.",
            "schema": { "type": "integer", "minimum": 1 },
            "example": EXAMPLE_RETRY_AFTER
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op_of<'a>(method: &'a str, path: &'a str, op: &Value) -> Op<'a> {
        Op::new(method, path, op, &Map::new())
    }

    #[test]
    fn a_secured_json_operation_documents_what_every_one_can_answer() {
        let mut value = json!({
            "security": [{ "bearer": [] }],
            "requestBody": { "content": { "application/json": { "schema": {} } } },
            "responses": { "200": { "description": "ok" } }
        });
        let op = op_of("post", "/v1/things", &value);
        add_required_responses(&mut value, &op);
        let mut statuses: Vec<&String> = value["responses"].as_object().unwrap().keys().collect();
        statuses.sort();
        assert_eq!(statuses, ["200", "400", "401", "403", "408", "413", "429"]);
        assert_eq!(
            value["responses"]["401"]["description"],
            describe(&[
                ErrorCode::MissingCredentials,
                ErrorCode::InvalidToken,
                ErrorCode::RevokedToken
            ])
        );
    }

    #[test]
    fn a_named_code_gets_its_example_and_the_implied_ones_are_added() {
        let op_value = json!({ "security": [{ "bearer": [] }] });
        let op = op_of("get", "/v1/things", &op_value);
        let mut response = json!({ "description": "AUTH_001: no token" });
        complete_error(&mut response, 401, &op, &Defaults::load());
        let text = response["description"].as_str().unwrap();
        assert!(
            text.starts_with("AUTH_001: no token; also AUTH_002 / AUTH_003"),
            "{text}"
        );
        let examples = &response["content"]["application/json"]["examples"];
        for code in ["AUTH_001", "AUTH_002", "AUTH_003"] {
            assert_eq!(examples[code]["value"]["error"]["code"], code);
        }
    }

    #[test]
    fn headers_are_declared_by_reference() {
        let op_value = json!({});
        let mut response = json!({ "description": "slow down" });
        declare_headers(&mut response, 429, &op_of("get", "/v1/things", &op_value));
        let headers = response["headers"].as_object().unwrap();
        assert_eq!(headers.len(), 2 + RATE_LIMIT_HEADERS.len());
        assert_eq!(
            headers[RETRY_AFTER_HEADER],
            json!({ "$ref": "#/components/headers/Retry-After" })
        );
        let mut health = json!({ "description": "ok" });
        declare_headers(&mut health, 200, &op_of("get", "/health", &op_value));
        let names: Vec<&String> = health["headers"].as_object().unwrap().keys().collect();
        assert_eq!(names, [REQUEST_ID_HEADER]);
    }
}
