//! The OpenAI-compatible adapters: [`OpenAiProvider`] implements
//! [`ScriptWriter`], [`VisualGenerator`] and [`Narrator`] on any server that
//! speaks OpenAI's API: OpenAI itself, Ollama or vLLM (storyboards),
//! Kokoro-FastAPI or openedai-speech (narration), LocalAI (stills). Each
//! service has its own base URL, model, timeouts and key
//! ([`OpenAiConfig`]), so they can be on different servers.
//!
//! | port | call | answer |
//! |---|---|---|
//! | [`ScriptWriter`] | `POST {llm}/chat/completions`, `response_format` `json_schema` (strict), else `json_object` | `choices[0].message.content` |
//! | [`VisualGenerator::still`] | `POST {image}/images/generations`, `n: 1`, `size` per frame shape, `response_format: "b64_json"` (not for `gpt-image-*`, which always answer base64) | `data[0].b64_json` (PNG or JPEG) |
//! | [`VisualGenerator::clip`] | none: no clips | `Rejected` (`MEDIA_001`, no request): the pipeline falls back to a still |
//! | [`Narrator`] | `POST {tts}/audio/speech`, `response_format: "wav"` | the WAV itself (16-bit PCM; streamed placeholder sizes repaired) |
//! | [`OpenAiProvider::check_model`] | `GET {base}/models/{model}`, else `GET {base}/models` | found, or `Rejected` naming the model |
//!
//! A key ([`Secret`]: `Debug` prints `***`) goes as `Authorization: Bearer`
//! only to the servers it was configured for; without one (Ollama,
//! Kokoro-FastAPI) no `Authorization` header is sent. Keys never reach
//! error reasons (a server that echoes one gets it replaced by `***`), and
//! redirects are not followed.
//!
//! # The prompt is data
//!
//! The storyboard request is built with
//! [`script_request`](ytvc_domain::media::script_request): the system
//! message holds the fixed instructions, the user message only the
//! delimited prompt. A server that answers a `json_schema` request with a
//! 400 / 422 (or, like older llama.cpp servers, a 500) naming
//! `response_format` or `json_schema` is asked once more with
//! `json_object`, and remembered: later storyboards start there. An answer
//! that does not parse as a storyboard gets one repair request (the bad
//! answer as the assistant message, then a fixed user message asking for
//! valid JSON; the prompt stays in the first user message, delimited), then
//! `BadResponse` (`LLM_003`). A `<think>…</think>` block or a Markdown
//! fence around the JSON is tolerated.
//!
//! # How answers are classified
//!
//! Every call goes through the service's
//! [`ServiceGuard`](crate::resilience::ServiceGuard) (circuit breaker,
//! bounded full-jitter retries). Each attempt's outcome is a
//! [`Failure`](crate::resilience::Failure); error bodies are read in any of
//! the shapes these servers use (`{"error": {"message", "type", "param",
//! "code"}}`, `{"error": "…"}`, FastAPI's `{"detail": …}`):
//!
//! | answer | error | retried | breaker |
//! |---|---|---|---|
//! | connect or total timeout, 408, 504 | `Timeout` | yes | failure |
//! | connection error, 409, 5xx | `Unavailable` | yes, honouring `retry-after-ms` / `Retry-After` | failure |
//! | 429 rate limit | `Unavailable` | yes, after `retry-after-ms` / `Retry-After`, else the `x-ratelimit-reset-requests` / `-tokens` of the exhausted limit (`1s`, `6m0s`, `20ms`), else the message's "try again in 644ms"; a wait longer than `Backoff::max_retry_after` ends the retries at once | failure |
//! | 429 whose `code` / `type` is `insufficient_quota` (or "exceeded your current quota") | `QuotaExhausted` (`LLM_002` / `MEDIA_004`; the job is not retried either) | never | not counted |
//! | 4xx that is a safety block (`content_filter`, `content_policy_violation`, `moderation_blocked`, "safety system") | `Refused` | never | not counted |
//! | 401, 403, 404 (`model_not_found`), any other 4xx | `Rejected` with the server's message (`LLM_002` / `MEDIA_00x`; the job is not retried either) | never | not counted |
//! | a redirect (3xx: not followed, it could carry the key elsewhere) | `Rejected` naming the target | never | not counted |
//! | 2xx that is not JSON / not a WAV, or lacks the expected fields | `BadResponse` (`LLM_003` after the repair / `VIDEO_001`) | never | not counted |
//! | LLM: `message.refusal`, `finish_reason: "content_filter"`, or `{"refused": true}` | `Refused` (`LLM_004`) | never | not counted |
//!
//! Known differences of the servers this was written against:
//!
//! - **Ollama** takes `json_schema` (as its `format`) and `json_object`;
//!   its errors are `{"error": {"message", "type"}}` with a `null` code
//!   (`model "x" not found, try pulling it first`, 404); it lists
//!   `name:latest` for `name`. A server that rejects `json_schema`
//!   (llama.cpp before schemas, several hosted APIs) gets `json_object`.
//! - **Kokoro-FastAPI** needs no key, streams the WAV by default with
//!   `0xFFFFFFFF` sizes (as OpenAI does), names its errors in FastAPI's
//!   `{"detail": {"error", "message", "type"}}`, maps OpenAI voice names to
//!   its own (or set [`OpenAiConfig::tts_voice`], e.g. `af_bella`) and
//!   answers `GET /models/{model}` for its own models only.
//! - **LocalAI** answers `b64_json` only when asked, and any `WxH` size.

