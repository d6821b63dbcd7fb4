//! Accounts and security end to end: every refusal asserts status and code.

use std::time::Duration;

use serde_json::json;
use ytvc_e2e::{Db, PASSWORD, TestApp, UNKNOWN_ID};

#[tokio::test]
async fn register_normalises_the_email_and_refuses_duplicates() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/v1/auth/register",
            &json!({"email": "  Ada@Example.COM ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["data"]["email"], "ada@example.com");
    assert_eq!(r.body["data"]["plan"], "free");
    assert_eq!(r.body["data"]["role"], "user");
    assert!(r.body["data"].get("password_hash").is_none());
    assert_eq!(r.header("cache-control"), "no-store");
    let r = app
        .post(
            "/v1/auth/register",
            &json!({"email": "ada@example.com", "password": "another password"}),
        )
        .await;
    r.assert_error("VAL_010");
    assert!(
        !r.text.contains("ada@example.com"),
        "does not echo the email"
    );
}

#[tokio::test]
async fn bad_register_bodies_get_clear_errors_and_store_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"email": "a@example.com", "password": "short"}),
            "VAL_005",
        ),
        (
            json!({"email": "a@example.com", "password": "x".repeat(129)}),
            "VAL_005",
        ),
        (
            json!({"email": "not-an-email", "password": PASSWORD}),
            "VAL_007",
        ),
        (json!({"password": PASSWORD}), "VAL_006"),
        (json!({"email": "a@example.com"}), "VAL_006"),
        (json!({"email": 42, "password": PASSWORD}), "VAL_007"),
        (json!("just a string"), "VAL_001"),
        (
            json!({"email": "a@example.com\u{0000}<script>", "password": PASSWORD}),
            "VAL_007",
        ),
    ];
    for (body, code) in cases {
        let r = app.post("/v1/auth/register", &body).await;
        let err = r.assert_error(code);
        assert!(
            !r.text.contains(PASSWORD) && !r.text.contains(&"x".repeat(129)),
            "never echoes a password: {}",
            r.text
        );
        let _ = err;
    }
    let r = app
        .send(
            app.build(reqwest::Method::POST, "/v1/auth/register")
                .header("content-type", "application/json")
                .body("{\"email\":"),
        )
        .await;
    r.assert_error("VAL_001");
    let r = app
        .send(
            app.build(reqwest::Method::POST, "/v1/auth/register")
                .header("content-type", "text/plain")
                .body("{}"),
        )
        .await;
    r.assert_error("VAL_001");
    let huge = json!({"email": "a@example.com", "password": "p".repeat(2 << 20)});
    let r = app.post("/v1/auth/register", &huge).await;
    r.assert_error("VAL_008");
    // Nothing was stored: that email cannot log in and can still register.
    let r = app
        .post(
            "/v1/auth/login",
            &json!({"email": "a@example.com", "password": PASSWORD}),
        )
        .await;
    r.assert_error("AUTH_004");
    app.register("a@example.com").await;
}

#[tokio::test]
async fn registration_can_be_closed() {
    let app = TestApp::builder()
        .with_config(|c| c.registration_open = false)
        .spawn()
        .await;
    let r = app
        .post(
            "/v1/auth/register",
            &json!({"email": "x@example.com", "password": PASSWORD}),
        )
        .await;
    r.assert_error("AUTH_005");
}

#[tokio::test]
async fn login_me_and_wrong_credentials() {
    let app = TestApp::spawn().await;
    app.register("bob@example.com").await;
    let tokens = app.login("BOB@example.com").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert_eq!(tokens["refresh_expires_in"], 30 * 24 * 3600);
    let access = tokens["access_token"].as_str().unwrap();
    let r = app.me(access).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["email"], "bob@example.com");
    assert_eq!(r.header("x-ratelimit-limit"), "100");
    assert_eq!(r.header("x-ratelimit-remaining"), "99");
    assert!(
        r.header("ratelimit-policy")
            .starts_with("\"api\";q=100;w=3600"),
        "{}",
        r.header("ratelimit-policy")
    );

    let r = app
        .post(
            "/v1/auth/login",
            &json!({"email": "bob@example.com", "password": "wrong password"}),
        )
        .await;
    r.assert_error("AUTH_004");
    let r = app
        .post(
            "/v1/auth/login",
            &json!({"email": "nobody@example.com", "password": PASSWORD}),
        )
        .await;
    r.assert_error("AUTH_004");
    let r = app
        .post(
            "/v1/auth/login",
            &json!({"email": "bob@example.com", "password": "p".repeat(500)}),
        )
        .await;
    r.assert_error("AUTH_004");
}

