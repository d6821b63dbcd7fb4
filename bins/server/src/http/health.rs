//! `GET /health` (liveness) and `GET /health/ready` (readiness).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use ytvc_error_codes::{ApiResponse, ErrorCode};

use super::error::ApiError;
use crate::state::AppState;

/// Liveness: the process answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// The server version.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// Seconds since the process started.
    pub uptime_seconds: u64,
}

/// The state of one dependency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Component {
    /// `up`, `down`, or `degraded` (working with fallbacks: an open
    /// circuit breaker, a media service that failed the providers check at
    /// start; does not make the instance unready).
    #[schema(example = "up")]
    pub status: &'static str,
    /// What went wrong, when down (no secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Extra facts (backend, pool size).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub info: Option<serde_json::Value>,
}

/// The media providers and the circuit breakers of the external services.
/// An open (or half-open) breaker makes it `degraded`, never `down`: the
/// pipeline falls back or retries later, so the instance still serves.
/// `info.services` has every service's provider and model; `breakers`
/// every external service's breaker (keyed by the domain's service:
/// `llm`, `tts`, `imagen`, `veo`).
fn media_component(media: &crate::media::MediaStatus) -> Component {
    let mut breakers = serde_json::Map::new();
    let mut degraded = Vec::new();
    for (route, guard) in media.external() {
        let (service, state) = (route.service, guard.state());
        let stats = guard.breaker().stats();
        if state != ytvc_media_clients::resilience::BreakerState::Closed {
            degraded.push(format!("{service} circuit {state}"));
        }
        breakers.insert(
            service.as_str().to_owned(),
            json!({ "provider": route.provider, "state": state.as_str(), "calls": stats.calls,
                "failures": stats.failures, "slow_calls": stats.slow_calls,
                "rejected": stats.rejected, "opened": stats.opened }),
        );
    }
    let services: serde_json::Map<String, serde_json::Value> = media
        .routes
        .iter()
        .map(|r| {
            (
                r.name.to_owned(),
                json!({ "provider": r.provider, "model": r.model }),
            )
        })
        .collect();
    Component {
        status: if degraded.is_empty() {
            "up"
        } else {
            "degraded"
        },
        error: (!degraded.is_empty()).then(|| degraded.join(", ")),
        info: Some(
            json!({ "provider": media.provider, "narrator": media.narrator, "services": services, "breakers": breakers }),
        ),
    }
}

/// The providers check run at start: `degraded` when a service failed it
/// (its catalog code and the provider's message in `error`, every row in
/// `info.rows`), never `down`: the check ran once, and a provider that was
/// briefly away must not keep the instance out of rotation. `up` with
/// `info.check` `off` when `YTVC_PROVIDERS_CHECK=off`.
fn providers_component(check: Option<&crate::providers::CheckReport>) -> Component {
    let Some(report) = check else {
        return Component {
            status: "up",
            error: None,
            info: Some(json!({ "check": "off" })),
        };
    };
    let failures = report.failures();
    Component {
        status: if failures.is_empty() {
            "up"
        } else {
            "degraded"
        },
        error: (!failures.is_empty()).then(|| failures.join("; ")),
        info: Some(json!({
            "check": "at_start",
            "checked_at": report.checked_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "elapsed_ms": report.elapsed_ms,
            "rows": report.rows,
        })),
    }
}

/// Readiness: every dependency and its state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` (this body is only sent with 200).
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Each component by name: `database`, `media` (every service's
    /// provider and model, the breakers of the external ones),
    /// `providers` (the providers check at start), `worker` and `redis`
    /// when they run here.
    pub components: BTreeMap<String, Component>,
}

/// Liveness probe.
#[utoipa::path(
    get, path = "/health", tag = "health",
    responses((status = 200, description = "The process is alive", body = ApiResponse<Health>)),
)]
#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(ApiResponse::new(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
    }))
}

