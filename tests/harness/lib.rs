#![doc = include_str!("../README.md")]

mod google;
mod logs;
mod openai;
mod process;
mod requests;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use ytvc_persistence::testing::TestDb;
use ytvc_server::config::{Config, MediaProvider, Secret};
use ytvc_server::startup::Application;
use ytvc_server::state::AppState;

pub use google::{FakeGoogle, Outage};
pub use logs::LogCapture;
pub use openai::FakeOpenAi;
pub use process::WorkerProcess;
pub use requests::{BatchReq, UNKNOWN_ID, VideoReq};

/// The paths and key of the fake Google.
pub mod fake_google {
    pub use crate::google::{API_KEY, IMAGEN, LLM, OPERATION, TTS, VEO, VEO_MODEL};
}

/// The paths, key, models and canned media of the fake OpenAI-compatible
/// server.
pub mod fake_openai {
    pub use crate::openai::{API_KEY, CHAT, IMAGES, KNOWN_MODELS, MODELS, SPEECH, TITLE, png, wav};
}

/// The password every harness user gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// Which database a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A temp SQLite file (always available).
    Sqlite,
    /// A fresh PostgreSQL database (only with `YTVC_TEST_DATABASE_URL`).
    Postgres,
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// `http://127.0.0.1:PORT` of the admin listener, when the
    /// configuration has an `admin_bind`.
    pub admin_address: Option<String>,
    /// The HTTP client (no redirects followed, so tests see them).
    pub client: reqwest::Client,
    /// The server's configuration.
    pub config: Config,
    /// The server's clock (manual: tests move time with it).
    pub clock: ytvc_server::clock::AppClock,
    /// The server's shared state (its services: the harness sets up through them).
    state: Arc<AppState>,
    log: Option<LogCapture>,
    handle: actix_web_handle::Handle,
    /// The database, owned by the first app of a fleet (dropped with it).
    db: Arc<TestDb>,
    _data_dir: tempfile::TempDir,
}

/// A thin wrapper so the harness does not depend on actix-web directly.
mod actix_web_handle {
    /// Stops the server when the test ends.
    pub struct Handle(pub ytvc_server::startup::ServerHandle);
}

/// A response read whole: status, headers and JSON body.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body parsed as JSON (`Value::Null` when it is not JSON).
    pub body: Value,
    /// The raw body.
    pub text: String,
}

impl Reply {
    /// A header as a string ("" when absent).
    #[must_use]
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `data` of a success envelope, after asserting the status.
    ///
    /// # Panics
    /// When the status is another.
    #[track_caller]
    pub fn data(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        &self.body["data"]
    }

    /// Asserts this is an error envelope with `code` and the code's status;
    /// returns the body's `error` object.
    ///
    /// # Panics
    /// When it is not.
    #[track_caller]
    pub fn assert_error(&self, code: &str) -> &Value {
        let expected: ytvc_error_codes::ErrorCode = code.parse().expect("a catalog code");
        assert_eq!(
            self.status,
            expected.http_status(),
            "status for {code}; body: {}",
            self.text
        );
        let err = &self.body["error"];
        assert_eq!(err["code"], code, "body: {}", self.text);
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "message: {}",
            self.text
        );
        assert!(err.get("details").is_some(), "details key: {}", self.text);
        let rid = err["request_id"].as_str().expect("request_id");
        assert!(!rid.is_empty());
        assert_eq!(
            rid,
            self.header("x-request-id"),
            "request id in body and header"
        );
        assert!(
            self.body["timestamp"].as_str().is_some(),
            "timestamp: {}",
            self.text
        );
        assert_eq!(
            self.body.as_object().map(|o| o.len()),
            Some(2),
            "only error + timestamp: {}",
            self.text
        );
        err
    }
}

type Tweak = Box<dyn FnOnce(&mut Config)>;

/// How a [`TestApp`] is set up: [`TestApp::builder`], a knob per need, then
/// [`spawn`](Self::spawn). By default: SQLite, no worker (videos stay
/// queued), no assembly of `video.mp4`, the offline `local` provider
/// without faults, no Redis, a random signing key, the log discarded.
///
/// ```no_run
/// # async fn demo() {
/// use ytvc_e2e::TestApp;
/// let app = TestApp::builder()
///     .with_worker()
///     .with_media_faults("clip=always")
///     .spawn()
///     .await;
/// # }
/// ```
#[must_use = "a builder does nothing until spawned"]
pub struct Builder {
    db: Db,
    tweaks: Vec<Tweak>,
    capture: bool,
}

