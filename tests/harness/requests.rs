//! Typed helpers for the calls tests repeat: accounts, videos, batches,
//! quota. The `post_*` helpers send any body (a [`VideoReq`], or a
//! `json!` value to send what the types cannot) and return the [`Reply`];
//! the `submit_*` helpers assert the 202 and return the `data`.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::{PASSWORD, Reply, TestApp};

/// A well-formed id that names nothing.
pub const UNKNOWN_ID: &str = "01900000-0000-7000-8000-000000000000";

/// `fn field(self, value: &str) -> Self` for optional text fields.
macro_rules! text_setters {
    ($($field:ident),*) => {$(
        #[doc = concat!("With this `", stringify!($field), "`.")]
        #[must_use]
        pub fn $field(mut self, value: &str) -> Self {
            self.$field = Some(value.to_owned());
            self
        }
    )*};
}

/// The body of `POST /v1/videos` (and of a batch's item); unset fields are
/// left out, so the server's defaults apply.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VideoReq {
    /// What the video is about.
    pub prompt: String,
    /// Its length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u32>,
    /// `cinematic`, `documentary`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// `16:9`, `9:16` or `1:1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<String>,
    /// `narrator_male`, …, `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// A BCP 47 tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl VideoReq {
    /// A video about `prompt`, with the server's defaults.
    #[must_use]
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            ..Self::default()
        }
    }

    /// Part `i` of a series about `topic` (prompt `"{topic}, part {i}"`):
    /// distinct valid videos.
    #[must_use]
    pub fn part(topic: &str, i: usize) -> Self {
        Self::new(format!("{topic}, part {i}"))
    }

    /// With this length.
    #[must_use]
    pub fn duration(mut self, seconds: u32) -> Self {
        self.duration_seconds = Some(seconds);
        self
    }

    text_setters!(style, aspect_ratio, voice, language);
}

/// The body of `POST /v1/batches`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchReq {
    /// The batch's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its videos.
    pub videos: Vec<VideoReq>,
}

impl BatchReq {
    /// A batch of `videos`.
    #[must_use]
    pub fn of(videos: impl IntoIterator<Item = VideoReq>) -> Self {
        Self {
            name: None,
            videos: videos.into_iter().collect(),
        }
    }

    /// With this name.
    #[must_use]
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

const FINAL: [&str; 3] = ["completed", "failed", "cancelled"];

/// The account the harness changes plans and roles with, through the admin
/// API (created like `ytvc-server user create --admin` does).
const HARNESS_ADMIN: &str = "e2e-harness-admin@example.com";

/// Accounts.
impl TestApp {
    /// Registers `email` with [`PASSWORD`]; asserts 201; returns the account.
    pub async fn register(&self, email: &str) -> Value {
        self.credentials("/v1/auth/register", email, 201).await
    }

    /// Logs in; asserts 200; returns the token pair (`data`).
    pub async fn login(&self, email: &str) -> Value {
        self.credentials("/v1/auth/login", email, 200).await
    }

    async fn credentials(&self, path: &str, email: &str, status: u16) -> Value {
        let body = json!({"email": email, "password": PASSWORD});
        let r = self.post(path, &body).await;
        assert_eq!(r.status, status, "{path} {email}: {}", r.text);
        r.body["data"].clone()
    }

