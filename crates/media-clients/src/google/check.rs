//! The model lookup of a service (`ytvc-server providers check`): a `GET`
//! of the model's resource, never a billed generation.

use ytvc_domain::media::{MediaError, Service};

use super::{Api, GoogleProvider};

/// [`GoogleProvider::check_model`].
pub(super) async fn check_model(
    p: &GoogleProvider,
    service: Service,
) -> Result<String, MediaError> {
    let model = p.model_of(service).to_owned();
    let url = match &p.api {
        Api::Gemini { base } => format!("{base}/v1beta/models/{model}"),
        // Vertex AI's Model Garden: the publisher model, not a project
        // resource (no region or project in the path, only the host).
        Api::Vertex { base, .. } => format!("{base}/v1/publishers/google/models/{model}"),
    };
    let looked_up = p
        .guards
        .get(service)
        .run(|_| async {
            let request = p.clients.of(service).client().get(&url);
            p.send_json(service, request).await.map(|_| ())
        })
        .await;
    match looked_up {
        Ok(()) => Ok(model),
        // Name the model: "not found" alone does not say which.
        Err(MediaError::Rejected { service, reason }) => Err(MediaError::Rejected {
            service,
            reason: format!("model {model:?}: {reason}"),
        }),
        Err(other) => Err(other),
    }
}

impl GoogleProvider {
    /// The configured model of `service`.
    #[must_use]
    pub fn model_of(&self, service: Service) -> &str {
        match service {
            Service::Llm => &self.config.llm_model,
            Service::Veo => &self.config.veo_model,
            Service::Imagen => &self.config.image_model,
            Service::Tts => &self.config.tts_model,
        }
    }

    /// Checks that `service`'s model exists, with a lookup rather than a
    /// billed generation: `GET {base}/v1beta/models/{model}` on the Gemini
    /// API, `GET {base}/v1/publishers/google/models/{model}` on Vertex AI,
    /// with the provider's credentials, through the service's guard. Used
    /// by `ytvc-server providers check` for Veo (whose smallest generation
    /// is a billed clip). Answers the model checked.
    ///
    /// On Vertex AI, narration is Cloud TTS, which has no model resource:
    /// check it with a short narration instead.
    ///
    /// # Errors
    ///
    /// `Rejected` naming the model (and quoting Google's message) for a
    /// 404 or a refused key; the service's `Timeout` / `Unavailable` /
    /// `CircuitOpen` when Google cannot be reached.
    pub async fn check_model(&self, service: Service) -> Result<String, MediaError> {
        check_model(self, service).await
    }
}
