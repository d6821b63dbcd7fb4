//! The media side of the server: each service routed to its configured
//! provider behind the pipeline, the circuit breakers of the external ones
//! (read by `/health/ready` and `/metrics`), what `providers check` probes,
//! and the video assembler.
//!
//! Each external provider (`gemini`, `vertex`, `openai`) is built once,
//! with its own [`ServiceGuards`], whatever number of services it serves;
//! a service calls through its provider's guard of that service, so each
//! service keeps its own breaker, retries and fallbacks. Title cards and
//! artifact storage always stay local: the last-resort visual never depends
//! on a remote service. A clip or still service that is off (`none`, or
//! clips on `openai`) answers [`MediaError::Disabled`], which the pipeline
//! skips without counting it as a failure.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use ytvc_domain::AspectRatio;
use ytvc_domain::media::{
    ArtifactStore, BoxFuture, MediaBlob, MediaError, Narrator, Scene, ScriptWriter, Service,
    VisualGenerator,
};
use ytvc_domain::pipeline::Pipeline;
use ytvc_media_clients::google::{
    GoogleConfig, GoogleProvider, Secret, ServiceAccountKey, VertexTarget,
};
use ytvc_media_clients::openai::{self, OpenAiConfig, OpenAiProvider};
use ytvc_media_clients::resilience::{
    Backoff, BreakerConfig, BreakerState, CircuitBreaker, Clock, MonotonicClock, ServiceGuard,
    ServiceGuards,
};
use ytvc_media_clients::{Flaky, LocalProvider};

use crate::clock::AppClock;
use crate::config::{Config, MediaProvider};

/// How `providers check` reaches a service.
#[derive(Debug, Clone)]
pub enum Probe {
    /// Nothing to call: `local` (offline) or `none` (off).
    Nothing,
    /// The Gemini API or Vertex AI.
    Google(Arc<GoogleProvider>),
    /// An OpenAI-compatible server.
    OpenAi(Arc<OpenAiProvider>),
}

/// One media service and where it goes.
#[derive(Debug, Clone)]
pub struct ServiceRoute {
    /// Its configuration name: `llm`, `tts`, `image` or `clip`
    /// (`YTVC_{LLM,TTS,IMAGE,CLIP}_PROVIDER`).
    pub name: &'static str,
    /// The domain's service (breakers, error codes): `llm`, `tts`,
    /// `imagen`, `veo`.
    pub service: Service,
    /// `local`, `gemini`, `vertex`, `openai` or `none`.
    pub provider: &'static str,
    /// The model it asks for (`None` for `local` and `none`).
    pub model: Option<String>,
    /// Its breaker and retries (external services only).
    pub guard: Option<Arc<ServiceGuard>>,
    /// How `providers check` reaches it.
    pub probe: Probe,
}

/// What the media side exposes to the HTTP layer and to `providers check`.
#[derive(Debug, Clone)]
pub struct MediaStatus {
    /// The provider of every service when they agree (`local`, `gemini`,
    /// `vertex`, `openai`), else `mixed`; services that are off do not
    /// count.
    pub provider: &'static str,
    /// Every service, in the order `llm`, `tts`, `image`, `clip`.
    pub routes: Vec<ServiceRoute>,
    /// The `local` provider's narrator (`flite` or `tones`), when it narrates.
    pub narrator: Option<&'static str>,
}

impl MediaStatus {
    /// Each external service with its breaker state (empty when every
    /// service is local or off).
    #[must_use]
    pub fn breaker_states(&self) -> Vec<(Service, BreakerState)> {
        self.external()
            .map(|(route, guard)| (route.service, guard.state()))
            .collect()
    }

    /// The external services and their guards.
    pub fn external(&self) -> impl Iterator<Item = (&ServiceRoute, &Arc<ServiceGuard>)> {
        self.routes
            .iter()
            .filter_map(|route| route.guard.as_ref().map(|guard| (route, guard)))
    }

    /// Each service's provider by configuration name (the manifest's
    /// `providers`).
    #[must_use]
    pub fn providers(&self) -> BTreeMap<String, String> {
        self.routes
            .iter()
            .map(|r| (r.name.to_owned(), r.provider.to_owned()))
            .collect()
    }
}

/// The pipeline and what reports on it.
pub struct Media {
    /// The pipeline the worker runs.
    pub pipeline: Pipeline,
    /// Where the artifact sets are kept (the API reads downloads from it).
    pub artifacts: Arc<dyn ArtifactStore>,
    /// Providers, routes and breakers.
    pub status: MediaStatus,
}

