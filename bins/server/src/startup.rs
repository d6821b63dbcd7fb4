//! Builds the application from a configuration and runs it.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::Server;
pub use actix_web::dev::ServerHandle;
use actix_web::{HttpServer, web};
use anyhow::Context as _;
use ytvc_auth::{Argon2Hasher, JwtTokenService, OsEntropy};
use ytvc_domain::auth::{AuthService, AuthSettings};
use ytvc_domain::jobs::RetryPolicy;
use ytvc_domain::keys::ApiKeys;
use ytvc_domain::videos::{ArtifactRetention, JobRunner, VideoService};
use ytvc_persistence::{Database, DbConfig, SqlAccounts, SqlVideos};
use ytvc_quota::PlanName;
use ytvc_rate_limit::{MemoryConfig, MemoryLimiter, RateLimiter, RedisConfig, RedisLimiter};

use crate::clock::AppClock;
use crate::config::Config;
use crate::http::auth::RevocationCache;
use crate::limits::Limits;
use crate::state::AppState;

/// A bound, ready-to-run server.
pub struct Application {
    worker: Option<crate::worker::Worker>,
    server: Server,
    port: u16,
    /// The admin listener (`YTVC_ADMIN_BIND`) and its port.
    admin: Option<(Server, u16)>,
    state: web::Data<AppState>,
}

/// The database settings of a configuration.
#[must_use]
pub fn db_config(config: &Config) -> DbConfig {
    let mut db = DbConfig::new(config.database_url.expose().clone());
    db.pool_size = config.db_pool_size;
    db.max_overflow = config.db_pool_max_overflow;
    db.connection_timeout = config.db_connect_timeout;
    db
}

/// Connects to the database and applies migrations, off the async executor.
///
/// # Errors
/// The database's error (unreachable, migration failure), with its cause.
pub async fn connect_database(config: &Config) -> anyhow::Result<Database> {
    let db_config = db_config(config);
    tokio::task::spawn_blocking(move || Database::connect(&db_config))
        .await
        .context("database start-up task failed")?
        .context("cannot open the database")
}

/// The use cases and adapters, wired.
pub struct Services {
    /// The clock.
    pub clock: AppClock,
    /// Authentication.
    pub auth: AuthService,
    /// The accounts store.
    pub accounts: SqlAccounts,
    /// API keys.
    pub keys: ApiKeys,
    /// Rate limits.
    pub limits: Limits,
    /// The video use cases.
    pub videos: VideoService,
    /// The worker (started by `serve` unless disabled, or by `worker`).
    pub worker: crate::worker::Worker,
    /// The job queue.
    pub jobs: Arc<dyn ytvc_domain::jobs::JobQueue>,
    /// Request and limiter counters.
    pub metrics: Arc<crate::http::metrics::Metrics>,
    /// The media providers, routes and breakers.
    pub media: crate::media::MediaStatus,
}

