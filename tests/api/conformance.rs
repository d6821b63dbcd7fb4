//! product.md to the letter where an outside audit found the server lax:
//! the order of checks, logout's body, the headers of every /v1 answer, and
//! the codes of a few edge cases.

use serde_json::json;
use ytvc_e2e::{BatchReq, TestApp, VideoReq};

/// Parts 0..n of a series about `topic`.
fn series(topic: &str, n: usize) -> impl Iterator<Item = VideoReq> + '_ {
    (0..n).map(move |i| VideoReq::part(topic, i))
}

fn remaining(r: &ytvc_e2e::Reply) -> u32 {
    r.header("x-ratelimit-remaining")
        .parse()
        .unwrap_or_else(|_| panic!("no X-RateLimit-Remaining: {}", r.text))
}

/// authenticate → rate limit → the rest: a broken body or query never hides
/// a missing or bad token, and a known caller's bad request is counted.
#[tokio::test]
async fn authentication_and_the_rate_limit_come_before_the_body_and_query() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.user("order@example.com").await;
    let bad_json = |path: &str, token: Option<&str>, ct: &str| {
        let mut req = app
            .build(reqwest::Method::POST, path)
            .header("content-type", ct)
            .body("{bad");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req
    };
    for path in ["/v1/videos", "/v1/batches", "/v1/auth/logout"] {
        app.send(bad_json(path, None, "application/json"))
            .await
            .assert_error("AUTH_001");
        app.send(bad_json(path, None, "text/plain"))
            .await
            .assert_error("AUTH_001");
        app.send(bad_json(path, Some("x.y.z"), "application/json"))
            .await
            .assert_error("AUTH_002");
    }
    for path in [
        "/v1/videos?limit=abc",
        "/v1/batches?limit=abc",
        "/v1/analytics/usage?from=x&to=y",
    ] {
        app.get(path).await.assert_error("AUTH_001");
    }

    let before = remaining(&app.me(&token).await);
    let r = app
        .send(bad_json("/v1/videos", Some(&token), "application/json"))
        .await;
    r.assert_error("VAL_001");
    assert_eq!(remaining(&r), before - 1, "the bad request was counted");
    let r = app
        .authed("GET", "/v1/videos?limit=abc", &token, None)
        .await;
    r.assert_error("VAL_009");
    assert_eq!(remaining(&r), before - 2);
}

/// Logout takes `{"refresh_token": …}` or nothing; anything else is refused
/// and logs nobody out.
#[tokio::test]
async fn logout_refuses_a_body_it_cannot_read_and_revokes_the_named_family() {
    let app = TestApp::spawn().await;
    let (_, access1, _) = app.user("logout@example.com").await;
    let session2 = app.login("logout@example.com").await;
    let refresh2 = session2["refresh_token"].as_str().unwrap();

    let post = |body: &'static str, ct: &'static str| {
        app.build(reqwest::Method::POST, "/v1/auth/logout")
            .bearer_auth(&access1)
            .header("content-type", ct)
            .body(body)
    };
    app.send(post("{bad", "application/json"))
        .await
        .assert_error("VAL_001");
    let r = app
        .send(
            app.build(reqwest::Method::POST, "/v1/auth/logout")
                .bearer_auth(&access1)
                .header("content-type", "text/plain")
                .body(json!({"refresh_token": refresh2}).to_string()),
        )
        .await;
    let err = r.assert_error("VAL_001");
    assert_eq!(err["details"]["expected_content_type"], "application/json");
    let r = app
        .send(post(r#"{"refresh_token": 7}"#, "application/json"))
        .await;
    assert_eq!(
        r.assert_error("VAL_007")["details"]["field"],
        "refresh_token"
    );
    // None of these logged anyone out.
    let me = app.me(&access1).await;
    assert_eq!(me.status, 200, "{}", me.text);

    let r = app.logout(&access1, refresh2).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["logged_out"], true);
    app.refresh(refresh2).await.assert_error("AUTH_006");
    app.me(&access1).await.assert_error("AUTH_003");

    // No body at all: this session only.
    let access3 = app.access_token("logout@example.com").await;
    let r = app
        .send(
            app.build(reqwest::Method::POST, "/v1/auth/logout")
                .bearer_auth(&access3),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.me(&access3).await.assert_error("AUTH_003");
}

/// GET /v1/quota does not consume the API limit but, like every /v1 answer,
/// carries its headers.
#[tokio::test]
async fn the_quota_answer_carries_the_rate_limit_headers_without_consuming() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.user("headers@example.com").await;
    let me = app.me(&token).await;
    let left = remaining(&me);
    for _ in 0..3 {
        let q = app.authed("GET", "/v1/quota", &token, None).await;
        assert_eq!(q.status, 200, "{}", q.text);
        assert_eq!(q.header("x-ratelimit-limit"), "100");
        assert_eq!(remaining(&q), left, "not consumed");
        assert!(chrono::DateTime::parse_from_rfc3339(q.header("x-ratelimit-reset")).is_ok());
        assert!(
            q.header("ratelimit-policy")
                .starts_with("\"api\";q=100;w=3600"),
            "{}",
            q.header("ratelimit-policy")
        );
        assert!(
            q.header("ratelimit").starts_with("\"api\";r="),
            "{}",
            q.header("ratelimit")
        );
        assert_eq!(
            q.body["data"]["rate_limits"]["api"]["remaining"].as_u64(),
            Some(u64::from(left))
        );
    }
}

/// A batch the quota cannot cover is QUOTA_003 whatever its size; a single
/// video over quota is QUOTA_001.
#[tokio::test]
async fn a_one_video_batch_over_quota_is_quota_003() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.user("batchq@example.com").await;
    app.submit_videos(&token, series("A quiet film about rain on a roof", 10))
        .await;
    let r = app
        .post_batch(
            &token,
            &BatchReq::of([VideoReq::new("A calm video about rain here")]),
        )
        .await;
    let err = r.assert_error("QUOTA_003");
    assert_eq!(err["details"]["requested"], 1);
    assert_eq!(err["details"]["remaining"], 0);
}