/// One guard per service whose breaker logs every state change (with
/// `media_service` and `provider`: `service` is the logger's own key, the
/// process). Breakers follow a manual `clock` (tests), else a monotonic
/// one.
#[must_use]
pub fn guards(
    provider: &'static str,
    backoff: Backoff,
    log: &slog::Logger,
    clock: &AppClock,
) -> ServiceGuards {
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
            let kv = slog::o!("media_service" => service.as_str(), "provider" => provider,
                "from" => from.as_str(), "to" => to.as_str());
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

/// The Gemini (`flavor` = `Gemini`) or Vertex provider from the
/// configuration.
fn google_provider(
    config: &Config,
    flavor: MediaProvider,
    guards: ServiceGuards,
) -> anyhow::Result<GoogleProvider> {
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
    let provider = if flavor == MediaProvider::Gemini {
        let key = media
            .gemini_api_key
            .as_ref()
            .context("GEMINI_API_KEY is required by the gemini provider")?;
        GoogleProvider::gemini(google, Secret::new(key.expose().clone()), guards)
            .context("the gemini provider")?
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
        GoogleProvider::vertex(google, target, key, guards).context("the vertex provider")?
    };
    Ok(provider)
}

/// The OpenAI-compatible provider from the configuration. The key goes to
/// the services on the shared base URL's server (the adapter's rule) and
/// to those on OpenAI's own API, whose key it is by its name; never to
/// another server.
fn openai_provider(config: &Config, guards: ServiceGuards) -> anyhow::Result<OpenAiProvider> {
    let settings = &config.media.openai;
    let mut openai = OpenAiConfig {
        backoff: backoff(config),
        tts_voice: settings.tts_voice.clone(),
        ..OpenAiConfig::default()
    };
    if let Some(base) = &settings.base_url {
        openai.base_url.clone_from(base);
    }
    let key = settings
        .api_key
        .as_ref()
        .map(|k| openai::Secret::new(k.expose().clone()));
    openai.api_key.clone_from(&key);
    for (name, service, base, model) in [
        (
            "llm",
            &mut openai.llm,
            &settings.llm_base_url,
            &settings.llm_model,
        ),
        (
            "tts",
            &mut openai.tts,
            &settings.tts_base_url,
            &settings.tts_model,
        ),
        (
            "image",
            &mut openai.image,
            &settings.image_base_url,
            &settings.image_model,
        ),
    ] {
        service.base_url.clone_from(base);
        if let Some(model) = model {
            service.model.clone_from(model);
        }
        if openai::is_openai_host(&settings.base_url_of(name)) {
            service.api_key.clone_from(&key);
        }
    }
    OpenAiProvider::new(openai, guards).context("the openai provider")
}

/// The local provider, with the injected faults when configured. It serves
/// every service on `local`, the title cards and the artifact storage.
type Local = Flaky<LocalProvider>;

/// The external providers, each built once on first use.
struct Providers<'a> {
    config: &'a Config,
    log: &'a slog::Logger,
    clock: &'a AppClock,
    local: Arc<Local>,
    gemini: Option<Arc<GoogleProvider>>,
    vertex: Option<Arc<GoogleProvider>>,
    openai: Option<Arc<OpenAiProvider>>,
}

/// One provider, as each port.
#[derive(Clone)]
enum Built {
    Local(Arc<Local>),
    Google(Arc<GoogleProvider>),
    OpenAi(Arc<OpenAiProvider>),
}

impl Providers<'_> {
    fn get(&mut self, provider: MediaProvider) -> anyhow::Result<Built> {
        let new_guards = |name| guards(name, backoff(self.config), self.log, self.clock);
        Ok(match provider {
            MediaProvider::Local => Built::Local(self.local.clone()),
            MediaProvider::Gemini | MediaProvider::Vertex => {
                let slot = if provider == MediaProvider::Gemini {
                    &mut self.gemini
                } else {
                    &mut self.vertex
                };
                if slot.is_none() {
                    let built =
                        google_provider(self.config, provider, new_guards(provider.as_str()))?;
                    *slot = Some(Arc::new(built));
                }
                Built::Google(slot.clone().context("built above")?)
            }
            MediaProvider::OpenAi => {
                if self.openai.is_none() {
                    let built = openai_provider(self.config, new_guards("openai"))?;
                    self.openai = Some(Arc::new(built));
                }
                Built::OpenAi(self.openai.clone().context("built above")?)
            }
        })
    }
}

impl Built {
    fn script(&self) -> Arc<dyn ScriptWriter> {
        match self {
            Built::Local(p) => p.clone(),
            Built::Google(p) => p.clone(),
            Built::OpenAi(p) => p.clone(),
        }
    }

    fn narrator(&self) -> Arc<dyn Narrator> {
        match self {
            Built::Local(p) => p.clone(),
            Built::Google(p) => p.clone(),
            Built::OpenAi(p) => p.clone(),
        }
    }

