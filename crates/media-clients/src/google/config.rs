//! [`GoogleConfig`]: endpoints, models, timeouts and polling of the Google
//! adapters, and [`Secret`], which keeps keys and tokens out of logs.

use std::fmt;
use std::time::Duration;

use ytvc_domain::Voice;
use ytvc_domain::media::Service;

use crate::resilience::Backoff;

/// A secret string (API key, private key, access token). `Debug` and
/// `Display` print `***`; the value is read only with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value: only for putting it on the wire.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// Connect and total timeouts of one service's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallTimeouts {
    /// Establishing the connection (TCP + TLS).
    pub connect: Duration,
    /// The whole call: connect, send, wait, read the body.
    pub total: Duration,
}

impl CallTimeouts {
    /// `connect` and `total`.
    #[must_use]
    pub const fn new(connect: Duration, total: Duration) -> Self {
        Self { connect, total }
    }
}

/// The timeouts of every service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// `generateContent` for the storyboard (default 5 s / 60 s).
    pub llm: CallTimeouts,
    /// Still images (default 5 s / 60 s).
    pub image: CallTimeouts,
    /// Each Veo call: the submit, one poll, the video download (default
    /// 5 s / 120 s). The whole generation is bounded by
    /// [`GoogleConfig::veo_max_wait`].
    pub veo: CallTimeouts,
    /// Narration: Gemini TTS `generateContent` or Cloud TTS
    /// `text:synthesize` (default 5 s / 90 s: Gemini TTS answers once the
    /// whole narration is spoken).
    pub tts: CallTimeouts,
    /// The OAuth token endpoint (Vertex; default 5 s / 15 s).
    pub token: CallTimeouts,
}

impl Timeouts {
    /// The timeouts of `service`'s calls.
    #[must_use]
    pub const fn of(&self, service: Service) -> CallTimeouts {
        match service {
            Service::Llm => self.llm,
            Service::Veo => self.veo,
            Service::Imagen => self.image,
            Service::Tts => self.tts,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        let secs = Duration::from_secs;
        Self {
            llm: CallTimeouts::new(secs(5), secs(60)),
            image: CallTimeouts::new(secs(5), secs(60)),
            veo: CallTimeouts::new(secs(5), secs(120)),
            tts: CallTimeouts::new(secs(5), secs(90)),
            token: CallTimeouts::new(secs(5), secs(15)),
        }
    }
}

/// How still images are generated. The Imagen 4 models were shut down on
/// 2026-08-17 and the Gemini API no longer serves `:predict` for images, so
/// the default is a Gemini image model; an Imagen model can still be
/// configured where one is served (Vertex AI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageBackend {
    /// Imagen: `models/{m}:predict`, answer `predictions[0].bytesBase64Encoded`.
    Imagen,
    /// A Gemini image model: `models/{m}:generateContent` with
    /// `responseModalities: ["IMAGE"]`, answer `inlineData`.
    Gemini,
}

impl ImageBackend {
    /// The backend a model name implies: `imagen*` → [`Imagen`](Self::Imagen),
    /// anything else → [`Gemini`](Self::Gemini).
    #[must_use]
    pub fn for_model(model: &str) -> Self {
        if model.trim().to_ascii_lowercase().starts_with("imagen") {
            ImageBackend::Imagen
        } else {
            ImageBackend::Gemini
        }
    }
}

/// The voice of each narrated domain [`Voice`]: a prebuilt voice name, one
/// of the 30 that Gemini TTS offers (and Cloud TTS Chirp 3: HD offers under
/// the same names).
///
/// | `voice` | default | Google's description (Chirp 3: HD gender) |
/// |---|---|---|
/// | `narrator_male` | `Charon` | Informative (male) |
/// | `narrator_female` | `Kore` | Firm (female) |
/// | `neutral` | `Schedar` | Even (male; Google documents no gender-neutral voice, so `neutral` is the even-toned one) |
/// | `none` | — | no narration |
///
/// On the Gemini API the name is the `voiceName`; it must be a prebuilt
/// voice name (letters only). On Vertex AI (Cloud TTS) it becomes the
/// Chirp 3: HD voice `{languageCode}-Chirp3-HD-{name}` where the language has
/// Chirp 3: HD voices; a name with a `-` is taken as a complete Cloud TTS
/// voice name (e.g. `en-GB-Neural2-B`), which must belong to the narration
/// language, so set one only for single-language deployments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtsVoices {
    /// For [`Voice::NarratorMale`] (default `Charon`).
    pub male: String,
    /// For [`Voice::NarratorFemale`] (default `Kore`).
    pub female: String,
    /// For [`Voice::Neutral`] (default `Schedar`).
    pub neutral: String,
}

