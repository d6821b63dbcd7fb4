//! The media side: the provider of each service, the Google and
//! OpenAI-compatible providers' credentials, models and endpoints, retries,
//! Veo polling, video assembly, the providers check and injected faults.

use std::path::PathBuf;
use std::time::Duration;

use ytvc_media_clients::google::GoogleConfig;
use ytvc_media_clients::openai::{self, OpenAiConfig};

use super::Environment;
use super::secret::Secret;
use super::setting::{DefaultValue, Setting};
use super::sources::{Sources, existing_file, number};

/// A media provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MediaProvider {
    /// Offline, deterministic, no credentials.
    Local,
    /// Google Gemini API (API key).
    Gemini,
    /// Google Vertex AI (service account).
    Vertex,
    /// Any OpenAI-compatible server (OpenAI, Ollama, vLLM, Kokoro-FastAPI,
    /// LocalAI...). It makes no clips: a clip service on `openai` is off.
    OpenAi,
}

impl MediaProvider {
    /// The name in configuration, manifests and `/health/ready`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            MediaProvider::Local => "local",
            MediaProvider::Gemini => "gemini",
            MediaProvider::Vertex => "vertex",
            MediaProvider::OpenAi => "openai",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "local" => Ok(MediaProvider::Local),
            "gemini" => Ok(MediaProvider::Gemini),
            "vertex" => Ok(MediaProvider::Vertex),
            "openai" => Ok(MediaProvider::OpenAi),
            _ => Err("expected `local`, `gemini`, `vertex` or `openai`".into()),
        }
    }
}

/// What a visual service (clips or stills) is configured to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisualChoice {
    /// `none`: the service is off; scenes go on to the next visual (still,
    /// then title card) without counting it as a failure.
    Off,
    /// A provider.
    Use(MediaProvider),
}

impl VisualChoice {
    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(VisualChoice::Off),
            other => MediaProvider::parse(other)
                .map(VisualChoice::Use)
                .map_err(|_| "expected `local`, `gemini`, `vertex`, `openai` or `none`".into()),
        }
    }
}

/// The provider of each media service, resolved from `YTVC_MEDIA_PROVIDER`
/// and the per-service overrides (`None`: off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routing {
    /// Storyboards.
    pub llm: MediaProvider,
    /// Narration.
    pub tts: MediaProvider,
    /// Stills (`None`: `none`).
    pub image: Option<MediaProvider>,
    /// Clips (`None`: `none`, or `openai`, which makes no clips).
    pub clip: Option<MediaProvider>,
}

