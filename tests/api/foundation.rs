//! The foundation: health, readiness, docs, the catalog, and the envelope on
//! every failure path.

use serde_json::json;
use ytvc_e2e::{TestApp, VideoReq};

#[tokio::test]
async fn health_is_live_and_enveloped() {
    let app = TestApp::spawn().await;
    let r = app.get("/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"]["status"], "ok");
    assert!(r.body["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(!r.header("x-request-id").is_empty());
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert_eq!(r.header("x-frame-options"), "DENY");
}

#[tokio::test]
async fn readiness_reports_the_database_on_every_backend() {
    for app in TestApp::on_every_backend().await {
        let r = app.get("/health/ready").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["data"]["status"], "ready");
        assert_eq!(r.body["data"]["components"]["database"]["status"], "up");
        let media = &r.body["data"]["components"]["media"];
        assert_eq!(media["status"], "up", "{media}");
        assert_eq!(media["info"]["provider"], "local");
        // The local narrator says which engine speaks: flite where it is
        // installed, else the tones.
        let flite = std::process::Command::new("flite")
            .arg("-lv")
            .output()
            .is_ok_and(|o| o.status.success());
        assert_eq!(
            media["info"]["narrator"],
            if flite { "flite" } else { "tones" }
        );
        assert_eq!(
            media["info"]["breakers"],
            serde_json::json!({}),
            "local calls no service"
        );
    }
}

#[tokio::test]
async fn readiness_is_503_with_components_when_the_database_is_gone() {
    let Some(app) = TestApp::builder()
        .with_db(ytvc_e2e::Db::Postgres)
        .with_config(|c| c.db_connect_timeout = std::time::Duration::from_millis(500))
        .try_spawn()
        .await
    else {
        return;
    };
    // Terminate every connection of the test database and forbid new ones.
    let admin = std::env::var("YTVC_TEST_DATABASE_URL").unwrap();
    let name = app.db().url().rsplit('/').next().unwrap().to_owned();
    let out = std::process::Command::new("psql")
        .arg(&admin)
        .arg("-c")
        .arg(format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        ))
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = app.get("/health/ready").await;
    let err = r.assert_error("DB_001");
    assert_eq!(err["details"]["components"]["database"]["status"], "down");
    let _ = std::process::Command::new("psql")
        .arg(&admin)
        .arg("-c")
        .arg(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .output();
}

#[tokio::test]
async fn unknown_route_is_not_found_004() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/nothing-here").await;
    let err = r.assert_error("NOT_FOUND_004");
    assert_eq!(err["details"]["path"], "/v1/nothing-here");
}

#[tokio::test]
async fn wrong_method_is_enveloped() {
    // 405 HTTP_001 with `Allow` since product.md's contract fixes (it was
    // NOT_FOUND_004 before).
    let app = TestApp::spawn().await;
    let r = app.request("DELETE", "/health", None).await;
    let err = r.assert_error("HTTP_001");
    assert_eq!(err["details"]["method"], "DELETE");
    assert_eq!(r.header("allow"), "GET");
    let r = app.post("/v1/errors", &json!({})).await;
    r.assert_error("HTTP_001");
}

#[tokio::test]
async fn a_valid_incoming_request_id_is_kept_and_a_bad_one_replaced() {
    let app = TestApp::spawn().await;
    let r = app
        .send(
            app.build(reqwest::Method::GET, "/nope")
                .header("X-Request-Id", "client-abc_123"),
        )
        .await;
    assert_eq!(r.header("x-request-id"), "client-abc_123");
    assert_eq!(r.body["error"]["request_id"], "client-abc_123");
    let r = app
        .send(
            app.build(reqwest::Method::GET, "/health")
                .header("X-Request-Id", "bad id with spaces"),
        )
        .await;
    let id = r.header("x-request-id");
    assert_ne!(id, "bad id with spaces");
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
}