    fn visuals(&self) -> Arc<dyn VisualGenerator> {
        match self {
            Built::Local(p) => p.clone(),
            Built::Google(p) => p.clone(),
            Built::OpenAi(p) => p.clone(),
        }
    }

    /// `service`'s route on this provider.
    fn route(&self, name: &'static str, service: Service, provider: MediaProvider) -> ServiceRoute {
        let (model, guard, probe) = match self {
            Built::Local(_) => (None, None, Probe::Nothing),
            Built::Google(p) => (
                Some(p.model_of(service).to_owned()),
                Some(p.guards().get(service).clone()),
                Probe::Google(p.clone()),
            ),
            Built::OpenAi(p) => (
                p.config().service(service).map(|s| s.model.clone()),
                Some(p.guards().get(service).clone()),
                Probe::OpenAi(p.clone()),
            ),
        };
        ServiceRoute {
            name,
            service,
            provider: provider.as_str(),
            model,
            guard,
            probe,
        }
    }
}

/// A service that is off.
fn off(name: &'static str, service: Service) -> ServiceRoute {
    ServiceRoute {
        name,
        service,
        provider: "none",
        model: None,
        guard: None,
        probe: Probe::Nothing,
    }
}

/// Clips from one generator, stills from another; either may be off.
struct Visuals {
    clip: Option<Arc<dyn VisualGenerator>>,
    still: Option<Arc<dyn VisualGenerator>>,
}

impl VisualGenerator for Visuals {
    fn clip<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        match &self.clip {
            Some(generator) => generator.clip(scene, aspect),
            None => Box::pin(async {
                Err(MediaError::Disabled {
                    service: Service::Veo,
                })
            }),
        }
    }

    fn still<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        match &self.still {
            Some(generator) => generator.still(scene, aspect),
            None => Box::pin(async {
                Err(MediaError::Disabled {
                    service: Service::Imagen,
                })
            }),
        }
    }
}

/// The media pipeline of the configured providers.
///
/// # Errors
/// A provider that cannot be built (missing or unusable credentials) or a
/// bad fault specification.
pub fn build(config: &Config, log: &slog::Logger, clock: &AppClock) -> anyhow::Result<Media> {
    let artifacts = crate::storage::artifact_store(config)?;
    let artifacts_dir = config.data_dir.join("artifacts");
    let local_provider = LocalProvider::new(artifacts_dir.clone());
    let local_narrator = local_provider.narrator().as_str();
    let mut local = Flaky::new(local_provider);
    if let Some(spec) = &config.media_faults {
        let faults = Flaky::<()>::parse_faults(spec).map_err(anyhow::Error::msg)?;
        local = local.with_faults(faults);
    }
    let local = Arc::new(local);
    let mut providers = Providers {
        config,
        log,
        clock,
        local: local.clone(),
        gemini: None,
        vertex: None,
        openai: None,
    };
    let routing = config.routing();
    let llm = providers.get(routing.llm)?;
    let tts = providers.get(routing.tts)?;
    let image = routing
        .image
        .map(|p| providers.get(p).map(|built| (p, built)))
        .transpose()?;
    let clip = routing
        .clip
        .map(|p| providers.get(p).map(|built| (p, built)))
        .transpose()?;
    let routes = vec![
        llm.route("llm", Service::Llm, routing.llm),
        tts.route("tts", Service::Tts, routing.tts),
        image.as_ref().map_or_else(
            || off("image", Service::Imagen),
            |(p, built)| built.route("image", Service::Imagen, *p),
        ),
        clip.as_ref().map_or_else(
            || off("clip", Service::Veo),
            |(p, built)| built.route("clip", Service::Veo, *p),
        ),
    ];
    // llm and tts are never off: there is a first one.
    let first = routes[0].provider;
    let provider = if routes
        .iter()
        .all(|r| r.provider == first || r.provider == "none")
    {
        first
    } else {
        "mixed"
    };
    let visuals = Visuals {
        clip: clip.map(|(_, built)| built.visuals()),
        still: image.map(|(_, built)| built.visuals()),
    };
    let narrator = (routing.tts == MediaProvider::Local).then_some(local_narrator);
    let status = MediaStatus {
        provider,
        routes,
        narrator,
    };
    let pipeline = Pipeline::new(
        llm.script(),
        Arc::new(visuals),
        local.clone(),
        tts.narrator(),
        local,
    )
    .with_store(crate::storage::pipeline_store(&artifacts, config)?);
    let pipeline = if config.media.assembly {
        pipeline.with_assembler(Arc::new(ytvc_assembly::Mp4Assembler::default()))
    } else {
        pipeline
    };
    Ok(Media {
        pipeline: pipeline
            .with_provider_name(provider)
            .with_service_providers(status.providers()),
        artifacts,
        status,
    })
}
