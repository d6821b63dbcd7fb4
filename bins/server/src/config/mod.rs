//! Typed configuration: an optional TOML file, overridden by environment
//! variables, validated at start-up with one clear message per bad value.
//!
//! Every setting has one file key and one variable (`YTVC_<KEY>`; the two
//! URLs use the conventional `DATABASE_URL` and `REDIS_URL`). Each group of
//! settings has its module, with the [`Setting`]s it reads, its types and its
//! own parsing and validation: `server` (process and HTTP edge), `database`,
//! `limits` (rate limiting), `auth`, `media`, `worker`, `logging`, `plans` and `storage`.
//! [`SETTINGS`] lists them all; `docs/configuration.md` is generated from it
//! ([`configuration_doc`]). A default is written once, in its [`Setting`]:
//! the loader parses it like a configured value, and the docs show it.

mod auth;
mod database;
mod docs;
mod limits;
mod logging;
mod media;
mod plans;
mod secret;
mod server;
mod setting;
mod sources;
mod storage;
mod worker;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use auth::{JwtAlgorithm, JwtSettings};
pub use docs::{configuration_doc, settings_markdown};
pub use logging::{LogFormat, LogLevel};
pub use media::{MediaProvider, MediaSettings, OpenAiSettings, Routing, VisualChoice};
pub use secret::Secret;
pub use server::Environment;
pub use setting::{DefaultValue, Setting};
pub use sources::ConfigError;
pub use storage::StorageSettings;

use sources::Sources;

/// Every setting the server reads, in the order of `docs/configuration.md`
/// (and of the problems a refused configuration lists).
pub const SETTINGS: &[Setting] = &[
    server::ENV,
    server::BIND,
    server::DATA_DIR,
    database::URL,
    database::POOL_SIZE,
    database::POOL_MAX_OVERFLOW,
    database::CONNECT_TIMEOUT_MS,
    limits::REDIS_URL,
    auth::JWT_SECRET,
    server::CORS_ORIGINS,
    media::PROVIDER,
    media::LLM_PROVIDER,
    media::TTS_PROVIDER,
    media::IMAGE_PROVIDER,
    media::CLIP_PROVIDER,
    media::PROVIDERS_CHECK,
    logging::FORMAT,
    logging::LEVEL,
    server::JSON_LIMIT_BYTES,
    server::SHUTDOWN_TIMEOUT_SECS,
    server::HTTP_WORKERS,
    server::BODY_TIMEOUT_MS,
    server::ADMIN_BIND,
    auth::JWT_ALGORITHM,
    auth::JWT_PRIVATE_KEY_FILE,
    auth::JWT_PUBLIC_KEY_FILE,
    auth::JWT_ISSUER,
    auth::JWT_AUDIENCE,
    auth::JWT_LEEWAY_SECS,
    auth::ACCESS_TOKEN_TTL_SECS,
    auth::REFRESH_TOKEN_TTL_DAYS,
    auth::REVOCATION_CACHE_MS,
    auth::REGISTRATION,
    limits::AUTH_IP_LIMIT_PER_MINUTE,
    limits::UNAUTH_IP_LIMIT_PER_MINUTE,
    limits::TRUST_FORWARDED_FOR,
    plans::PLANS_FILE,
    worker::CONCURRENCY,
    worker::JOB_LEASE_SECS,
    worker::POLL_MS,
    media::FAULTS,
    media::GEMINI_API_KEY,
    media::CREDENTIALS_FILE,
    media::VERTEX_PROJECT,
    media::VERTEX_LOCATION,
    media::LLM_MODEL,
    media::IMAGE_MODEL,
    media::VEO_MODEL,
    media::GOOGLE_ENDPOINT,
    media::OPENAI_BASE_URL,
    media::OPENAI_API_KEY,
    media::OPENAI_LLM_BASE_URL,
    media::OPENAI_LLM_MODEL,
    media::OPENAI_TTS_BASE_URL,
    media::OPENAI_TTS_MODEL,
    media::OPENAI_TTS_VOICE,
    media::OPENAI_IMAGE_BASE_URL,
    media::OPENAI_IMAGE_MODEL,
    media::MAX_ATTEMPTS,
    media::RETRY_BASE_MS,
    media::VEO_POLL_MS,
    media::VIDEO_ASSEMBLY,
    storage::STORAGE_URL,
    storage::S3_ENDPOINT,
    storage::STORAGE_PRESIGN,
    storage::ARTIFACT_RETENTION_DAYS,
];

