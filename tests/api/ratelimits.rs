//! The plan table's rate limits over HTTP, with a manual clock.

use std::time::Duration;

use ytvc_e2e::TestApp;

async fn spend(app: &TestApp, token: &str, n: usize) {
    for i in 0..n {
        let r = app.authed("GET", "/v1/auth/me", token, None).await;
        assert_eq!(r.status, 200, "call {i}: {}", r.text);
    }
}

#[tokio::test]
async fn the_101st_call_of_a_free_user_in_an_hour_is_refused_and_the_window_slides() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.user("free@example.com").await;
    spend(&app, &token, 60).await;
    app.clock.advance(Duration::from_secs(30 * 60));
    // The access token (15 min) has expired meanwhile: log in again.
    let token = app.login("free@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    spend(&app, &token, 40).await;
    let r = app.authed("GET", "/v1/auth/me", &token, None).await;
    let err = r.assert_error("RATE_001");
    assert_eq!(err["details"]["limit"], 100);
    assert_eq!(err["details"]["window_seconds"], 3600);
    assert_eq!(r.header("x-ratelimit-limit"), "100");
    assert_eq!(r.header("x-ratelimit-remaining"), "0");
    let reset = chrono::DateTime::parse_from_rfc3339(r.header("x-ratelimit-reset"))
        .expect("RFC 3339 reset");
    let retry: i64 = r.header("retry-after").parse().unwrap();
    // The first 60 calls leave the window about 30 min from now (plus at most one bucket).
    assert!(
        (30 * 60..=30 * 60 + 226).contains(&retry),
        "retry-after {retry}"
    );
    let now_ms = ytvc_rate_limit_now(&app);
    assert!(reset.timestamp_millis() - now_ms <= retry * 1000);
    assert!(reset.timestamp_millis() - now_ms > (retry - 1) * 1000);
    assert!(
        r.header("ratelimit").starts_with("\"api\";r=0;t="),
        "{}",
        r.header("ratelimit")
    );
    // Just before the reset: still refused; at the reset: the 60 oldest leave.
    let reset_ms = reset.timestamp_millis();
    let now_ms = ytvc_rate_limit_now(&app);
    app.clock.advance(Duration::from_millis(
        u64::try_from(reset_ms - now_ms - 1).unwrap(),
    ));
    let token = app.login("free@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.authed("GET", "/v1/auth/me", &token, None)
        .await
        .assert_error("RATE_001");
    app.clock.advance(Duration::from_millis(1));
    let r = app.authed("GET", "/v1/auth/me", &token, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("x-ratelimit-remaining"), "59");
}

#[tokio::test]
async fn pro_and_enterprise_have_their_own_limits() {
    let app = TestApp::spawn().await;
    let (pro_id, pro, _) = app.user("pro@example.com").await;
    let (ent_id, ent, _) = app.user("ent@example.com").await;
    app.set_plan(&pro_id, "pro").await;
    app.set_plan(&ent_id, "enterprise").await;
    let r = app.authed("GET", "/v1/auth/me", &pro, None).await;
    assert_eq!(r.header("x-ratelimit-limit"), "300");
    let r = app.authed("GET", "/v1/auth/me", &ent, None).await;
    assert_eq!(r.header("x-ratelimit-limit"), "1000");
    spend(&app, &pro, 299).await;
    app.authed("GET", "/v1/auth/me", &pro, None)
        .await
        .assert_error("RATE_001");
    // Limits are per user: enterprise is unaffected.
    assert_eq!(
        app.authed("GET", "/v1/auth/me", &ent, None).await.status,
        200
    );
}

fn ytvc_rate_limit_now(app: &TestApp) -> i64 {
    use ytvc_quota::Clock as _;
    app.clock.now().timestamp_millis()
}
