//! Typed configuration: an optional TOML file, overridden by environment
//! variables, validated at start-up with one clear message per bad value.
//!
//! Every setting has one file key and one variable (`YTVC_<KEY>`; the two
//! URLs use the conventional `DATABASE_URL` and `REDIS_URL`). `docs/configuration.md`
//! lists them; [`SETTINGS`] is the single table both come from.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A value that must never be printed: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself; call only where it is used, never to log it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Development (generated keys allowed) or production (secrets required).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Embedded defaults; a development signing key is generated on first start.
    Development,
    /// Strict: every secret must be configured.
    Production,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (the default; for log shippers).
    Json,
    /// Human-readable terminal output.
    Pretty,
}

/// Which media provider the worker uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaProvider {
    /// Offline, deterministic, no credentials (the default).
    Local,
    /// Google Gemini API (API key).
    Gemini,
    /// Google Vertex AI (service account).
    Vertex,
}

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
    /// Origins allowed by CORS (none by default).
    pub cors_origins: Vec<String>,
    /// The media provider.
    pub media_provider: MediaProvider,
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
    /// Access-token settings.
    pub jwt: JwtSettings,
    /// Whether anyone may register.
    pub registration_open: bool,
    /// Register / login / refresh requests per client IP per minute.
    pub auth_ip_limit_per_minute: u32,
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
}

/// Settings of the media side: the Google providers' credentials, models and
/// endpoint, retries, Veo polling, and whether videos are assembled.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// The Gemini Developer API key (`gemini`).
    pub gemini_api_key: Option<Secret<String>>,
    /// The service-account key file (`vertex`).
    pub credentials_file: Option<PathBuf>,
    /// The Vertex AI project (default: the key file's `project_id`).
    pub vertex_project: Option<String>,
    /// The Vertex AI region.
    pub vertex_location: String,
    /// The storyboard model (`None`: the adapter's default).
    pub llm_model: Option<String>,
    /// The still-image model.
    pub image_model: Option<String>,
    /// The clip model.
    pub veo_model: Option<String>,
    /// One base URL for every Google endpoint (a proxy, or a fake in tests).
    pub google_endpoint: Option<String>,
    /// Attempts per external call, the first included.
    pub max_attempts: u32,
    /// The first retry backoff (full jitter, doubling).
    pub retry_base: Duration,
    /// The wait between two polls of a Veo operation.
    pub veo_poll: Duration,
    /// Whether completed runs are assembled into `video.mp4`.
    pub assembly: bool,
}

/// The signing algorithm of access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with `YTVC_JWT_SECRET`.
    Hs256,
    /// Ed25519 with key files.
    EdDsa,
    /// RSA SHA-256 with key files.
    Rs256,
}

/// Access-token settings.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// The one accepted algorithm.
    pub algorithm: JwtAlgorithm,
    /// Private key file (asymmetric algorithms).
    pub private_key_file: Option<PathBuf>,
    /// Public key file (asymmetric algorithms).
    pub public_key_file: Option<PathBuf>,
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// Skew tolerated.
    pub leeway: Duration,
    /// Access token lifetime.
    pub access_ttl: Duration,
    /// Refresh session lifetime.
    pub refresh_ttl: Duration,
    /// Bound on how stale another instance's revocation view may be.
    pub revocation_cache: Duration,
}

/// A log level, parsed from `error`, `warn`, `info`, `debug` or `trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLevel(pub slog::Level);

/// One configuration setting: its file key, its variable and its documentation.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The key in the TOML file.
    pub key: &'static str,
    /// The environment variable.
    pub var: &'static str,
    /// The default, as documented.
    pub default: &'static str,
    /// What it means.
    pub meaning: &'static str,
}