impl Routing {
    /// Each service by its configuration name (`llm`, `tts`, `image`,
    /// `clip`), with its provider (`None`: off).
    #[must_use]
    pub fn services(&self) -> [(&'static str, Option<MediaProvider>); 4] {
        [
            ("llm", Some(self.llm)),
            ("tts", Some(self.tts)),
            ("image", self.image),
            ("clip", self.clip),
        ]
    }
}

/// The settings of the OpenAI-compatible provider (`openai`). Unset values
/// take [`OpenAiConfig`]'s defaults.
#[derive(Debug, Clone, Default)]
pub struct OpenAiSettings {
    /// The shared base URL (`None`: OpenAI's).
    pub base_url: Option<String>,
    /// The key (`OPENAI_API_KEY`; optional for local servers).
    pub api_key: Option<Secret<String>>,
    /// The storyboard server's own base URL.
    pub llm_base_url: Option<String>,
    /// The narration server's own base URL.
    pub tts_base_url: Option<String>,
    /// The stills server's own base URL.
    pub image_base_url: Option<String>,
    /// The storyboard model.
    pub llm_model: Option<String>,
    /// The narration model.
    pub tts_model: Option<String>,
    /// The stills model.
    pub image_model: Option<String>,
    /// One voice for every narrated video (`None`: mapped from the request).
    pub tts_voice: Option<String>,
}

impl OpenAiSettings {
    /// The base URL `service` (`llm`, `tts` or `image`) calls.
    #[must_use]
    pub fn base_url_of(&self, service: &str) -> String {
        let own = match service {
            "llm" => &self.llm_base_url,
            "tts" => &self.tts_base_url,
            _ => &self.image_base_url,
        };
        own.clone()
            .or_else(|| self.base_url.clone())
            .unwrap_or_else(|| OpenAiConfig::default().base_url)
    }
}

/// Settings of the media side: the Google providers' credentials, models and
/// endpoint, retries, Veo polling, and whether videos are assembled.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// `YTVC_LLM_PROVIDER` (`None`: `YTVC_MEDIA_PROVIDER`).
    pub llm_provider: Option<MediaProvider>,
    /// `YTVC_TTS_PROVIDER` (`None`: `YTVC_MEDIA_PROVIDER`).
    pub tts_provider: Option<MediaProvider>,
    /// `YTVC_IMAGE_PROVIDER` (`None`: `YTVC_MEDIA_PROVIDER`).
    pub image_provider: Option<VisualChoice>,
    /// `YTVC_CLIP_PROVIDER` (`None`: `YTVC_MEDIA_PROVIDER`).
    pub clip_provider: Option<VisualChoice>,
    /// The OpenAI-compatible provider's servers, key and models.
    pub openai: OpenAiSettings,
    /// The Gemini Developer API key (`gemini`).
    pub gemini_api_key: Option<Secret<String>>,
    /// The service-account key file (`vertex`).
    pub credentials_file: Option<PathBuf>,
    /// The Vertex AI project (`None`: the key file's `project_id`).
    pub vertex_project: Option<String>,
    /// The Vertex AI region.
    pub vertex_location: String,
    /// The storyboard model (`None`: the adapter's default).
    pub llm_model: Option<String>,
    /// The still-image model.
    pub image_model: Option<String>,
    /// The clip model.
    pub veo_model: Option<String>,
    /// One base URL for every Google endpoint (a proxy, or a fake in tests).
    pub google_endpoint: Option<String>,
    /// Attempts per external call, the first included.
    pub max_attempts: u32,
    /// The first retry backoff (full jitter, doubling).
    pub retry_base: Duration,
    /// The wait between two polls of a Veo operation.
    pub veo_poll: Duration,
    /// Whether completed runs are assembled into `video.mp4`.
    pub assembly: bool,
}

