//! The OpenAPI document keeps the product contract: every response has an
//! example (every error response its own, with a catalog code of the
//! response's status), secured operations document 401 and 429, JSON bodies
//! 400 and 413, every /v1 response declares the rate-limit headers, the
//! request schemas carry their bounds, and the success examples have the
//! shape of the server's real answers.

use serde_json::{Value, json};
use ytvc_e2e::TestApp;
use ytvc_error_codes::ErrorCode;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

const RATE_LIMIT_HEADERS: [&str; 5] = [
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
];

/// One documented response.
struct Documented<'a> {
    method: &'a str,
    path: &'a str,
    status: u16,
    op: &'a Value,
    response: &'a Value,
}

impl Documented<'_> {
    fn name(&self) -> String {
        format!(
            "{} {} {}",
            self.method.to_uppercase(),
            self.path,
            self.status
        )
    }
}

async fn document() -> (TestApp, Value) {
    let app = TestApp::spawn().await;
    let r = app.get("/openapi.json").await;
    assert_eq!(r.status, 200, "{}", r.text);
    (app, r.body)
}

/// Every (operation, response) of the document.
fn responses(doc: &Value) -> Vec<Documented<'_>> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            for (status, response) in op["responses"].as_object().expect("responses") {
                out.push(Documented {
                    method,
                    path,
                    status: status.parse().expect("numeric status"),
                    op,
                    response,
                });
            }
        }
    }
    assert!(out.len() > 50, "only {} responses documented", out.len());
    out
}

/// `v`, or what its `$ref` points at (transitively).
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => {
            let target = doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("unresolved reference {r}"));
            resolve(doc, target)
        }
        None => v,
    }
}

/// The examples a media type object shows itself.
fn own_examples(doc: &Value, media: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = media.get("example").cloned().into_iter().collect();
    if let Some(examples) = media["examples"].as_object() {
        out.extend(
            examples
                .values()
                .filter_map(|e| resolve(doc, e).get("value").cloned()),
        );
    }
    out
}