impl Services {
    /// Wires the adapters into the use cases.
    ///
    /// # Errors
    /// Unusable keys, plans or limiter.
    pub async fn build(
        config: &Config,
        log: &slog::Logger,
        db: &Database,
        clock: AppClock,
    ) -> anyhow::Result<Self> {
        let accounts = SqlAccounts::new(db.clone());
        let tokens = JwtTokenService::new(crate::security::jwt_config(config, log)?)
            .context("access-token keys")?;
        let default_plan = if config.plans.contains("free") {
            PlanName::FREE
        } else {
            config
                .plans
                .iter()
                .next()
                .map(|p| p.name.clone())
                .context("the plan catalog is empty")?
        };
        let auth = AuthService::new(
            Arc::new(accounts.clone()),
            Arc::new(accounts.clone()),
            Arc::new(Argon2Hasher::new()),
            Arc::new(tokens),
            Arc::new(clock.clone()),
            AuthSettings {
                registration_open: config.registration_open,
                default_plan,
            },
        );
        let keys = ApiKeys::new(
            Arc::new(accounts.clone()),
            Arc::new(accounts.clone()),
            Arc::new(OsEntropy),
            Arc::new(clock.clone()),
        );
        let metrics = Arc::new(crate::http::metrics::Metrics::default());
        let limiter: Arc<dyn RateLimiter> = match &config.redis_url {
            Some(url) => {
                // Redis down at start is Redis down later: the server starts
                // and the limits degrade per policy until it answers (the
                // readiness probe says so). A URL that cannot work is a
                // configuration error.
                let mut limiter = match RedisLimiter::connect(url.expose(), RedisConfig::default())
                    .await
                {
                    Ok(limiter) => limiter,
                    Err(e) => {
                        let client = redis::Client::open(url.expose().as_str()).map_err(|e| {
                            anyhow::anyhow!("REDIS_URL is not a usable Redis URL: {e}")
                        })?;
                        slog::warn!(log, "Redis does not answer at start: rate limits degrade per policy until it does";
                            "cause" => e.to_string());
                        RedisLimiter::new(client, RedisConfig::default())
                            .map_err(|e| anyhow::anyhow!("Redis rate limiter: {e}"))?
                    }
                };
                if clock.is_manual() {
                    limiter = limiter.with_clock(Arc::new(clock.clone()));
                }
                let hook_log = log.clone();
                let hook_metrics = metrics.clone();
                limiter = limiter.on_degraded(move |event| {
                    hook_metrics
                        .rate_limit_degraded
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    slog::warn!(hook_log, "rate limiter degraded"; "event" => format!("{event:?}"));
                });
                Arc::new(limiter)
            }
            None => Arc::new(MemoryLimiter::with_clock(
                clock.clone(),
                MemoryConfig::default(),
            )),
        };
        let limits = Limits::new(
            limiter,
            &config.plans,
            config.auth_ip_limit_per_minute,
            config.unauth_ip_limit_per_minute,
        )?;
        let clock_port: Arc<dyn ytvc_quota::Clock> = Arc::new(clock.clone());
        let quota_store: Arc<dyn ytvc_quota::QuotaStore> =
            Arc::new(ytvc_persistence::SqlQuotaStore::new(db.clone()));
        let quota = Arc::new(ytvc_quota::QuotaManager::new(
            config.plans.clone(),
            quota_store,
            clock_port.clone(),
        ));
        let retry = RetryPolicy::default();
        let media = crate::media::build(config, log, &clock)?;
        let store = Arc::new(SqlVideos::new(db.clone()));
        let retention = config.storage.retention().map(|keep| {
            ArtifactRetention::new(
                store.clone(),
                media.artifacts.clone(),
                clock_port.clone(),
                keep,
            )
        });
        let videos = VideoService::new(
            store.clone(),
            Arc::new(accounts.clone()),
            media.artifacts,
            quota,
            retry,
        )
        .with_artifact_retention(config.storage.retention());
        let jobs: Arc<dyn ytvc_domain::jobs::JobQueue> =
            Arc::new(ytvc_persistence::jobs::SqlJobQueue::new(db.clone()));
        let runner = JobRunner::new(
            store,
            media.pipeline,
            clock_port,
            retry,
            Arc::new(rand::random::<f64>),
        );
        let worker = crate::worker::Worker::new(
            format!("{}-{}", hostname(), uuid::Uuid::new_v4().simple()),
            jobs.clone(),
            runner,
            clock.clone(),
            crate::worker::WorkerSettings {
                concurrency: config.worker_concurrency,
                lease: config.job_lease,
                poll: config.worker_poll,
                drain: config.shutdown_timeout,
                ..crate::worker::WorkerSettings::default()
            },
            log.new(slog::o!("component" => "worker")),
        );
        let worker = match retention {
            Some(retention) => worker.with_retention(retention),
            None => worker,
        };
        Ok(Self {
            clock,
            auth,
            accounts,
            keys,
            limits,
            videos,
            worker,
            jobs,
            metrics,
            media: media.status,
        })
    }
}