    /// Logs in again; returns the new access token (after the clock passed
    /// its expiry, or a plan or role changed).
    pub async fn access_token(&self, email: &str) -> String {
        self.login(email).await["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// Registers and logs in a fresh user; returns (user id, access token, refresh token).
    pub async fn user(&self, email: &str) -> (String, String, String) {
        let user = self.register(email).await;
        let tokens = self.login(email).await;
        (
            user["id"].as_str().expect("id").to_owned(),
            tokens["access_token"].as_str().expect("access").to_owned(),
            tokens["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        )
    }

    /// `GET /v1/auth/me`.
    pub async fn me(&self, token: &str) -> Reply {
        self.authed("GET", "/v1/auth/me", token, None).await
    }

    /// `POST /v1/auth/refresh` with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        let body = json!({ "refresh_token": refresh_token });
        self.post("/v1/auth/refresh", &body).await
    }

    /// `POST /v1/auth/logout` naming the session of `refresh_token`.
    pub async fn logout(&self, access: &str, refresh_token: &str) -> Reply {
        let body = json!({ "refresh_token": refresh_token });
        self.authed("POST", "/v1/auth/logout", access, Some(&body))
            .await
    }

    /// Moves a user to `plan` as an admin does (`PATCH /v1/admin/users/{id}`);
    /// it applies at once.
    pub async fn set_plan(&self, user_id: &str, plan: &str) {
        self.admin_update(user_id, &json!({ "plan": plan })).await;
    }

    /// Makes a user an admin as an admin does (`PATCH /v1/admin/users/{id}`);
    /// their next login carries the role.
    pub async fn make_admin(&self, user_id: &str) {
        self.admin_update(user_id, &json!({"role": "admin"})).await;
    }

    async fn admin_update(&self, user_id: &str, change: &Value) {
        let token = self.harness_admin_token().await;
        let r = self
            .authed(
                "PATCH",
                &format!("/v1/admin/users/{user_id}"),
                &token,
                Some(change),
            )
            .await;
        assert_eq!(r.status, 200, "admin update {change}: {}", r.text);
    }

    /// An access token of [`HARNESS_ADMIN`], created on first use by the
    /// server's own account service (what `ytvc-server user create --admin`
    /// calls) and logged in through it, so no HTTP limit of the test's
    /// client is spent.
    async fn harness_admin_token(&self) -> String {
        use ytvc_domain::accounts::Role;
        use ytvc_domain::auth::AuthError;
        let auth = self.state.auth.clone();
        tokio::task::spawn_blocking(move || {
            let plan = ytvc_quota::PlanName::parse("free").expect("plan");
            match auth.create_user(HARNESS_ADMIN, PASSWORD, Role::Admin, plan) {
                Ok(_) | Err(AuthError::EmailTaken) => {}
                Err(e) => panic!("cannot create the harness admin: {e}"),
            }
            auth.login(HARNESS_ADMIN, PASSWORD)
                .expect("harness admin login")
                .access_token
        })
        .await
        .expect("task")
    }
}

/// Videos, batches and quota.
impl TestApp {
    fn post_json(
        &self,
        path: &str,
        token: &str,
        key: Option<&str>,
        body: &impl Serialize,
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .build(reqwest::Method::POST, path)
            .bearer_auth(token)
            .json(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        req
    }

    /// A `POST /v1/videos` of `body` not sent yet (to add headers, then
    /// [`send`](Self::send) it).
    pub fn video_request(&self, token: &str, body: &impl Serialize) -> reqwest::RequestBuilder {
        self.post_json("/v1/videos", token, None, body)
    }

    /// `POST /v1/videos` with `body` (a [`VideoReq`] or any JSON).
    pub async fn post_video(&self, token: &str, body: &impl Serialize) -> Reply {
        self.send(self.video_request(token, body)).await
    }

    /// `POST path` (`/v1/videos` or `/v1/batches`) with an `Idempotency-Key`.
    pub async fn post_with_key(
        &self,
        path: &str,
        token: &str,
        key: &str,
        body: &impl Serialize,
    ) -> Reply {
        self.send(self.post_json(path, token, Some(key), body))
            .await
    }

    /// Submits a video; asserts 202; returns the video (`data`).
    pub async fn submit_video(&self, token: &str, video: &VideoReq) -> Value {
        self.post_video(token, video).await.data(202).clone()
    }

    /// Submits each video in turn; asserts each 202; returns their ids.
    pub async fn submit_videos(
        &self,
        token: &str,
        videos: impl IntoIterator<Item = VideoReq>,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        for (i, video) in videos.into_iter().enumerate() {
            let r = self.post_video(token, &video).await;
            assert_eq!(r.status, 202, "video {i}: {}", r.text);
            ids.push(r.body["data"]["id"].as_str().expect("id").to_owned());
        }
        ids
    }

    /// `GET /v1/videos/{id}`.
    pub async fn get_video(&self, token: &str, id: &str) -> Reply {
        self.authed("GET", &format!("/v1/videos/{id}"), token, None)
            .await
    }

    /// `POST /v1/videos/{id}/cancel`.
    pub async fn cancel_video(&self, token: &str, id: &str) -> Reply {
        self.authed("POST", &format!("/v1/videos/{id}/cancel"), token, None)
            .await
    }

    /// `GET /v1/videos/{id}/artifacts/{name}`.
    pub async fn get_artifact(&self, token: &str, id: &str, name: &str) -> Reply {
        self.authed(
            "GET",
            &format!("/v1/videos/{id}/artifacts/{name}"),
            token,
            None,
        )
        .await
    }

    /// The bytes of an artifact, after asserting the 200.
    ///
    /// # Panics
    /// When the download is not a 200.
    pub async fn artifact_bytes(&self, token: &str, id: &str, name: &str) -> Vec<u8> {
        let response = self
            .build(
                reqwest::Method::GET,
                &format!("/v1/videos/{id}/artifacts/{name}"),
            )
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200, "{name}");
        response.bytes().await.expect("body").to_vec()
    }

    /// `GET /v1/videos?{query}` (no `?` when `query` is empty).
    pub async fn list_videos(&self, token: &str, query: &str) -> Reply {
        let path = if query.is_empty() {
            "/v1/videos".to_owned()
        } else {
            format!("/v1/videos?{query}")
        };
        self.authed("GET", &path, token, None).await
    }

    /// The items of `GET /v1/videos?{query}`; asserts 200.
    pub async fn videos(&self, token: &str, query: &str) -> Vec<Value> {
        let r = self.list_videos(token, query).await;
        r.data(200)["items"].as_array().expect("items").clone()
    }

    /// How many videos the user has (up to 100).
    pub async fn count_videos(&self, token: &str) -> usize {
        self.videos(token, "limit=100").await.len()
    }

    /// Polls a video until `done` holds for it; returns it. The manual clock
    /// moves only while the video waits out a retry backoff (queued after a
    /// failed attempt) and `advance_backoff` is set, never while it runs, so
    /// no lease expires under a live worker.
    async fn poll_video(
        &self,
        token: &str,
        id: &str,
        limit: Duration,
        advance_backoff: bool,
        done: impl Fn(&str) -> bool,
    ) -> Value {
        let started = Instant::now();
        loop {
            let r = self.get_video(token, id).await;
            let v = r.data(200);
            let status = v["status"].as_str().expect("status").to_owned();
            if done(&status) {
                return v.clone();
            }
            assert!(started.elapsed() < limit, "video {id} stuck in {status}");
            if advance_backoff && status == "queued" && v["attempts"].as_u64().unwrap_or(0) > 0 {
                self.clock.advance(Duration::from_secs(15));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls a video until it reaches a final status (completed, failed,
    /// cancelled), moving the clock through retry backoffs; returns it.
    pub async fn wait_final(&self, token: &str, id: &str) -> Value {
        self.poll_video(token, id, Duration::from_secs(60), true, |s| {
            FINAL.contains(&s)
        })
        .await
    }

    /// Submits a video and waits until it is final (see
    /// [`wait_final`](Self::wait_final)); returns it.
    pub async fn make_video(&self, token: &str, video: &VideoReq) -> Value {
        let submitted = self.submit_video(token, video).await;
        let id = submitted["id"].as_str().expect("id");
        self.wait_final(token, id).await
    }

    /// Polls a video (without moving the clock) until its status is one of
    /// `statuses`; returns it.
    pub async fn wait_for_status(&self, token: &str, id: &str, statuses: &[&str]) -> Value {
        self.poll_video(token, id, Duration::from_secs(30), false, |s| {
            statuses.contains(&s)
        })
        .await
    }

    /// `POST /v1/batches` with `body` (a [`BatchReq`] or any JSON).
    pub async fn post_batch(&self, token: &str, body: &impl Serialize) -> Reply {
        self.send(self.post_json("/v1/batches", token, None, body))
            .await
    }

    /// Submits a batch; asserts 202; returns the batch (`data`).
    pub async fn submit_batch(&self, token: &str, batch: &BatchReq) -> Value {
        self.post_batch(token, batch).await.data(202).clone()
    }

    /// `GET /v1/batches/{id}`.
    pub async fn get_batch(&self, token: &str, id: &str) -> Reply {
        self.authed("GET", &format!("/v1/batches/{id}"), token, None)
            .await
    }

    /// `POST /v1/batches/{id}/cancel`.
    pub async fn cancel_batch(&self, token: &str, id: &str) -> Reply {
        self.authed("POST", &format!("/v1/batches/{id}/cancel"), token, None)
            .await
    }

    /// `GET /v1/quota`; asserts 200; returns the `data`.
    pub async fn quota(&self, token: &str) -> Value {
        let r = self.authed("GET", "/v1/quota", token, None).await;
        r.data(200).clone()
    }

    /// The quota's (used, reserved) units.
    pub async fn used_and_reserved(&self, token: &str) -> (u64, u64) {
        let q = self.quota(token).await;
        (
            q["used"].as_u64().expect("used"),
            q["reserved"].as_u64().expect("reserved"),
        )
    }
}

/// API keys.
impl TestApp {
    /// `POST /v1/api-keys` with `body` (any JSON).
    pub async fn post_api_key(&self, token: &str, body: &Value) -> Reply {
        self.authed("POST", "/v1/api-keys", token, Some(body)).await
    }

    /// Creates a key named `name` with `scopes` (authenticated by `token`, a
    /// JWT or a key); asserts 201; returns (the key, its id).
    pub async fn api_key(&self, token: &str, name: &str, scopes: &[&str]) -> (String, String) {
        let r = self
            .post_api_key(token, &json!({ "name": name, "scopes": scopes }))
            .await;
        let data = r.data(201);
        (
            data["key"].as_str().expect("key").to_owned(),
            data["api_key"]["id"].as_str().expect("id").to_owned(),
        )
    }

    /// `GET /v1/api-keys`.
    pub async fn list_api_keys(&self, token: &str) -> Reply {
        self.authed("GET", "/v1/api-keys", token, None).await
    }

    /// `DELETE /v1/api-keys/{id}`.
    pub async fn revoke_api_key(&self, token: &str, id: &str) -> Reply {
        self.authed("DELETE", &format!("/v1/api-keys/{id}"), token, None)
            .await
    }
}
