//! The command line: `serve` (default), `migrate`, `openapi`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::startup::{Application, connect_database};
use crate::telemetry;

/// The ytvc API server.
#[derive(Debug, Parser)]
#[command(name = "ytvc-server", version, about)]
pub struct Cli {
    /// A TOML configuration file; environment variables override it.
    #[arg(long, global = true, env = "YTVC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
}

/// Runs the command line; returns the process exit code.
#[must_use]
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        match crate::http::docs::openapi().to_pretty_json() {
            Ok(json) => {
                println!("{json}");
                return std::process::ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let log = telemetry::logger(config.log_format, config.log_level);
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                let app = Application::build(config, log.clone()).await?;
                app.run_until_stopped().await?;
                Ok(())
            }
            Command::Migrate => {
                let db = connect_database(&config).await?;
                slog::info!(log, "migrations applied"; "backend" => db.backend().to_string());
                Ok(())
            }
            Command::Openapi => Ok(()),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let e: anyhow::Error = e;
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