/// The providers check at start, when `YTVC_PROVIDERS_CHECK=on`: logged,
/// never fatal (a failing provider degrades `/health/ready`), bounded by
/// [`CALL_DEADLINE`](crate::providers::CALL_DEADLINE).
pub async fn startup_check(
    config: &Config,
    media: &crate::media::MediaStatus,
    log: &slog::Logger,
) -> Option<crate::providers::CheckReport> {
    if !config.providers_check {
        return None;
    }
    Some(crate::providers::run_logged(media, log).await)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "ytvc".into())
}

impl Application {
    /// Connects to the database, applies migrations and binds the listener
    /// (port 0 picks a free port; see [`Application::port`]).
    ///
    /// # Errors
    /// A database or bind failure, with its cause.
    pub async fn build(config: Config, log: slog::Logger) -> anyhow::Result<Self> {
        Self::build_with_clock(config, log, AppClock::system()).await
    }

    /// Like [`Application::build`] with an explicit clock (tests pass a manual one).
    ///
    /// # Errors
    /// A database, key, limiter or bind failure, with its cause.
    pub async fn build_with_clock(
        config: Config,
        log: slog::Logger,
        clock: AppClock,
    ) -> anyhow::Result<Self> {
        let db = connect_database(&config).await?;
        let services = Services::build(&config, &log, &db, clock).await?;
        let providers_check = startup_check(&config, &services.media, &log).await;
        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let admin_listener = match config.admin_bind {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen on {addr} (YTVC_ADMIN_BIND)"))?,
            ),
            None => None,
        };
        slog::info!(log, "listening"; "address" => listener.local_addr()?.to_string(),
            "database" => db.backend().to_string(), "env" => format!("{:?}", config.env));
        let config = Arc::new(config);
        let state = web::Data::new(AppState {
            config: config.clone(),
            db,
            log,
            started: Instant::now(),
            clock: services.clock.clone(),
            auth: services.auth,
            accounts: services.accounts,
            keys: services.keys,
            revocations: RevocationCache::new(config.jwt.revocation_cache, services.clock),
            limits: services.limits,
            videos: services.videos,
            worker_stats: config.worker_enabled.then(|| services.worker.stats()),
            jobs: services.jobs.clone(),
            metrics: services.metrics.clone(),
            media: services.media,
            providers_check,
        });
        let app_state = state.clone();
        let mut server = HttpServer::new(move || crate::http::app(app_state.clone()))
            .listen(listener)?
            .shutdown_timeout(config.shutdown_timeout.as_secs());
        if config.http_workers > 0 {
            server = server.workers(config.http_workers);
        }
        let admin = match admin_listener {
            Some(listener) => {
                let admin_port = listener.local_addr()?.port();
                slog::info!(state.log, "admin listener"; "address" => listener.local_addr()?.to_string(),
                    "serves" => crate::http::ADMIN_PATHS.join(" "));
                let admin_state = state.clone();
                let admin = HttpServer::new(move || crate::http::admin_app(admin_state.clone()))
                    .listen(listener)?
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(config.shutdown_timeout.as_secs());
                Some((admin.run(), admin_port))
            }
            None => None,
        };
        let worker = config.worker_enabled.then_some(services.worker);
        Ok(Self {
            worker,
            server: server.run(),
            port,
            admin,
            state,
        })
    }

    /// The port actually bound.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the admin listener, when `YTVC_ADMIN_BIND` is set.
    #[must_use]
    pub fn admin_port(&self) -> Option<u16> {
        self.admin.as_ref().map(|(_, port)| *port)
    }

    /// The shared state (tests inspect the database through it).
    #[must_use]
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// A handle to stop the server gracefully.
    #[must_use]
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM (graceful: requests in flight finish
    /// within the shutdown timeout) or until stopped through the handle.
    ///
    /// # Errors
    /// An I/O error of the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let log = self.state.log.clone();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = self.worker.map(|w| tokio::spawn(w.run(stopped)));
        // The admin listener lives as long as the public one.
        let admin = self.admin.map(|(server, _)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let result = self.server.await;
        if let Some((handle, task)) = admin {
            handle.stop(true).await;
            let _ = task.await;
        }
        let _ = stop.send(true);
        if let Some(w) = worker {
            let _ = w.await;
        }
        slog::info!(log, "stopped");
        result
    }
}
