//! The media side of the server: the configured provider behind the
//! pipeline, the circuit breakers of its external services (read by
//! `/health/ready` and `/metrics`) and the video assembler.

use std::sync::Arc;

use anyhow::Context as _;
use ytvc_domain::media::{ArtifactStore, Service};
use ytvc_domain::pipeline::Pipeline;
use ytvc_media_clients::google::{
    GoogleConfig, GoogleProvider, Secret, ServiceAccountKey, VertexTarget,
};
use ytvc_media_clients::resilience::{
    Backoff, BreakerConfig, BreakerState, CircuitBreaker, Clock, MonotonicClock, ServiceGuard,
    ServiceGuards,
};
use ytvc_media_clients::{Flaky, LocalProvider};

use crate::clock::AppClock;
use crate::config::{Config, MediaProvider};

/// What the media side exposes to the HTTP layer.
#[derive(Debug, Clone)]
pub struct MediaStatus {
    /// `local`, `gemini` or `vertex`.
    pub provider: &'static str,
    /// The breakers of the external services (none for `local`).
    pub guards: Option<ServiceGuards>,
    /// The `local` provider's narrator (`flite` or `tones`), when it narrates.
    pub narrator: Option<&'static str>,
}

impl MediaStatus {
    /// Each service with its breaker state (empty for `local`).
    #[must_use]
    pub fn breaker_states(&self) -> Vec<(Service, BreakerState)> {
        self.guards
            .iter()
            .flat_map(|g| g.all())
            .map(|g| (g.service(), g.state()))
            .collect()
    }
}

/// The pipeline and what reports on it.
pub struct Media {
    /// The pipeline the worker runs.
    pub pipeline: Pipeline,
    /// Where the artifact sets are kept (the API reads downloads from it).
    pub artifacts: Arc<dyn ArtifactStore>,
    /// Provider name and breakers.
    pub status: MediaStatus,
}

impl MediaProvider {
    /// The name in configuration and manifests.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            MediaProvider::Local => "local",
            MediaProvider::Gemini => "gemini",
            MediaProvider::Vertex => "vertex",
        }
    }
}

/// One guard per service whose breaker logs every state change. Breakers
/// follow a manual `clock` (tests), else a monotonic one.
#[must_use]
pub fn guards(backoff: Backoff, log: &slog::Logger, clock: &AppClock) -> ServiceGuards {
    let clock: Arc<dyn Clock> = if clock.is_manual() {
        Arc::new(clock.clone())
    } else {
        Arc::new(MonotonicClock::default())
    };
    ServiceGuards::build(|service| {
        let log = log.clone();
        let breaker = CircuitBreaker::new(
            service,
            BreakerConfig::with_slow_call(ServiceGuards::slow_call(service)),
            clock.clone(),
        )
        .on_transition(Arc::new(move |service, from, to| {
            let message = "circuit breaker state change";
            let kv = slog::o!("service" => service.as_str(), "from" => from.as_str(), "to" => to.as_str());
            match to {
                BreakerState::Open => slog::warn!(log.new(kv), "{message}"),
                _ => slog::info!(log.new(kv), "{message}"),
            }
        }));
        ServiceGuard::new(breaker, backoff)
    })
}

/// The retry settings of media calls.
fn backoff(config: &Config) -> Backoff {
    Backoff {
        max_attempts: config.media.max_attempts,
        base: config.media.retry_base,
        ..Backoff::default()
    }
}

/// The Gemini or Vertex provider from the configuration.
fn google_provider(config: &Config, guards: ServiceGuards) -> anyhow::Result<GoogleProvider> {
    let media = &config.media;
    let mut google = GoogleConfig {
        backoff: backoff(config),
        veo_poll_interval: media.veo_poll,
        ..GoogleConfig::default()
    };
    if let Some(base) = &media.google_endpoint {
        google = google.with_base_url(base);
    }
    for (slot, value) in [
        (&mut google.llm_model, &media.llm_model),
        (&mut google.image_model, &media.image_model),
        (&mut google.veo_model, &media.veo_model),
    ] {
        if let Some(value) = value {
            slot.clone_from(value);
        }
    }
    let provider = if config.media_provider == MediaProvider::Gemini {
        let key = media
            .gemini_api_key
            .as_ref()
            .context("GEMINI_API_KEY is required by the gemini provider")?;
        GoogleProvider::gemini(google, Secret::new(key.expose().clone()), guards)?
    } else {
        let file = media
            .credentials_file
            .as_ref()
            .context("GOOGLE_APPLICATION_CREDENTIALS is required by the vertex provider")?;
        let key = ServiceAccountKey::from_file(file)
            .with_context(|| format!("GOOGLE_APPLICATION_CREDENTIALS={}", file.display()))?;
        let project = media
            .vertex_project
            .clone()
            .or_else(|| key.project_id.clone())
            .context("YTVC_VERTEX_PROJECT is required: the key file names no project_id")?;
        let target = VertexTarget {
            project,
            location: media.vertex_location.clone(),
        };
        GoogleProvider::vertex(google, target, key, guards)?
    };
    Ok(provider)
}

/// The media pipeline of the configured provider.
///
/// # Errors
/// A provider that cannot be built (missing credentials) or a bad fault
/// specification.
pub fn build(config: &Config, log: &slog::Logger, clock: &AppClock) -> anyhow::Result<Media> {
    let artifacts = crate::storage::artifact_store(config)?;
    let artifacts_dir = config.data_dir.join("artifacts");
    let local = LocalProvider::new(artifacts_dir.clone());
    let narrator =
        (config.media_provider == MediaProvider::Local).then(|| local.narrator().as_str());
    let provider = config.media_provider.as_str();
    let (pipeline, guards) = match config.media_provider {
        MediaProvider::Local => {
            let pipeline = match &config.media_faults {
                None => Pipeline::with_provider(Arc::new(local)),
                Some(spec) => {
                    let faults = Flaky::<()>::parse_faults(spec).map_err(anyhow::Error::msg)?;
                    Pipeline::with_provider(Arc::new(Flaky::new(local).with_faults(faults)))
                }
            };
            (pipeline, None)
        }
        MediaProvider::Gemini | MediaProvider::Vertex => {
            let guards = guards(backoff(config), log, clock);
            let google = Arc::new(google_provider(config, guards.clone())?);
            // Title cards and storage stay local: the last-resort visual
            // never depends on a remote service.
            let local = Arc::new(local);
            let pipeline =
                Pipeline::new(google.clone(), google.clone(), local.clone(), google, local);
            (pipeline, Some(guards))
        }
    };
    let pipeline = pipeline.with_store(crate::storage::pipeline_store(&artifacts, config)?);
    let pipeline = if config.media.assembly {
        pipeline.with_assembler(Arc::new(ytvc_assembly::Mp4Assembler::default()))
    } else {
        pipeline
    };
    Ok(Media {
        pipeline: pipeline.with_provider_name(provider),
        artifacts,
        status: MediaStatus {
            provider,
            guards,
            narrator,
        },
    })
}
