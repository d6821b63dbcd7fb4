//! API keys end to end: created once, listed without the secret, used as
//! `Authorization: Bearer ytvc_…` with scopes checked per route, revoked at
//! once here and within the cache bound elsewhere, spending the owner's
//! limits and quota. Every refusal asserts status and code.

use std::time::Duration;

use serde_json::{Value, json};
use ytvc_domain::keys::{Entropy, KeySecret};
use ytvc_e2e::{Db, TestApp, VideoReq};

const FLEET_SECRET: &str = "fleet-signing-secret-0123456789abcdef0123";
const ALL_SCOPES: [&str; 5] = [
    "videos:read",
    "videos:write",
    "publish",
    "webhooks",
    "account",
];

fn video() -> VideoReq {
    VideoReq::new("A calm documentary about coral reefs and how they recover")
}

/// `key` with its last character changed: the checksum no longer matches.
fn mistyped(key: &str) -> String {
    let mut typo = key.to_owned();
    let last = typo.pop().unwrap();
    typo.push(if last == 'a' { 'b' } else { 'a' });
    typo
}

#[tokio::test]
async fn a_key_with_only_videos_read_lists_videos_but_gets_auth_005_on_submit() {
    for app in TestApp::on_every_backend().await {
        let (_, jwt, _) = app.user("reader@example.com").await;
        app.submit_video(&jwt, &video()).await;
        let (key, _) = app.api_key(&jwt, "dashboard", &["videos:read"]).await;
        let items = app.videos(&key, "").await;
        assert_eq!(items.len(), 1, "the owner's videos");
        app.quota(&key).await;
        let r = app.post_video(&key, &video()).await;
        let err = r.assert_error("AUTH_005");
        assert_eq!(err["details"]["scope"], "videos:write", "{}", r.text);
        // Nothing stored, no quota spent.
        assert_eq!(app.count_videos(&jwt).await, 1);
        assert_eq!(app.used_and_reserved(&jwt).await, (1, 1));
        // Other routes of other scopes, one of each.
        let err = app.me(&key).await.assert_error("AUTH_005").clone();
        assert_eq!(err["details"]["scope"], "account");
        let err = app
            .list_api_keys(&key)
            .await
            .assert_error("AUTH_005")
            .clone();
        assert_eq!(err["details"]["scope"], "account");
        let id = items[0]["id"].as_str().unwrap();
        let err = app
            .cancel_video(&key, id)
            .await
            .assert_error("AUTH_005")
            .clone();
        assert_eq!(err["details"]["scope"], "videos:write");
        app.get_video(&key, id).await.data(200);
    }
}

#[tokio::test]
async fn a_revoked_key_is_refused_on_another_instance_within_the_cache_ttl() {
    for db in [Db::Sqlite, Db::Postgres] {
        let Some(a) = TestApp::builder()
            .with_db(db)
            .with_jwt_secret(FLEET_SECRET)
            .try_spawn()
            .await
        else {
            continue;
        };
        let b = a.spawn_beside().await;
        let (_, jwt, _) = a.user("fleet-key@example.com").await;
        let (key, id) = a.api_key(&jwt, "ci", &["videos:read"]).await;
        // Both instances know the key (and cache it as live).
        a.videos(&key, "").await;
        b.videos(&key, "").await;
        let r = a.revoke_api_key(&jwt, &id).await;
        assert!(r.data(200)["revoked_at"].is_string(), "{}", r.text);
        // Here: at once.
        a.list_videos(&key, "").await.assert_error("AUTH_003");
        // There: within the cache's bound (2 s by default), then for good.
        let ttl = b.config.jwt.revocation_cache;
        assert!(ttl <= Duration::from_secs(2), "{ttl:?}");
        b.clock.advance(ttl + Duration::from_millis(1));
        b.list_videos(&key, "").await.assert_error("AUTH_003");
        b.clock.advance(Duration::from_secs(60));
        b.list_videos(&key, "").await.assert_error("AUTH_003");
    }
}