mod check;
mod config;
mod http;
mod image;
mod llm;
mod tts;

pub use crate::google::{CallTimeouts, Secret};
pub use check::{ModelCheck, ModelLookup};
pub use config::{ImageSizes, OPENAI_BASE_URL, OpenAiConfig, ServiceConfig};

use std::sync::atomic::AtomicBool;

use reqwest::Url;
use ytvc_domain::media::{
    BoxFuture, MediaBlob, MediaError, Narrator, Scene, ScriptWriter, Service, Storyboard,
    VisualGenerator,
};
use ytvc_domain::{AspectRatio, Language, VideoSpec, Voice};

use crate::resilience::ServiceGuards;
use http::Http;

/// Why an [`OpenAiProvider`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenAiSetupError {
    /// A configuration value is invalid (the reason never quotes a key).
    #[error("openai config: {0}")]
    Config(String),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Http(String),
}

/// One HTTP client (timeouts, key) per service.
#[derive(Debug)]
struct Clients {
    llm: Http,
    tts: Http,
    image: Http,
}

impl Clients {
    /// The client of `service` (Veo has none: the LLM's is never used for
    /// it, callers check first).
    fn of(&self, service: Service) -> &Http {
        match service {
            Service::Tts => &self.tts,
            Service::Imagen => &self.image,
            Service::Llm | Service::Veo => &self.llm,
        }
    }
}

/// The base URL of each service, checked, without a trailing `/`.
#[derive(Debug)]
struct Bases {
    llm: String,
    tts: String,
    image: String,
}

/// The OpenAI-compatible adapters: storyboard, stills and narration. See
/// the [module docs](self).
#[derive(Debug)]
pub struct OpenAiProvider {
    config: OpenAiConfig,
    guards: ServiceGuards,
    clients: Clients,
    bases: Bases,
    /// The LLM server refused `json_schema` once: use `json_object`.
    json_schema_unsupported: AtomicBool,
    /// The image server refused `response_format` once: leave it out.
    response_format_refused: AtomicBool,
}

impl OpenAiProvider {
    /// The provider of `config`, calling through `guards`.
    ///
    /// # Errors
    ///
    /// [`OpenAiSetupError`] when a base URL is not plain `http(s)://`
    /// (credentials, a query or a fragment in it are refused), a model,
    /// voice or size is empty or malformed, a key is not a valid header
    /// value, or an HTTP client cannot be built. A blank key counts as no
    /// key.
    pub fn new(config: OpenAiConfig, guards: ServiceGuards) -> Result<Self, OpenAiSetupError> {
        let shared = base_url("base_url", &config.base_url)?;
        let shared_key = usable_key("api_key", config.api_key.as_ref())?;
        let service = |name: &str, service: Service, sc: &ServiceConfig| {
            check_model_name(&format!("{name}.model"), &sc.model)?;
            let base = match &sc.base_url {
                Some(own) => base_url(&format!("{name}.base_url"), own)?,
                None => shared.clone(),
            };
            let key = match usable_key(&format!("{name}.api_key"), sc.api_key.as_ref())? {
                Some(own) => Some(own),
                None if same_origin(&base, &shared) => shared_key.clone(),
                None => None,
            };
            let http = Http::new(service, sc.timeouts, key)
                .map_err(|e| OpenAiSetupError::Http(e.to_string()))?;
            Ok::<_, OpenAiSetupError>((base, http))
        };
        let (llm_base, llm) = service("llm", Service::Llm, &config.llm)?;
        let (tts_base, tts) = service("tts", Service::Tts, &config.tts)?;
        let (image_base, image) = service("image", Service::Imagen, &config.image)?;
        if let Some(voice) = &config.tts_voice {
            check_model_name("tts_voice", voice)?;
        }
        for size in [
            &config.image_sizes.landscape,
            &config.image_sizes.portrait,
            &config.image_sizes.square,
        ] {
            check_size(size)?;
        }
        Ok(Self {
            config,
            guards,
            clients: Clients { llm, tts, image },
            bases: Bases {
                llm: llm_base,
                tts: tts_base,
                image: image_base,
            },
            json_schema_unsupported: AtomicBool::new(false),
            response_format_refused: AtomicBool::new(false),
        })
    }