/// Admin analytics about a user that does not exist is NOT_FOUND_003, like a
/// malformed id; about one that does, the days.
#[tokio::test]
async fn analytics_about_an_unknown_user_is_not_found_003() {
    let app = TestApp::spawn().await;
    let (admin_id, _, _) = app.user("boss@example.com").await;
    app.make_admin(&admin_id).await;
    let admin = app.access_token("boss@example.com").await;
    let (other_id, other, _) = app.user("someone@example.com").await;
    app.submit_video(
        &other,
        &VideoReq::new("A short film about paper boats on a pond"),
    )
    .await;
    let r = app
        .authed(
            "GET",
            &format!("/v1/analytics/usage?user_id={other_id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let days = r.body["data"]["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{}", r.text);
    assert_eq!(days[0]["submitted"], 1);
    for id in ["01a224d7-f398-7425-87cf-000000000000", "not-an-id"] {
        let r = app
            .authed(
                "GET",
                &format!("/v1/analytics/usage?user_id={id}"),
                &admin,
                None,
            )
            .await;
        r.assert_error("NOT_FOUND_003");
    }
}

/// The batch list has no filters: asking for one is VAL_009, not a silently
/// unfiltered list.
#[tokio::test]
async fn the_batch_list_refuses_filters_it_does_not_have() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.user("filters@example.com").await;
    let r = app.authed("GET", "/v1/batches?limit=5", &token, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for q in ["status=bogus", "batch_id=x", "limit=0", "cursor=%%%"] {
        app.authed("GET", &format!("/v1/batches?{q}"), &token, None)
            .await
            .assert_error("VAL_009");
    }
}

/// An unknown /v1 route from a known caller is still a /v1 call: counted,
/// with the headers; from an unknown caller, a plain NOT_FOUND_004. A
/// method the route does not have is 405 HTTP_001 (it was NOT_FOUND_004
/// before product.md's contract fixes), counted the same way.
#[tokio::test]
async fn an_unknown_v1_route_counts_for_a_known_caller() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.user("lost@example.com").await;
    let before = remaining(&app.me(&token).await);
    let r = app.authed("GET", "/v1/nope", &token, None).await;
    r.assert_error("NOT_FOUND_004");
    assert_eq!(remaining(&r), before - 1);
    let r = app.authed("DELETE", "/v1/videos", &token, None).await;
    r.assert_error("HTTP_001");
    assert_eq!(r.header("allow"), "GET, POST");
    assert_eq!(remaining(&r), before - 2);
    let r = app.get("/v1/nope").await;
    r.assert_error("NOT_FOUND_004");
    assert!(r.header("x-ratelimit-remaining").is_empty());
    app.authed("GET", "/v1/nope", "x.y.z", None)
        .await
        .assert_error("NOT_FOUND_004");
}

/// Valid JSON with a value of the wrong type is the field's fault: 422
/// VAL_007 naming the field (inside a batch, with the item's index).
#[tokio::test]
async fn a_value_of_the_wrong_type_is_val_007_naming_the_field() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.user("types@example.com").await;
    let prompt = "A video about coral reefs and their fish";
    for (body, field) in [
        (
            json!({"prompt": prompt, "duration_seconds": "60"}),
            "duration_seconds",
        ),
        (
            json!({"prompt": prompt, "duration_seconds": 60.5}),
            "duration_seconds",
        ),
        (json!({"prompt": 123}), "prompt"),
    ] {
        let r = app.post_video(&token, &body).await;
        let err = r.assert_error("VAL_007");
        assert_eq!(err["details"]["field"], field, "{}", r.text);
    }
    let r = app
        .post_batch(
            &token,
            &json!({"videos": [{"prompt": prompt}, {"prompt": prompt, "duration_seconds": true}]}),
        )
        .await;
    let err = r.assert_error("VAL_007");
    assert_eq!(err["details"]["field"], "videos[1].duration_seconds");
    let r = app.post_batch(&token, &json!({"videos": [{}]})).await;
    let err = r.assert_error("VAL_006");
    assert_eq!(err["details"]["field"], "videos[0].prompt", "{}", r.text);
    // A body of the wrong shape as a whole has no field to blame.
    app.post_video(&token, &json!([]))
        .await
        .assert_error("VAL_001");
    let r = app
        .post(
            "/v1/auth/login",
            &json!({"email": 5, "password": "whatever-it-is"}),
        )
        .await;
    assert_eq!(r.assert_error("VAL_007")["details"]["field"], "email");
    assert_eq!(app.count_videos(&token).await, 0, "nothing was created");
}

