//! `ytvc-server providers check`: one minimal call per external media
//! service, through the same adapters, guards and credentials as the
//! pipeline, so a retired or unknown model (or a refused key) is named
//! before the first video fails.
//!
//! | provider | `llm` | `tts` | `image` | `clip` |
//! |---|---|---|---|---|
//! | `openai` | model lookup (`GET models/{model}`, else the list) | model lookup | model lookup | (off: `openai` makes no clips) |
//! | `gemini` / `vertex` | a one-word storyboard | a 1 s narration | one still | Veo model lookup (never a billed clip) |
//! | `local`, `none` | `ok`, no call | | | |
//!
//! Every row runs at once, each bounded by [`CALL_DEADLINE`]. The table
//! ([`CheckReport::table`]) has one row per service: service, provider,
//! model, and `ok` or `CODE: message` (the catalog code a video would fail
//! or fall back with, and the provider's own message). `serve` and
//! `worker` run the same check at start when `YTVC_PROVIDERS_CHECK=on`
//! (the default in production), log it, and `/health/ready` shows it.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde::Serialize;
use ytvc_domain::media::{MediaError, Narrator, ScriptWriter, Service, VisualGenerator};
use ytvc_domain::{AspectRatio, Language, RawVideoRequest, VideoSpec, Voice};
use ytvc_media_clients::google::GoogleProvider;
use ytvc_media_clients::openai::ModelLookup;

use crate::media::{MediaStatus, Probe, ServiceRoute};

/// The longest one service's check may take (retries included).
pub const CALL_DEADLINE: Duration = Duration::from_secs(30);

/// One service's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    /// `llm`, `tts`, `image` or `clip`.
    pub service: &'static str,
    /// `local`, `gemini`, `vertex`, `openai` or `none`.
    pub provider: &'static str,
    /// The model checked (`None` for `local` and `none`).
    pub model: Option<String>,
    /// Whether the service answered as it should.
    pub ok: bool,
    /// The catalog code of the failure (`LLM_002`, `MEDIA_003`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// What was checked (`ok`, `ok (listed by the server)`...), or the
    /// provider's own message (never a secret: adapters keep keys out of
    /// their errors).
    pub message: String,
}

