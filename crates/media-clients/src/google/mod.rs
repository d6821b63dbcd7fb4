//! The Google HTTP adapters: [`GoogleProvider`] implements [`ScriptWriter`],
//! [`VisualGenerator`] and [`Narrator`] on either API:
//!
//! | flavor | constructor | endpoints | credentials |
//! |---|---|---|---|
//! | `gemini` | [`GoogleProvider::gemini`] | `{gemini_base}/v1beta/models/{m}:{method}` | API key in the `x-goog-api-key` header (never in the URL) |
//! | `vertex` | [`GoogleProvider::vertex`] | `{vertex_base}/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}`; by default `vertex_base` is `https://aiplatform.googleapis.com` for `global`, `https://aiplatform.{us,eu}.rep.googleapis.com` for the multi-regions `us` / `eu`, `https://{region}-aiplatform.googleapis.com` otherwise | OAuth2 access tokens minted from a service-account key ([`ServiceAccountKey`]), `Authorization: Bearer` |
//!
//! | port | call | answer |
//! |---|---|---|
//! | [`ScriptWriter`] | `generateContent`, JSON constrained by `responseSchema` | `candidates[0].content.parts[].text` |
//! | [`VisualGenerator::still`] | [`ImageBackend::Imagen`]: `:predict`; [`ImageBackend::Gemini`]: `generateContent` with `responseModalities: ["IMAGE"]` | `predictions[0].bytesBase64Encoded` / `inlineData` (PNG or JPEG) |
//! | [`VisualGenerator::clip`] | `:predictLongRunning`, then polled (Gemini: `GET {name}`; Vertex: `POST …:fetchPredictOperation`) | Gemini: `generateVideoResponse.generatedSamples[0].video.uri` (downloaded) or inline bytes; Vertex: `videos[0].bytesBase64Encoded` or `gcsUri` |
//! | [`Narrator`] (Gemini API) | the TTS model's `generateContent` with `responseModalities: ["AUDIO"]` and `speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName` ([`TtsVoices`]), API key | `inlineData`: 16-bit PCM (`audio/L16;codec=pcm;rate=24000`) wrapped in a RIFF header at the answered rate, or a WAV used as is |
//! | [`Narrator`] (Vertex AI) | Cloud TTS `{tts_base}/v1/text:synthesize`, `LINEAR16`, the Chirp 3: HD voice `{languageCode}-Chirp3-HD-{name}` ([`TtsVoices`]) | `audioContent`: a WAV with its header |
//! | [`GoogleProvider::check_model`] | Gemini: `GET {gemini_base}/v1beta/models/{m}`; Vertex: `GET {vertex_base}/v1/publishers/google/models/{m}` | found, or `Rejected` naming the model |
//!
//! Every base URL, model, timeout and the Veo polling are in
//! [`GoogleConfig`]; secrets are [`Secret`]s (`Debug` prints `***`) and are
//! never put into error reasons.
//!
//! # The prompt is data
//!
//! The storyboard request is built with
//! [`script_request`](ytvc_domain::media::script_request):
//! `systemInstruction` holds the fixed instructions, the user turn holds
//! only the delimited prompt. An answer that does not parse as a storyboard
//! gets one repair request (the bad answer as the model turn, then a fixed
//! user turn asking for valid JSON; the prompt stays in the first turn,
//! delimited), then `BadResponse` (`LLM_003`).
//!
//! # How answers are classified
//!
//! Every call goes through the service's
//! [`ServiceGuard`](crate::resilience::ServiceGuard) (circuit breaker,
//! bounded full-jitter retries). Each attempt's outcome is a
//! [`Failure`]:
//!
//! | answer | error | retried | breaker |
//! |---|---|---|---|
//! | connect or total timeout, 408, 504 | `Timeout` | yes (not a Veo submit: it may have started a billed generation) | failure |
//! | connection error, 5xx | `Unavailable` | yes, honouring `Retry-After` / `RetryInfo` | failure |
//! | 429 capacity (see below) | `Unavailable` | yes, honouring `RetryInfo` / `Retry-After` | failure |
//! | 429 quota exhausted (see below) | `QuotaExhausted` (`LLM_002` / `MEDIA_004`; the job is not retried either) | never | not counted |
//! | 400 / 403 whose message names the safety filters | `Refused` | never | not counted |
//! | any other 4xx (bad key, permission, API not enabled, bad request) | `Rejected` (`LLM_002` / `MEDIA_00x`; the job is not retried either) | never | not counted |
//! | the OAuth token endpoint fails (Vertex) | as above, for the service being called | as above | not counted (not the service's failure) |
//! | 2xx that is not JSON, or lacks the expected fields | `BadResponse` (`LLM_003` after the repair / `VIDEO_001`) | never | not counted |
//! | LLM: `promptFeedback.blockReason`, `finishReason` `SAFETY` / `PROHIBITED_CONTENT` / `BLOCKLIST` / `SPII`, or `{"refused": true}` | `Refused` (`LLM_004`) | never | not counted |
//! | Imagen: no prediction, or `raiFilteredReason`; Gemini image: a safety `finishReason` | `Refused` (`VIDEO_001`) | never | not counted |
//! | Veo: `raiMediaFilteredCount` > 0 / `raiMediaFilteredReasons` | `Refused` (`VIDEO_001`) | never | not counted |
//!
//! **429 rule.** A 429 (or a failed operation with `RESOURCE_EXHAUSTED`) is,
//! in this order:
//!
//! 1. *exhausted quota* — final — when a limit it names is 0 (`quotaValue:
//!    "0"`, `ErrorInfo.metadata.quota_limit_value`, `limit: 0` in the
//!    message): the quota was never granted;
//! 2. when a quota it names (`QuotaFailure.violations[].quotaId` /
//!    `quotaMetric` / `subject` / `description`,
//!    `ErrorInfo.metadata.quota_limit`, or the message) is a per-day quota
//!    (`PerDay`, `per day`, `daily`): *capacity* — retried after the
//!    `RetryInfo` — if it carries a `RetryInfo` **and** lists at least one
//!    violation that is not per-day (the Gemini API lists the per-day quota
//!    beside the per-minute ones it also hit, e.g.
//!    googleapis/python-genai#2044); otherwise *exhausted quota* (only
//!    per-day quotas, or no hint: it resets tomorrow);
//! 3. *capacity* when it carries a `RetryInfo` (the server says when to
//!    come back; a wait longer than `Backoff::max_retry_after` ends the
//!    retries at once), names a per-minute quota, or its message says "try
//!    again later";
//! 4. *exhausted quota* when it has `QuotaFailure` violations, or the
//!    message says the quota is exceeded ("exceeded your current quota",
//!    "quota exceeded", "check your plan and billing details");
//! 5. *capacity* otherwise (`RESOURCE_EXHAUSTED` with no quota details, e.g.
//!    "Resource has been exhausted (e.g. check quota).").
//!
//! # Veo
//!
//! The submit call goes through the guard (retried, counted). Polls are not
//! counted and do not hold a breaker slot: they sleep
//! [`GoogleConfig::veo_poll_interval`] between them, tolerate
//! [`GoogleConfig::veo_max_poll_failures`] consecutive transient failures,
//! and stop at [`GoogleConfig::veo_max_wait`] after the submit started
//! (`Timeout`, `MEDIA_001`). The final result is counted once: a download
//! goes through the guard; an operation that finished with an `error` is
//! classified by its `google.rpc.Code` (`UNAVAILABLE`, `INTERNAL`,
//! `ABORTED`, `UNKNOWN` → `Unavailable`, counted; `DEADLINE_EXCEEDED` →
//! `Timeout`, counted; `RESOURCE_EXHAUSTED` → the 429 rule; a message
//! naming the safety filters → `Refused`; anything else → `BadResponse`) and
//! is not resubmitted: the pipeline falls back to a still. A download
//! follows redirects itself (at most 5) and sends the credentials only to
//! URLs under the configured base (the API key never reaches the redirect
//! target on another host). Veo has no 1:1
//! output, so square videos ask for 16:9 clips (the assembler fits them).
//!
//! Veo 3 clips carry their own audio. The assembler keeps only a clip's
//! picture (the sound track is the narration), so the clip audio is
//! dropped: on Vertex AI the submit sends `generateAudio` =
//! [`GoogleConfig::veo_generate_audio`] (default `false`); the Gemini API
//! refuses that parameter, so it is not sent there and the clip's audio is
//! dropped by the assembler.
//!
//! On the Gemini API, Google's changelog (2026-06-15) names the Veo 3.1
//! preview ids as the replacements of Veo 3.0; later third-party notices
//! report those ids shut down on 2026-10-22, the API's video successor
//! being Gemini Omni (the Interactions API, not implemented here). Should
//! Veo answer 404, the clip fails as `Rejected` (`MEDIA_001`, not counted)
//! and every scene falls back to a still.
//!
//! # Sources
//!
//! Request and answer shapes follow the Google Gen AI SDK
//! (googleapis/python-genai: `models.py` converters, `types.py`
//! `SpeechConfig` / `VoiceConfig` / `PrebuiltVoiceConfig` / `ImageConfig`,
//! `_api_client.py` endpoint rules) and Google's pages: Gemini API
//! deprecations and release notes, speech generation (voices), Cloud TTS
//! Chirp 3: HD voices, the Veo on Vertex AI API reference
//! (`generateAudio`), Generative AI locations (multi-region hosts), and
//! `SsmlVoiceGender` (`NEUTRAL` not supported) in the Cloud TTS client.