/// Readiness probe: pings the database (and, when configured, the other
/// dependencies). Answers 503 with the state of each component when one is down.
#[utoipa::path(
    get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = ApiResponse<Readiness>),
        (status = 503, description = "A dependency is down; `details.components` says which",
         body = ytvc_error_codes::ErrorBody,
         example = json!({"error": {"code": "DB_001", "message": "Not ready: database down",
             "details": {"components": {"database": {"status": "down", "error": "database unavailable: connection refused"}}},
             "request_id": "5f0c..."}, "timestamp": "2026-01-28T14:00:00.000Z"})),
    ),
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut components = BTreeMap::new();
    let db = state.db.clone();
    let ping = web::block(move || db.ping()).await;
    let database = match ping {
        Ok(Ok(())) => {
            let (open, idle) = state.db.pool_state();
            Component {
                status: "up",
                error: None,
                info: Some(
                    json!({ "backend": state.db.backend().to_string(), "connections": open, "idle": idle }),
                ),
            }
        }
        // The probe is public: the cause goes to the log, not the answer.
        Ok(Err(e)) => {
            slog::warn!(state.log, "readiness: database down"; "cause" => e.to_string());
            Component {
                status: "down",
                error: Some("the database does not answer".into()),
                info: None,
            }
        }
        Err(e) => {
            slog::warn!(state.log, "readiness: database check failed"; "cause" => e.to_string());
            Component {
                status: "down",
                error: Some("the database check could not run".into()),
                info: None,
            }
        }
    };
    components.insert("database".to_owned(), database);
    if let Some(stats) = &state.worker_stats {
        let age_ms = crate::clock::liveness_millis()
            - stats
                .heartbeat_ms
                .load(std::sync::atomic::Ordering::Relaxed);
        let info = Some(json!({
            "last_heartbeat_ms_ago": age_ms,
            "runs": stats.runs.load(std::sync::atomic::Ordering::Relaxed),
            "completed": stats.completed.load(std::sync::atomic::Ordering::Relaxed),
            "failed": stats.failed.load(std::sync::atomic::Ordering::Relaxed),
        }));
        let component = if age_ms <= 30_000 {
            Component {
                status: "up",
                error: None,
                info,
            }
        } else {
            Component {
                status: "down",
                error: Some("no worker loop heartbeat in the last 30 s".into()),
                info,
            }
        };
        components.insert("worker".to_owned(), component);
    }
    if let Some(url) = &state.config.redis_url {
        components.insert(
            "redis".to_owned(),
            redis_component(url.expose(), &state.log).await,
        );
    }
    components.insert("media".to_owned(), media_component(&state.media));
    components.insert(
        "providers".to_owned(),
        providers_component(state.providers_check.as_ref()),
    );
    if components.values().any(|c| c.status == "down") {
        let down: Vec<_> = components
            .iter()
            .filter(|(_, c)| c.status == "down")
            .map(|(n, _)| n.clone())
            .collect();
        let code = if components
            .get("database")
            .is_some_and(|c| c.status == "down")
        {
            ErrorCode::DatabaseUnavailable
        } else {
            ErrorCode::ServiceUnavailable
        };
        return Err(ApiError::new(code)
            .message(format!("Not ready: {} down", down.join(", ")))
            .details(json!({ "components": components })));
    }
    Ok(HttpResponse::Ok().json(ApiResponse::new(Readiness {
        status: "ready",
        components,
    })))
}

/// Pings Redis with a short deadline (the readiness probe must answer fast).
async fn redis_component(url: &str, log: &slog::Logger) -> Component {
    let ping = async {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| e.to_string())?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(std::time::Duration::from_millis(500), ping).await {
        Ok(Ok(_)) => Component {
            status: "up",
            error: None,
            info: None,
        },
        Ok(Err(e)) => {
            slog::warn!(log, "readiness: Redis down"; "cause" => e);
            Component {
                status: "down",
                error: Some("Redis does not answer".into()),
                info: None,
            }
        }
        Err(_) => Component {
            status: "down",
            error: Some("timed out after 500 ms".into()),
            info: None,
        },
    }
}