/// Every setting the server reads.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "env",
        var: "YTVC_ENV",
        default: "development",
        meaning: "`development` or `production` (strict: secrets required)",
    },
    Setting {
        key: "bind",
        var: "YTVC_BIND",
        default: "127.0.0.1:8000",
        meaning: "listen address",
    },
    Setting {
        key: "data_dir",
        var: "YTVC_DATA_DIR",
        default: "./data",
        meaning: "SQLite file, generated development key, artifacts",
    },
    Setting {
        key: "database_url",
        var: "DATABASE_URL",
        default: "SQLite file `ytvc.db` in the data dir",
        meaning: "`sqlite://PATH` or `postgres://…`",
    },
    Setting {
        key: "db_pool_size",
        var: "YTVC_DB_POOL_SIZE",
        default: "10",
        meaning: "database connections the pool keeps open (1..=1000)",
    },
    Setting {
        key: "db_pool_max_overflow",
        var: "YTVC_DB_POOL_MAX_OVERFLOW",
        default: "5",
        meaning: "extra connections opened under load beyond the pool size (0..=1000); a connection idle for 60 s is closed (checked every 30 s) and the pool reopens up to its size",
    },
    Setting {
        key: "db_connect_timeout_ms",
        var: "YTVC_DB_CONNECT_TIMEOUT_MS",
        default: "5000",
        meaning: "connect / pool checkout timeout in milliseconds",
    },
    Setting {
        key: "redis_url",
        var: "REDIS_URL",
        default: "unset: in-memory",
        meaning: "shared rate-limit store (`redis://…`)",
    },
    Setting {
        key: "jwt_secret",
        var: "YTVC_JWT_SECRET",
        default: "dev: generated key file",
        meaning: "HS256 signing secret (at least 32 bytes)",
    },
    Setting {
        key: "cors_origins",
        var: "YTVC_CORS_ORIGINS",
        default: "none",
        meaning: "comma-separated allowed origins",
    },
    Setting {
        key: "media_provider",
        var: "YTVC_MEDIA_PROVIDER",
        default: "local",
        meaning: "`local`, `gemini` or `vertex`",
    },
    Setting {
        key: "log_format",
        var: "YTVC_LOG_FORMAT",
        default: "json",
        meaning: "`json` or `pretty`",
    },
    Setting {
        key: "log_level",
        var: "YTVC_LOG_LEVEL",
        default: "info",
        meaning: "`error`, `warn`, `info`, `debug` or `trace`",
    },
    Setting {
        key: "json_limit_bytes",
        var: "YTVC_JSON_LIMIT_BYTES",
        default: "1048576",
        meaning: "largest JSON body accepted (VAL_008 above it)",
    },
    Setting {
        key: "shutdown_timeout_secs",
        var: "YTVC_SHUTDOWN_TIMEOUT_SECS",
        default: "30",
        meaning: "grace period for requests in flight on SIGINT/SIGTERM",
    },
    Setting {
        key: "http_workers",
        var: "YTVC_HTTP_WORKERS",
        default: "0",
        meaning: "HTTP worker threads (0 = one per core)",
    },
    Setting {
        key: "jwt_algorithm",
        var: "YTVC_JWT_ALGORITHM",
        default: "HS256",
        meaning: "`HS256` (secret), `EdDSA` or `RS256` (PEM key files); the only algorithm accepted",
    },
    Setting {
        key: "jwt_private_key_file",
        var: "YTVC_JWT_PRIVATE_KEY_FILE",
        default: "none",
        meaning: "PKCS#8 PEM private key (EdDSA / RS256)",
    },
    Setting {
        key: "jwt_public_key_file",
        var: "YTVC_JWT_PUBLIC_KEY_FILE",
        default: "none",
        meaning: "SPKI PEM public key (EdDSA / RS256)",
    },
    Setting {
        key: "jwt_issuer",
        var: "YTVC_JWT_ISSUER",
        default: "ytvc",
        meaning: "`iss` of access tokens (written and required)",
    },
    Setting {
        key: "jwt_audience",
        var: "YTVC_JWT_AUDIENCE",
        default: "ytvc-api",
        meaning: "`aud` of access tokens (written and required)",
    },
    Setting {
        key: "jwt_leeway_secs",
        var: "YTVC_JWT_LEEWAY_SECS",
        default: "30",
        meaning: "clock skew tolerated on `exp` / `nbf` / `iat` (0..=300)",
    },
    Setting {
        key: "access_token_ttl_secs",
        var: "YTVC_ACCESS_TOKEN_TTL_SECS",
        default: "900",
        meaning: "access token lifetime (60..=86400)",
    },
    Setting {
        key: "refresh_token_ttl_days",
        var: "YTVC_REFRESH_TOKEN_TTL_DAYS",
        default: "30",
        meaning: "refresh session lifetime (1..=365)",
    },
    Setting {
        key: "revocation_cache_ms",
        var: "YTVC_REVOCATION_CACHE_MS",
        default: "2000",
        meaning: "how long another instance may take to honour a revocation (0..=5000)",
    },
    Setting {
        key: "registration",
        var: "YTVC_REGISTRATION",
        default: "open",
        meaning: "`open` or `closed` (invite-only: accounts made by admins or the CLI)",
    },
    Setting {
        key: "auth_ip_limit_per_minute",
        var: "YTVC_AUTH_IP_LIMIT_PER_MINUTE",
        default: "30",
        meaning: "register / login / refresh requests per client IP per minute",
    },
    Setting {
        key: "trust_forwarded_for",
        var: "YTVC_TRUST_FORWARDED_FOR",
        default: "false",
        meaning: "take the client IP from `X-Forwarded-For` (only behind a trusted proxy)",
    },
    Setting {
        key: "worker_concurrency",
        var: "YTVC_WORKER_CONCURRENCY",
        default: "2",
        meaning: "jobs one worker runs at once (1..=64)",
    },
    Setting {
        key: "job_lease_secs",
        var: "YTVC_JOB_LEASE_SECS",
        default: "30",
        meaning: "job lease length; a silent worker's job is rescued after it (2..=3600)",
    },
    Setting {
        key: "worker_poll_ms",
        var: "YTVC_WORKER_POLL_MS",
        default: "250",
        meaning: "pause between claims when the queue is empty (10..=60000)",
    },
    Setting {
        key: "media_faults",
        var: "YTVC_MEDIA_FAULTS",
        default: "none",
        meaning: "testing only: inject media failures, e.g. `clip=always,still=calls:0+2`",
    },
    Setting {
        key: "gemini_api_key",
        var: "GEMINI_API_KEY",
        default: "none",
        meaning: "secret: the Gemini Developer API key (required by the `gemini` provider)",
    },
    Setting {
        key: "google_credentials_file",
        var: "GOOGLE_APPLICATION_CREDENTIALS",
        default: "none",
        meaning: "service-account key file (JSON) of the `vertex` provider",
    },
    Setting {
        key: "vertex_project",
        var: "YTVC_VERTEX_PROJECT",
        default: "the key file's `project_id`",
        meaning: "Google Cloud project of the `vertex` provider",
    },
    Setting {
        key: "vertex_location",
        var: "YTVC_VERTEX_LOCATION",
        default: "us-central1",
        meaning: "Vertex AI region",
    },
    Setting {
        key: "llm_model",
        var: "YTVC_LLM_MODEL",
        default: "gemini-2.5-flash",
        meaning: "storyboard model (Google providers)",
    },
    Setting {
        key: "image_model",
        var: "YTVC_IMAGE_MODEL",
        default: "imagen-4.0-generate-001",
        meaning: "still-image model: an Imagen model (`:predict`) or a Gemini image model (`generateContent`)",
    },
    Setting {
        key: "veo_model",
        var: "YTVC_VEO_MODEL",
        default: "veo-3.0-fast-generate-001",
        meaning: "clip model (Google providers)",
    },
    Setting {
        key: "google_endpoint",
        var: "YTVC_GOOGLE_ENDPOINT",
        default: "Google's endpoints",
        meaning: "one base URL for every Google API (a proxy; tests point it at a fake)",
    },
    Setting {
        key: "media_max_attempts",
        var: "YTVC_MEDIA_MAX_ATTEMPTS",
        default: "3",
        meaning: "attempts per external media call, the first included (1..=10)",
    },
    Setting {
        key: "media_retry_base_ms",
        var: "YTVC_MEDIA_RETRY_BASE_MS",
        default: "500",
        meaning: "first retry backoff of media calls, doubling, full jitter (0..=60000)",
    },
    Setting {
        key: "veo_poll_ms",
        var: "YTVC_VEO_POLL_MS",
        default: "10000",
        meaning: "wait between two polls of a Veo operation (10..=60000)",
    },
    Setting {
        key: "video_assembly",
        var: "YTVC_VIDEO_ASSEMBLY",
        default: "on",
        meaning: "`on`: completed videos get `video.mp4` (H.264 + audio); `off`: the artifact set only",
    },
    Setting {
        key: "plans_file",
        var: "YTVC_PLANS_FILE",
        default: "built-in plans",
        meaning: "TOML file with `[[plans]]` entries (name, monthly_quota, batch_size_limit, priority, rate_limits)",
    },
];