mod auth;
mod check;
mod config;
mod http;
mod image;
mod llm;
mod tts;
mod veo;

pub use auth::{CLOUD_PLATFORM_SCOPE, ServiceAccountKey};
pub use config::{CallTimeouts, GoogleConfig, ImageBackend, Secret, Timeouts, TtsVoices};

use reqwest::RequestBuilder;
use serde_json::Value;
use ytvc_domain::media::{
    BoxFuture, MediaBlob, MediaError, Narrator, Scene, ScriptWriter, Service, Storyboard,
    VisualGenerator,
};
use ytvc_domain::{AspectRatio, Language, VideoSpec, Voice};

use crate::resilience::{Failure, ServiceGuards};
use auth::{Auth, TokenSource};
use http::Http;

/// Why a [`GoogleProvider`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GoogleSetupError {
    /// The service-account key is unusable (the reason never quotes it).
    #[error("service-account key: {0}")]
    ServiceAccountKey(String),
    /// A configuration value is invalid.
    #[error("google config: {0}")]
    Config(String),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Http(String),
}

/// Where a Vertex AI provider sends its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VertexTarget {
    /// The Google Cloud project id.
    pub project: String,
    /// The region, e.g. `us-central1`.
    pub location: String,
}

/// Which API, and its endpoints.
#[derive(Debug, Clone)]
enum Api {
    Gemini {
        base: String,
    },
    Vertex {
        base: String,
        project: String,
        location: String,
    },
}