pub(super) const PROVIDER: Setting = Setting {
    key: "media_provider",
    var: "YTVC_MEDIA_PROVIDER",
    default: DefaultValue::Value("local"),
    meaning: "the provider of every media service without its own: `local`, `gemini`, `vertex` or `openai` (any OpenAI-compatible server)",
};
pub(super) const LLM_PROVIDER: Setting = Setting {
    key: "llm_provider",
    var: "YTVC_LLM_PROVIDER",
    default: DefaultValue::Unset("`YTVC_MEDIA_PROVIDER`"),
    meaning: "storyboards: `local`, `gemini`, `vertex` or `openai`",
};
pub(super) const TTS_PROVIDER: Setting = Setting {
    key: "tts_provider",
    var: "YTVC_TTS_PROVIDER",
    default: DefaultValue::Unset("`YTVC_MEDIA_PROVIDER`"),
    meaning: "narration: `local`, `gemini`, `vertex` or `openai`",
};
pub(super) const IMAGE_PROVIDER: Setting = Setting {
    key: "image_provider",
    var: "YTVC_IMAGE_PROVIDER",
    default: DefaultValue::Unset("`YTVC_MEDIA_PROVIDER`"),
    meaning: "stills: `local`, `gemini`, `vertex`, `openai` or `none` (scenes without a clip get a title card, not counted as a failure)",
};
pub(super) const CLIP_PROVIDER: Setting = Setting {
    key: "clip_provider",
    var: "YTVC_CLIP_PROVIDER",
    default: DefaultValue::Unset("`YTVC_MEDIA_PROVIDER`"),
    meaning: "clips: `local`, `gemini`, `vertex` or `none` (scenes go to stills, not counted as a failure); `openai` makes no clips, as `none`",
};
pub(super) const PROVIDERS_CHECK: Setting = Setting {
    key: "providers_check",
    var: "YTVC_PROVIDERS_CHECK",
    default: DefaultValue::ByEnvironment {
        production: "on",
        development: "off",
    },
    meaning: "`on`: `serve` and `worker` run `ytvc-server providers check` at start (one minimal call per external service, start-up waits for it, at most 30 s), log its table and show it in `/health/ready` (`providers`: `degraded` on a failure); `off`: no check",
};
pub(super) const OPENAI_BASE_URL: Setting = Setting {
    key: "openai_base_url",
    var: "YTVC_OPENAI_BASE_URL",
    default: DefaultValue::Delegated(|| OpenAiConfig::default().base_url),
    meaning: "base URL of the `openai` provider's services, up to and including `/v1`",
};
pub(super) const OPENAI_API_KEY: Setting = Setting {
    key: "openai_api_key",
    var: "OPENAI_API_KEY",
    default: DefaultValue::Unset("none (no `Authorization` header)"),
    meaning: "secret: the `openai` provider's key, sent to the services on `YTVC_OPENAI_BASE_URL`'s server and to OpenAI's own (required there; optional for local servers)",
};
pub(super) const OPENAI_LLM_BASE_URL: Setting = Setting {
    key: "openai_llm_base_url",
    var: "YTVC_OPENAI_LLM_BASE_URL",
    default: DefaultValue::Unset("`YTVC_OPENAI_BASE_URL`"),
    meaning: "storyboard server of the `openai` provider (e.g. Ollama's `http://127.0.0.1:11434/v1`)",
};
pub(super) const OPENAI_LLM_MODEL: Setting = Setting {
    key: "openai_llm_model",
    var: "YTVC_OPENAI_LLM_MODEL",
    default: DefaultValue::Delegated(|| OpenAiConfig::default().llm.model),
    meaning: "storyboard model of the `openai` provider (an Ollama tag such as `llama3.1:8b` is fine)",
};
pub(super) const OPENAI_TTS_BASE_URL: Setting = Setting {
    key: "openai_tts_base_url",
    var: "YTVC_OPENAI_TTS_BASE_URL",
    default: DefaultValue::Unset("`YTVC_OPENAI_BASE_URL`"),
    meaning: "narration server of the `openai` provider (e.g. Kokoro-FastAPI's `http://127.0.0.1:8880/v1`)",
};
pub(super) const OPENAI_TTS_MODEL: Setting = Setting {
    key: "openai_tts_model",
    var: "YTVC_OPENAI_TTS_MODEL",
    default: DefaultValue::Delegated(|| OpenAiConfig::default().tts.model),
    meaning: "narration model of the `openai` provider",
};
pub(super) const OPENAI_TTS_VOICE: Setting = Setting {
    key: "openai_tts_voice",
    var: "YTVC_OPENAI_TTS_VOICE",
    default: DefaultValue::Unset("the request's voice: `alloy`, `nova` or `onyx`"),
    meaning: "one narration voice for every video on the `openai` provider (e.g. Kokoro's `af_bella`)",
};
pub(super) const OPENAI_IMAGE_BASE_URL: Setting = Setting {
    key: "openai_image_base_url",
    var: "YTVC_OPENAI_IMAGE_BASE_URL",
    default: DefaultValue::Unset("`YTVC_OPENAI_BASE_URL`"),
    meaning: "stills server of the `openai` provider",
};
pub(super) const OPENAI_IMAGE_MODEL: Setting = Setting {
    key: "openai_image_model",
    var: "YTVC_OPENAI_IMAGE_MODEL",
    default: DefaultValue::Delegated(|| OpenAiConfig::default().image.model),
    meaning: "stills model of the `openai` provider",
};
pub(super) const FAULTS: Setting = Setting {
    key: "media_faults",
    var: "YTVC_MEDIA_FAULTS",
    default: DefaultValue::Unset("none"),
    meaning: "testing only: inject failures into the `local` provider (its services, the title cards, the artifact storage), e.g. `clip=always,still=calls:0+2`",
};
pub(super) const GEMINI_API_KEY: Setting = Setting {
    key: "gemini_api_key",
    var: "GEMINI_API_KEY",
    default: DefaultValue::Unset("none"),
    meaning: "secret: the Gemini Developer API key (required by the `gemini` provider)",
};
pub(super) const CREDENTIALS_FILE: Setting = Setting {
    key: "google_credentials_file",
    var: "GOOGLE_APPLICATION_CREDENTIALS",
    default: DefaultValue::Unset("none"),
    meaning: "service-account key file (JSON) of the `vertex` provider",
};
pub(super) const VERTEX_PROJECT: Setting = Setting {
    key: "vertex_project",
    var: "YTVC_VERTEX_PROJECT",
    default: DefaultValue::Unset("the key file's `project_id`"),
    meaning: "Google Cloud project of the `vertex` provider",
};
pub(super) const VERTEX_LOCATION: Setting = Setting {
    key: "vertex_location",
    var: "YTVC_VERTEX_LOCATION",
    default: DefaultValue::Value("us-central1"),
    meaning: "Vertex AI region",
};
pub(super) const LLM_MODEL: Setting = Setting {
    key: "llm_model",
    var: "YTVC_LLM_MODEL",
    default: DefaultValue::Delegated(|| GoogleConfig::default().llm_model),
    meaning: "storyboard model (Google providers)",
};
pub(super) const IMAGE_MODEL: Setting = Setting {
    key: "image_model",
    var: "YTVC_IMAGE_MODEL",
    default: DefaultValue::Delegated(|| GoogleConfig::default().image_model),
    meaning: "still-image model: an Imagen model (`:predict`) or a Gemini image model (`generateContent`)",
};
pub(super) const VEO_MODEL: Setting = Setting {
    key: "veo_model",
    var: "YTVC_VEO_MODEL",
    default: DefaultValue::Delegated(|| GoogleConfig::default().veo_model),
    meaning: "clip model (Google providers)",
};
pub(super) const GOOGLE_ENDPOINT: Setting = Setting {
    key: "google_endpoint",
    var: "YTVC_GOOGLE_ENDPOINT",
    default: DefaultValue::Unset("Google's endpoints"),
    meaning: "one base URL for every Google API (a proxy; tests point it at a fake)",
};
pub(super) const MAX_ATTEMPTS: Setting = Setting {
    key: "media_max_attempts",
    var: "YTVC_MEDIA_MAX_ATTEMPTS",
    default: DefaultValue::Value("3"),
    meaning: "attempts per external media call, the first included (1..=10)",
};
pub(super) const RETRY_BASE_MS: Setting = Setting {
    key: "media_retry_base_ms",
    var: "YTVC_MEDIA_RETRY_BASE_MS",
    default: DefaultValue::Value("500"),
    meaning: "first retry backoff of media calls, doubling, full jitter (0..=60000)",
};
pub(super) const VEO_POLL_MS: Setting = Setting {
    key: "veo_poll_ms",
    var: "YTVC_VEO_POLL_MS",
    default: DefaultValue::Value("10000"),
    meaning: "wait between two polls of a Veo operation (10..=60000)",
};
pub(super) const VIDEO_ASSEMBLY: Setting = Setting {
    key: "video_assembly",
    var: "YTVC_VIDEO_ASSEMBLY",
    default: DefaultValue::Value("on"),
    meaning: "`on`: completed videos get `video.mp4` (H.264 + audio); `off`: the artifact set only",
};