/// Why the configuration was refused: every problem found, each naming its
/// variable (or file key) and the value expected.
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Where a raw value came from, to name it in errors.
struct Raw {
    value: String,
    origin: String,
}

/// Reads the file (if any) and the environment into raw strings, env winning.
struct Sources {
    values: BTreeMap<&'static str, Raw>,
    problems: Vec<String>,
}

impl Sources {
    fn load(file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut values = BTreeMap::new();
        let mut problems = Vec::new();
        if let Some(path) = file {
            match std::fs::read_to_string(path) {
                Err(e) => problems.push(format!("config file {}: {e}", path.display())),
                Ok(text) => match text.parse::<toml::Table>() {
                    Err(e) => problems.push(format!("config file {}: {e}", path.display())),
                    Ok(table) => {
                        for (key, value) in table {
                            let Some(setting) = SETTINGS.iter().find(|s| s.key == key) else {
                                problems.push(format!(
                                    "config file {}: unknown key `{key}`",
                                    path.display()
                                ));
                                continue;
                            };
                            let value = match value {
                                toml::Value::String(s) => s,
                                toml::Value::Array(items) => items
                                    .iter()
                                    .map(|v| {
                                        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                                    })
                                    .collect::<Vec<_>>()
                                    .join(","),
                                other => other.to_string(),
                            };
                            let origin = format!("`{key}` in {}", path.display());
                            values.insert(setting.key, Raw { value, origin });
                        }
                    }
                },
            }
        }
        for setting in SETTINGS {
            if let Some(value) = env(setting.var) {
                values.insert(
                    setting.key,
                    Raw {
                        value,
                        origin: setting.var.to_owned(),
                    },
                );
            }
        }
        Self { values, problems }
    }

