//! The server process and its HTTP edge: the environment, the listen
//! address, the data dir, CORS, the body limit, shutdown and worker threads.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::setting::{DefaultValue, Setting};
use super::sources::{Sources, number};

/// Development (generated keys allowed) or production (secrets required).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Embedded defaults; a development signing key is generated on first start.
    Development,
    /// Strict: every secret must be configured.
    Production,
}

pub(super) const ENV: Setting = Setting {
    key: "env",
    var: "YTVC_ENV",
    default: DefaultValue::Value("development"),
    meaning: "`development` or `production` (strict: secrets required)",
};
pub(super) const BIND: Setting = Setting {
    key: "bind",
    var: "YTVC_BIND",
    default: DefaultValue::Value("127.0.0.1:8000"),
    meaning: "listen address",
};
pub(super) const DATA_DIR: Setting = Setting {
    key: "data_dir",
    var: "YTVC_DATA_DIR",
    default: DefaultValue::Value("./data"),
    meaning: "SQLite file, generated development key, artifacts",
};
pub(super) const CORS_ORIGINS: Setting = Setting {
    key: "cors_origins",
    var: "YTVC_CORS_ORIGINS",
    default: DefaultValue::Unset("none"),
    meaning: "comma-separated allowed origins",
};
pub(super) const JSON_LIMIT_BYTES: Setting = Setting {
    key: "json_limit_bytes",
    var: "YTVC_JSON_LIMIT_BYTES",
    default: DefaultValue::Value("1048576"),
    meaning: "largest JSON body accepted (VAL_008 above it)",
};
pub(super) const SHUTDOWN_TIMEOUT_SECS: Setting = Setting {
    key: "shutdown_timeout_secs",
    var: "YTVC_SHUTDOWN_TIMEOUT_SECS",
    default: DefaultValue::Value("30"),
    meaning: "grace period for requests in flight on SIGINT/SIGTERM",
};
pub(super) const HTTP_WORKERS: Setting = Setting {
    key: "http_workers",
    var: "YTVC_HTTP_WORKERS",
    default: DefaultValue::Value("0"),
    meaning: "HTTP worker threads (0 = one per core)",
};
pub(super) const BODY_TIMEOUT_MS: Setting = Setting {
    key: "body_timeout_ms",
    var: "YTVC_BODY_TIMEOUT_MS",
    default: DefaultValue::Value("30000"),
    meaning: "the whole request body must arrive within this, counted from the end of the headers (else 408 HTTP_002 and the connection closes)",
};
pub(super) const ADMIN_BIND: Setting = Setting {
    key: "admin_bind",
    var: "YTVC_ADMIN_BIND",
    default: DefaultValue::Unset("unset: on the public listener"),
    meaning: "internal listen address serving `/metrics` and `/health/ready` instead of the public one",
};

/// The settings of the process and its HTTP edge (see [`super::Config`]).
pub(super) struct ServerSettings {
    pub(super) env: Environment,
    pub(super) bind: SocketAddr,
    pub(super) data_dir: PathBuf,
    pub(super) cors_origins: Vec<String>,
    pub(super) json_limit_bytes: usize,
    pub(super) shutdown_timeout: Duration,
    pub(super) http_workers: usize,
    pub(super) body_timeout: Duration,
    pub(super) admin_bind: Option<SocketAddr>,
}

impl ServerSettings {
    /// Parses and validates the group.
    pub(super) fn load(src: &mut Sources) -> Self {
        Self {
            env: src.value(&ENV, environment),
            bind: src.value(&BIND, |s| {
                s.parse()
                    .map_err(|_| "expected HOST:PORT, e.g. 127.0.0.1:8000".into())
            }),
            data_dir: src.value(&DATA_DIR, |s| {
                if s.is_empty() {
                    Err("expected a directory path".into())
                } else {
                    Ok(PathBuf::from(s))
                }
            }),
            cors_origins: src.optional(&CORS_ORIGINS, origins).unwrap_or_default(),
            json_limit_bytes: src.value(&JSON_LIMIT_BYTES, number(1024..=64 << 20)),
            shutdown_timeout: Duration::from_secs(
                src.value(&SHUTDOWN_TIMEOUT_SECS, number(0..=3600)),
            ),
            http_workers: src.value(&HTTP_WORKERS, number(0..=1024)),
            body_timeout: Duration::from_millis(src.value(&BODY_TIMEOUT_MS, number(1..=3_600_000))),
            admin_bind: src.optional(&ADMIN_BIND, |s| {
                s.parse()
                    .map_err(|_| "expected HOST:PORT, e.g. 127.0.0.1:9000".into())
            }),
        }
    }
}

fn environment(s: &str) -> Result<Environment, String> {
    match s.to_ascii_lowercase().as_str() {
        "development" | "dev" => Ok(Environment::Development),
        "production" | "prod" => Ok(Environment::Production),
        _ => Err("expected `development` or `production`".into()),
    }
}

/// Comma-separated origins, each like `https://app.example.com`; no wildcard.
fn origins(s: &str) -> Result<Vec<String>, String> {
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
}

#[cfg(test)]
mod tests {
    use crate::config::tests::load;

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
}
