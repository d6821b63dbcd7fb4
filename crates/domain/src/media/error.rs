//! What a media port fails with: [`MediaError`], naming the external
//! [`Service`] at fault.

use std::fmt;

use serde::{Deserialize, Serialize};
use ytvc_error_codes::{Category, ErrorCode};

/// An external service the pipeline depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// The language model that writes storyboards.
    Llm,
    /// The video clip generator.
    Veo,
    /// The still image generator.
    Imagen,
    /// Text-to-speech.
    Tts,
}

impl Service {
    /// The string form (`"llm"`, `"veo"`, `"imagen"`, `"tts"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Service::Llm => "llm",
            Service::Veo => "veo",
            Service::Imagen => "imagen",
            Service::Tts => "tts",
        }
    }

    /// The catalog code for "this service cannot be used now".
    const fn unavailable_code(self) -> ErrorCode {
        match self {
            Service::Llm => ErrorCode::LlmUnavailable,
            Service::Veo => ErrorCode::VeoUnavailable,
            Service::Imagen => ErrorCode::ImagenUnavailable,
            Service::Tts => ErrorCode::TtsUnavailable,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a media port can fail with. [`MediaError::code`] is its one mapping
/// to the catalog; [`MediaError::retryable`] is the catalog's flag.
///
/// | variant | `Llm` | `Veo` / `Imagen` / `Tts` |
/// |---|---|---|
/// | `Timeout` | `LLM_001` | `MEDIA_001` / `002` / `003` |
/// | `CircuitOpen`, `Unavailable`, `Rejected` | `LLM_002` | `MEDIA_001` / `002` / `003` |
/// | `QuotaExhausted` | `LLM_002` | `MEDIA_004` |
/// | `BadResponse`, `Refused` | `LLM_003`, `LLM_004` | `VIDEO_001` |
///
/// `GenerationFailed` is `VIDEO_001`, `AssemblyFailed` is `VIDEO_004`.
/// `Disabled` (a service configured off, e.g. no clip provider) has the
/// service's `Rejected` code, is never retried and
/// [allows a fallback](MediaError::allows_fallback); the pipeline skips a
/// disabled visual without recording it as a failure.
/// The strings are for logs, never shown to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The service did not answer in time.
    #[error("{service} timed out")]
    Timeout {
        /// Which service.
        service: Service,
    },
    /// The service's circuit breaker is open: it was not called.
    #[error("{service} circuit open")]
    CircuitOpen {
        /// Which service.
        service: Service,
    },
    /// The service failed (5xx, connection refused, retries exhausted).
    #[error("{service} unavailable: {reason}")]
    Unavailable {
        /// Which service.
        service: Service,
        /// Why (for logs).
        reason: String,
    },
    /// The service refused the request itself: a 4xx other than 408 / 429
    /// (a bad key, an API not enabled for the project, an invalid
    /// argument). Trying again will not help until someone changes the
    /// configuration, so it is not retried.
    #[error("{service} rejected the request: {reason}")]
    Rejected {
        /// Which service.
        service: Service,
        /// Why (for logs).
        reason: String,
    },
    /// The service's quota at the provider is exhausted (HTTP 429 after
    /// retries, `RESOURCE_EXHAUSTED`).
    #[error("{service} quota exhausted")]
    QuotaExhausted {
        /// Which service.
        service: Service,
    },
    /// The service answered with something unusable (bad JSON, empty
    /// storyboard, undecodable media).
    #[error("{service} answer unusable: {reason}")]
    BadResponse {
        /// Which service.
        service: Service,
        /// Why (for logs).
        reason: String,
    },
    /// The service refused the request (safety filters).
    #[error("{service} refused: {reason}")]
    Refused {
        /// Which service.
        service: Service,
        /// Why (for logs).
        reason: String,
    },
    /// Generating a visual failed for another reason (e.g. the title card
    /// could not be rendered).
    #[error("generation failed: {0}")]
    GenerationFailed(String),
    /// Writing the artifact set, or assembling the video, failed.
    #[error("assembly failed: {0}")]
    AssemblyFailed(String),
    /// The service is configured off (`none`): it was not called. For a
    /// visual generator this is not a failure: the pipeline goes on to the
    /// next visual source and the scene is not degraded.
    #[error("{service} is disabled by configuration")]
    Disabled {
        /// Which service.
        service: Service,
    },
}

impl MediaError {
    /// The catalog code a client sees (see the table on [`MediaError`]).
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            MediaError::Timeout {
                service: Service::Llm,
            } => ErrorCode::LlmTimeout,
            MediaError::Timeout { service }
            | MediaError::CircuitOpen { service }
            | MediaError::Unavailable { service, .. }
            | MediaError::Rejected { service, .. }
            | MediaError::Disabled { service } => service.unavailable_code(),
            MediaError::QuotaExhausted {
                service: Service::Llm,
            } => ErrorCode::LlmUnavailable,
            MediaError::QuotaExhausted { .. } => ErrorCode::MediaQuotaExhausted,
            MediaError::BadResponse {
                service: Service::Llm,
                ..
            } => ErrorCode::LlmBadResponse,
            MediaError::Refused {
                service: Service::Llm,
                ..
            } => ErrorCode::LlmRefused,
            MediaError::BadResponse { .. }
            | MediaError::Refused { .. }
            | MediaError::GenerationFailed(_) => ErrorCode::VideoGenerationFailed,
            MediaError::AssemblyFailed(_) => ErrorCode::AssemblyFailed,
        }
    }

    /// Whether running again soon may help, which decides whether the job
    /// queue retries the video: the catalog's flag for [`code`](Self::code),
    /// except for `QuotaExhausted`, `Rejected` and `Disabled`. A provider
    /// quota that is used up (a daily one, typically), a request the
    /// service rejects (bad key, API not enabled) or a service configured
    /// off will not change within the job's retries, so the video fails at
    /// once instead of spending them (the client may still retry later, as
    /// the catalog says).
    #[must_use]
    pub fn retryable(&self) -> bool {
        !matches!(
            self,
            MediaError::QuotaExhausted { .. }
                | MediaError::Rejected { .. }
                | MediaError::Disabled { .. }
        ) && self.code().retryable()
    }

    /// Whether the pipeline falls back to the next visual source after this
    /// error from a visual generator: any `MEDIA_*` or `VIDEO_001` code, an
    /// open circuit, or a disabled service. Anything else (e.g. `VIDEO_004`)
    /// stops the run.
    #[must_use]
    pub fn allows_fallback(&self) -> bool {
        let code = self.code();
        matches!(
            self,
            MediaError::CircuitOpen { .. } | MediaError::Disabled { .. }
        ) || code.category() == Category::Media
            || code == ErrorCode::VideoGenerationFailed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_and_retryable_flags() {
        use ErrorCode as C;
        let s = String::new;
        let cases = [
            (
                MediaError::Timeout {
                    service: Service::Llm,
                },
                C::LlmTimeout,
                true,
            ),
            (
                MediaError::CircuitOpen {
                    service: Service::Llm,
                },
                C::LlmUnavailable,
                true,
            ),
            (
                MediaError::BadResponse {
                    service: Service::Llm,
                    reason: s(),
                },
                C::LlmBadResponse,
                true,
            ),
            (
                MediaError::Refused {
                    service: Service::Llm,
                    reason: s(),
                },
                C::LlmRefused,
                false,
            ),
            (
                MediaError::Timeout {
                    service: Service::Veo,
                },
                C::VeoUnavailable,
                true,
            ),
            (
                MediaError::CircuitOpen {
                    service: Service::Imagen,
                },
                C::ImagenUnavailable,
                true,
            ),
            (
                MediaError::Unavailable {
                    service: Service::Tts,
                    reason: s(),
                },
                C::TtsUnavailable,
                true,
            ),
            (
                MediaError::QuotaExhausted {
                    service: Service::Veo,
                },
                C::MediaQuotaExhausted,
                false,
            ),
            (
                MediaError::QuotaExhausted {
                    service: Service::Llm,
                },
                C::LlmUnavailable,
                false,
            ),
            (
                MediaError::Refused {
                    service: Service::Veo,
                    reason: s(),
                },
                C::VideoGenerationFailed,
                true,
            ),
            (
                MediaError::GenerationFailed(s()),
                C::VideoGenerationFailed,
                true,
            ),
            (MediaError::AssemblyFailed(s()), C::AssemblyFailed, false),
            (
                MediaError::Rejected {
                    service: Service::Tts,
                    reason: s(),
                },
                C::TtsUnavailable,
                false,
            ),
            (
                MediaError::Disabled {
                    service: Service::Veo,
                },
                C::VeoUnavailable,
                false,
            ),
        ];
        for (error, code, retryable) in cases {
            assert_eq!(error.code(), code, "{error}");
            assert_eq!(error.retryable(), retryable, "{error}");
            if !matches!(
                error,
                MediaError::QuotaExhausted { .. }
                    | MediaError::Rejected { .. }
                    | MediaError::Disabled { .. }
            ) {
                assert_eq!(error.retryable(), code.retryable());
            }
        }
        assert_eq!(ErrorCode::LlmTimeout.as_str(), "LLM_001");
    }

    #[test]
    fn fallback_rule() {
        assert!(
            MediaError::Timeout {
                service: Service::Veo
            }
            .allows_fallback()
        );
        assert!(
            MediaError::QuotaExhausted {
                service: Service::Imagen
            }
            .allows_fallback()
        );
        assert!(MediaError::GenerationFailed("x".into()).allows_fallback());
        assert!(
            MediaError::CircuitOpen {
                service: Service::Llm
            }
            .allows_fallback()
        );
        assert!(
            MediaError::Disabled {
                service: Service::Imagen
            }
            .allows_fallback()
        );
        assert!(!MediaError::AssemblyFailed("x".into()).allows_fallback());
        assert!(
            !MediaError::Timeout {
                service: Service::Llm
            }
            .allows_fallback()
        );
    }
}