    /// Parses one setting, recording a problem (and returning the default) on failure.
    fn get<T>(
        &mut self,
        key: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> T {
        match self.values.get(key) {
            None => default,
            Some(raw) => match parse(raw.value.trim()) {
                Ok(v) => v,
                Err(expected) => {
                    let shown =
                        if key.contains("secret") || key.contains("url") || key.ends_with("_key") {
                            "[redacted]".to_owned()
                        } else {
                            format!("{:?}", raw.value)
                        };
                    self.problems
                        .push(format!("{}: invalid value {shown}: {expected}", raw.origin));
                    default
                }
            },
        }
    }

    fn origin(&self, key: &str) -> String {
        self.values.get(key).map_or_else(
            || {
                SETTINGS
                    .iter()
                    .find(|s| s.key == key)
                    .map_or(key, |s| s.var)
                    .to_owned()
            },
            |r| r.origin.clone(),
        )
    }
}

fn number<T>(range: std::ops::RangeInclusive<T>) -> impl FnOnce(&str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + fmt::Display,
{
    move |s| {
        let v: T = s.parse().map_err(|_| {
            format!(
                "expected a whole number in {}..={}",
                range.start(),
                range.end()
            )
        })?;
        if range.contains(&v) {
            Ok(v)
        } else {
            Err(format!(
                "expected a whole number in {}..={}",
                range.start(),
                range.end()
            ))
        }
    }
}

impl MediaSettings {
    fn load(src: &mut Sources, provider: MediaProvider) -> Self {
        let gemini_api_key = src.get("gemini_api_key", None, |s| {
            if s.trim().is_empty() || s.len() > 512 || s.chars().any(char::is_whitespace) {
                Err("expected an API key".into())
            } else {
                Ok(Some(Secret::new(s.to_owned())))
            }
        });
        let credentials_file = src.get("google_credentials_file", None, |s| {
            let p = PathBuf::from(s);
            if p.is_file() {
                Ok(Some(p))
            } else {
                Err(format!("no readable file at {s}"))
            }
        });
        let name = |s: &str| {
            if !s.is_empty()
                && s.len() <= 100
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                Ok(Some(s.to_owned()))
            } else {
                Err("expected a name of letters, digits, `-`, `_` and `.`".to_owned())
            }
        };
        let vertex_project = src.get("vertex_project", None, name);
        let vertex_location = src
            .get("vertex_location", None, name)
            .unwrap_or_else(|| "us-central1".to_owned());
        let llm_model = src.get("llm_model", None, name);
        let image_model = src.get("image_model", None, name);
        let veo_model = src.get("veo_model", None, name);
        let google_endpoint = src.get("google_endpoint", None, |s| {
            if (s.starts_with("http://") || s.starts_with("https://"))
                && !s.contains(char::is_whitespace)
            {
                Ok(Some(s.trim_end_matches('/').to_owned()))
            } else {
                Err("expected an http(s) URL".into())
            }
        });
        let max_attempts = src.get("media_max_attempts", 3, number(1..=10));
        let retry_base =
            Duration::from_millis(src.get("media_retry_base_ms", 500, number(0..=60_000)));
        let veo_poll = Duration::from_millis(src.get("veo_poll_ms", 10_000, number(10..=60_000)));
        let assembly = src.get("video_assembly", true, |s| match s {
            "on" | "true" | "1" => Ok(true),
            "off" | "false" | "0" => Ok(false),
            _ => Err("expected `on` or `off`".into()),
        });
        match provider {
            MediaProvider::Gemini
                if gemini_api_key.is_none() && !src.values.contains_key("gemini_api_key") =>
            {
                let origin = src.origin("gemini_api_key");
                src.problems
                    .push(format!("{origin}: required by YTVC_MEDIA_PROVIDER=gemini"));
            }
            MediaProvider::Vertex
                if credentials_file.is_none()
                    && !src.values.contains_key("google_credentials_file") =>
            {
                let origin = src.origin("google_credentials_file");
                src.problems.push(format!(
                    "{origin}: required by YTVC_MEDIA_PROVIDER=vertex (a service-account key file)"
                ));
            }
            _ => {}
        }
        Self {
            gemini_api_key,
            credentials_file,
            vertex_project,
            vertex_location,
            llm_model,
            image_model,
            veo_model,
            google_endpoint,
            max_attempts,
            retry_base,
            veo_poll,
            assembly,
        }
    }
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
        let env_kind = src.get("env", Environment::Development, |s| {
            match s.to_ascii_lowercase().as_str() {
                "development" | "dev" => Ok(Environment::Development),
                "production" | "prod" => Ok(Environment::Production),
                _ => Err("expected `development` or `production`".into()),
            }
        });
        let bind = src.get("bind", SocketAddr::from(([127, 0, 0, 1], 8000)), |s| {
            s.parse()
                .map_err(|_| "expected HOST:PORT, e.g. 127.0.0.1:8000".into())
        });
        let data_dir = src.get("data_dir", PathBuf::from("./data"), |s| {
            if s.is_empty() {
                Err("expected a directory path".into())
            } else {
                Ok(PathBuf::from(s))
            }
        });
        let database_url = src.get("database_url", None, |s| {
            let lower = s.to_ascii_lowercase();
            if lower.starts_with("postgres://")
                || lower.starts_with("postgresql://")
                || lower.starts_with("sqlite:")
            {
                Ok(Some(s.to_owned()))
            } else {
                Err("expected sqlite://PATH or postgres://USER@HOST/DB".into())
            }
        });
        let database_url = Secret::new(
            database_url
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("ytvc.db").display())),
        );
        let db_pool_size = src.get("db_pool_size", 10, number(1..=1000));
        let db_pool_max_overflow = src.get("db_pool_max_overflow", 5, number(0..=1000));
        let db_connect_timeout =
            Duration::from_millis(src.get("db_connect_timeout_ms", 5000, number(100..=600_000)));
        let redis_url = src.get("redis_url", None, |s| {
            if s.starts_with("redis://") || s.starts_with("rediss://") {
                Ok(Some(Secret::new(s.to_owned())))
            } else {
                Err("expected redis://HOST:PORT".into())
            }
        });
        let jwt_secret = src.get("jwt_secret", None, |s| {
            if s.len() >= 32 {
                Ok(Some(Secret::new(s.to_owned())))
            } else {
                Err("must be at least 32 bytes".into())
            }
        });
        let cors_origins = src.get("cors_origins", Vec::new(), |s| {
            let mut origins = Vec::new();
            for o in s.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                if o == "*" {
                    return Err("a wildcard origin is not allowed; list the origins".into());
                }
                if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/') {
                    return Err(format!(
                        "`{o}` is not an origin like https://app.example.com"
                    ));
                }
                origins.push(o.to_owned());
            }
            Ok(origins)
        });
        let media_provider = src.get("media_provider", MediaProvider::Local, |s| match s {
            "local" => Ok(MediaProvider::Local),
            "gemini" => Ok(MediaProvider::Gemini),
            "vertex" => Ok(MediaProvider::Vertex),
            _ => Err("expected `local`, `gemini` or `vertex`".into()),
        });
        let log_format = src.get("log_format", LogFormat::Json, |s| match s {
            "json" => Ok(LogFormat::Json),
            "pretty" => Ok(LogFormat::Pretty),
            _ => Err("expected `json` or `pretty`".into()),
        });
        let log_level = src.get("log_level", LogLevel(slog::Level::Info), |s| match s {
            "error" => Ok(LogLevel(slog::Level::Error)),
            "warn" | "warning" => Ok(LogLevel(slog::Level::Warning)),
            "info" => Ok(LogLevel(slog::Level::Info)),
            "debug" => Ok(LogLevel(slog::Level::Debug)),
            "trace" => Ok(LogLevel(slog::Level::Trace)),
            _ => Err("expected error, warn, info, debug or trace".into()),
        });
        let json_limit_bytes = src.get("json_limit_bytes", 1 << 20, number(1024..=64 << 20));
        let shutdown_timeout =
            Duration::from_secs(src.get("shutdown_timeout_secs", 30, number(0..=3600)));
        let http_workers = src.get("http_workers", 0, number(0..=1024));
        let algorithm = src.get("jwt_algorithm", JwtAlgorithm::Hs256, |s| {
            match s.to_ascii_uppercase().as_str() {
                "HS256" => Ok(JwtAlgorithm::Hs256),
                "EDDSA" => Ok(JwtAlgorithm::EdDsa),
                "RS256" => Ok(JwtAlgorithm::Rs256),
                _ => Err("expected HS256, EdDSA or RS256".into()),
            }
        });
        let key_file = |s: &str| {
            let p = PathBuf::from(s);
            if p.is_file() {
                Ok(Some(p))
            } else {
                Err(format!("no readable file at {s}"))
            }
        };
        let private_key_file = src.get("jwt_private_key_file", None, key_file);
        let public_key_file = src.get("jwt_public_key_file", None, key_file);
        let text = |what: &'static str| {
            move |s: &str| {
                if s.is_empty() || s.len() > 200 {
                    Err(format!("expected a non-empty {what}"))
                } else {
                    Ok(s.to_owned())
                }
            }
        };
        let issuer = src.get("jwt_issuer", "ytvc".to_owned(), text("issuer"));
        let audience = src.get("jwt_audience", "ytvc-api".to_owned(), text("audience"));
        let leeway = Duration::from_secs(src.get("jwt_leeway_secs", 30, number(0..=300)));
        let access_ttl =
            Duration::from_secs(src.get("access_token_ttl_secs", 900, number(60..=86_400)));
        let refresh_ttl =
            Duration::from_secs(86_400 * src.get("refresh_token_ttl_days", 30, number(1..=365)));
        let revocation_cache =
            Duration::from_millis(src.get("revocation_cache_ms", 2000, number(0..=5000)));
        let registration_open = src.get("registration", true, |s| match s {
            "open" => Ok(true),
            "closed" => Ok(false),
            _ => Err("expected `open` or `closed`".into()),
        });
        let auth_ip_limit_per_minute = src.get("auth_ip_limit_per_minute", 30, number(1..=100_000));
        let trust_forwarded_for = src.get("trust_forwarded_for", false, |s| match s {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err("expected true or false".into()),
        });
        let plans = src.get("plans_file", ytvc_quota::Plans::default(), |s| {
            #[derive(serde::Deserialize)]
            struct PlansFile {
                plans: ytvc_quota::Plans,
            }
            let text = std::fs::read_to_string(s).map_err(|e| format!("cannot read {s}: {e}"))?;
            toml::from_str::<PlansFile>(&text)
                .map(|f| f.plans)
                .map_err(|e| format!("invalid plans file {s}: {e}"))
        });
        let worker_concurrency = src.get("worker_concurrency", 2, number(1..=64));
        let job_lease = Duration::from_secs(src.get("job_lease_secs", 30, number(2..=3600)));
        let worker_poll =
            Duration::from_millis(src.get("worker_poll_ms", 250, number(10..=60_000)));
        let media_faults = src.get("media_faults", None, |s| {
            ytvc_media_clients::Flaky::<()>::parse_faults(s).map(|_| Some(s.to_owned()))
        });
        let media = MediaSettings::load(&mut src, media_provider);
        if algorithm != JwtAlgorithm::Hs256
            && (private_key_file.is_none() || public_key_file.is_none())
        {
            let origin = src.origin("jwt_algorithm");
            src.problems.push(format!(
                "{origin}: {algorithm:?} needs YTVC_JWT_PRIVATE_KEY_FILE and YTVC_JWT_PUBLIC_KEY_FILE"
            ));
        }

        if env_kind == Environment::Production
            && jwt_secret.is_none()
            && !src.values.contains_key("jwt_secret")
        {
            let origin = src.origin("jwt_secret");
            src.problems.push(format!(
                "{origin}: required in production (at least 32 bytes)"
            ));
        }
        if !src.problems.is_empty() {
            return Err(ConfigError(src.problems));
        }
        Ok(Self {
            env: env_kind,
            bind,
            data_dir,
            database_url,
            db_pool_size,
            db_pool_max_overflow,
            db_connect_timeout,
            redis_url,
            jwt_secret,
            cors_origins,
            media_provider,
            log_format,
            log_level,
            json_limit_bytes,
            shutdown_timeout,
            http_workers,
            jwt: JwtSettings {
                algorithm,
                private_key_file,
                public_key_file,
                issuer,
                audience,
                leeway,
                access_ttl,
                refresh_ttl,
                revocation_cache,
            },
            registration_open,
            auth_ip_limit_per_minute,
            trust_forwarded_for,
            plans,
            worker_concurrency,
            job_lease,
            worker_poll,
            media_faults,
            media,
            worker_enabled: true,
        })
    }

    /// The configuration used by tests: defaults, with the data dir given.
    #[must_use]
    pub fn for_tests(data_dir: &Path) -> Self {
        let dir = data_dir.display().to_string();
        Self::load_from(None, &|k| (k == "YTVC_DATA_DIR").then(|| dir.clone()))
            .expect("defaults are valid")
    }
}

