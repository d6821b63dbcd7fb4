//! `GET /metrics`: Prometheus text format (requests, latency, jobs, worker,
//! pool, degraded rate-limit decisions).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{HttpResponse, get, web};
use parking_lot::Mutex;
use ytvc_domain::jobs::JobState;

use crate::state::AppState;

/// (method, route, status).
type SeriesKey = (String, String, u16);

/// Request counters, shared by the middleware and `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Per series: count and total seconds.
    requests: Mutex<BTreeMap<SeriesKey, (u64, f64)>>,
    /// Rate-limit decisions taken without the shared store (degraded).
    pub rate_limit_degraded: AtomicU64,
}

impl Metrics {
    /// Counts one request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self.requests.lock();
        // Unmatched paths are folded into one series (no cardinality blow-up).
        let entry = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_insert((0, 0.0));
        entry.0 += 1;
        entry.1 += seconds;
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    let mut out = String::new();
    out.push_str("# HELP ytvc_http_requests_total HTTP requests by method, route and status.\n");
    out.push_str("# TYPE ytvc_http_requests_total counter\n");
    let snapshot = metrics.requests.lock().clone();
    for ((m, r, s), (n, _)) in &snapshot {
        let _ = writeln!(
            out,
            "ytvc_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{s}\"}} {n}",
            escape(m),
            escape(r)
        );
    }
    out.push_str(
        "# HELP ytvc_http_request_duration_seconds_sum Total time spent answering, by route.\n",
    );
    out.push_str("# TYPE ytvc_http_request_duration_seconds_sum counter\n");
    for ((m, r, s), (_, secs)) in &snapshot {
        let _ = writeln!(
            out,
            "ytvc_http_request_duration_seconds_sum{{method=\"{}\",route=\"{}\",status=\"{s}\"}} {secs:.6}",
            escape(m),
            escape(r)
        );
    }
    let (open, idle) = state.db.pool_state();
    out.push_str("# HELP ytvc_db_pool_connections Database pool connections.\n# TYPE ytvc_db_pool_connections gauge\n");
    let _ = writeln!(out, "ytvc_db_pool_connections{{state=\"open\"}} {open}");
    let _ = writeln!(out, "ytvc_db_pool_connections{{state=\"idle\"}} {idle}");
    out.push_str("# HELP ytvc_rate_limit_degraded_total Rate-limit decisions taken without the shared store.\n");
    out.push_str("# TYPE ytvc_rate_limit_degraded_total counter\n");
    let _ = writeln!(
        out,
        "ytvc_rate_limit_degraded_total {}",
        metrics.rate_limit_degraded.load(Ordering::Relaxed)
    );
    if let Some(stats) = &state.worker_stats {
        out.push_str(
            "# HELP ytvc_worker_runs_total Pipeline runs of this process's worker, by outcome.\n",
        );
        out.push_str("# TYPE ytvc_worker_runs_total counter\n");
        let _ = writeln!(
            out,
            "ytvc_worker_runs_total{{outcome=\"started\"}} {}",
            stats.runs.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "ytvc_worker_runs_total{{outcome=\"completed\"}} {}",
            stats.completed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "ytvc_worker_runs_total{{outcome=\"failed\"}} {}",
            stats.failed.load(Ordering::Relaxed)
        );
    }
    if state.media.external().next().is_some() {
        out.push_str("# HELP ytvc_media_breaker_state Circuit breaker per media service: 0 closed, 1 half-open, 2 open.\n# TYPE ytvc_media_breaker_state gauge\n");
        for (_, g) in state.media.external() {
            let _ = writeln!(
                out,
                "ytvc_media_breaker_state{{service=\"{}\"}} {}",
                g.service(),
                g.state().gauge()
            );
        }
        out.push_str("# HELP ytvc_media_calls_total Calls to media services by outcome (rejected: refused by an open breaker).\n# TYPE ytvc_media_calls_total counter\n");
        for (_, g) in state.media.external() {
            let s = g.breaker().stats();
            for (outcome, n) in [
                ("admitted", s.calls),
                ("failed", s.failures),
                ("slow", s.slow_calls),
                ("rejected", s.rejected),
            ] {
                let _ = writeln!(
                    out,
                    "ytvc_media_calls_total{{service=\"{}\",outcome=\"{outcome}\"}} {n}",
                    g.service()
                );
            }
        }
    }
    let queue = state.jobs.clone();
    if let Ok(Ok(counts)) = web::block(move || queue.counts()).await {
        out.push_str("# HELP ytvc_jobs Jobs by state.\n# TYPE ytvc_jobs gauge\n");
        for s in [
            JobState::Available,
            JobState::Running,
            JobState::Completed,
            JobState::Failed,
            JobState::Cancelled,
        ] {
            let _ = writeln!(out, "ytvc_jobs{{state=\"{s}\"}} {}", counts.get(s));
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out)
}