/// The media group (see [`super::Config`]): the provider, the injected
/// faults, the providers check and the rest of the media settings.
pub(super) struct Media {
    pub(super) provider: MediaProvider,
    pub(super) faults: Option<String>,
    pub(super) providers_check: bool,
    pub(super) settings: MediaSettings,
}

impl Media {
    /// Parses and validates the group: every external service needs its
    /// provider's credentials (see [`MediaSettings::load`]).
    pub(super) fn load(src: &mut Sources, env: Environment) -> Self {
        let provider = src.value(&PROVIDER, MediaProvider::parse);
        let faults = src.optional(&FAULTS, |s| {
            ytvc_media_clients::Flaky::<()>::parse_faults(s).map(|_| s.to_owned())
        });
        let providers_check = src.value_in(&PROVIDERS_CHECK, env, on_off);
        let settings = MediaSettings::load(src, provider);
        Self {
            provider,
            faults,
            providers_check,
            settings,
        }
    }
}

impl MediaSettings {
    /// The provider of each service: its own setting, else `default`
    /// (`YTVC_MEDIA_PROVIDER`); clips on `openai` are off.
    #[must_use]
    pub fn routing(&self, default: MediaProvider) -> Routing {
        let visual =
            |choice: Option<VisualChoice>| match choice.unwrap_or(VisualChoice::Use(default)) {
                VisualChoice::Off => None,
                VisualChoice::Use(provider) => Some(provider),
            };
        Routing {
            llm: self.llm_provider.unwrap_or(default),
            tts: self.tts_provider.unwrap_or(default),
            image: visual(self.image_provider),
            clip: visual(self.clip_provider).filter(|p| *p != MediaProvider::OpenAi),
        }
    }

