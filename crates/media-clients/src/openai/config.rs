//! [`OpenAiConfig`]: where each service of an OpenAI-compatible server is
//! (base URL, key, model, timeouts), the narration voice and the still
//! sizes.

use ytvc_domain::media::Service;
use ytvc_domain::{AspectRatio, Voice};

use super::{CallTimeouts, Secret};
use crate::resilience::Backoff;

/// OpenAI's own API, the default base URL (`YTVC_OPENAI_BASE_URL`).
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// One service (storyboard, narration or stills) of the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Its own base URL (`YTVC_OPENAI_{LLM,TTS,IMAGE}_BASE_URL`, up to and
    /// including the `/v1`); `None` means [`OpenAiConfig::base_url`].
    pub base_url: Option<String>,
    /// Its own key; `None` means [`OpenAiConfig::api_key`] when the service
    /// is on the same origin (scheme, host, port) as
    /// [`OpenAiConfig::base_url`], else no key at all: a key never travels
    /// to a server it was not configured for.
    pub api_key: Option<Secret>,
    /// The model (`YTVC_OPENAI_{LLM,TTS,IMAGE}_MODEL`), sent as is (an
    /// Ollama tag such as `llama3.2:3b` is fine).
    pub model: String,
    /// Connect and total timeouts of each call.
    pub timeouts: CallTimeouts,
}

impl ServiceConfig {
    /// A service with `model` and `timeouts`, on the shared base URL and key.
    #[must_use]
    pub fn new(model: impl Into<String>, timeouts: CallTimeouts) -> Self {
        Self {
            base_url: None,
            api_key: None,
            model: model.into(),
            timeouts,
        }
    }
}

/// The `size` asked of `images/generations` per frame shape. The defaults
/// are the sizes of OpenAI's GPT image models; DALL·E 3 wants `1792x1024` /
/// `1024x1792`, LocalAI takes any `WxH`. The assembler fits any size to the
/// video frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSizes {
    /// 16:9 (default `1536x1024`).
    pub landscape: String,
    /// 9:16 (default `1024x1536`).
    pub portrait: String,
    /// 1:1 (default `1024x1024`).
    pub square: String,
}

impl ImageSizes {
    /// The size for `aspect`.
    #[must_use]
    pub fn of(&self, aspect: AspectRatio) -> &str {
        match aspect {
            AspectRatio::Landscape => &self.landscape,
            AspectRatio::Portrait => &self.portrait,
            AspectRatio::Square => &self.square,
        }
    }
}

impl Default for ImageSizes {
    fn default() -> Self {
        Self {
            landscape: "1536x1024".into(),
            portrait: "1024x1536".into(),
            square: "1024x1024".into(),
        }
    }
}

/// Everything the OpenAI-compatible provider needs. Every base URL is
/// configurable, so tests point them at a fake server.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiConfig {
    /// The shared base URL (`YTVC_OPENAI_BASE_URL`, default
    /// [`OPENAI_BASE_URL`]): `{base}/chat/completions`,
    /// `{base}/audio/speech`, `{base}/images/generations`, `{base}/models`.
    pub base_url: String,
    /// The shared key (`OPENAI_API_KEY`), sent as `Authorization: Bearer`
    /// to the services on its origin; `None` (local servers) sends no
    /// `Authorization` header at all.
    pub api_key: Option<Secret>,
    /// The storyboard writer (default `gpt-4o-mini`, 5 s / 120 s).
    pub llm: ServiceConfig,
    /// Narration (default `gpt-4o-mini-tts`, 5 s / 60 s).
    pub tts: ServiceConfig,
    /// Stills (default `gpt-image-1`, 5 s / 180 s).
    pub image: ServiceConfig,
    /// The voice for every narrated video (`YTVC_OPENAI_TTS_VOICE`, e.g.
    /// Kokoro's `af_bella`); `None` maps the request's voice to an OpenAI
    /// voice: `neutral` → `alloy`, `narrator_female` → `nova`,
    /// `narrator_male` → `onyx` (Kokoro-FastAPI maps these names to its
    /// own voices).
    pub tts_voice: Option<String>,
    /// The still sizes.
    pub image_sizes: ImageSizes,
    /// The retry settings the server passes to
    /// [`ServiceGuards::new`](crate::resilience::ServiceGuards::new).
    pub backoff: Backoff,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        let secs = std::time::Duration::from_secs;
        Self {
            base_url: OPENAI_BASE_URL.into(),
            api_key: None,
            llm: ServiceConfig::new("gpt-4o-mini", CallTimeouts::new(secs(5), secs(120))),
            tts: ServiceConfig::new("gpt-4o-mini-tts", CallTimeouts::new(secs(5), secs(60))),
            image: ServiceConfig::new("gpt-image-1", CallTimeouts::new(secs(5), secs(180))),
            tts_voice: None,
            image_sizes: ImageSizes::default(),
            backoff: Backoff::default(),
        }
    }
}

impl OpenAiConfig {
    /// Every service on `base` (tests: one fake server for all).
    #[must_use]
    pub fn with_base_url(mut self, base: &str) -> Self {
        base.trim_end_matches('/').clone_into(&mut self.base_url);
        for service in [&mut self.llm, &mut self.tts, &mut self.image] {
            service.base_url = None;
        }
        self
    }

    /// The configuration of `service`; `None` for [`Service::Veo`] (this
    /// provider makes no clips).
    #[must_use]
    pub fn service(&self, service: Service) -> Option<&ServiceConfig> {
        match service {
            Service::Llm => Some(&self.llm),
            Service::Tts => Some(&self.tts),
            Service::Imagen => Some(&self.image),
            Service::Veo => None,
        }
    }

    /// The `voice` sent to `audio/speech` for a narrated `voice`.
    #[must_use]
    pub fn tts_voice_for(&self, voice: Voice) -> &str {
        if let Some(name) = &self.tts_voice {
            return name;
        }
        match voice {
            Voice::NarratorFemale => "nova",
            Voice::NarratorMale => "onyx",
            Voice::Neutral | Voice::None => "alloy",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_voices() {
        let mut c = OpenAiConfig::default();
        assert_eq!(c.base_url, OPENAI_BASE_URL);
        assert!(c.service(Service::Veo).is_none());
        assert_eq!(c.service(Service::Tts).unwrap().model, "gpt-4o-mini-tts");
        assert_eq!(c.tts_voice_for(Voice::NarratorMale), "onyx");
        c.tts_voice = Some("af_bella".into());
        assert_eq!(c.tts_voice_for(Voice::NarratorMale), "af_bella");
        assert_eq!(c.image_sizes.of(AspectRatio::Portrait), "1024x1536");
        c.llm.base_url = Some("http://127.0.0.1:11434/v1".into());
        let c = c.with_base_url("http://127.0.0.1:9/v1/");
        assert_eq!(c.base_url, "http://127.0.0.1:9/v1");
        assert!(c.llm.base_url.is_none());
    }
}