/// One HTTP client per service.
#[derive(Debug)]
struct Clients {
    llm: Http,
    image: Http,
    veo: Http,
    tts: Http,
}

impl Clients {
    fn of(&self, service: Service) -> &Http {
        match service {
            Service::Llm => &self.llm,
            Service::Veo => &self.veo,
            Service::Imagen => &self.image,
            Service::Tts => &self.tts,
        }
    }
}

/// The Google adapters (Gemini API or Vertex AI): storyboard, stills,
/// clips and narration. See the [module docs](self).
#[derive(Debug)]
pub struct GoogleProvider {
    config: GoogleConfig,
    api: Api,
    auth: Auth,
    guards: ServiceGuards,
    clients: Clients,
}

impl GoogleProvider {
    /// The Gemini Developer API, authenticated with `api_key`.
    ///
    /// # Errors
    ///
    /// [`GoogleSetupError`] when a model name, voice name or base URL is
    /// invalid or an HTTP client cannot be built.
    pub fn gemini(
        config: GoogleConfig,
        api_key: Secret,
        guards: ServiceGuards,
    ) -> Result<Self, GoogleSetupError> {
        if api_key.expose().trim().is_empty() {
            return Err(GoogleSetupError::Config("the API key is empty".into()));
        }
        let voices = &config.tts_voices;
        for name in [&voices.male, &voices.female, &voices.neutral] {
            if !tts::is_prebuilt_voice_name(name) {
                return Err(GoogleSetupError::Config(format!(
                    "tts voice {name:?}: Gemini TTS takes a prebuilt voice name (letters only)"
                )));
            }
        }
        let api = Api::Gemini {
            base: base_url(&config.gemini_base_url)?,
        };
        Self::build(config, api, Auth::ApiKey(api_key), guards)
    }

    /// Vertex AI in `target`, authenticated with tokens minted from `key`.
    ///
    /// # Errors
    ///
    /// [`GoogleSetupError`] when the key's `private_key` is not an RSA PEM
    /// key, a model name, project, location or base URL is invalid, or an
    /// HTTP client cannot be built.
    pub fn vertex(
        config: GoogleConfig,
        target: VertexTarget,
        key: ServiceAccountKey,
        guards: ServiceGuards,
    ) -> Result<Self, GoogleSetupError> {
        for (what, value) in [("project", &target.project), ("location", &target.location)] {
            check_path_segment(what, value)?;
        }
        let base = match &config.vertex_base_url {
            Some(base) => base_url(base)?,
            None => vertex_endpoint(&target.location),
        };
        let api = Api::Vertex {
            base,
            project: target.project,
            location: target.location,
        };
        let source = TokenSource::new(key, config.timeouts.token, config.token_refresh_margin)?;
        let mut config = config;
        // Veo ids differ between the APIs: the Gemini API default becomes
        // the Vertex one (a configured model is left alone).
        if config.veo_model == GoogleConfig::DEFAULT_VEO_MODEL {
            GoogleConfig::DEFAULT_VERTEX_VEO_MODEL.clone_into(&mut config.veo_model);
        }
        Self::build(config, api, Auth::ServiceAccount(Box::new(source)), guards)
    }