#[tokio::test]
async fn bad_access_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (_, access, _) = app.user("eve@example.com").await;
    app.get("/v1/auth/me").await.assert_error("AUTH_001");
    let r = app
        .send(
            app.build(reqwest::Method::GET, "/v1/auth/me")
                .header("authorization", "Basic Zm9vOmJhcg=="),
        )
        .await;
    r.assert_error("AUTH_002");
    app.me("not-a-jwt").await.assert_error("AUTH_002");
    // Tampered payload.
    let parts: Vec<&str> = access.split('.').collect();
    let tampered = format!("{}.{}x.{}", parts[0], parts[1], parts[2]);
    app.me(&tampered).await.assert_error("AUTH_002");
    // alg: none with the same payload.
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);
    app.me(&none).await.assert_error("AUTH_002");
    // Expired: move the server's clock past 15 min + leeway.
    app.clock.advance(Duration::from_secs(15 * 60 + 31));
    app.me(&access).await.assert_error("AUTH_002");
}

#[tokio::test]
async fn a_token_for_another_audience_or_issuer_is_refused() {
    let secret = "a-shared-secret-of-at-least-32-bytes!!";
    let ours = TestApp::builder().with_jwt_secret(secret).spawn().await;
    for tweak in [
        Box::new(|c: &mut ytvc_server::config::Config| c.jwt.audience = "other-api".into())
            as Box<dyn FnOnce(&mut ytvc_server::config::Config)>,
        Box::new(|c: &mut ytvc_server::config::Config| c.jwt.issuer = "other-issuer".into()),
    ] {
        let other = TestApp::builder()
            .with_jwt_secret(secret)
            .with_config(tweak)
            .spawn()
            .await;
        let (_, foreign, _) = other.user("f@example.com").await;
        ours.me(&foreign).await.assert_error("AUTH_002");
    }
}

#[tokio::test]
async fn logout_revokes_the_access_token_and_the_session() {
    for app in TestApp::on_every_backend().await {
        let (_, access, refresh) = app.user("out@example.com").await;
        let r = app.logout(&access, &refresh).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["data"]["logged_out"], true);
        app.me(&access).await.assert_error("AUTH_003");
        app.refresh(&refresh).await.assert_error("AUTH_006");
        // Still revoked after the cache would have expired (it is stored).
        app.clock.advance(Duration::from_secs(10));
        app.me(&access).await.assert_error("AUTH_003");
    }
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    for app in TestApp::on_every_backend().await {
        let (_, access1, refresh1) = app.user("rot@example.com").await;
        let r = app.refresh(&refresh1).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let refresh2 = r.body["data"]["refresh_token"].as_str().unwrap().to_owned();
        let access2 = r.body["data"]["access_token"].as_str().unwrap().to_owned();
        assert_ne!(refresh1, refresh2);
        app.me(&access2).await;
        // The rotated token presented again: theft. The family dies.
        app.refresh(&refresh1).await.assert_error("AUTH_006");
        app.refresh(&refresh2).await.assert_error("AUTH_006");
        // Access tokens of the session are refused once the cache bound passes.
        app.clock.advance(Duration::from_secs(3));
        app.me(&access2).await.assert_error("AUTH_003");
        app.me(&access1).await.assert_error("AUTH_003");
        app.refresh("garbage").await.assert_error("AUTH_006");
        app.post("/v1/auth/refresh", &json!({}))
            .await
            .assert_error("VAL_006");
    }
}