    /// `"openai"` (for logs, manifests and `/health`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        "openai"
    }

    /// The configuration in use.
    #[must_use]
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// The guards the provider calls through.
    #[must_use]
    pub fn guards(&self) -> &ServiceGuards {
        &self.guards
    }

    /// Whether `service`'s requests carry a key (it is configured for the
    /// service's server).
    #[must_use]
    pub fn sends_key(&self, service: Service) -> bool {
        self.config.service(service).is_some() && self.clients.of(service).has_key()
    }

    /// Checks that `service`'s model exists on its server, with a lookup
    /// rather than a billed generation (see [`ModelLookup`]), through the
    /// service's guard. For `ytvc-server providers check`.
    ///
    /// # Errors
    ///
    /// `Rejected` whose reason names the model (and quotes the server) when
    /// the server does not know it, or when the key is refused; the
    /// service's `Timeout` / `Unavailable` / `CircuitOpen` when the server
    /// cannot be reached; the `Rejected` of [`VisualGenerator::clip`] for
    /// [`Service::Veo`].
    pub async fn check_model(&self, service: Service) -> Result<ModelCheck, MediaError> {
        check::check_model(self, service).await
    }

    /// `{base of service}/{path}`.
    fn url(&self, service: Service, path: &str) -> String {
        let base = match service {
            Service::Tts => &self.bases.tts,
            Service::Imagen => &self.bases.image,
            Service::Llm | Service::Veo => &self.bases.llm,
        };
        format!("{base}/{path}")
    }
}

/// The answer of [`VisualGenerator::clip`]: no clips here. `Rejected` is
/// final for the call and the job, and is a `MEDIA_001`, so the pipeline
/// falls back to a still.
fn no_clips() -> MediaError {
    MediaError::Rejected {
        service: Service::Veo,
        reason: "the openai provider makes no video clips".into(),
    }
}

/// A base URL without its trailing `/`: `http(s)://host[:port][/path]`,
/// nothing else.
fn base_url(what: &str, url: &str) -> Result<String, OpenAiSetupError> {
    check_base_url(url).map_err(|why| OpenAiSetupError::Config(format!("{what}: {why}")))
}

/// Checks a base URL as [`OpenAiProvider::new`] does: plain
/// `http(s)://host[:port][/path]` (no credentials, query or fragment).
/// Answers it without its trailing `/`, or why it is refused (the reason
/// never quotes the URL, which may hold credentials). The server's
/// configuration checks its variables with it.
///
/// # Errors
///
/// Why the URL is refused.
pub fn check_base_url(url: &str) -> Result<String, &'static str> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = Url::parse(trimmed).map_err(|_| "not a URL")?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err("not an http(s) URL");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials in the URL (use the API key)");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("a query or fragment in the URL");
    }
    Ok(trimmed.to_owned())
}

/// Whether `url` is on OpenAI's own API host (the origin of
/// [`OPENAI_BASE_URL`]), where a key is required.
#[must_use]
pub fn is_openai_host(url: &str) -> bool {
    same_origin(url.trim().trim_end_matches('/'), OPENAI_BASE_URL)
}

/// Whether two checked base URLs share scheme, host and port.
fn same_origin(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

/// A key that can go into a header; blank is none.
fn usable_key(what: &str, key: Option<&Secret>) -> Result<Option<Secret>, OpenAiSetupError> {
    let Some(key) = key else { return Ok(None) };
    let value = key.expose().trim();
    if value.is_empty() {
        return Ok(None);
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(OpenAiSetupError::Config(format!(
            "{what}: not a printable ASCII token"
        )));
    }
    Ok(Some(Secret::new(value)))
}

/// A model or voice name: 1..=256 bytes, no whitespace or control
/// characters.
fn check_model_name(what: &str, value: &str) -> Result<(), OpenAiSetupError> {
    if value.is_empty()
        || value.len() > 256
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(OpenAiSetupError::Config(format!(
            "{what} {value:?}: 1 to 256 characters, no spaces"
        )));
    }
    Ok(())
}