    fn build(
        mut config: GoogleConfig,
        api: Api,
        auth: Auth,
        guards: ServiceGuards,
    ) -> Result<Self, GoogleSetupError> {
        for (what, model) in [
            ("llm_model", &config.llm_model),
            ("image_model", &config.image_model),
            ("veo_model", &config.veo_model),
            ("tts_model", &config.tts_model),
        ] {
            check_path_segment(what, model)?;
        }
        config.tts_base_url = base_url(&config.tts_base_url)?;
        config.storage_base_url = base_url(&config.storage_base_url)?;
        let client = |service: Service| {
            Http::new(service, config.timeouts.of(service))
                .map_err(|e| GoogleSetupError::Http(e.to_string()))
        };
        let clients = Clients {
            llm: client(Service::Llm)?,
            image: client(Service::Imagen)?,
            veo: client(Service::Veo)?,
            tts: client(Service::Tts)?,
        };
        Ok(Self {
            config,
            api,
            auth,
            guards,
            clients,
        })
    }

    /// `"gemini"` or `"vertex"` (for logs and `/health`).
    #[must_use]
    pub fn flavor(&self) -> &'static str {
        match self.api {
            Api::Gemini { .. } => "gemini",
            Api::Vertex { .. } => "vertex",
        }
    }

    /// The configuration in use.
    #[must_use]
    pub fn config(&self) -> &GoogleConfig {
        &self.config
    }

    /// The guards the provider calls through.
    #[must_use]
    pub fn guards(&self) -> &ServiceGuards {
        &self.guards
    }

    /// The URL of `model`'s `method` (`generateContent`, `predict`, ...).
    fn model_url(&self, model: &str, method: &str) -> String {
        match &self.api {
            Api::Gemini { base } => format!("{base}/v1beta/models/{model}:{method}"),
            Api::Vertex {
                base,
                project,
                location,
            } => format!(
                "{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}"
            ),
        }
    }

    /// Sends `request` for `service` with credentials; the JSON answer or
    /// the classified failure.
    async fn send_json(&self, service: Service, request: RequestBuilder) -> Result<Value, Failure> {
        // A failing token endpoint is not the service's failure: retried,
        // but not held against the service's breaker.
        let request = self
            .auth
            .apply(request, service)
            .await
            .map_err(Failure::elsewhere)?;
        self.clients.of(service).send_json(request).await
    }

    /// POSTs `body` to `url` for `service`.
    async fn post_json(&self, service: Service, url: &str, body: &Value) -> Result<Value, Failure> {
        let request = self.clients.of(service).client().post(url).json(body);
        self.send_json(service, request).await
    }
}

/// The Vertex AI endpoint of `location` (the rules of the Google Gen AI
/// SDK, `google/genai/_api_client.py`): `global` has no regional prefix,
/// the multi-region jurisdictions `us` and `eu` are
/// `aiplatform.{location}.rep.googleapis.com`, and a region is
/// `{location}-aiplatform.googleapis.com`.
fn vertex_endpoint(location: &str) -> String {
    match location {
        "global" => "https://aiplatform.googleapis.com".to_owned(),
        "us" | "eu" => format!("https://aiplatform.{location}.rep.googleapis.com"),
        region => format!("https://{region}-aiplatform.googleapis.com"),
    }
}

/// A base URL without its trailing `/`; must be `http(s)://`.
fn base_url(url: &str) -> Result<String, GoogleSetupError> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(GoogleSetupError::Config(format!(
            "base URL {url:?} is not http(s)"
        )));
    }
    Ok(url.to_owned())
}

/// A value that goes into a URL path (model, project, location).
fn check_path_segment(what: &str, value: &str) -> Result<(), GoogleSetupError> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(GoogleSetupError::Config(format!(
            "{what} {value:?}: only letters, digits, '-', '_', '.', '@'"
        )))
    }
}

impl ScriptWriter for GoogleProvider {
    fn write_script<'a>(
        &'a self,
        spec: &'a VideoSpec,
    ) -> BoxFuture<'a, Result<Storyboard, MediaError>> {
        Box::pin(llm::write_script(self, spec))
    }
}

impl VisualGenerator for GoogleProvider {
    fn clip<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        Box::pin(veo::clip(self, scene, aspect))
    }

    fn still<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        Box::pin(image::still(self, scene, aspect))
    }
}

impl Narrator for GoogleProvider {
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

    #[test]
    fn vertex_endpoints_follow_the_location() {
        assert_eq!(
            vertex_endpoint("global"),
            "https://aiplatform.googleapis.com"
        );
        assert_eq!(
            vertex_endpoint("us"),
            "https://aiplatform.us.rep.googleapis.com"
        );
        assert_eq!(
            vertex_endpoint("eu"),
            "https://aiplatform.eu.rep.googleapis.com"
        );
        assert_eq!(
            vertex_endpoint("europe-west4"),
            "https://europe-west4-aiplatform.googleapis.com"
        );
    }
}