    fn load(src: &mut Sources, provider: MediaProvider) -> Self {
        let gemini_api_key = src.optional(&GEMINI_API_KEY, |s| api_key(s, 512));
        let credentials_file = src.optional(&CREDENTIALS_FILE, existing_file);
        let settings = Self {
            llm_provider: src.optional(&LLM_PROVIDER, MediaProvider::parse),
            tts_provider: src.optional(&TTS_PROVIDER, MediaProvider::parse),
            image_provider: src.optional(&IMAGE_PROVIDER, VisualChoice::parse),
            clip_provider: src.optional(&CLIP_PROVIDER, VisualChoice::parse),
            openai: OpenAiSettings {
                base_url: src.optional(&OPENAI_BASE_URL, base_url),
                api_key: src.optional(&OPENAI_API_KEY, |s| api_key(s, 1024)),
                llm_base_url: src.optional(&OPENAI_LLM_BASE_URL, base_url),
                tts_base_url: src.optional(&OPENAI_TTS_BASE_URL, base_url),
                image_base_url: src.optional(&OPENAI_IMAGE_BASE_URL, base_url),
                llm_model: src.optional(&OPENAI_LLM_MODEL, model_name),
                tts_model: src.optional(&OPENAI_TTS_MODEL, model_name),
                image_model: src.optional(&OPENAI_IMAGE_MODEL, model_name),
                tts_voice: src.optional(&OPENAI_TTS_VOICE, model_name),
            },
            gemini_api_key,
            credentials_file,
            vertex_project: src.optional(&VERTEX_PROJECT, name),
            vertex_location: src.value(&VERTEX_LOCATION, name),
            llm_model: src.optional(&LLM_MODEL, name),
            image_model: src.optional(&IMAGE_MODEL, name),
            veo_model: src.optional(&VEO_MODEL, name),
            google_endpoint: src.optional(&GOOGLE_ENDPOINT, |s| {
                if (s.starts_with("http://") || s.starts_with("https://"))
                    && !s.contains(char::is_whitespace)
                {
                    Ok(s.trim_end_matches('/').to_owned())
                } else {
                    Err("expected an http(s) URL".into())
                }
            }),
            max_attempts: src.value(&MAX_ATTEMPTS, number(1..=10)),
            retry_base: Duration::from_millis(src.value(&RETRY_BASE_MS, number(0..=60_000))),
            veo_poll: Duration::from_millis(src.value(&VEO_POLL_MS, number(10..=60_000))),
            assembly: src.value(&VIDEO_ASSEMBLY, on_off),
        };
        settings.require_credentials(src, provider);
        settings
    }