/// The media type's examples, else its schema's (through `$ref`).
fn examples(doc: &Value, media: &Value) -> Vec<Value> {
    let own = own_examples(doc, media);
    if !own.is_empty() {
        return own;
    }
    let schema = resolve(doc, &media["schema"]);
    schema
        .get("example")
        .cloned()
        .into_iter()
        .chain(schema["examples"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn json_media(response: &Value) -> Vec<(&String, &Value)> {
    response["content"]
        .as_object()
        .map(|c| c.iter().filter(|(t, _)| t.contains("json")).collect())
        .unwrap_or_default()
}

/// The catalog codes of an error response's examples.
fn codes(doc: &Value, response: &Value) -> Vec<String> {
    json_media(response)
        .into_iter()
        .flat_map(|(_, media)| own_examples(doc, media))
        .filter_map(|e| e["error"]["code"].as_str().map(str::to_owned))
        .collect()
}

fn is_secured(op: &Value) -> bool {
    op["security"]
        .as_array()
        .is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()))
}

fn has_json_body(op: &Value) -> bool {
    op.pointer("/requestBody/content/application~1json")
        .is_some()
}

fn rfc3339(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
}

#[track_caller]
fn assert_none(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_response_has_an_example_and_successes_are_enveloped() {
    let (_app, doc) = document().await;
    let mut failures = Vec::new();
    for r in responses(&doc) {
        let content = r.response["content"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if r.response["description"]
            .as_str()
            .is_none_or(|d| d.trim().is_empty())
        {
            failures.push(format!("{}: no description", r.name()));
        }
        for (media_type, media) in &content {
            let found = examples(&doc, media);
            if (media_type.contains("json") || media_type.starts_with("text/")) && found.is_empty()
            {
                failures.push(format!("{} {media_type}: no example", r.name()));
            }
            // An artifact is a file (manifest.json is JSON, not an answer).
            if !(200..300).contains(&r.status)
                || !media_type.contains("json")
                || r.path.ends_with("/artifacts/{name}")
            {
                continue;
            }
            let pages =
                resolve(&doc, &resolve(&doc, &media["schema"])["properties"]["data"])["properties"]
                    .get("next_cursor")
                    .is_some();
            for example in found {
                let keys: Vec<&String> = example
                    .as_object()
                    .map(|o| o.keys().collect())
                    .unwrap_or_default();
                if keys != ["data", "timestamp"] || !rfc3339(&example["timestamp"]) {
                    failures.push(format!("{}: not a success envelope: {example}", r.name()));
                }
                if pages && example["data"].get("next_cursor").is_none() {
                    failures.push(format!("{}: a page without next_cursor", r.name()));
                }
            }
        }
    }
    assert_none(&failures);
}

#[tokio::test]
async fn every_error_response_has_its_own_examples_of_catalog_codes_of_its_status() {
    let (_app, doc) = document().await;
    let shared = resolve(&doc, &json!({"$ref": "#/components/schemas/ErrorBody"}))
        .get("example")
        .cloned();
    let mut failures = Vec::new();
    let mut checked = 0;
    for r in responses(&doc).into_iter().filter(|r| r.status >= 400) {
        let media = json_media(r.response);
        if media.is_empty() {
            failures.push(format!("{}: no JSON error body", r.name()));
        }
        for (media_type, media) in media {
            let own = own_examples(&doc, media);
            if own.is_empty() {
                failures.push(format!("{} {media_type}: no example of its own", r.name()));
            }
            for example in own {
                checked += 1;
                let err = &example["error"];
                let code = err["code"].as_str().unwrap_or_default();
                match code.parse::<ErrorCode>() {
                    Err(_) => failures.push(format!("{}: `{code}` is no catalog code", r.name())),
                    Ok(c) if c.http_status() != r.status => failures.push(format!(
                        "{}: {code} is sent with {}, not {}",
                        r.name(),
                        c.http_status(),
                        r.status
                    )),
                    Ok(_) => {}
                }
                let keys: Vec<&String> = example
                    .as_object()
                    .map(|o| o.keys().collect())
                    .unwrap_or_default();
                let inner: Vec<&String> = err
                    .as_object()
                    .map(|o| o.keys().collect())
                    .unwrap_or_default();
                let request_id = err["request_id"].as_str().unwrap_or_default();
                if keys != ["error", "timestamp"]
                    || inner != ["code", "details", "message", "request_id"]
                    || !rfc3339(&example["timestamp"])
                    || err["message"].as_str().is_none_or(str::is_empty)
                    || request_id.is_empty()
                    || request_id.contains('…')
                    || request_id.contains("...")
                {
                    failures.push(format!("{}: not an error envelope: {example}", r.name()));
                }
                if shared.as_ref() == Some(&example) && code != "VAL_002" {
                    failures.push(format!("{}: shows the shared ErrorBody example", r.name()));
                }
            }
        }
    }
    assert!(checked >= 60, "only {checked} error examples");
    assert_none(&failures);
}

#[tokio::test]
async fn secured_operations_document_401_and_429_and_json_bodies_400_and_413() {
    let (_app, doc) = document().await;
    let mut failures = Vec::new();
    let mut secured = 0;
    let mut bodies = 0;
    let mut require = |r: &Documented<'_>, status: &str, wanted: &[&str]| {
        let Some(response) = r.op["responses"].get(status) else {
            failures.push(format!("{} {}: no {status}", r.method, r.path));
            return;
        };
        let found = codes(&doc, response);
        for code in wanted {
            if !found.iter().any(|c| c == code) {
                failures.push(format!(
                    "{} {} {status}: no {code} example (has {found:?})",
                    r.method, r.path
                ));
            }
        }
    };
    // Each operation once (its first response stands for it).
    let mut seen = std::collections::BTreeSet::new();
    for r in responses(&doc) {
        if !seen.insert((r.method, r.path)) {
            continue;
        }
        if is_secured(r.op) {
            secured += 1;
            require(&r, "401", &["AUTH_001", "AUTH_002", "AUTH_003"]);
            let own_limit = match (r.method, r.path) {
                ("post", "/v1/videos") => Some("RATE_003"),
                ("post", "/v1/batches") => Some("RATE_002"),
                _ => None,
            };
            let mut rate = vec!["RATE_001"];
            rate.extend(own_limit);
            require(&r, "429", &rate);
        }
        if has_json_body(r.op) {
            bodies += 1;
            require(&r, "400", &["VAL_001"]);
            require(&r, "413", &["VAL_008"]);
        }
    }
    assert!(secured >= 14, "only {secured} secured operations");
    assert!(bodies >= 7, "only {bodies} operations with a JSON body");
    for public in ["/v1/auth/register", "/v1/auth/login", "/v1/auth/refresh"] {
        assert!(!is_secured(&doc["paths"][public]["post"]), "{public}");
    }
    assert!(is_secured(&doc["paths"]["/v1/quota"]["get"]));
    assert_none(&failures);
}

#[tokio::test]
async fn every_response_declares_its_headers() {
    let (_app, doc) = document().await;
    let mut failures = Vec::new();
    for r in responses(&doc) {
        let mut wanted = vec!["X-Request-Id"];
        if r.path.starts_with("/v1/") {
            wanted.extend(RATE_LIMIT_HEADERS);
        }
        if r.status == 429 {
            wanted.push("Retry-After");
        }
        for name in wanted {
            let declared = r.response["headers"]
                .as_object()
                .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                .map(|(_, h)| resolve(&doc, h));
            match declared {
                None => failures.push(format!("{}: no {name} header", r.name())),
                Some(h)
                    if h["description"].as_str().is_none_or(str::is_empty)
                        || !h["schema"].is_object() =>
                {
                    failures.push(format!(
                        "{}: {name} lacks a description or schema",
                        r.name()
                    ));
                }
                Some(_) => {}
            }
        }
    }
    let reset = &doc["components"]["headers"]["X-RateLimit-Reset"];
    assert_eq!(reset["schema"]["format"], "date-time", "{reset}");
    assert!(rfc3339(&reset["example"]), "{reset}");
    let retry = &doc["components"]["headers"]["Retry-After"];
    assert_eq!(retry["schema"]["type"], "integer", "{retry}");
    assert_none(&failures);
}

#[tokio::test]
async fn request_and_answer_schemas_carry_their_constraints() {
    let (_app, doc) = document().await;
    let schemas = &doc["components"]["schemas"];
    let video = &schemas["VideoRequest"];
    let required: Vec<&str> = video["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(required.contains(&"prompt"), "{video}");
    let p = &video["properties"];
    assert_eq!(
        p["prompt"]["type"], "string",
        "prompt is not nullable: {video}"
    );
    assert_eq!(p["prompt"]["minLength"], 10);
    assert_eq!(p["prompt"]["maxLength"], 2000);
    assert_eq!(p["duration_seconds"]["minimum"], 5);
    assert_eq!(p["duration_seconds"]["maximum"], 600);
    assert_eq!(p["duration_seconds"]["default"], 60);
    let allowed = |field: &str| -> Vec<Value> {
        p[field]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{field} has no enum: {video}"))
            .iter()
            .filter(|v| !v.is_null())
            .cloned()
            .collect()
    };
    assert_eq!(
        allowed("aspect_ratio"),
        [json!("16:9"), json!("9:16"), json!("1:1")]
    );
    for style in [
        "cinematic",
        "documentary",
        "animated",
        "minimal",
        "vlog",
        "educational",
    ] {
        assert!(allowed("style").contains(&json!(style)), "{style}");
    }
    for voice in ["narrator_male", "narrator_female", "neutral", "none"] {
        assert!(allowed("voice").contains(&json!(voice)), "{voice}");
    }
    // The request example keeps the bounds.
    let example = &video["example"];
    let prompt = example["prompt"].as_str().expect("example prompt");
    assert!((10..=2000).contains(&prompt.chars().count()));
    assert!(allowed("style").contains(&example["style"]));
    let quota_required = &schemas["QuotaView"]["required"];
    for field in ["quota", "remaining"] {
        assert!(
            quota_required
                .as_array()
                .is_some_and(|r| r.contains(&json!(field))),
            "QuotaView.{field} is always sent: {quota_required}"
        );
    }
}

/// product.md's contract fixes: the document says what the server enforces.
#[tokio::test]
async fn the_document_states_what_the_server_enforces() {
    let (app, doc) = document().await;
    let schemas = &doc["components"]["schemas"];
    let param = |path: &str, method: &str, name: &str| -> Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .unwrap_or_else(|| panic!("{method} {path} has no {name}"))["schema"]
            .clone()
    };
    for path in ["/v1/videos", "/v1/batches"] {
        let limit = param(path, "get", "limit");
        assert_eq!(
            (&limit["minimum"], &limit["maximum"], &limit["default"]),
            (&json!(1), &json!(100), &json!(20)),
            "{path}: {limit}"
        );
        let key = param(path, "post", "Idempotency-Key");
        assert_eq!(key["pattern"], "^[!-~]+$", "{path}: {key}");
        assert_eq!(key["maxLength"], 255);
    }
    for name in ["from", "to"] {
        assert_eq!(param("/v1/analytics/usage", "get", name)["format"], "date");
    }
    let credentials = &schemas["Credentials"]["properties"];
    assert_eq!(credentials["password"]["minLength"], 8);
    assert_eq!(credentials["password"]["maxLength"], 128);
    assert_eq!(credentials["email"]["format"], "email");
    assert_eq!(
        schemas["BatchRequest"]["properties"]["videos"]["minItems"],
        1
    );
    let update = &schemas["UserUpdate"]["properties"];
    assert_eq!(update["role"]["enum"], json!(["user", "admin", null]));
    let mut plans: Vec<String> = update["plan"]["enum"]
        .as_array()
        .expect("plan enum")
        .iter()
        .map(|p| p.as_str().unwrap_or("null").to_owned())
        .collect();
    plans.sort();
    assert_eq!(plans, ["enterprise", "free", "null", "pro"]);
    assert_eq!(
        schemas["UserView"]["properties"]["role"]["enum"],
        json!(["user", "admin"])
    );
    // The statuses an operation can answer.
    let codes_of = |path: &str, method: &str, status: &str| -> Vec<String> {
        let response = &doc["paths"][path][method]["responses"][status];
        assert!(response.is_object(), "{method} {path} documents {status}");
        codes(&doc, response)
    };
    assert!(codes_of("/v1/batches", "post", "409").contains(&"VAL_010".to_owned()));
    assert!(codes_of("/v1/analytics/usage", "get", "404").contains(&"NOT_FOUND_003".to_owned()));
    // The artifacts' real content types, the one every file fits first.
    let content =
        doc["paths"]["/v1/videos/{id}/artifacts/{name}"]["get"]["responses"]["200"]["content"]
            .as_object()
            .expect("artifact content");
    let types: Vec<&str> = content.keys().map(String::as_str).collect();
    for t in [
        "video/mp4",
        "image/png",
        "image/apng",
        "image/jpeg",
        "audio/wav",
        "application/json",
    ] {
        assert!(types.contains(&t), "{t}: {types:?}");
    }
    // The order is the served text's (a parsed `Value` sorts its keys).
    let text = app.get("/openapi.json").await.text;
    let artifact = &text[text
        .find("\"/v1/videos/{id}/artifacts/{name}\"")
        .expect("path")..];
    let ok = &artifact[artifact.find("\"200\"").expect("200")..];
    let content = &ok[ok.find("\"content\"").expect("content")..];
    let first = content
        .find("\"application/octet-stream\"")
        .expect("octet-stream");
    assert!(
        first < content.find("\"application/json\"").expect("json"),
        "application/octet-stream comes first: a generated client reads a file"
    );
    // The language tag pattern is the server's rule.
    let pattern = schemas["VideoRequest"]["properties"]["language"]["pattern"]
        .as_str()
        .expect("language pattern");
    let re = regex::Regex::new(pattern).expect("a regex");
    let (_, token, _) = app.user("tags@example.com").await;
    for (i, tag) in [
        "en",
        "EN-us",
        " pt_BR ",
        "zh-Hant-TW",
        "es-419",
        "xx",
        "en-",
        "e",
        "en-USA",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"prompt": format!("A calm film about tags, take {i}"), "language": tag});
        let r = app.post_video(&token, &body).await;
        assert_eq!(
            re.is_match(tag),
            r.status == 202,
            "{tag:?}: pattern and server agree ({})",
            r.text
        );
    }
}