/// The validated configuration of a server process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Development or production.
    pub env: Environment,
    /// Listen address.
    pub bind: SocketAddr,
    /// Where the SQLite file, the generated development key and artifacts live.
    pub data_dir: PathBuf,
    /// The database URL (it may hold a password).
    pub database_url: Secret<String>,
    /// Database connections the pool keeps open.
    pub db_pool_size: u32,
    /// Extra database connections opened under load beyond `db_pool_size`
    /// (closed again once idle for 60 s).
    pub db_pool_max_overflow: u32,
    /// How long connecting or a pool checkout may take.
    pub db_connect_timeout: Duration,
    /// The shared rate-limit store; `None` keeps limits in memory.
    pub redis_url: Option<Secret<String>>,
    /// The HS256 signing secret of access tokens.
    pub jwt_secret: Option<Secret<String>>,
    /// Origins allowed by CORS.
    pub cors_origins: Vec<String>,
    /// The media provider of every service without its own
    /// (`media.*_provider`; see [`Config::routing`]).
    pub media_provider: MediaProvider,
    /// Whether `serve` and `worker` run the providers check at start.
    pub providers_check: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// Least severe level logged.
    pub log_level: LogLevel,
    /// Largest JSON body accepted, in bytes.
    pub json_limit_bytes: usize,
    /// How long a graceful shutdown waits for requests in flight.
    pub shutdown_timeout: Duration,
    /// HTTP worker threads (0 = one per core).
    pub http_workers: usize,
    /// How long the whole request body may take, from the end of the headers.
    pub body_timeout: Duration,
    /// The internal listener of `/metrics` and `/health/ready`, if any.
    pub admin_bind: Option<SocketAddr>,
    /// Access-token settings.
    pub jwt: JwtSettings,
    /// Whether anyone may register.
    pub registration_open: bool,
    /// Register / login / refresh requests per client IP per minute.
    pub auth_ip_limit_per_minute: u32,
    /// Requests with missing or bad credentials on protected routes per
    /// client IP per minute.
    pub unauth_ip_limit_per_minute: u32,
    /// Whether `X-Forwarded-For` names the client.
    pub trust_forwarded_for: bool,
    /// The plan catalog.
    pub plans: ytvc_quota::Plans,
    /// Jobs one worker runs at once.
    pub worker_concurrency: usize,
    /// Job lease length.
    pub job_lease: Duration,
    /// Pause between claims on an empty queue.
    pub worker_poll: Duration,
    /// Injected media faults (tests and drills).
    pub media_faults: Option<String>,
    /// Google provider credentials and models, retries, assembly.
    pub media: MediaSettings,
    /// Whether `serve` runs the in-process worker (`--no-worker` turns it off).
    pub worker_enabled: bool,
    /// Where artifacts are kept, how downloads are served, retention.
    pub storage: StorageSettings,
}