#[tokio::test]
async fn only_admins_change_plans_and_roles() {
    let app = TestApp::spawn().await;
    let (user_id, user_token, _) = app.user("u@example.com").await;
    let (admin_id, _, _) = app.user("root@example.com").await;
    let path = format!("/v1/admin/users/{user_id}");
    app.authed("PATCH", &path, &user_token, Some(&json!({"plan": "pro"})))
        .await
        .assert_error("AUTH_005");
    app.make_admin(&admin_id).await;
    let admin_token = app.access_token("root@example.com").await;
    let r = app
        .authed("PATCH", &path, &admin_token, Some(&json!({"plan": "pro"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["plan"], "pro");
    // The plan applies at once: the user's API limit is now pro's.
    let r = app.me(&user_token).await;
    assert_eq!(r.body["data"]["plan"], "pro");
    assert_eq!(r.header("x-ratelimit-limit"), "300");
    app.authed(
        "PATCH",
        &path,
        &admin_token,
        Some(&json!({"plan": "platinum"})),
    )
    .await
    .assert_error("VAL_007");
    app.authed("PATCH", &path, &admin_token, Some(&json!({"role": "god"})))
        .await
        .assert_error("VAL_007");
    let missing = format!("/v1/admin/users/{UNKNOWN_ID}");
    app.authed(
        "PATCH",
        &missing,
        &admin_token,
        Some(&json!({"plan": "pro"})),
    )
    .await
    .assert_error("NOT_FOUND_003");
    app.authed(
        "PATCH",
        "/v1/admin/users/not-a-uuid",
        &admin_token,
        Some(&json!({"plan": "pro"})),
    )
    .await
    .assert_error("NOT_FOUND_003");
}

#[tokio::test]
async fn credential_stuffing_from_one_ip_is_cut_off() {
    let app = TestApp::spawn().await;
    app.register("victim@example.com").await; // 1 request from this IP
    for i in 0..29 {
        let r = app
            .post(
                "/v1/auth/login",
                &json!({"email": "victim@example.com", "password": format!("guess {i:04}")}),
            )
            .await;
        r.assert_error("AUTH_004");
    }
    let r = app
        .post(
            "/v1/auth/login",
            &json!({"email": "victim@example.com", "password": PASSWORD}),
        )
        .await;
    let err = r.assert_error("RATE_001");
    assert_eq!(err["details"]["policy"], "auth_ip");
    let retry: u64 = r.header("retry-after").parse().unwrap();
    assert!((1..=64).contains(&retry), "{retry}");
    assert_eq!(r.header("x-ratelimit-remaining"), "0");
    app.clock.advance(Duration::from_secs(retry));
    app.login("victim@example.com").await;
}

#[tokio::test]
async fn cors_allows_only_listed_origins() {
    let app = TestApp::builder()
        .with_config(|c| c.cors_origins = vec!["https://app.example.com".into()])
        .spawn()
        .await;
    let r = app
        .send(
            app.build(reqwest::Method::GET, "/health")
                .header("origin", "https://app.example.com"),
        )
        .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        "https://app.example.com"
    );
    assert_eq!(r.header("access-control-allow-credentials"), "true");
    let r = app
        .send(
            app.build(reqwest::Method::GET, "/health")
                .header("origin", "https://evil.example.com"),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("access-control-allow-origin").is_none());
    let preflight = app
        .build(reqwest::Method::OPTIONS, "/v1/auth/login")
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type");
    let r = app.send(preflight).await;
    assert_eq!(r.status, 204);
    assert!(r.header("access-control-allow-methods").contains("POST"));
    assert!(
        r.header("access-control-allow-headers")
            .contains("content-type")
    );
    let preflight = app
        .build(reqwest::Method::OPTIONS, "/v1/auth/login")
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST");
    let r = app.send(preflight).await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
    assert!(r.headers.get("access-control-allow-methods").is_none());
}

/// Two instances on one database: a logout on one is honoured by the other
/// within the revocation cache's lifetime (2 s by default), on every backend.
#[tokio::test]
async fn a_logout_on_one_instance_is_honoured_by_another_within_the_cache_ttl() {
    for db in [Db::Sqlite, Db::Postgres] {
        let Some(a) = TestApp::builder()
            .with_db(db)
            .with_jwt_secret("fleet-signing-secret-0123456789abcdef0123")
            .try_spawn()
            .await
        else {
            continue;
        };
        let b = a.spawn_beside().await;
        let (_, access, refresh) = a.user("fleet@example.com").await;
        // B knows the token (and caches it as valid).
        let r = b.me(&access).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = a.logout(&access, &refresh).await;
        assert_eq!(r.status, 200, "{}", r.text);
        // The refresh family is revoked in the shared store: at once, everywhere.
        b.refresh(&refresh).await.assert_error("AUTH_006");
        // B's cached answer lives at most the TTL; then B sees the revocation.
        let ttl = b.config.jwt.revocation_cache;
        b.clock.advance(ttl + Duration::from_millis(1));
        b.me(&access).await.assert_error("AUTH_003");
    }
}