#[tokio::test]
async fn the_catalog_lists_every_code() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/errors").await;
    assert_eq!(r.status, 200);
    let items = r.body["data"].as_array().unwrap();
    // The seed's 49 codes first, then the appended families (HTTP, STORAGE, KEY).
    assert_eq!(items.len(), ytvc_error_codes::ErrorCode::ALL.len());
    assert!(items.len() >= 49);
    assert_eq!(items[48]["code"], "INTERNAL_003");
    assert_eq!(
        r.header("x-ratelimit-limit"),
        "30",
        "every /v1 answer carries limit headers"
    );
    let val002 = items.iter().find(|e| e["code"] == "VAL_002").unwrap();
    assert_eq!(val002["http_status"], 422);
    assert_eq!(val002["category"], "VAL");
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    let app = TestApp::spawn().await;
    let r = app.get("/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc = &r.body;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "ytvc API");
    assert!(
        doc["info"]["description"]
            .as_str()
            .unwrap()
            .contains("| queue priority (1 = first) | 3 | 2 | 1 |")
    );
    let tags: Vec<_> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in ["auth", "videos", "batches", "analytics", "health"] {
        assert!(tags.contains(&t), "tag {t}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["paths"]["/health/ready"]["get"]["responses"]["503"].is_object());
}

#[tokio::test]
async fn swagger_ui_and_redoc_are_served_offline() {
    let app = TestApp::spawn().await;
    let r = app.get("/docs").await;
    assert_eq!(r.status, 308);
    assert_eq!(r.header("location"), "/docs/");
    let r = app.get("/docs/").await;
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("swagger-ui"),
        "{}",
        &r.text[..200.min(r.text.len())]
    );
    let r = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("/openapi.json"));
    let r = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(r.status, 200);
    let r = app.get("/docs/no-such-file.js").await;
    r.assert_error("NOT_FOUND_004");
    let r = app.get("/redoc").await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("/redoc/redoc.standalone.js") && r.text.contains("/openapi.json"));
    assert!(!r.text.contains("cdn"), "no CDN reference");
    let r = app.get("/redoc/redoc.standalone.js").await;
    assert_eq!(r.status, 200);
    assert!(r.text.len() > 500_000);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = TestApp::spawn().await;
    app.get("/health").await;
    app.get("/nope").await;
    let r = app.get("/metrics").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/plain"));
    assert!(
        r.text.contains(
            "ytvc_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 1"
        ),
        "{}",
        r.text
    );
    assert!(r.text.contains("status=\"404\""), "{}", r.text);
    assert!(
        r.text.contains("ytvc_jobs{state=\"available\"} 0"),
        "{}",
        r.text
    );
    assert!(r.text.contains("ytvc_db_pool_connections{state=\"open\"}"));
    assert!(r.text.contains("ytvc_rate_limit_degraded_total 0"));
}

/// One structured line per request (request id, method, route, status,
/// latency, user, code), and no password, token or signing secret anywhere
/// in the log.
#[tokio::test]
async fn every_request_is_logged_as_one_json_line_without_secrets() {
    let app = TestApp::builder()
        .with_jwt_secret("log-test-signing-secret-0123456789abcdef")
        .capture_logs()
        .spawn()
        .await;
    let log = app.logs();
    let (user_id, access, refresh) = app.user("logged@example.com").await;

    let me = app
        .send(
            app.build(reqwest::Method::GET, "/v1/auth/me")
                .bearer_auth(&access)
                .header("X-Request-Id", "log-ok-1"),
        )
        .await;
    assert_eq!(me.status, 200, "{}", me.text);
    let line = log.request_line("log-ok-1").await;
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/v1/auth/me");
    assert_eq!(line["status"], 200);
    assert_eq!(line["user_id"], user_id.as_str());
    assert!(line["code"].is_null(), "{line}");
    assert!(
        line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{line}"
    );
    assert_eq!(line["service"], "ytvc");
    assert!(line["ts"].is_string(), "{line}");

    let short = app
        .send(
            app.video_request(&access, &VideoReq::new("short"))
                .header("X-Request-Id", "log-bad-2"),
        )
        .await;
    short.assert_error("VAL_002");
    let line = log.request_line("log-bad-2").await;
    assert_eq!(line["route"], "/v1/videos");
    assert_eq!(line["status"], 422);
    assert_eq!(line["code"], "VAL_002");
    assert_eq!(line["user_id"], user_id.as_str());

    let wrong = app
        .send(
            app.build(reqwest::Method::POST, "/v1/auth/login")
                .header("X-Request-Id", "log-401-3")
                .json(
                    &json!({"email": "logged@example.com", "password": "not the password at all"}),
                ),
        )
        .await;
    wrong.assert_error("AUTH_004");
    let line = log.request_line("log-401-3").await;
    assert_eq!(
        (line["status"].as_u64(), line["code"].as_str()),
        (Some(401), Some("AUTH_004"))
    );

    let text = log.text();
    for secret in [
        ytvc_e2e::PASSWORD,
        "not the password at all",
        access.as_str(),
        refresh.as_str(),
        "log-test-signing-secret-0123456789abcdef",
    ] {
        assert!(!text.contains(secret), "the log holds a secret");
    }
    // Every line is JSON with the default keys.
    for l in log.lines() {
        assert!(l["msg"].is_string() && l["level"].is_string(), "{l}");
    }
}