impl CheckRow {
    /// The table's result column: `ok…` or `CODE: message`.
    #[must_use]
    pub fn result(&self) -> String {
        match self.code {
            Some(code) => format!("{code}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// When it ran.
    pub checked_at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub elapsed_ms: u64,
    /// One row per service, in the order `llm`, `tts`, `image`, `clip`.
    pub rows: Vec<CheckRow>,
}

impl CheckReport {
    /// Whether every service passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|r| r.ok)
    }

    /// The failed rows, one line each: `service (provider, model): CODE:
    /// message`.
    #[must_use]
    pub fn failures(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| !r.ok)
            .map(|r| {
                format!(
                    "{} ({}, {}): {}",
                    r.service,
                    r.provider,
                    r.model.as_deref().unwrap_or("-"),
                    r.result()
                )
            })
            .collect()
    }

    /// The table: a header, then one aligned row per service.
    #[must_use]
    pub fn table(&self) -> String {
        let mut lines = vec![[
            "service".to_owned(),
            "provider".to_owned(),
            "model".to_owned(),
            "result".to_owned(),
        ]];
        for r in &self.rows {
            lines.push([
                r.service.to_owned(),
                r.provider.to_owned(),
                r.model.clone().unwrap_or_else(|| "-".to_owned()),
                r.result(),
            ]);
        }
        let width = |column: usize| {
            lines
                .iter()
                .map(|l| l[column].chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths = [width(0), width(1), width(2)];
        let mut out = String::new();
        for [service, provider, model, result] in &lines {
            out.push_str(&format!(
                "{service:<w0$}  {provider:<w1$}  {model:<w2$}  {result}\n",
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
            ));
        }
        out
    }
}

/// Runs the check on every service of `media` (see the [module
/// docs](self)).
pub async fn run(media: &MediaStatus) -> CheckReport {
    let checked_at = Utc::now();
    let started = Instant::now();
    let rows = join_all(media.routes.iter().map(check_route)).await;
    CheckReport {
        checked_at,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        rows,
    }
}

/// Runs the check and logs it: one line per row, then a summary (a warning
/// naming every failure when one failed).
pub async fn run_logged(media: &MediaStatus, log: &slog::Logger) -> CheckReport {
    let report = run(media).await;
    for r in &report.rows {
        // `service` is the logger's own key (the process): `media_service`.
        let kv = slog::o!("media_service" => r.service, "provider" => r.provider,
            "model" => r.model.clone().unwrap_or_default(), "result" => r.result());
        if r.ok {
            slog::info!(log.new(kv), "providers check");
        } else {
            slog::warn!(log.new(kv), "providers check");
        }
    }
    if report.passed() {
        slog::info!(log, "providers check passed"; "elapsed_ms" => report.elapsed_ms);
    } else {
        slog::warn!(log, "providers check failed: videos will fail or fall back until this is fixed";
            "failures" => report.failures().join("; "), "elapsed_ms" => report.elapsed_ms);
    }
    report
}

async fn check_route(route: &ServiceRoute) -> CheckRow {
    let outcome = match tokio::time::timeout(CALL_DEADLINE, probe(route)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(MediaError::Unavailable {
            service: route.service,
            reason: format!("no answer within {} s", CALL_DEADLINE.as_secs()),
        }),
    };
    let (ok, code, message) = match outcome {
        Ok(note) => (true, None, note),
        Err(e) => (false, Some(e.code().as_str()), e.to_string()),
    };
    CheckRow {
        service: route.name,
        provider: route.provider,
        model: route.model.clone(),
        ok,
        code,
        message,
    }
}

/// One minimal call; what it showed.
async fn probe(route: &ServiceRoute) -> Result<String, MediaError> {
    match &route.probe {
        Probe::Nothing if route.provider == "none" => Ok("ok (off)".into()),
        Probe::Nothing => Ok("ok (offline, no call)".into()),
        Probe::OpenAi(p) => Ok(match p.check_model(route.service).await?.lookup {
            ModelLookup::Retrieved => "ok".into(),
            ModelLookup::Listed => "ok (listed by the server)".into(),
            ModelLookup::Unverifiable => {
                "ok (server reached; it has no model routes to look the model up)".into()
            }
        }),
        Probe::Google(p) => google(p, route.service).await,
    }
}

/// A one-word storyboard, a 1 s narration, one still, or a Veo lookup.
async fn google(p: &GoogleProvider, service: Service) -> Result<String, MediaError> {
    let scene = ytvc_domain::media::Scene {
        index: 1,
        narration: "Hello.".into(),
        visual_prompt: "A small white lighthouse on a plain blue background".into(),
        duration_seconds: 1,
    };
    match service {
        Service::Llm => {
            let spec = VideoSpec::parse(RawVideoRequest {
                prompt: Some("Lighthouse".into()),
                duration_seconds: Some(5),
                voice: Some("none".into()),
                ..RawVideoRequest::default()
            })
            .map_err(|e| MediaError::GenerationFailed(format!("the check's request: {e}")))?;
            p.write_script(&spec).await?;
            Ok("ok (a one-word storyboard)".into())
        }
        Service::Tts => {
            let language = Language::parse("en")
                .map_err(|e| MediaError::GenerationFailed(format!("the check's language: {e}")))?;
            p.narrate(&scene, Voice::NarratorFemale, &language).await?;
            Ok("ok (a 1 s narration)".into())
        }
        Service::Imagen => {
            p.still(&scene, AspectRatio::Square).await?;
            Ok("ok (one still)".into())
        }
        Service::Veo => {
            p.check_model(Service::Veo).await?;
            Ok("ok (model found)".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(service: &'static str, provider: &'static str, error: Option<MediaError>) -> CheckRow {
        let (ok, code, message) = match error {
            None => (true, None, "ok".to_owned()),
            Some(e) => (false, Some(e.code().as_str()), e.to_string()),
        };
        CheckRow {
            service,
            provider,
            model: (provider != "none").then(|| "gpt-4o-mini".to_owned()),
            ok,
            code,
            message,
        }
    }

    #[test]
    fn the_documented_deadline_is_the_deadline() {
        let setting = crate::config::SETTINGS
            .iter()
            .find(|s| s.var == "YTVC_PROVIDERS_CHECK")
            .unwrap();
        let text = format!("at most {} s", CALL_DEADLINE.as_secs());
        assert!(setting.meaning.contains(&text), "{}", setting.meaning);
    }

    #[test]
    fn the_table_is_aligned_and_names_the_failure() {
        let report = CheckReport {
            checked_at: Utc::now(),
            elapsed_ms: 3,
            rows: vec![
                row("llm", "openai", None),
                row(
                    "tts",
                    "openai",
                    Some(MediaError::Rejected {
                        service: Service::Tts,
                        reason: "model \"kokoro-x\" not found: no such model".into(),
                    }),
                ),
                row("clip", "none", None),
            ],
        };
        assert!(!report.passed());
        let table = report.table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[0].starts_with("service  provider  model"), "{table}");
        assert!(
            lines[1].starts_with("llm      openai    gpt-4o-mini  ok"),
            "{table}"
        );
        assert!(
            lines[2].ends_with(
                "MEDIA_003: tts rejected the request: model \"kokoro-x\" not found: no such model"
            ),
            "{table}"
        );
        assert!(lines[3].starts_with("clip     none      -"), "{table}");
        assert_eq!(
            report.failures(),
            [
                "tts (openai, gpt-4o-mini): MEDIA_003: tts rejected the request: model \"kokoro-x\" not found: no such model"
            ]
        );
    }
}