/// An image size: `WxH` or `auto`.
fn check_size(size: &str) -> Result<(), OpenAiSetupError> {
    let ok = size == "auto"
        || size.split_once('x').is_some_and(|(w, h)| {
            [w, h]
                .iter()
                .all(|n| !n.is_empty() && n.len() <= 5 && n.bytes().all(|b| b.is_ascii_digit()))
        });
    if ok {
        Ok(())
    } else {
        Err(OpenAiSetupError::Config(format!(
            "image size {size:?}: WxH or auto"
        )))
    }
}

impl ScriptWriter for OpenAiProvider {
    fn write_script<'a>(
        &'a self,
        spec: &'a VideoSpec,
    ) -> BoxFuture<'a, Result<Storyboard, MediaError>> {
        Box::pin(llm::write_script(self, spec))
    }
}

impl VisualGenerator for OpenAiProvider {
    fn clip<'a>(
        &'a self,
        _scene: &'a Scene,
        _aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        Box::pin(async { Err(no_clips()) })
    }

    fn still<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        Box::pin(image::still(self, scene, aspect))
    }
}

impl Narrator for OpenAiProvider {
    fn narrate<'a>(
        &'a self,
        scene: &'a Scene,
        voice: Voice,
        language: &'a Language,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        Box::pin(tts::narrate(self, scene, voice, language))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::Backoff;

    fn build(config: OpenAiConfig) -> Result<OpenAiProvider, OpenAiSetupError> {
        OpenAiProvider::new(config, ServiceGuards::new(Backoff::default()))
    }

    #[test]
    fn the_key_goes_only_to_its_origin() {
        let mut config = OpenAiConfig {
            api_key: Some(Secret::new("sk-test-0123456789")),
            ..OpenAiConfig::default()
        };
        config.tts.base_url = Some("http://127.0.0.1:8880/v1".into());
        config.llm.base_url = Some("https://api.openai.com/v1/".into());
        let p = build(config.clone()).unwrap();
        assert!(p.sends_key(Service::Llm) && p.sends_key(Service::Imagen));
        assert!(
            !p.sends_key(Service::Tts),
            "Kokoro does not get the OpenAI key"
        );
        assert!(!p.sends_key(Service::Veo));
        config.tts.api_key = Some(Secret::new("kokoro-key"));
        assert!(build(config.clone()).unwrap().sends_key(Service::Tts));
        config.api_key = Some(Secret::new("  "));
        assert!(
            !build(config).unwrap().sends_key(Service::Llm),
            "blank is none"
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let with = |edit: fn(&mut OpenAiConfig)| {
            let mut c = OpenAiConfig::default();
            edit(&mut c);
            build(c)
        };
        assert!(with(|_| {}).is_ok());
        for edit in [
            (|c: &mut OpenAiConfig| c.base_url = "ftp://x".into()) as fn(&mut OpenAiConfig),
            |c| c.base_url = "https://user:pw@api.openai.com/v1".into(),
            |c| c.base_url = "https://api.openai.com/v1?key=x".into(),
            |c| c.llm.model = String::new(),
            |c| c.tts.model = "two words".into(),
            |c| c.tts_voice = Some(String::new()),
            |c| c.image_sizes.square = "big".into(),
            |c| c.api_key = Some(Secret::new("sk-\nx")),
        ] {
            let error = with(edit).unwrap_err();
            assert!(!error.to_string().contains("pw"), "{error}");
        }
    }

    #[test]
    fn base_urls_and_openais_host() {
        assert_eq!(
            check_base_url(" http://127.0.0.1:11434/v1/ "),
            Ok("http://127.0.0.1:11434/v1".to_owned())
        );
        for (bad, why) in [
            ("127.0.0.1:11434/v1", "not a URL"),
            ("ftp://host/v1", "not an http(s) URL"),
            (
                "https://user:sk-x@host/v1",
                "credentials in the URL (use the API key)",
            ),
            ("https://host/v1?key=x", "a query or fragment in the URL"),
        ] {
            assert_eq!(check_base_url(bad), Err(why), "{bad}");
        }
        assert!(is_openai_host(OPENAI_BASE_URL));
        assert!(is_openai_host("https://api.openai.com/v1/"));
        assert!(!is_openai_host("http://api.openai.com/v1"));
        assert!(!is_openai_host("http://127.0.0.1:8880/v1"));
    }
}