    /// Every credential the routed services need: a problem per missing
    /// one, naming it and the variables that chose its provider.
    fn require_credentials(&self, src: &mut Sources, default: MediaProvider) {
        let routing = self.routing(default);
        let overrides = [
            (&LLM_PROVIDER, self.llm_provider.is_some()),
            (&TTS_PROVIDER, self.tts_provider.is_some()),
            (&IMAGE_PROVIDER, self.image_provider.is_some()),
            (&CLIP_PROVIDER, self.clip_provider.is_some()),
        ];
        // (service, provider, the variable that chose it)
        let mut chosen = Vec::new();
        for ((service, provider), (setting, own)) in routing.services().into_iter().zip(overrides) {
            if let Some(provider) = provider {
                let by = if own {
                    src.origin(setting)
                } else {
                    src.origin(&PROVIDER)
                };
                chosen.push((service, provider, format!("{by}={}", provider.as_str())));
            }
        }
        let requiring = |wanted: MediaProvider, also: &dyn Fn(&str) -> bool| {
            let mut by: Vec<&str> = Vec::new();
            for (service, provider, chooser) in &chosen {
                if *provider == wanted && also(service) && !by.contains(&chooser.as_str()) {
                    by.push(chooser);
                }
            }
            by.join(", ")
        };
        let by = requiring(MediaProvider::Gemini, &|_| true);
        if !by.is_empty() && self.gemini_api_key.is_none() && !src.is_set(&GEMINI_API_KEY) {
            let origin = src.origin(&GEMINI_API_KEY);
            src.refuse(format!("{origin}: required by {by}"));
        }
        let by = requiring(MediaProvider::Vertex, &|_| true);
        if !by.is_empty() && self.credentials_file.is_none() && !src.is_set(&CREDENTIALS_FILE) {
            let origin = src.origin(&CREDENTIALS_FILE);
            src.refuse(format!(
                "{origin}: required by {by} (a service-account key file)"
            ));
        }
        let at_openai = |service: &str| openai::is_openai_host(&self.openai.base_url_of(service));
        let by = requiring(MediaProvider::OpenAi, &at_openai);
        if !by.is_empty() && self.openai.api_key.is_none() && !src.is_set(&OPENAI_API_KEY) {
            let origin = src.origin(&OPENAI_API_KEY);
            src.refuse(format!(
                "{origin}: required by {by} at OpenAI's API ({}); a local server needs none: point YTVC_OPENAI_BASE_URL (or YTVC_OPENAI_{{LLM,TTS,IMAGE}}_BASE_URL) at it",
                ytvc_media_clients::openai::OPENAI_BASE_URL
            ));
        }
    }
}

/// `on` / `off` (also `true` / `false`, `1` / `0`).
fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err("expected `on` or `off`".into()),
    }
}

/// An API key: printable ASCII, no spaces, at most `max` bytes.
fn api_key(s: &str, max: usize) -> Result<Secret<String>, String> {
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_graphic()) {
        Err("expected an API key".into())
    } else {
        Ok(Secret::new(s.to_owned()))
    }
}

/// A base URL of an OpenAI-compatible server, as the adapter takes it.
fn base_url(s: &str) -> Result<String, String> {
    openai::check_base_url(s).map_err(|why| format!("expected an http(s) base URL ({why})"))
}

/// A model or voice of an OpenAI-compatible server: 1 to 256 characters,
/// no spaces (Ollama tags have `:` and `/`).
fn model_name(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.len() <= 256 && !s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(s.to_owned())
    } else {
        Err("expected a name of 1 to 256 characters without spaces".to_owned())
    }
}