impl Config {
    /// Loads from the process environment and, if given, a TOML file.
    ///
    /// # Errors
    /// Every invalid value, each naming its variable or file key.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, &|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Loads with an explicit environment (tests).
    ///
    /// # Errors
    /// Every invalid value, each naming its variable or file key.
    pub fn load_from(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut src = Sources::load(file, env);
        let server = server::ServerSettings::load(&mut src);
        let database = database::DatabaseSettings::load(&mut src, &server.data_dir);
        let limits = limits::LimitSettings::load(&mut src);
        let logging = logging::LoggingSettings::load(&mut src);
        let plans = plans::load(&mut src);
        let worker = worker::WorkerSettings::load(&mut src);
        // The media checks are listed before the auth ones.
        let media = media::Media::load(&mut src, server.env);
        let auth = auth::AuthSettings::load(&mut src, server.env);
        let storage = StorageSettings::load(&mut src, &server.data_dir);
        src.finish()?;
        Ok(Self {
            env: server.env,
            bind: server.bind,
            data_dir: server.data_dir,
            database_url: database.url,
            db_pool_size: database.pool_size,
            db_pool_max_overflow: database.max_overflow,
            db_connect_timeout: database.connect_timeout,
            redis_url: limits.redis_url,
            jwt_secret: auth.jwt_secret,
            cors_origins: server.cors_origins,
            media_provider: media.provider,
            providers_check: media.providers_check,
            log_format: logging.format,
            log_level: logging.level,
            json_limit_bytes: server.json_limit_bytes,
            shutdown_timeout: server.shutdown_timeout,
            http_workers: server.http_workers,
            body_timeout: server.body_timeout,
            admin_bind: server.admin_bind,
            jwt: auth.jwt,
            registration_open: auth.registration_open,
            auth_ip_limit_per_minute: limits.auth_ip_limit_per_minute,
            unauth_ip_limit_per_minute: limits.unauth_ip_limit_per_minute,
            trust_forwarded_for: limits.trust_forwarded_for,
            plans,
            worker_concurrency: worker.concurrency,
            job_lease: worker.job_lease,
            worker_poll: worker.poll,
            media_faults: media.faults,
            media: media.settings,
            worker_enabled: true,
            storage,
        })
    }

    /// The provider of each media service.
    #[must_use]
    pub fn routing(&self) -> Routing {
        self.media.routing(self.media_provider)
    }

    /// The configuration used by tests: defaults, with the data dir given.
    #[must_use]
    pub fn for_tests(data_dir: &Path) -> Self {
        let dir = data_dir.display().to_string();
        Self::load_from(None, &|k| (k == "YTVC_DATA_DIR").then(|| dir.clone()))
            .expect("defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Loads with exactly `vars` set (the helper of every module's tests).
    pub(in crate::config) fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::load_from(None, &move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_product_contract() {
        let c = load(&[]).unwrap();
        assert_eq!(c.env, Environment::Development);
        assert_eq!(c.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.database_url.expose(), "sqlite://./data/ytvc.db");
        assert!(c.redis_url.is_none());
        assert!(c.cors_origins.is_empty());
        assert_eq!(c.media_provider, MediaProvider::Local);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.json_limit_bytes, 1 << 20);
        assert_eq!(c.db_pool_size, 10);
        assert_eq!(c.db_pool_max_overflow, 5);
    }

    #[test]
    fn every_bad_value_is_named_by_its_variable() {
        let err = load(&[
            ("YTVC_BIND", "nope"),
            ("YTVC_LOG_FORMAT", "xml"),
            ("YTVC_DB_POOL_SIZE", "0"),
            ("YTVC_DB_POOL_MAX_OVERFLOW", "-1"),
        ])
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("YTVC_BIND"), "{text}");
        assert!(text.contains("YTVC_LOG_FORMAT"), "{text}");
        assert!(text.contains("YTVC_DB_POOL_SIZE"), "{text}");
        assert!(
            text.contains("YTVC_DB_POOL_MAX_OVERFLOW: invalid value \"-1\": expected a whole number in 0..=1000"),
            "{text}"
        );
        assert_eq!(err.0.len(), 4);
    }

    #[test]
    fn secrets_never_print() {
        let c = load(&[(
            "YTVC_JWT_SECRET",
            "0123456789abcdef0123456789abcdef-very-secret",
        )])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        let err = load(&[("YTVC_JWT_SECRET", "short-secret")])
            .unwrap_err()
            .to_string();
        assert!(!err.contains("short-secret"), "{err}");
        assert!(err.contains("YTVC_JWT_SECRET"), "{err}");
        let err = load(&[("DATABASE_URL", "mysql://root:hunter2@h/db")])
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("hunter2") && err.contains("DATABASE_URL"),
            "{err}"
        );
    }

