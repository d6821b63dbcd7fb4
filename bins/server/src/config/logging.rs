//! Logging: the format and the least severe level written.

use super::setting::{DefaultValue, Setting};
use super::sources::Sources;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (for log shippers).
    Json,
    /// Human-readable terminal output.
    Pretty,
}

/// A log level, parsed from `error`, `warn`, `info`, `debug` or `trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLevel(pub slog::Level);

pub(super) const FORMAT: Setting = Setting {
    key: "log_format",
    var: "YTVC_LOG_FORMAT",
    default: DefaultValue::Value("json"),
    meaning: "`json` or `pretty`",
};
pub(super) const LEVEL: Setting = Setting {
    key: "log_level",
    var: "YTVC_LOG_LEVEL",
    default: DefaultValue::Value("info"),
    meaning: "`error`, `warn`, `info`, `debug` or `trace`",
};

/// The logging settings (see [`super::Config`]).
pub(super) struct LoggingSettings {
    pub(super) format: LogFormat,
    pub(super) level: LogLevel,
}

impl LoggingSettings {
    /// Parses and validates the group.
    pub(super) fn load(src: &mut Sources) -> Self {
        Self {
            format: src.value(&FORMAT, |s| match s {
                "json" => Ok(LogFormat::Json),
                "pretty" => Ok(LogFormat::Pretty),
                _ => Err("expected `json` or `pretty`".into()),
            }),
            level: src.value(&LEVEL, |s| match s {
                "error" => Ok(LogLevel(slog::Level::Error)),
                "warn" | "warning" => Ok(LogLevel(slog::Level::Warning)),
                "info" => Ok(LogLevel(slog::Level::Info)),
                "debug" => Ok(LogLevel(slog::Level::Debug)),
                "trace" => Ok(LogLevel(slog::Level::Trace)),
                _ => Err("expected error, warn, info, debug or trace".into()),
            }),
        }
    }
}
