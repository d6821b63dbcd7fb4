#![doc = include_str!("README.md")]

use std::time::Duration;

use serde_json::Value;
use ytvc_persistence::testing::TestDb;
use ytvc_server::config::Config;
use ytvc_server::startup::Application;

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
    /// The HTTP client (no redirects followed, so tests see them).
    pub client: reqwest::Client,
    /// The server's configuration.
    pub config: Config,
    /// The server's clock (manual: tests move time with it).
    pub clock: ytvc_server::clock::AppClock,
    handle: actix_web_handle::Handle,
    /// The database, owned by the first app of a fleet (dropped with it).
    _db: std::sync::Arc<TestDb>,
    _data_dir: tempfile::TempDir,
}

/// The server's log, one JSON object per line, kept in memory.
#[derive(Clone, Default)]
pub struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Everything logged so far.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }

    /// Every line logged so far, parsed (panics on a line that is not JSON).
    #[must_use]
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// The `request` line of the request with id `request_id`, waiting up to
    /// 5 s for it (the line is written once the response is on its way).
    pub async fn request_line(&self, request_id: &str) -> Value {
        for _ in 0..500 {
            if let Some(l) = self
                .lines()
                .into_iter()
                .find(|l| l["msg"] == "request" && l["request_id"] == request_id)
            {
                return l;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no request line for {request_id}:\n{}", self.text());
    }
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

impl TestApp {
    /// Starts a server on SQLite.
    pub async fn spawn() -> Self {
        Self::spawn_with(Db::Sqlite, |_| {})
            .await
            .expect("sqlite is always available")
    }

    /// Starts a server on the given database, after `tweak` adjusts the
    /// configuration; `None` (with a printed reason) when PostgreSQL is asked
    /// for but not configured.
    ///
    /// # Panics
    /// When the server cannot start.
    pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        Self::spawn_logging(db, tweak, None).await
    }

    /// [`spawn_with`](Self::spawn_with), with the server's JSON log lines
    /// captured in the returned [`LogCapture`].
    pub async fn spawn_captured(
        db: Db,
        tweak: impl FnOnce(&mut Config),
    ) -> Option<(Self, LogCapture)> {
        let capture = LogCapture::default();
        let app = Self::spawn_logging(db, tweak, Some(capture.clone())).await?;
        Some((app, capture))
    }

    async fn spawn_logging(
        db: Db,
        tweak: impl FnOnce(&mut Config),
        capture: Option<LogCapture>,
    ) -> Option<Self> {
        let test_db = std::sync::Arc::new(match db {
            Db::Sqlite => TestDb::sqlite(),
            Db::Postgres => TestDb::postgres()?,
        });
        Some(Self::start(test_db, tweak, capture).await)
    }

    /// A second server instance on this app's database (a fleet of two):
    /// its own process state (caches, limiter, clock), shared data. Tokens
    /// of one are valid on the other when this app was started with a
    /// `jwt_secret` (the sibling takes the same one).
    pub async fn spawn_beside(&self) -> Self {
        let secret = self.config.jwt_secret.clone();
        Self::start(self._db.clone(), move |c| c.jwt_secret = secret, None).await
    }

    async fn start(
        test_db: std::sync::Arc<TestDb>,
        tweak: impl FnOnce(&mut Config),
        capture: Option<LogCapture>,
    ) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_tests(data_dir.path());
        config.bind = "127.0.0.1:0".parse().expect("addr");
        config.database_url = ytvc_server::config::Secret::new(test_db.url().to_owned());
        config.http_workers = 1;
        // Videos stay queued unless a test asks for the worker.
        config.worker_enabled = false;
        // Assembling video.mp4 is CPU work most tests do not need; the tests
        // of the assembled video turn it on.
        config.media.assembly = false;
        config.worker_poll = Duration::from_millis(20);
        config.shutdown_timeout = Duration::from_secs(1);
        tweak(&mut config);
        let log = if let Some(capture) = capture {
            ytvc_server::telemetry::json_logger_into(capture, config.log_level)
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
        let handle = actix_web_handle::Handle(app.handle());
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            address,
            client,
            config,
            clock,
            handle,
            _db: test_db,
            _data_dir: data_dir,
        }
    }

    /// SQLite always, plus PostgreSQL when configured.
    pub async fn on_every_backend() -> Vec<Self> {
        let mut apps = vec![Self::spawn().await];
        apps.extend(Self::spawn_with(Db::Postgres, |_| {}).await);
        apps
    }

    /// The database of this app (to inspect or break it).
    #[must_use]
    pub fn db(&self) -> &TestDb {
        &self._db
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

    /// Registers `email` with a standard password; asserts 201.
    pub async fn register(&self, email: &str) -> Value {
        let r = self
            .post(
                "/v1/auth/register",
                &serde_json::json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 201, "register {email}: {}", r.text);
        r.body["data"].clone()
    }

    /// Logs in; returns the token pair (`data`).
    pub async fn login(&self, email: &str) -> Value {
        let r = self
            .post(
                "/v1/auth/login",
                &serde_json::json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, 200, "login {email}: {}", r.text);
        r.body["data"].clone()
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

    /// Sets a user's plan directly in the database (no admin needed).
    pub async fn set_plan(&self, user_id: &str, plan: &str) {
        use diesel::RunQueryDsl as _;
        let db = self._db.database().clone();
        let (user_id, plan) = (user_id.to_owned(), plan.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut conn = db.conn().expect("conn");
            diesel::sql_query(format!(
                "UPDATE users SET plan = '{plan}', role = role WHERE id = '{user_id}'"
            ))
            .execute(&mut *conn)
            .expect("update plan");
        })
        .await
        .expect("task");
        // Let cached accounts expire.
        self.clock.advance(Duration::from_secs(3));
    }

    /// Makes a user an admin directly in the database.
    pub async fn make_admin(&self, user_id: &str) {
        use diesel::RunQueryDsl as _;
        let db = self._db.database().clone();
        let user_id = user_id.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.conn().expect("conn");
            diesel::sql_query(format!(
                "UPDATE users SET role = 'admin' WHERE id = '{user_id}'"
            ))
            .execute(&mut *conn)
            .expect("update role");
        })
        .await
        .expect("task");
        self.clock.advance(Duration::from_secs(3));
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