#[tokio::test]
async fn the_key_is_shown_once_and_lists_never_show_it() {
    for app in TestApp::on_every_backend().await {
        let (user_id, jwt, _) = app.user("lister@example.com").await;
        let body = json!({"name": "  nightly uploader ", "scopes": ["videos:write", "videos:read"],
                          "expires_in_days": 90});
        let r = app.post_api_key(&jwt, &body).await;
        let data = r.data(201).clone();
        assert_eq!(r.header("cache-control"), "no-store");
        let key = data["key"].as_str().unwrap().to_owned();
        assert!(key.starts_with("ytvc_") && key.len() == 62, "{key}");
        let view = &data["api_key"];
        assert_eq!(view["name"], "nightly uploader");
        assert_eq!(view["scopes"], json!(["videos:read", "videos:write"]));
        assert_eq!(view["prefix"], &key[..13]);
        assert_eq!(view["expired"], false);
        assert!(view["expires_at"].is_string() && view["last_used_at"].is_null());
        let (other, _) = app.api_key(&jwt, "second", &["account"]).await;

        let r = app.list_api_keys(&jwt).await;
        let items = r.data(200).as_array().unwrap().clone();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["name"], "second", "newest first");
        for secret in [&key, &other] {
            assert!(
                !r.text.contains(&secret[13..]),
                "never the secret: {}",
                r.text
            );
        }
        assert!(items.iter().all(|k| k.get("key").is_none()));
        // The key authenticates its owner (`account` scope).
        let me = app.me(&other).await;
        assert_eq!(me.data(200)["id"], user_id.as_str());
        // Its use is recorded (off the request path, soon after).
        let mut used = Value::Null;
        for _ in 0..50 {
            let r = app.list_api_keys(&jwt).await;
            used = r.data(200)[0]["last_used_at"].clone();
            if used.is_string() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(used.is_string(), "last_used_at: {used}");
        // Another user sees none of them.
        let (_, stranger, _) = app.user("stranger@example.com").await;
        assert_eq!(app.list_api_keys(&stranger).await.data(200), &json!([]));
    }
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once_and_only_its_owner_revokes_it() {
    for app in TestApp::on_every_backend().await {
        let (_, jwt, _) = app.user("owner@example.com").await;
        let (_, stranger, _) = app.user("stranger@example.com").await;
        let (key, id) = app.api_key(&jwt, "temp", &["videos:read", "account"]).await;
        app.videos(&key, "").await;
        app.revoke_api_key(&stranger, &id)
            .await
            .assert_error("KEY_001");
        app.revoke_api_key(&jwt, "not-a-uuid")
            .await
            .assert_error("KEY_001");
        app.revoke_api_key(&jwt, ytvc_e2e::UNKNOWN_ID)
            .await
            .assert_error("KEY_001");
        app.videos(&key, "").await;
        // A key may revoke itself (it holds `account`): refused from the next request.
        let r = app.revoke_api_key(&key, &id).await;
        assert_eq!(r.data(200)["id"], id.as_str());
        app.list_videos(&key, "").await.assert_error("AUTH_003");
        app.revoke_api_key(&jwt, &id).await.assert_error("KEY_001");
        assert_eq!(app.list_api_keys(&jwt).await.data(200), &json!([]));
    }
}

#[tokio::test]
async fn a_mistyped_key_is_auth_002_before_any_storage_read() {
    use diesel::RunQueryDsl as _;
    let app = TestApp::spawn().await;
    let (_, jwt, _) = app.user("typo@example.com").await;
    let (key, _) = app.api_key(&jwt, "ci", &["videos:read"]).await;
    for bad in [
        mistyped(&key),
        key[..61].to_owned(),
        format!("{key}x"),
        key.replacen("ytvc_", "ytvc_-", 1)[..62].to_owned(),
        "ytvc_".to_owned(),
    ] {
        app.list_videos(&bad, "").await.assert_error("AUTH_002");
    }
    // With the keys table gone, a well-formed key reaches storage and fails
    // there; a mistyped one is still AUTH_002: it never got that far.
    let mut conn = app.db().database().conn().unwrap();
    diesel::sql_query("DROP TABLE api_keys")
        .execute(&mut *conn)
        .unwrap();
    drop(conn);
    // A well-formed key nobody made (the cache knows `key` itself).
    let unknown = well_formed_unknown_key();
    let r = app.list_videos(&unknown, "").await;
    assert!(r.status >= 500, "reached storage: {}", r.text);
    app.list_videos(&mistyped(&unknown), "")
        .await
        .assert_error("AUTH_002");
}

/// A well-formed key: `ytvc_`, 51 × `z`, and its checksum.
fn well_formed_unknown_key() -> String {
    struct Zs;
    impl Entropy for Zs {
        fn fill(&self, buf: &mut [u8]) {
            buf.fill(61); // the alphabet's last character, `z`
        }
    }
    KeySecret::generate(&Zs).expose().to_owned()
}

#[tokio::test]
async fn an_expired_key_is_auth_002() {
    let app = TestApp::spawn().await;
    let (_, jwt, _) = app.user("expiry@example.com").await;
    let body = json!({"name": "one day", "scopes": ["videos:read"], "expires_in_days": 1});
    let key = app.post_api_key(&jwt, &body).await.data(201)["key"]
        .as_str()
        .unwrap()
        .to_owned();
    app.videos(&key, "").await;
    app.clock.advance(Duration::from_secs(86_400));
    app.list_videos(&key, "").await.assert_error("AUTH_002");
    // Listed as expired until revoked (the day-old access token expired too).
    let jwt = app.access_token("expiry@example.com").await;
    let items = app.list_api_keys(&jwt).await.data(200).clone();
    assert_eq!(items[0]["expired"], true);
}

#[tokio::test]
async fn keys_spend_their_owners_quota_and_rate_limit() {
    for app in TestApp::on_every_backend().await {
        let (_, jwt, _) = app.user("spender@example.com").await;
        let (key, _) = app.api_key(&jwt, "writer", &["videos:write"]).await;
        let submitted = app.submit_video(&key, &video()).await;
        assert_eq!(submitted["status"], "queued");
        // The owner's quota shows the key's video.
        assert_eq!(app.used_and_reserved(&jwt).await, (1, 1));
        assert_eq!(app.count_videos(&jwt).await, 1);
        // One API budget: the token's call, the key's, the token's again.
        let remaining = |r: &ytvc_e2e::Reply| -> u32 {
            r.header("x-ratelimit-remaining")
                .parse()
                .expect("remaining")
        };
        let before = remaining(&app.me(&jwt).await);
        let id = submitted["id"].as_str().unwrap();
        app.cancel_video(&key, id).await.data(200);
        let after = remaining(&app.me(&jwt).await);
        assert_eq!(after, before - 2);
    }
}

#[tokio::test]
async fn a_key_grants_at_most_its_own_scopes() {
    let app = TestApp::spawn().await;
    let (_, jwt, _) = app.user("granter@example.com").await;
    let (admin_key, _) = app
        .api_key(&jwt, "admin", &["account", "videos:read"])
        .await;
    // A subset: fine.
    let (child, _) = app.api_key(&admin_key, "child", &["videos:read"]).await;
    app.videos(&child, "").await;
    // More than it holds: AUTH_005 naming the scope, nothing stored.
    let r = app
        .post_api_key(
            &admin_key,
            &json!({"name": "x", "scopes": ["videos:read", "videos:write"]}),
        )
        .await;
    let err = r.assert_error("AUTH_005");
    assert_eq!(err["details"]["scope"], "videos:write");
    // A key without `account` cannot make keys at all.
    let r = app
        .post_api_key(&child, &json!({"name": "y", "scopes": ["videos:read"]}))
        .await;
    assert_eq!(r.assert_error("AUTH_005")["details"]["scope"], "account");
    // A session may grant any scope.
    app.api_key(&jwt, "all", &ALL_SCOPES).await;
    let names: Vec<Value> = app
        .list_api_keys(&jwt)
        .await
        .data(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].clone())
        .collect();
    assert_eq!(names, [json!("all"), json!("child"), json!("admin")]);
}

