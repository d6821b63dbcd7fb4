//! Logging: slog, JSON lines by default, a terminal format on request.

use slog::{Drain, Logger, o};

use crate::config::{LogFormat, LogLevel};

/// Builds the root logger. Logs go to standard error.
pub fn logger(format: LogFormat, level: LogLevel) -> Logger {
    let drain: slog_async::Async = match format {
        LogFormat::Json => {
            let json = slog_json::Json::new(std::io::stderr())
                .add_default_keys()
                .set_newlines(true)
                .build()
                .fuse();
            slog_async::Async::new(json).chan_size(4096).build()
        }
        LogFormat::Pretty => {
            let decorator = slog_term::TermDecorator::new().stderr().build();
            let term = slog_term::FullFormat::new(decorator).build().fuse();
            slog_async::Async::new(term).chan_size(4096).build()
        }
    };
    let drain = drain.filter_level(level.0).fuse();
    Logger::root(
        drain,
        o!("service" => "ytvc", "version" => env!("CARGO_PKG_VERSION")),
    )
}

/// A JSON-lines logger writing synchronously into `out` (the same records and
/// keys as [`logger`] in the JSON format), for embedding the server and for
/// tests that read its logs.
pub fn json_logger_into<W: std::io::Write + Send + 'static>(out: W, level: LogLevel) -> Logger {
    let json = slog_json::Json::new(out)
        .add_default_keys()
        .set_newlines(true)
        .build();
    let drain = std::sync::Mutex::new(json)
        .ignore_res()
        .filter_level(level.0)
        .fuse();
    Logger::root(
        drain,
        o!("service" => "ytvc", "version" => env!("CARGO_PKG_VERSION")),
    )
}

/// A logger that drops everything (tests).
pub fn discard() -> Logger {
    Logger::root(slog::Discard, o!())
}
