//! The media side of the server: the configured provider behind the
//! pipeline, the circuit breakers of its external services (read by
//! `/health/ready` and `/metrics`) and the video assembler.

use std::sync::Arc;

use ytvc_domain::media::Service;
use ytvc_domain::pipeline::Pipeline;
use ytvc_media_clients::resilience::{
    Backoff, BreakerConfig, BreakerState, CircuitBreaker, Clock, MonotonicClock, ServiceGuard,
    ServiceGuards,
};
use ytvc_media_clients::{Flaky, LocalProvider};

use crate::config::{Config, MediaProvider};

/// What the media side exposes to the HTTP layer.
#[derive(Debug, Clone)]
pub struct MediaStatus {
    /// `local`, `gemini` or `vertex`.
    pub provider: &'static str,
    /// The breakers of the external services (none for `local`).
    pub guards: Option<ServiceGuards>,
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
#[derive(Debug)]
pub struct Media {
    /// The pipeline the worker runs.
    pub pipeline: Pipeline,
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

/// One guard per service whose breaker logs every state change.
#[must_use]
pub fn guards(backoff: Backoff, log: &slog::Logger) -> ServiceGuards {
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::default());
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

/// The media pipeline of the configured provider.
///
/// # Errors
/// A provider that cannot be built (missing credentials) or a bad fault
/// specification.
pub fn build(config: &Config, log: &slog::Logger) -> anyhow::Result<Media> {
    let local = LocalProvider::new(config.data_dir.join("artifacts"));
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
        other => anyhow::bail!(
            "YTVC_MEDIA_PROVIDER={}: this build ships only the offline `local` provider; the Google adapters are not implemented yet",
            other.as_str()
        ),
    };
    let _ = log;
    Ok(Media {
        pipeline: pipeline.with_provider_name(provider),
        status: MediaStatus { provider, guards },
    })
}