/// Differences between the shape of an example and of a real answer: the
/// same keys (maps keyed by data are compared on their common keys only) and,
/// where both are set, the same JSON types.
fn shape_diff(example: &Value, actual: &Value, at: &str, out: &mut Vec<String>) {
    const MAPS: [&str; 4] = ["components", "info", "rate_limits", "breakers"];
    match (example, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let is_map = MAPS.iter().any(|m| at.ends_with(&format!(".{m}")));
            if !is_map {
                for k in e.keys().filter(|k| !a.contains_key(*k)) {
                    out.push(format!("{at}.{k}: in the example, not in the answer"));
                }
                for k in a.keys().filter(|k| !e.contains_key(*k)) {
                    out.push(format!("{at}.{k}: in the answer, not in the example"));
                }
            }
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    shape_diff(ev, av, &format!("{at}.{k}"), out);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let (Some(e0), Some(a0)) = (e.first(), a.first()) {
                shape_diff(e0, a0, &format!("{at}[0]"), out);
            }
        }
        (Value::Null, _) | (_, Value::Null) => {}
        (e, a) => {
            let kind = |v: &Value| match v {
                Value::Bool(_) => "boolean",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
                Value::Null => "null",
            };
            if kind(e) != kind(a) {
                out.push(format!(
                    "{at}: example is a {}, the answer a {}",
                    kind(e),
                    kind(a)
                ));
            }
        }
    }
}

