//! The media side: the provider, the Google providers' credentials, models
//! and endpoint, retries, Veo polling, video assembly and injected faults.

use std::path::PathBuf;
use std::time::Duration;

use ytvc_media_clients::google::GoogleConfig;

use super::secret::Secret;
use super::setting::{DefaultValue, Setting};
use super::sources::{Sources, existing_file, number};

/// Which media provider the worker uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaProvider {
    /// Offline, deterministic, no credentials.
    Local,
    /// Google Gemini API (API key).
    Gemini,
    /// Google Vertex AI (service account).
    Vertex,
}

/// Settings of the media side: the Google providers' credentials, models and
/// endpoint, retries, Veo polling, and whether videos are assembled.
#[derive(Debug, Clone)]
pub struct MediaSettings {
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
    meaning: "`local`, `gemini` or `vertex`",
};
pub(super) const FAULTS: Setting = Setting {
    key: "media_faults",
    var: "YTVC_MEDIA_FAULTS",
    default: DefaultValue::Unset("none"),
    meaning: "testing only: inject media failures, e.g. `clip=always,still=calls:0+2`",
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
/// faults and the rest of the media settings.
pub(super) struct Media {
    pub(super) provider: MediaProvider,
    pub(super) faults: Option<String>,
    pub(super) settings: MediaSettings,
}

impl Media {
    /// Parses and validates the group: the `gemini` provider needs an API
    /// key, the `vertex` one a key file.
    pub(super) fn load(src: &mut Sources) -> Self {
        let provider = src.value(&PROVIDER, |s| match s {
            "local" => Ok(MediaProvider::Local),
            "gemini" => Ok(MediaProvider::Gemini),
            "vertex" => Ok(MediaProvider::Vertex),
            _ => Err("expected `local`, `gemini` or `vertex`".into()),
        });
        let faults = src.optional(&FAULTS, |s| {
            ytvc_media_clients::Flaky::<()>::parse_faults(s).map(|_| s.to_owned())
        });
        let settings = MediaSettings::load(src, provider);
        Self {
            provider,
            faults,
            settings,
        }
    }
}

impl MediaSettings {
    fn load(src: &mut Sources, provider: MediaProvider) -> Self {
        let gemini_api_key = src.optional(&GEMINI_API_KEY, |s| {
            if s.trim().is_empty() || s.len() > 512 || s.chars().any(char::is_whitespace) {
                Err("expected an API key".into())
            } else {
                Ok(Secret::new(s.to_owned()))
            }
        });
        let credentials_file = src.optional(&CREDENTIALS_FILE, existing_file);
        let settings = Self {
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
            assembly: src.value(&VIDEO_ASSEMBLY, |s| match s {
                "on" | "true" | "1" => Ok(true),
                "off" | "false" | "0" => Ok(false),
                _ => Err("expected `on` or `off`".into()),
            }),
        };
        match provider {
            MediaProvider::Gemini
                if settings.gemini_api_key.is_none() && !src.is_set(&GEMINI_API_KEY) =>
            {
                let origin = src.origin(&GEMINI_API_KEY);
                src.refuse(format!("{origin}: required by YTVC_MEDIA_PROVIDER=gemini"));
            }
            MediaProvider::Vertex
                if settings.credentials_file.is_none() && !src.is_set(&CREDENTIALS_FILE) =>
            {
                let origin = src.origin(&CREDENTIALS_FILE);
                src.refuse(format!(
                    "{origin}: required by YTVC_MEDIA_PROVIDER=vertex (a service-account key file)"
                ));
            }
            _ => {}
        }
        settings
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
    use crate::config::tests::load;

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