impl Builder {
    /// Runs on `db` (see [`try_spawn`](Self::try_spawn) for PostgreSQL).
    pub fn with_db(mut self, db: Db) -> Self {
        self.db = db;
        self
    }

    /// Runs the in-process worker: submitted videos are made.
    pub fn with_worker(self) -> Self {
        self.with_config(|c| c.worker_enabled = true)
    }

    /// Assembles `video.mp4` (CPU work most tests do not need).
    pub fn with_assembly(self) -> Self {
        self.with_config(|c| c.media.assembly = true)
    }

    /// Uses the media provider `provider`.
    pub fn with_provider(self, provider: MediaProvider) -> Self {
        self.with_config(move |c| c.media_provider = provider)
    }

    /// Injects faults into the offline `local` provider (`YTVC_MEDIA_FAULTS`
    /// syntax: `clip=always`, `narrate=slow:800`, comma-separated).
    pub fn with_media_faults(self, faults: &str) -> Self {
        let faults = faults.to_owned();
        self.with_config(move |c| c.media_faults = Some(faults))
    }

    /// Uses the `gemini` provider against `google` (its key, no backoff
    /// between a service's retries, a fast Veo poll) with one job at a time,
    /// so the calls to the fake can be counted per video.
    pub fn with_fake_google(self, google: &FakeGoogle) -> Self {
        let endpoint = google.uri();
        self.with_provider(MediaProvider::Gemini)
            .with_config(move |c| {
                c.worker_concurrency = 1;
                c.media.gemini_api_key = Some(Secret::new(google::API_KEY.to_owned()));
                c.media.google_endpoint = Some(endpoint);
                c.media.retry_base = Duration::ZERO;
                c.media.veo_poll = Duration::from_millis(10);
            })
    }

    /// Uses the `openai` provider for every service against `openai` (its
    /// base URL and key, no backoff between a service's retries; clips are
    /// off, `openai` makes none) with one job at a time, so the calls to
    /// the fake can be counted per video. Later knobs can move services
    /// elsewhere (`c.media.tts_provider = ...`).
    pub fn with_fake_openai(self, openai: &FakeOpenAi) -> Self {
        let base = openai.base_url();
        self.with_provider(MediaProvider::OpenAi)
            .with_config(move |c| {
                c.worker_concurrency = 1;
                c.media.openai.base_url = Some(base);
                c.media.openai.api_key = Some(Secret::new(openai::API_KEY.to_owned()));
                c.media.retry_base = Duration::ZERO;
            })
    }

    /// Keeps the rate limits in Redis at `url`.
    pub fn with_redis(self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.with_config(move |c| c.redis_url = Some(Secret::new(url)))
    }

    /// Signs tokens with `secret` (apps given the same one accept each
    /// other's tokens).
    pub fn with_jwt_secret(self, secret: &str) -> Self {
        let secret = secret.to_owned();
        self.with_config(move |c| c.jwt_secret = Some(Secret::new(secret)))
    }

    /// Any other change to the configuration (applied after the knobs
    /// before it, before those after it).
    pub fn with_config(mut self, tweak: impl FnOnce(&mut Config) + 'static) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }

    /// Captures the server's JSON log lines ([`TestApp::logs`]).
    pub fn capture_logs(mut self) -> Self {
        self.capture = true;
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    /// When it cannot start, or runs on PostgreSQL and none is configured
    /// (use [`try_spawn`](Self::try_spawn) to skip instead).
    pub async fn spawn(self) -> TestApp {
        let db = self.db;
        self.try_spawn()
            .await
            .unwrap_or_else(|| panic!("{db:?} is not configured"))
    }

    /// Starts the server; `None` (with a printed reason) when PostgreSQL is
    /// asked for but not configured.
    ///
    /// # Panics
    /// When the server cannot start.
    pub async fn try_spawn(self) -> Option<TestApp> {
        let test_db = Arc::new(match self.db {
            Db::Sqlite => TestDb::sqlite(),
            Db::Postgres => TestDb::postgres()?,
        });
        Some(TestApp::start(test_db, self.tweaks, self.capture).await)
    }
}

impl TestApp {
    /// A [`Builder`] for a server set up by its knobs.
    pub fn builder() -> Builder {
        Builder {
            db: Db::Sqlite,
            tweaks: Vec::new(),
            capture: false,
        }
    }

    /// Starts a server on SQLite with the defaults of [`Builder`].
    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    /// SQLite always, plus PostgreSQL when configured.
    pub async fn on_every_backend() -> Vec<Self> {
        let mut apps = vec![Self::spawn().await];
        apps.extend(Self::builder().with_db(Db::Postgres).try_spawn().await);
        apps
    }

    /// `TestApp::builder().with_db(db).with_config(tweak).try_spawn()`
    /// (kept for older tests; new ones use the [`Builder`]'s knobs).
    pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Config) + 'static) -> Option<Self> {
        Self::builder()
            .with_db(db)
            .with_config(tweak)
            .try_spawn()
            .await
    }