#[tokio::test]
async fn success_examples_have_the_shape_of_real_answers() {
    let (app, doc) = document().await;
    let mut failures = Vec::new();
    let mut check = |method: &str, path: &str, reply: &ytvc_e2e::Reply| {
        let op = &doc["paths"][path][method];
        let documented = &op["responses"][reply.status.to_string()];
        if !(200..300).contains(&reply.status) || documented.is_null() {
            failures.push(format!(
                "{method} {path}: undocumented answer {}: {}",
                reply.status, reply.text
            ));
            return;
        }
        let found: Vec<Value> = json_media(documented)
            .into_iter()
            .flat_map(|(_, media)| examples(&doc, media))
            .collect();
        if found.is_empty() {
            failures.push(format!("{method} {path} {}: no example", reply.status));
        }
        for example in found {
            shape_diff(
                &example,
                &reply.body,
                &format!("{method} {path}"),
                &mut failures,
            );
        }
    };
    let example_of = |schema: &str| doc["components"]["schemas"][schema]["example"].clone();

    check("get", "/health", &app.get("/health").await);
    check("get", "/health/ready", &app.get("/health/ready").await);
    check("get", "/v1/errors", &app.get("/v1/errors").await);
    let creds = json!({"email": "ada@example.com", "password": ytvc_e2e::PASSWORD});
    let registered = app.post("/v1/auth/register", &creds).await;
    check("post", "/v1/auth/register", &registered);
    let login = app.post("/v1/auth/login", &creds).await;
    check("post", "/v1/auth/login", &login);
    let refresh = json!({"refresh_token": login.body["data"]["refresh_token"]});
    let refreshed = app.post("/v1/auth/refresh", &refresh).await;
    check("post", "/v1/auth/refresh", &refreshed);
    let token = refreshed.body["data"]["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let call = |method: &'static str, path: String, body: Option<Value>| {
        let app = &app;
        let token = token.clone();
        async move { app.authed(method, &path, &token, body.as_ref()).await }
    };
    check(
        "get",
        "/v1/auth/me",
        &call("GET", "/v1/auth/me".into(), None).await,
    );
    check(
        "get",
        "/v1/quota",
        &call("GET", "/v1/quota".into(), None).await,
    );

    let created = app.post_video(&token, &example_of("VideoRequest")).await;
    check("post", "/v1/videos", &created);
    let id = created.body["data"]["id"].as_str().unwrap_or_default();
    check("get", "/v1/videos", &app.list_videos(&token, "").await);
    check("get", "/v1/videos/{id}", &app.get_video(&token, id).await);
    check(
        "post",
        "/v1/videos/{id}/cancel",
        &app.cancel_video(&token, id).await,
    );

    let batch = app.post_batch(&token, &example_of("BatchRequest")).await;
    check("post", "/v1/batches", &batch);
    let id = batch.body["data"]["id"].as_str().unwrap_or_default();
    check(
        "get",
        "/v1/batches",
        &call("GET", "/v1/batches".into(), None).await,
    );
    check("get", "/v1/batches/{id}", &app.get_batch(&token, id).await);
    check(
        "post",
        "/v1/batches/{id}/cancel",
        &app.cancel_batch(&token, id).await,
    );
    check(
        "get",
        "/v1/analytics/usage",
        &call("GET", "/v1/analytics/usage".into(), None).await,
    );

    let key = app.post_api_key(&token, &example_of("ApiKeyRequest")).await;
    check("post", "/v1/api-keys", &key);
    check("get", "/v1/api-keys", &app.list_api_keys(&token).await);
    let key_id = key.body["data"]["api_key"]["id"]
        .as_str()
        .unwrap_or_default();
    check(
        "delete",
        "/v1/api-keys/{id}",
        &app.revoke_api_key(&token, key_id).await,
    );

    let user_id = registered.body["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.make_admin(&user_id).await;
    let token = app.access_token("ada@example.com").await;
    let update = app
        .authed(
            "PATCH",
            &format!("/v1/admin/users/{user_id}"),
            &token,
            Some(&example_of("UserUpdate")),
        )
        .await;
    check("patch", "/v1/admin/users/{id}", &update);
    let logout = app
        .authed(
            "POST",
            "/v1/auth/logout",
            &token,
            Some(&example_of("LogoutRequest")),
        )
        .await;
    check("post", "/v1/auth/logout", &logout);
    assert_none(&failures);
}
