//! The command line: `serve` (default), `worker`, `migrate [--revert N|all]`,
//! `openapi`, `user create`, `providers check`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use ytvc_persistence::{Database, Revert};

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
    /// Serve the API (the default), with the in-process worker.
    Serve {
        /// Serve the API only; run workers separately (`ytvc-server worker`).
        #[arg(long)]
        no_worker: bool,
    },
    /// Run a worker only (no HTTP): claims jobs and runs the pipeline.
    Worker,
    /// Apply pending database migrations and exit (or, with `--revert`, revert applied ones).
    Migrate {
        /// Revert instead: the last N applied migrations (newest first; 1 when N
        /// is left out) or `all`, each with its `down.sql`. Prints each one reverted.
        #[arg(
            long,
            value_name = "N|all",
            num_args = 0..=1,
            default_missing_value = "1",
            value_parser = parse_revert
        )]
        revert: Option<Revert>,
    },
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Media providers.
    #[command(subcommand)]
    Providers(ProvidersCommand),
}

/// Media-provider subcommands.
#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// One minimal call per configured external media service; prints a table
    /// (service, provider, model, `ok` or `CODE: message`) and exits 1 when any fails.
    Check,
}

/// Account subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input (one line), never an argument.
    Create {
        /// The account's email.
        #[arg(long)]
        email: String,
        /// Make it an admin.
        #[arg(long)]
        admin: bool,
        /// Its plan (default: free).
        #[arg(long, default_value = "free")]
        plan: String,
    },
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
    if let Some(Command::Providers(ProvidersCommand::Check)) = cli.command {
        return providers_check(&config, &log);
    }
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve { no_worker: false }) {
            Command::Serve { no_worker } => {
                let mut config = config;
                config.worker_enabled = !no_worker;
                let app = Application::build(config, log.clone()).await?;
                app.run_until_stopped().await?;
                Ok(())
            }
            Command::Migrate { revert: None } => {
                let db = connect_database(&config).await?;
                slog::info!(log, "migrations applied"; "backend" => db.backend().to_string());
                Ok(())
            }
            Command::Migrate {
                revert: Some(which),
            } => revert_migrations(&config, &log, which).await,
            Command::Openapi | Command::Providers(_) => Ok(()),
            Command::Worker => run_worker(config, log).await,
            Command::User(UserCommand::Create { email, admin, plan }) => {
                create_user(config, log, &email, admin, &plan).await
            }
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

/// `providers check`: the table on standard output; exit 0 when every
/// service passed, 1 when one failed (2, like any configuration error, when
/// a provider cannot even be built).
fn providers_check(config: &Config, log: &slog::Logger) -> std::process::ExitCode {
    let clock = crate::clock::AppClock::system();
    let media = match crate::media::build(config, log, &clock) {
        Ok(media) => media,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let report = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(crate::providers::run(&media.status)),
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    print!("{}", report.table());
    if report.passed() {
        std::process::ExitCode::SUCCESS
    } else {
        eprintln!(
            "error: the providers check failed: {}",
            report.failures().join("; ")
        );
        std::process::ExitCode::FAILURE
    }
}

/// `--revert N` (N ≥ 1) or `--revert all`.
fn parse_revert(s: &str) -> Result<Revert, String> {
    if s.eq_ignore_ascii_case("all") {
        return Ok(Revert::All);
    }
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Revert::Last(n)),
        _ => Err("expected a number of migrations (1 or more) or `all`".to_owned()),
    }
}

/// `migrate --revert`: connects without applying anything, reverts, and
/// prints one line per migration reverted (newest first).
async fn revert_migrations(
    config: &Config,
    log: &slog::Logger,
    which: Revert,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let db_config = crate::startup::db_config(config);
    let (backend, reverted) = tokio::task::spawn_blocking(move || {
        let db = Database::connect_without_migrations(&db_config)?;
        db.revert_migrations(which)
            .map(|reverted| (db.backend(), reverted))
    })
    .await
    .context("migration task failed")?
    .context("cannot revert migrations")?;
    if reverted.is_empty() {
        println!("no migration is applied: nothing to revert");
    }
    for name in &reverted {
        println!("reverted {name}");
    }
    slog::info!(log, "migrations reverted";
        "backend" => backend.to_string(), "count" => reverted.len());
    Ok(())
}

/// `user create`: reads the password from standard input and stores the account.
async fn create_user(
    config: Config,
    log: slog::Logger,
    email: &str,
    admin: bool,
    plan: &str,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::{BufRead as _, IsTerminal as _};
    let plan = ytvc_quota::PlanName::parse(plan).map_err(|e| anyhow::anyhow!("--plan: {e}"))?;
    anyhow::ensure!(
        config.plans.contains(plan.as_str()),
        "--plan: `{}` is not a configured plan",
        plan.as_str()
    );
    if std::io::stdin().is_terminal() {
        eprint!("Password for {email} (8..=128 characters; it will be visible as you type): ");
    }
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let db = connect_database(&config).await?;
    let services =
        crate::startup::Services::build(&config, &log, &db, crate::clock::AppClock::system())
            .await?;
    let role = if admin {
        ytvc_domain::accounts::Role::Admin
    } else {
        ytvc_domain::accounts::Role::User
    };
    let email = email.to_owned();
    let auth = services.auth.clone();
    let user = tokio::task::spawn_blocking(move || auth.create_user(&email, &password, role, plan))
        .await
        .context("user creation task failed")?
        .map_err(|e| match e {
            ytvc_domain::auth::AuthError::Validation(v) => anyhow::anyhow!("{}: {v}", v.field()),
            ytvc_domain::auth::AuthError::EmailTaken => {
                anyhow::anyhow!("an account with this email already exists")
            }
            other => anyhow::anyhow!("{other}"),
        })?;
    println!(
        "{}",
        serde_json::json!({ "id": user.id.to_string(), "email": user.email.as_str(), "role": user.role.as_str(), "plan": user.plan.as_str() })
    );
    Ok(())
}

/// `worker`: the worker alone, until SIGINT/SIGTERM (then a graceful drain).
async fn run_worker(config: Config, log: slog::Logger) -> anyhow::Result<()> {
    let db = connect_database(&config).await?;
    let services =
        crate::startup::Services::build(&config, &log, &db, crate::clock::AppClock::system())
            .await?;
    crate::startup::startup_check(&config, &services.media, &log).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(services.worker.run(stopped));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    slog::info!(log, "signal received: stopping the worker");
    let _ = stop.send(true);
    let _ = task.await;
    Ok(())
}