impl Default for TtsVoices {
    fn default() -> Self {
        Self {
            male: "Charon".into(),
            female: "Kore".into(),
            neutral: "Schedar".into(),
        }
    }
}

impl TtsVoices {
    /// The voice name for `voice`; `None` for [`Voice::None`].
    #[must_use]
    pub fn name(&self, voice: Voice) -> Option<&str> {
        match voice {
            Voice::NarratorMale => Some(&self.male),
            Voice::NarratorFemale => Some(&self.female),
            Voice::Neutral => Some(&self.neutral),
            Voice::None => None,
        }
    }
}

/// Everything the Google adapters need besides credentials. Every base URL
/// is configurable, so tests point them at a fake server.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleConfig {
    /// The Gemini Developer API (`https://generativelanguage.googleapis.com`);
    /// requests go to `{base}/v1beta/models/{model}:{method}`.
    pub gemini_base_url: String,
    /// The Vertex AI endpoint; `None` means the location's own:
    /// `https://aiplatform.googleapis.com` (`global`),
    /// `https://aiplatform.{us,eu}.rep.googleapis.com` (the multi-regions
    /// `us`, `eu`), `https://{region}-aiplatform.googleapis.com` (a region).
    /// Requests go to
    /// `{base}/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}`.
    pub vertex_base_url: Option<String>,
    /// Cloud Text-to-Speech (`https://texttospeech.googleapis.com`), the
    /// Vertex AI flavor's narrator; requests go to
    /// `{base}/v1/text:synthesize`. (The Gemini API flavor narrates with
    /// [`tts_model`](Self::tts_model): Cloud TTS does not take its API key.)
    pub tts_base_url: String,
    /// Cloud Storage, for a Vertex Veo answer that names a `gs://` object
    /// (`https://storage.googleapis.com`).
    pub storage_base_url: String,
    /// The storyboard model (default [`GoogleConfig::DEFAULT_LLM_MODEL`],
    /// `gemini-3.8-flash`, the same id on both APIs).
    pub llm_model: String,
    /// The still image model (default [`GoogleConfig::DEFAULT_IMAGE_MODEL`],
    /// `gemini-nano-banana-2.1`, the same id on both APIs).
    pub image_model: String,
    /// The image backend; `None` = [`ImageBackend::for_model`] of
    /// `image_model`.
    pub image_backend: Option<ImageBackend>,
    /// The clip model (default [`GoogleConfig::DEFAULT_VEO_MODEL`],
    /// `veo-3.1-fast-generate-preview`, the Gemini API's id). Veo ids differ
    /// between the APIs: [`GoogleProvider::vertex`](super::GoogleProvider::vertex)
    /// replaces this default (and only this value) with
    /// [`GoogleConfig::DEFAULT_VERTEX_VEO_MODEL`], `veo-3.1-fast-generate-001`.
    pub veo_model: String,
    /// The `durationSeconds` asked of Veo (default 8, what Veo 3 makes;
    /// `None` leaves it to the model). Shorter scenes cut the clip, longer
    /// ones loop or freeze it (the assembler's rules).
    pub veo_duration_seconds: Option<u32>,
    /// The `parameters.generateAudio` asked of Veo on Vertex AI (default
    /// `false`). Veo 3 clips carry their own audio, but the assembler
    /// (`ytvc-assembly`) reads only a clip's video track and lays the
    /// narration alone on the sound track, so clip audio would be dropped
    /// anyway: asking for none saves the work. The Gemini API refuses the
    /// parameter (the Gen AI SDK raises for it), so it is never sent there;
    /// its clips come with audio, which is dropped.
    pub veo_generate_audio: bool,
    /// The narration model of the Gemini API flavor (default
    /// [`GoogleConfig::DEFAULT_TTS_MODEL`], `gemini-3.8-flash-tts`), called
    /// with `generateContent` and the API key.
    pub tts_model: String,
    /// The voice of each domain voice (see [`TtsVoices`]).
    pub tts_voices: TtsVoices,
    /// The `sampleRateHertz` asked of Cloud TTS (Vertex; default 24000).
    /// Gemini TTS answers at its own rate (24 kHz), kept as answered.
    pub tts_sample_rate_hertz: u32,
    /// Per-service connect and total timeouts.
    pub timeouts: Timeouts,
    /// The wait between two polls of a Veo operation (default 10 s).
    pub veo_poll_interval: Duration,
    /// The longest a Veo generation may take, submit to result (default
    /// 6 min); past it the clip fails with `Timeout` (`MEDIA_001`).
    pub veo_max_wait: Duration,
    /// Consecutive failed polls of a Veo operation tolerated before giving
    /// up (default 3).
    pub veo_max_poll_failures: u32,
    /// An OAuth access token is refreshed this long before it expires
    /// (default 5 min).
    pub token_refresh_margin: Duration,
    /// The retry settings the server passes to
    /// [`ServiceGuards::new`](crate::resilience::ServiceGuards::new).
    pub backoff: Backoff,
}