    #[test]
    fn file_values_are_overridden_by_the_environment() {
        let dir = tempfile_dir();
        let path = dir.join("ytvc.toml");
        std::fs::write(&path, "bind = \"0.0.0.0:9000\"\nlog_format = \"pretty\"\ncors_origins = [\"https://x.example\"]\ndb_pool_size = 4\ndb_pool_max_overflow = 0\n").unwrap();
        let c = Config::load_from(Some(&path), &|k| {
            (k == "YTVC_BIND").then(|| "127.0.0.1:7000".to_owned())
        })
        .unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:7000");
        assert_eq!(c.log_format, LogFormat::Pretty);
        assert_eq!(c.cors_origins, vec!["https://x.example"]);
        assert_eq!(c.db_pool_size, 4);
        assert_eq!(c.db_pool_max_overflow, 0);
        std::fs::write(&path, "bnid = \"x\"\n").unwrap();
        let err = Config::load_from(Some(&path), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown key `bnid`"), "{err}");
    }

    #[test]
    fn every_setting_is_read_from_its_variable() {
        let dir = std::env::temp_dir();
        let key = dir.join(format!("ytvc-k-{}", uuid::Uuid::new_v4()));
        std::fs::write(&key, "k").unwrap();
        let key = key.display().to_string();
        let vars: std::collections::HashMap<&str, String> = [
            ("YTVC_JWT_ALGORITHM", "EdDSA".to_owned()),
            ("YTVC_JWT_PRIVATE_KEY_FILE", key.clone()),
            ("YTVC_JWT_PUBLIC_KEY_FILE", key.clone()),
            ("YTVC_JWT_ISSUER", "iss-x".to_owned()),
            ("YTVC_JWT_AUDIENCE", "aud-x".to_owned()),
            ("YTVC_JWT_LEEWAY_SECS", "5".to_owned()),
            ("YTVC_ACCESS_TOKEN_TTL_SECS", "120".to_owned()),
            ("YTVC_REFRESH_TOKEN_TTL_DAYS", "2".to_owned()),
            ("YTVC_REVOCATION_CACHE_MS", "100".to_owned()),
            ("YTVC_REGISTRATION", "closed".to_owned()),
            ("YTVC_AUTH_IP_LIMIT_PER_MINUTE", "7".to_owned()),
            ("YTVC_TRUST_FORWARDED_FOR", "true".to_owned()),
            ("YTVC_WORKER_CONCURRENCY", "3".to_owned()),
            ("YTVC_JOB_LEASE_SECS", "9".to_owned()),
            ("YTVC_WORKER_POLL_MS", "50".to_owned()),
            ("YTVC_MEDIA_FAULTS", "clip=always".to_owned()),
            ("YTVC_DB_POOL_MAX_OVERFLOW", "12".to_owned()),
        ]
        .into_iter()
        .collect();
        let c = Config::load_from(None, &|k| vars.get(k).cloned()).unwrap();
        assert_eq!(c.jwt.algorithm, JwtAlgorithm::EdDsa);
        assert_eq!(
            (c.jwt.issuer.as_str(), c.jwt.audience.as_str()),
            ("iss-x", "aud-x")
        );
        assert_eq!(c.jwt.leeway, Duration::from_secs(5));
        assert_eq!(c.jwt.access_ttl, Duration::from_secs(120));
        assert_eq!(c.jwt.refresh_ttl, Duration::from_secs(2 * 86_400));
        assert_eq!(c.jwt.revocation_cache, Duration::from_millis(100));
        assert!(!c.registration_open && c.trust_forwarded_for);
        assert_eq!(c.auth_ip_limit_per_minute, 7);
        assert_eq!(c.worker_concurrency, 3);
        assert_eq!(c.job_lease, Duration::from_secs(9));
        assert_eq!(c.worker_poll, Duration::from_millis(50));
        assert_eq!(c.media_faults.as_deref(), Some("clip=always"));
        assert_eq!(c.db_pool_max_overflow, 12);
        // Every documented variable is known to the loader.
        for s in SETTINGS {
            assert!(
                [
                    "DATABASE_URL",
                    "REDIS_URL",
                    "GEMINI_API_KEY",
                    "GOOGLE_APPLICATION_CREDENTIALS",
                    "OPENAI_API_KEY"
                ]
                .contains(&s.var)
                    || s.var.starts_with("YTVC_"),
                "{}",
                s.var
            );
        }
        let err = Config::load_from(None, &|k| {
            (k == "YTVC_MEDIA_FAULTS").then(|| "clip=sometimes".to_owned())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("YTVC_MEDIA_FAULTS"), "{err}");
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ytvc-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