    /// [`spawn_with`](Self::spawn_with) with the log captured (kept for
    /// older tests; new ones use [`Builder::capture_logs`] and [`TestApp::logs`]).
    pub async fn spawn_captured(
        db: Db,
        tweak: impl FnOnce(&mut Config) + 'static,
    ) -> Option<(Self, LogCapture)> {
        let app = Self::builder()
            .with_db(db)
            .with_config(tweak)
            .capture_logs()
            .try_spawn()
            .await?;
        let log = app.logs().clone();
        Some((app, log))
    }

    /// A second server instance on this app's database (a fleet of two):
    /// its own process state (caches, limiter, clock), shared data. Tokens
    /// of one are valid on the other when this app was started with a
    /// `jwt_secret` (the sibling takes the same one).
    pub async fn spawn_beside(&self) -> Self {
        self.spawn_beside_with(|_| {}).await
    }

    /// [`spawn_beside`](Self::spawn_beside) with one more change to the
    /// sibling's configuration (e.g. the same shared storage).
    pub async fn spawn_beside_with(&self, tweak: impl FnOnce(&mut Config) + 'static) -> Self {
        let secret = self.config.jwt_secret.clone();
        let shared: Tweak = Box::new(move |c| c.jwt_secret = secret);
        Self::start(self.db.clone(), vec![shared, Box::new(tweak)], false).await
    }

    async fn start(test_db: Arc<TestDb>, tweaks: Vec<Tweak>, capture: bool) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_tests(data_dir.path());
        config.bind = "127.0.0.1:0".parse().expect("addr");
        config.database_url = Secret::new(test_db.url().to_owned());
        config.http_workers = 1;
        // Videos stay queued unless a test asks for the worker.
        config.worker_enabled = false;
        // Assembling video.mp4 is CPU work most tests do not need; the tests
        // of the assembled video turn it on.
        config.media.assembly = false;
        config.worker_poll = Duration::from_millis(20);
        config.shutdown_timeout = Duration::from_secs(1);
        for tweak in tweaks {
            tweak(&mut config);
        }
        let capture = capture.then(LogCapture::default);
        let log = if let Some(capture) = &capture {
            ytvc_server::telemetry::json_logger_into(capture.clone(), config.log_level)
        } else if std::env::var_os("YTVC_TEST_LOG").is_some() {
            ytvc_server::telemetry::logger(config.log_format, config.log_level)
        } else {
            ytvc_server::telemetry::discard()
        };
        let clock = ytvc_server::clock::AppClock::manual(chrono::Utc::now());
        let app = Application::build_with_clock(config.clone(), log, clock.clone())
            .await
            .expect("server starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let admin_address = app
            .admin_port()
            .map(|port| format!("http://127.0.0.1:{port}"));
        let handle = actix_web_handle::Handle(app.handle());
        let state = app.state().into_inner();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            address,
            admin_address,
            client,
            config,
            clock,
            state,
            log: capture,
            handle,
            db: test_db,
            _data_dir: data_dir,
        }
    }

    /// The database of this app (to inspect or break it).
    #[must_use]
    pub fn db(&self) -> &TestDb {
        &self.db
    }

    /// The server's log.
    ///
    /// # Panics
    /// Unless the app was built with [`Builder::capture_logs`].
    #[must_use]
    pub fn logs(&self) -> &LogCapture {
        self.log
            .as_ref()
            .expect("built without Builder::capture_logs")
    }

    /// Sends a request built from `method` and `path`, with an optional JSON body.
    pub async fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(b) = body {
            req = req.json(b);
        }
        Self::read(req).await
    }

    /// Sends an arbitrary request builder.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        Self::read(req).await
    }

    /// A request builder for `path`.
    pub fn build(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.request("POST", path, Some(body)).await
    }

    /// `method path` with a bearer token and an optional JSON body.
    pub async fn authed(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.build(method, path).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        Self::read(req).await
    }

    async fn read(req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop without waiting: the runtime of the test is going away.
        drop(self.handle.0.stop(false));
    }
}
