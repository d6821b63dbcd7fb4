//! product.md's "Contract fixes", found by an outside fuzzer and a generated
//! client: bodies read as the schema says, 405 with `Allow`, a budget of its
//! own for failed authentications, the body deadline, the CSP of the
//! documentation pages and the admin listener.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use ytvc_e2e::{Reply, TestApp};

/// `POST path` with `text` as a JSON body, with the bearer `token` if any.
async fn post_raw(app: &TestApp, path: &str, token: Option<&str>, text: &str) -> Reply {
    let mut req = app
        .build(reqwest::Method::POST, path)
        .header("content-type", "application/json")
        .body(text.to_owned());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    app.send(req).await
}

const PROMPT: &str = "A calm documentary about tide pools at dawn";

#[tokio::test]
async fn a_body_is_an_object_with_each_key_once() {
    let app = TestApp::spawn().await;
    let (_, token, refresh) = app.user("bodies@example.com").await;
    for (path, auth) in [
        ("/v1/videos", Some(token.as_str())),
        ("/v1/batches", Some(token.as_str())),
        ("/v1/auth/logout", Some(token.as_str())),
        ("/v1/auth/login", None),
        ("/v1/auth/register", None),
        ("/v1/auth/refresh", None),
    ] {
        for text in ["[]", r#"["a@example.com", "long enough password"]"#, "7"] {
            let r = post_raw(&app, path, auth, text).await;
            r.assert_error("VAL_001");
        }
    }
    // A duplicate key, at the top or deeper, is named.
    for (path, text, key) in [
        (
            "/v1/videos",
            format!(r#"{{"prompt": "{PROMPT}", "prompt": "{PROMPT}"}}"#),
            "prompt",
        ),
        (
            "/v1/batches",
            format!(
                r#"{{"videos": [{{"prompt": "{PROMPT}", "style": "vlog", "style": "vlog"}}]}}"#
            ),
            "style",
        ),
        (
            "/v1/auth/refresh",
            format!(r#"{{"refresh_token": "{refresh}", "refresh_token": "x"}}"#),
            "refresh_token",
        ),
    ] {
        let r = post_raw(&app, path, Some(&token), &text).await;
        let err = r.assert_error("VAL_001");
        assert_eq!(err["details"]["key"], key, "{}", r.text);
    }
    // An item of a batch is an object too.
    let r = post_raw(&app, "/v1/batches", Some(&token), r#"{"videos": [["x"]]}"#).await;
    assert_eq!(
        r.assert_error("VAL_007")["details"]["field"],
        "videos[0]",
        "{}",
        r.text
    );
    assert_eq!(app.count_videos(&token).await, 0, "nothing was created");
    // The refresh token survived its refused uses.
    assert_eq!(app.refresh(&refresh).await.status, 200);
}

#[tokio::test]
async fn an_integral_float_is_an_integer() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.user("floats@example.com").await;
    for (text, seconds) in [("30.0", 30), ("3e1", 30), ("4.5e1", 45), ("600.000", 600)] {
        let body = format!(r#"{{"prompt": "{PROMPT}, take {text}", "duration_seconds": {text}}}"#);
        let r = post_raw(&app, "/v1/videos", Some(&token), &body).await;
        assert_eq!(r.status, 202, "{text}: {}", r.text);
        assert_eq!(r.body["data"]["duration_seconds"], seconds, "{}", r.text);
    }
    for text in ["30.5", "1e-1"] {
        let body = format!(r#"{{"prompt": "{PROMPT}", "duration_seconds": {text}}}"#);
        let r = post_raw(&app, "/v1/videos", Some(&token), &body).await;
        let err = r.assert_error("VAL_007");
        assert_eq!(err["details"]["field"], "duration_seconds", "{}", r.text);
    }
    // Out of range stays out of range.
    let body = format!(r#"{{"prompt": "{PROMPT}", "duration_seconds": 6e2}}"#);
    assert_eq!(
        post_raw(&app, "/v1/videos", Some(&token), &body)
            .await
            .status,
        202
    );
    let body = format!(r#"{{"prompt": "{PROMPT}", "duration_seconds": 6.01e2}}"#);
    post_raw(&app, "/v1/videos", Some(&token), &body)
        .await
        .assert_error("VAL_005");
    let body = format!(r#"{{"prompt": "{PROMPT}", "duration_seconds": 6.005e2}}"#);
    post_raw(&app, "/v1/videos", Some(&token), &body)
        .await
        .assert_error("VAL_007");
}

/// The operations of the OpenAPI document: `(path with ids filled in, methods)`.
fn documented(doc: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let methods: Vec<String> = ["get", "put", "post", "delete", "patch"]
            .into_iter()
            .filter(|m| item.get(*m).is_some())
            .map(str::to_ascii_uppercase)
            .collect();
        let concrete = path
            .replace("{id}", ytvc_e2e::UNKNOWN_ID)
            .replace("{name}", "video.mp4");
        out.push((path.clone(), concrete, methods));
    }
    out
}

#[tokio::test]
async fn a_method_a_route_does_not_have_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.user("methods@example.com").await;
    let doc = app.get("/openapi.json").await.body;
    for (pattern, path, methods) in documented(&doc) {
        for method in ["GET", "PUT", "POST", "DELETE", "PATCH"] {
            let r = app.authed(method, &path, &token, None).await;
            if methods.iter().any(|m| m == method) {
                assert_ne!(r.status, 405, "{method} {pattern} is routed: {}", r.text);
                assert_ne!(
                    r.body["error"]["code"], "NOT_FOUND_004",
                    "{method} {pattern} is routed: {}",
                    r.text
                );
            } else {
                let err = r.assert_error("HTTP_001");
                assert_eq!(r.header("allow"), methods.join(", "), "{method} {pattern}");
                assert_eq!(err["details"]["method"], method);
                assert_eq!(err["details"]["allowed"], json!(methods));
            }
        }
    }
    // Without credentials too, and on the documentation pages.
    let r = app.request("DELETE", "/v1/videos", None).await;
    r.assert_error("HTTP_001");
    assert_eq!(r.header("allow"), "GET, POST");
    let r = app.request("POST", "/openapi.json", None).await;
    r.assert_error("HTTP_001");
    assert_eq!(r.header("allow"), "GET");
    let r = app.request("HEAD", "/health", None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), "GET");
    // An unknown path stays 404.
    app.request("DELETE", "/v1/nothing-here", None)
        .await
        .assert_error("NOT_FOUND_004");
}

#[tokio::test]
async fn failed_authentications_have_their_own_ip_budget() {
    let app = TestApp::builder()
        .with_config(|c| c.unauth_ip_limit_per_minute = 5)
        .spawn()
        .await;
    app.register("poller@example.com").await;
    let r = app
        .post(
            "/v1/auth/login",
            &json!({"email": "poller@example.com", "password": ytvc_e2e::PASSWORD}),
        )
        .await;
    let auth_left: u32 = r.header("x-ratelimit-remaining").parse().unwrap();
    let refresh = r.body["data"]["refresh_token"].as_str().unwrap().to_owned();
    for i in 0..5 {
        let r = app
            .authed("GET", "/v1/videos", "expired.or.bad", None)
            .await;
        r.assert_error("AUTH_002");
        assert_eq!(r.header("x-ratelimit-limit"), "5", "{i}");
        assert!(
            r.header("ratelimit-policy").starts_with("\"unauth_ip\""),
            "{}",
            r.header("ratelimit-policy")
        );
    }
    let r = app.get("/v1/auth/me").await;
    let err = r.assert_error("RATE_001");
    assert_eq!(err["details"]["policy"], "unauth_ip");
    // The register / login / refresh budget is untouched: the poller refreshes.
    let r = app.refresh(&refresh).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let left: u32 = r.header("x-ratelimit-remaining").parse().unwrap();
    assert_eq!(
        left,
        auth_left - 1,
        "only this refresh counted since the login"
    );
    let access = r.body["data"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.me(&access).await.status, 200);
}

/// Sends the headers of a login with a body of `length` bytes, then one byte
/// every `pace`, and returns what the server answered and how long it took.
fn trickle(address: &str, length: usize, pace: Duration) -> (String, Duration) {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    write!(
        stream,
        "POST /v1/auth/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let mut sent = 0;
    let mut last = Instant::now() - pace;
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(20) {
        if sent < length && last.elapsed() >= pace {
            if stream.write_all(b" ").is_err() {
                break;
            }
            sent += 1;
            last = Instant::now();
        }
        match stream.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "the server closed the connection");
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_with_408() {
    let app = TestApp::builder()
        .with_config(|c| c.body_timeout = Duration::from_millis(1500))
        .spawn()
        .await;
    let address = app.address.clone();
    let (answer, took) =
        tokio::task::spawn_blocking(move || trickle(&address, 100, Duration::from_secs(1)))
            .await
            .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    assert_eq!(body["error"]["code"], "HTTP_002", "{answer}");
    assert_eq!(body["error"]["details"]["timeout_ms"], 1500);
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // A body sent at once is read as usual.
    app.register("quick@example.com").await;
}

#[tokio::test]
async fn the_documentation_pages_send_a_content_security_policy() {
    let app = TestApp::spawn().await;
    for path in ["/docs/", "/docs/index.html", "/redoc"] {
        let r = app.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        let csp = r.header("content-security-policy");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("'unsafe-eval'"), "{path}: {csp}");
        assert!(
            !csp.split(';')
                .any(|d| d.trim().starts_with("script-src") && d.contains("unsafe-inline")),
            "{path}: {csp}"
        );
        assert!(!r.text.contains("<script>"), "{path}: no inline script");
    }
}

#[tokio::test]
async fn an_admin_listener_serves_metrics_and_readiness_instead_of_the_public_one() {
    let app = TestApp::builder()
        .with_config(|c| c.admin_bind = Some("127.0.0.1:0".parse().unwrap()))
        .spawn()
        .await;
    let admin = app.admin_address.clone().expect("an admin listener");
    for path in ["/metrics", "/health/ready"] {
        app.get(path).await.assert_error("NOT_FOUND_004");
        let r = app.send(app.client.get(format!("{admin}{path}"))).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(!r.header("x-request-id").is_empty());
        let r = app.send(app.client.post(format!("{admin}{path}"))).await;
        r.assert_error("HTTP_001");
        assert_eq!(r.header("allow"), "GET");
    }
    let r = app.send(app.client.get(format!("{admin}/health"))).await;
    r.assert_error("NOT_FOUND_004");
    let r = app.send(app.client.get(format!("{admin}/v1/errors"))).await;
    r.assert_error("NOT_FOUND_004");
    assert_eq!(app.get("/health").await.status, 200);
    // Without it, the public listener serves them.
    let plain = TestApp::spawn().await;
    assert!(plain.admin_address.is_none());
    assert_eq!(plain.get("/metrics").await.status, 200);
}