impl GoogleConfig {
    /// The default storyboard model: Gemini 3.8 Flash (GA 2026-09-02, no
    /// shutdown date announced; `gemini-2.5-flash` was shut down in June
    /// 2026).
    pub const DEFAULT_LLM_MODEL: &'static str = "gemini-3.8-flash";
    /// The default still image model: Nano Banana 2.1 (GA 2026-10-06;
    /// `imagen-4.0-generate-001` was shut down on 2026-08-17,
    /// `gemini-3.1-flash-image` on 2026-10-29).
    pub const DEFAULT_IMAGE_MODEL: &'static str = "gemini-nano-banana-2.1";
    /// The default clip model on the Gemini API: the Veo 3.1 Fast preview id
    /// Google named as the replacement of `veo-3.0-fast-generate-001` (shut
    /// down on 2026-06-30).
    pub const DEFAULT_VEO_MODEL: &'static str = "veo-3.1-fast-generate-preview";
    /// The default clip model on Vertex AI: Veo 3.1 Fast, GA.
    pub const DEFAULT_VERTEX_VEO_MODEL: &'static str = "veo-3.1-fast-generate-001";
    /// The default narration model on the Gemini API: Gemini 3.8 Flash TTS
    /// (GA 2026-09-22; Google's pick for narration; the `*-preview-tts`
    /// models are being shut down).
    pub const DEFAULT_TTS_MODEL: &'static str = "gemini-3.8-flash-tts";
}

impl Default for GoogleConfig {
    fn default() -> Self {
        Self {
            gemini_base_url: "https://generativelanguage.googleapis.com".into(),
            vertex_base_url: None,
            tts_base_url: "https://texttospeech.googleapis.com".into(),
            storage_base_url: "https://storage.googleapis.com".into(),
            llm_model: Self::DEFAULT_LLM_MODEL.into(),
            image_model: Self::DEFAULT_IMAGE_MODEL.into(),
            image_backend: None,
            veo_model: Self::DEFAULT_VEO_MODEL.into(),
            veo_duration_seconds: Some(8),
            veo_generate_audio: false,
            tts_model: Self::DEFAULT_TTS_MODEL.into(),
            tts_voices: TtsVoices::default(),
            tts_sample_rate_hertz: 24_000,
            timeouts: Timeouts::default(),
            veo_poll_interval: Duration::from_secs(10),
            veo_max_wait: Duration::from_secs(360),
            veo_max_poll_failures: 3,
            token_refresh_margin: Duration::from_secs(300),
            backoff: Backoff::default(),
        }
    }
}

impl GoogleConfig {
    /// The image backend in use.
    #[must_use]
    pub fn image_backend(&self) -> ImageBackend {
        self.image_backend
            .unwrap_or_else(|| ImageBackend::for_model(&self.image_model))
    }

    /// Every base URL pointed at `base` (tests: one fake server for all).
    #[must_use]
    pub fn with_base_url(mut self, base: &str) -> Self {
        let base = base.trim_end_matches('/').to_owned();
        self.gemini_base_url.clone_from(&base);
        self.vertex_base_url = Some(base.clone());
        self.tts_base_url.clone_from(&base);
        self.storage_base_url = base;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("AIzaSyTOPSECRET");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "AIzaSyTOPSECRET");
    }

    #[test]
    fn image_backend_from_model_name() {
        let mut c = GoogleConfig::default();
        assert_eq!(c.image_backend(), ImageBackend::Gemini);
        c.image_model = "imagen-4.0-generate-001".into();
        assert_eq!(c.image_backend(), ImageBackend::Imagen);
        c.image_backend = Some(ImageBackend::Gemini);
        assert_eq!(c.image_backend(), ImageBackend::Gemini);
    }
}