#[tokio::test]
async fn bad_key_requests_are_catalog_errors_and_store_nothing() {
    let app = TestApp::spawn().await;
    let (_, jwt, _) = app.user("bad-bodies@example.com").await;
    let cases = [
        (json!({"scopes": ["videos:read"]}), "VAL_006", "name"),
        (json!({"name": "x"}), "VAL_006", "scopes"),
        (
            json!({"name": "", "scopes": ["videos:read"]}),
            "VAL_005",
            "name",
        ),
        (
            json!({"name": "n".repeat(101), "scopes": ["videos:read"]}),
            "VAL_005",
            "name",
        ),
        (json!({"name": "x", "scopes": []}), "VAL_007", "scopes"),
        (
            json!({"name": "x", "scopes": ["videos:read", "root"]}),
            "VAL_007",
            "scopes[1]",
        ),
        (
            json!({"name": "x", "scopes": "videos:read"}),
            "VAL_007",
            "scopes",
        ),
        (
            json!({"name": "x", "scopes": ["account"], "expires_in_days": 0}),
            "VAL_005",
            "expires_in_days",
        ),
        (
            json!({"name": "x", "scopes": ["account"], "expires_in_days": 366}),
            "VAL_005",
            "expires_in_days",
        ),
    ];
    for (body, code, field) in cases {
        let r = app.post_api_key(&jwt, &body).await;
        let err = r.assert_error(code);
        assert_eq!(err["details"]["field"], field, "{body}: {}", r.text);
    }
    let r = app
        .post_api_key(&jwt, &json!({"name": "x", "scopes": ["root"]}))
        .await;
    let err = r.assert_error("VAL_007");
    assert_eq!(err["details"]["allowed"], json!(ALL_SCOPES));
    assert_eq!(app.list_api_keys(&jwt).await.data(200), &json!([]));
    // No credentials at all: AUTH_001, before the body is read.
    let r = app.post("/v1/api-keys", &json!({"name": "x"})).await;
    r.assert_error("AUTH_001");
}

#[tokio::test]
async fn a_key_cannot_log_out_a_session() {
    let app = TestApp::spawn().await;
    let (_, jwt, _) = app.user("logout-key@example.com").await;
    let (key, _) = app.api_key(&jwt, "everything", &ALL_SCOPES).await;
    let r = app.authed("POST", "/v1/auth/logout", &key, None).await;
    r.assert_error("AUTH_005");
    // The key still works, and so does the session.
    app.me(&key).await.data(200);
    app.me(&jwt).await.data(200);
}
