//! What the server's benches share: a plan whose limits stay out of the
//! way, and the real server on loopback with one registered, logged-in user
//! of that plan.

use diesel::RunQueryDsl;
use ytvc_persistence::testing::TestDb;
use ytvc_quota::{Plan, PlanName, Plans, RateLimitSpec, RateLimits};
use ytvc_server::config::{Config, Secret};
use ytvc_server::startup::{Application, ServerHandle};
use ytvc_server::state::AppState;

/// The free plan and `bench`: every limit far away, no quota, batches of 100.
pub fn bench_plans() -> Plans {
    let wide = RateLimitSpec {
        limit: 10_000_000,
        window_secs: 3600,
    };
    let bench = Plan {
        name: PlanName::parse("bench").unwrap(),
        monthly_quota: None,
        batch_size_limit: 100,
        priority: 1,
        rate_limits: RateLimits {
            api: wide,
            batch_creations: wide,
            video_generations: wide,
        },
    };
    Plans::new([Plan::free(), bench]).unwrap()
}

/// A running server (no worker) and a `bench`-plan user's access token.
pub struct Bench {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client of it.
    pub client: reqwest::Client,
    /// The user's access token.
    pub token: String,
    /// The server's state (to call its edge functions directly).
    #[allow(dead_code, reason = "each bench compiles this module; not all read it")]
    pub state: actix_web::web::Data<AppState>,
    handle: ServerHandle,
    _dir: tempfile::TempDir,
}

impl Bench {
    /// Starts the server on `db` and logs its user in.
    pub async fn start(db: &TestDb) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path());
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.database_url = Secret::new(db.url().to_owned());
        config.worker_enabled = false;
        config.plans = bench_plans();
        config.auth_ip_limit_per_minute = 1000;
        let app = Application::build(config, ytvc_server::telemetry::discard())
            .await
            .unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let (state, handle) = (app.state(), app.handle());
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        let creds = serde_json::json!({"email": "bench@example.com", "password": "correct horse battery staple"});
        client
            .post(format!("{base}/v1/auth/register"))
            .json(&creds)
            .send()
            .await
            .unwrap();
        {
            let mut conn = db.database().conn().unwrap();
            diesel::sql_query("UPDATE users SET plan = 'bench'")
                .execute(&mut *conn)
                .unwrap();
        }
        let login: serde_json::Value = client
            .post(format!("{base}/v1/auth/login"))
            .json(&creds)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["data"]["access_token"].as_str().unwrap().to_owned();
        Self {
            base,
            client,
            token,
            state,
            handle,
            _dir: dir,
        }
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