/// A model, project or region name: letters, digits, `-`, `_` and `.`.
fn name(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Ok(s.to_owned())
    } else {
        Err("expected a name of letters, digits, `-`, `_` and `.`".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::{MediaProvider, Routing};
    use crate::config::tests::load;

    const SECRET: (&str, &str) = ("YTVC_JWT_SECRET", "0123456789abcdef0123456789abcdef-x");

    #[test]
    fn each_service_picks_its_provider_and_unset_means_the_media_provider() {
        let c = load(&[]).unwrap();
        let local = MediaProvider::Local;
        assert_eq!(
            c.routing(),
            Routing {
                llm: local,
                tts: local,
                image: Some(local),
                clip: Some(local)
            }
        );
        let c = load(&[
            ("YTVC_LLM_PROVIDER", "openai"),
            ("YTVC_OPENAI_LLM_BASE_URL", "http://127.0.0.1:11434/v1/"),
            ("YTVC_OPENAI_LLM_MODEL", "llama3.1:8b"),
            ("YTVC_TTS_PROVIDER", "openai"),
            ("YTVC_OPENAI_TTS_BASE_URL", "http://127.0.0.1:8880/v1"),
            ("YTVC_OPENAI_TTS_MODEL", "kokoro"),
            ("YTVC_OPENAI_TTS_VOICE", "af_bella"),
            ("YTVC_CLIP_PROVIDER", "none"),
            ("YTVC_IMAGE_PROVIDER", "local"),
        ])
        .unwrap();
        let routing = c.routing();
        assert_eq!(
            (routing.llm, routing.tts, routing.image, routing.clip),
            (
                MediaProvider::OpenAi,
                MediaProvider::OpenAi,
                Some(local),
                None
            )
        );
        assert_eq!(
            c.media.openai.base_url_of("llm"),
            "http://127.0.0.1:11434/v1"
        );
        assert_eq!(c.media.openai.llm_model.as_deref(), Some("llama3.1:8b"));
        assert_eq!(c.media.openai.tts_voice.as_deref(), Some("af_bella"));
        // OpenAI makes no clips: a clip service on `openai` is off.
        let c = load(&[
            ("YTVC_MEDIA_PROVIDER", "openai"),
            ("YTVC_OPENAI_BASE_URL", "http://127.0.0.1:8000/v1"),
        ])
        .unwrap();
        let routing = c.routing();
        assert_eq!(routing.image, Some(MediaProvider::OpenAi));
        assert_eq!(routing.clip, None);
        let c = load(&[("YTVC_IMAGE_PROVIDER", "none")]).unwrap();
        assert_eq!(c.routing().image, None);
    }

    #[test]
    fn an_unknown_provider_names_its_variable() {
        let err = load(&[
            ("YTVC_LLM_PROVIDER", "olama"),
            ("YTVC_CLIP_PROVIDER", "sora"),
            ("YTVC_TTS_PROVIDER", "none"),
            ("YTVC_MEDIA_PROVIDER", "azure"),
        ])
        .unwrap_err()
        .to_string();
        for expected in [
            "YTVC_LLM_PROVIDER: invalid value \"olama\": expected `local`, `gemini`, `vertex` or `openai`",
            "YTVC_CLIP_PROVIDER: invalid value \"sora\": expected `local`, `gemini`, `vertex`, `openai` or `none`",
            "YTVC_TTS_PROVIDER: invalid value \"none\"",
            "YTVC_MEDIA_PROVIDER: invalid value \"azure\"",
        ] {
            assert!(err.contains(expected), "{expected}\n{err}");
        }
    }

    #[test]
    fn a_cloud_service_without_its_credentials_names_both_variables() {
        let err = load(&[("YTVC_IMAGE_PROVIDER", "gemini")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GEMINI_API_KEY: required by YTVC_IMAGE_PROVIDER=gemini"),
            "{err}"
        );
        let err = load(&[
            ("YTVC_MEDIA_PROVIDER", "vertex"),
            ("YTVC_LLM_PROVIDER", "local"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("GOOGLE_APPLICATION_CREDENTIALS: required by YTVC_MEDIA_PROVIDER=vertex (a service-account key file)"),
            "{err}"
        );
        // OpenAI's own API needs the key; each service on it is named once.
        let err = load(&[("YTVC_MEDIA_PROVIDER", "openai")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("OPENAI_API_KEY: required by YTVC_MEDIA_PROVIDER=openai at OpenAI's API (https://api.openai.com/v1)"),
            "{err}"
        );
        let err = load(&[
            ("YTVC_MEDIA_PROVIDER", "openai"),
            ("YTVC_OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("YTVC_TTS_PROVIDER", "openai"),
            ("YTVC_OPENAI_TTS_BASE_URL", "https://api.openai.com/v1"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("OPENAI_API_KEY: required by YTVC_TTS_PROVIDER=openai at"),
            "only the service on OpenAI's API: {err}"
        );
        // A local server needs no key; one given is accepted.
        load(&[
            ("YTVC_MEDIA_PROVIDER", "openai"),
            ("YTVC_OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
        ])
        .unwrap();
        let c = load(&[
            ("YTVC_MEDIA_PROVIDER", "openai"),
            ("OPENAI_API_KEY", "sk-proj-NeverPrinted0123"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("NeverPrinted"));
        // Services that are off need nothing.
        load(&[
            ("YTVC_CLIP_PROVIDER", "none"),
            ("YTVC_IMAGE_PROVIDER", "none"),
        ])
        .unwrap();
    }

    #[test]
    fn a_malformed_base_url_or_model_names_its_variable_without_quoting_it() {
        let err = load(&[
            ("YTVC_OPENAI_BASE_URL", "127.0.0.1:11434/v1"),
            ("YTVC_OPENAI_TTS_BASE_URL", "http://user:pw-secret@host/v1"),
            ("YTVC_OPENAI_IMAGE_BASE_URL", "ftp://host/v1"),
            ("YTVC_OPENAI_LLM_MODEL", "llama 3"),
            ("OPENAI_API_KEY", "sk bad"),
        ])
        .unwrap_err();
        let text = err.to_string();
        for expected in [
            "YTVC_OPENAI_BASE_URL: invalid value [redacted]: expected an http(s) base URL (not a URL)",
            "YTVC_OPENAI_TTS_BASE_URL: invalid value [redacted]: expected an http(s) base URL (credentials in the URL",
            "YTVC_OPENAI_IMAGE_BASE_URL: invalid value [redacted]: expected an http(s) base URL (not an http(s) URL)",
            "YTVC_OPENAI_LLM_MODEL: invalid value \"llama 3\"",
            "OPENAI_API_KEY: invalid value [redacted]: expected an API key",
        ] {
            assert!(text.contains(expected), "{expected}\n{text}");
        }
        assert!(
            !text.contains("pw-secret") && !text.contains("sk bad"),
            "{text}"
        );
        assert_eq!(err.0.len(), 5, "{text}");
    }

    #[test]
    fn the_providers_check_is_on_in_production_and_off_in_development() {
        assert!(!load(&[]).unwrap().providers_check);
        assert!(
            load(&[("YTVC_PROVIDERS_CHECK", "on")])
                .unwrap()
                .providers_check
        );
        assert!(
            load(&[("YTVC_ENV", "production"), SECRET])
                .unwrap()
                .providers_check
        );
        assert!(
            !load(&[
                ("YTVC_ENV", "production"),
                SECRET,
                ("YTVC_PROVIDERS_CHECK", "off")
            ])
            .unwrap()
            .providers_check
        );
        let err = load(&[("YTVC_PROVIDERS_CHECK", "sometimes")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("YTVC_PROVIDERS_CHECK"), "{err}");
    }

    #[test]
    fn google_settings_are_checked_and_the_key_never_prints() {
        let err = load(&[("YTVC_MEDIA_PROVIDER", "gemini")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("GEMINI_API_KEY: required"), "{err}");
        let err = load(&[("YTVC_MEDIA_PROVIDER", "vertex")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GOOGLE_APPLICATION_CREDENTIALS: required"),
            "{err}"
        );
        let err = load(&[("GEMINI_API_KEY", "bad key-AIzaSecret")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GEMINI_API_KEY") && !err.contains("AIzaSecret"),
            "{err}"
        );
        let c = load(&[
            ("YTVC_MEDIA_PROVIDER", "gemini"),
            ("GEMINI_API_KEY", "AIzaSyTestKeyNeverPrinted"),
            ("YTVC_VEO_MODEL", "veo-3.1-generate-preview"),
            ("YTVC_GOOGLE_ENDPOINT", "http://127.0.0.1:9/"),
            ("YTVC_VIDEO_ASSEMBLY", "off"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("AIzaSyTestKeyNeverPrinted"));
        assert_eq!(
            c.media.veo_model.as_deref(),
            Some("veo-3.1-generate-preview")
        );
        assert_eq!(
            c.media.google_endpoint.as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert!(!c.media.assembly);
        let err = load(&[("YTVC_LLM_MODEL", "../admin")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("YTVC_LLM_MODEL"), "{err}");
    }
}