/// Renders the settings table as Markdown (`docs/configuration.md` embeds it).
#[must_use]
pub fn settings_markdown() -> String {
    let mut out = String::from("| variable | file key | meaning | default |\n|---|---|---|---|\n");
    for s in SETTINGS {
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            s.var, s.key, s.meaning, s.default
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
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
    fn google_settings_are_checked_and_the_key_never_prints() {
        let err = load(&[("YTVC_MEDIA_PROVIDER", "gemini")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("GEMINI_API_KEY: required"), "{err}");
        let err = load(&[("YTVC_MEDIA_PROVIDER", "vertex")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GOOGLE_APPLICATION_CREDENTIALS: required"),
            "{err}"
        );
        let err = load(&[("GEMINI_API_KEY", "bad key-AIzaSecret")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GEMINI_API_KEY") && !err.contains("AIzaSecret"),
            "{err}"
        );
        let c = load(&[
            ("YTVC_MEDIA_PROVIDER", "gemini"),
            ("GEMINI_API_KEY", "AIzaSyTestKeyNeverPrinted"),
            ("YTVC_VEO_MODEL", "veo-3.1-generate-preview"),
            ("YTVC_GOOGLE_ENDPOINT", "http://127.0.0.1:9/"),
            ("YTVC_VIDEO_ASSEMBLY", "off"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("AIzaSyTestKeyNeverPrinted"));
        assert_eq!(
            c.media.veo_model.as_deref(),
            Some("veo-3.1-generate-preview")
        );
        assert_eq!(
            c.media.google_endpoint.as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert!(!c.media.assembly);
        let err = load(&[("YTVC_LLM_MODEL", "../admin")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("YTVC_LLM_MODEL"), "{err}");
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
    fn production_requires_a_secret() {
        let err = load(&[("YTVC_ENV", "production")]).unwrap_err().to_string();
        assert!(
            err.contains("YTVC_JWT_SECRET") && err.contains("production"),
            "{err}"
        );
        load(&[
            ("YTVC_ENV", "production"),
            ("YTVC_JWT_SECRET", &"x".repeat(32)),
        ])
        .unwrap();
    }

    #[test]
    fn cors_origins_are_validated() {
        let c = load(&[(
            "YTVC_CORS_ORIGINS",
            "https://a.example.com, http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(
            c.cors_origins,
            vec!["https://a.example.com", "http://localhost:3000"]
        );
        assert!(load(&[("YTVC_CORS_ORIGINS", "*")]).is_err());
        assert!(load(&[("YTVC_CORS_ORIGINS", "example.com")]).is_err());
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

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ytvc-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

/// The whole `docs/configuration.md`, generated from [`SETTINGS`].
#[must_use]
pub fn configuration_doc() -> String {
    format!(
        "# Configuration\n\n\
         <!-- Generated from bins/server/src/config.rs (SETTINGS). Do not edit by hand: \
         run `YTVC_BLESS=1 cargo test -p ytvc-server configuration_doc` to regenerate. -->\n\n\
         The server reads an optional TOML file (`--config FILE` or `YTVC_CONFIG`) whose keys are \
         the file keys below, then the environment variables, which win. Every value is validated \
         at start-up; the server refuses to start (exit code 2) with one line per bad value, naming \
         the variable or file key. Unknown file keys are refused too (typos). Values holding \
         secrets are never printed.\n\n{}\n\
         Example file:\n\n```toml\nbind = \"0.0.0.0:8000\"\ndata_dir = \"/var/lib/ytvc\"\n\
         database_url = \"postgres://ytvc@db/ytvc\"\ncors_origins = [\"https://app.example.com\"]\n\
         log_format = \"json\"\n```\n",
        settings_markdown()
    )
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn configuration_doc_is_up_to_date() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
        let expected = super::configuration_doc();
        if std::env::var_os("YTVC_BLESS").is_some() {
            std::fs::write(&path, &expected).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "docs/configuration.md is out of date: run `YTVC_BLESS=1 cargo test -p ytvc-server configuration_doc`"
        );
    }
}

#[cfg(test)]
mod setting_tests {
    use super::*;

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
                    "GOOGLE_APPLICATION_CREDENTIALS"
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

    #[test]
    fn a_plans_file_replaces_the_catalog() {
        let path = std::env::temp_dir().join(format!("ytvc-plans-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(
            &path,
            r#"
[[plans]]
name = "free"
monthly_quota = 3
batch_size_limit = 2
priority = 3
rate_limits = { api = { limit = 10, window_secs = 60 }, batch_creations = { limit = 1, window_secs = 60 }, video_generations = { limit = 2, window_secs = 60 } }

[[plans]]
name = "unlimited"
monthly_quota = "unlimited"
batch_size_limit = 50
priority = 1
rate_limits = { api = { limit = 1000, window_secs = 3600 }, batch_creations = { limit = 50, window_secs = 3600 }, video_generations = { limit = 200, window_secs = 3600 } }
"#,
        )
        .unwrap();
        let p = path.display().to_string();
        let result = Config::load_from(None, &|k| (k == "YTVC_PLANS_FILE").then(|| p.clone()));
        let c = result.unwrap();
        assert_eq!(c.plans.get("free").unwrap().monthly_quota, Some(3));
        assert_eq!(c.plans.get("unlimited").unwrap().monthly_quota, None);
        assert!(
            !c.plans.contains("pro"),
            "the file replaces the built-in catalog"
        );
        let err = Config::load_from(None, &|k| {
            (k == "YTVC_PLANS_FILE").then(|| "/nonexistent.toml".to_owned())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("YTVC_PLANS_FILE"), "{err}");
    }
}