/// register, login and refresh count a malformed body against the client
/// IP's limit too, and answer it with the limit's headers.
#[tokio::test]
async fn the_auth_endpoints_count_a_bad_body_against_the_ip_limit() {
    let app = TestApp::spawn().await;
    let mut last = None;
    for path in ["/v1/auth/register", "/v1/auth/login", "/v1/auth/refresh"] {
        let r = app
            .send(
                app.build(reqwest::Method::POST, path)
                    .header("content-type", "application/json")
                    .body("{bad"),
            )
            .await;
        r.assert_error("VAL_001");
        assert_eq!(r.header("x-ratelimit-limit"), "30", "{path}");
        let left = remaining(&r);
        if let Some(before) = last {
            assert_eq!(left, before - 1, "{path} counted");
        }
        last = Some(left);
    }
}

/// authenticate → rate limit → quota → handler: a user without quota hears
/// about the quota even when the body is also invalid, and a batch too large
/// for the plan or the quota is refused before its items are validated.
#[tokio::test]
async fn the_quota_is_checked_before_the_body_is_validated() {
    let app = TestApp::spawn().await;
    let (_, token, _) = app.user("spent@example.com").await;
    let bad_item = VideoReq::new("short");
    let bad_batch = |n: usize| BatchReq::of(vec![bad_item.clone(); n]);
    let r = app.post_batch(&token, &bad_batch(6)).await;
    assert_eq!(r.assert_error("QUOTA_002")["details"]["requested"], 6);
    app.submit_videos(&token, series("A slow film about autumn leaves", 8))
        .await;
    // 2 left: a batch of 3 invalid items is a quota matter first.
    let r = app.post_batch(&token, &bad_batch(3)).await;
    let err = r.assert_error("QUOTA_003");
    assert_eq!(
        (
            err["details"]["requested"].as_u64(),
            err["details"]["remaining"].as_u64()
        ),
        (Some(3), Some(2))
    );
    // With room, the items are validated.
    app.post_batch(&token, &bad_batch(2))
        .await
        .assert_error("VAL_002");
    app.submit_videos(&token, series("A slow film about winter light", 2))
        .await;
    app.post_video(&token, &bad_item)
        .await
        .assert_error("QUOTA_001");
}
