//! The model check of a service: a model lookup (`GET /models/{model}`,
//! else the list `GET /models`), never a billed generation.

use serde_json::Value;
use ytvc_domain::media::{MediaError, Service};

use super::OpenAiProvider;
use super::http::HttpError;
use crate::resilience::Failure;
use crate::wire::{bad_response, rejected};

/// How a model was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelLookup {
    /// `GET {base}/models/{model}` answered it (OpenAI, Ollama, Kokoro's own
    /// models).
    Retrieved,
    /// The server has no per-model route, and `GET {base}/models` lists it
    /// (vLLM, LocalAI; Kokoro's `gpt-4o-mini-tts` alias).
    Listed,
    /// The server has neither route (some speech servers): the model could
    /// not be verified, only the server reached.
    Unverifiable,
}

/// A model check that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCheck {
    /// The service checked.
    pub service: Service,
    /// Its configured model.
    pub model: String,
    /// How it was found.
    pub lookup: ModelLookup,
}

/// The most listed ids quoted in a "not found" reason.
const LISTED_IN_REASON: usize = 10;

/// Whether `id` (listed by the server) names `model`; Ollama lists
/// `llama3.2:latest` for `llama3.2`.
fn same_model(id: &str, model: &str) -> bool {
    id == model || id.strip_suffix(":latest") == Some(model)
}

/// The ids of a `GET /models` answer (`{"data": [{"id": ...}]}`; some
/// servers answer the array alone).
fn listed_ids(answer: &Value) -> Vec<&str> {
    answer
        .get("data")
        .unwrap_or(answer)
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("id").and_then(Value::as_str))
        .collect()
}

/// Whether a failed lookup means "no such route" rather than "no such
/// model": a 404 / 405 that does not name the model.
fn missing_route(error: &HttpError, model: &str) -> bool {
    matches!(error.status, Some(404 | 405))
        && error.api.code != "model_not_found"
        && !error.api.message.contains(model)
}

/// [`OpenAiProvider::check_model`].
pub(super) async fn check_model(
    p: &OpenAiProvider,
    service: Service,
) -> Result<ModelCheck, MediaError> {
    let Some(config) = p.config.service(service) else {
        return Err(super::no_clips());
    };
    let model = config.model.as_str();
    let http = p.clients.of(service);
    let guard = p.guards.get(service);
    let found = |lookup| ModelCheck {
        service,
        model: model.to_owned(),
        lookup,
    };
    let not_found =
        |detail: String| rejected(service, format!("model {model:?} not found: {detail}"));

    let one = p.url(service, &format!("models/{}", encode_segment(model)));
    let retrieved = guard
        .run(|_| async {
            match http.get(&one).await {
                Ok(_) => Ok(Ok(())),
                // A 404 is looked into below, not a failure of the call.
                Err(e) if matches!(e.status, Some(404 | 405)) => Ok(Err(e)),
                Err(e) => Err(Failure::from(e)),
            }
        })
        .await?;
    let retrieve_error = match retrieved {
        Ok(()) => return Ok(found(ModelLookup::Retrieved)),
        Err(e) => e,
    };
    let all = p.url(service, "models");
    let listed = guard
        .run(|_| async {
            match http.get(&all).await {
                Ok(bytes) => http.json(&bytes).map(Some).map_err(Failure::from),
                Err(e) if matches!(e.status, Some(404 | 405)) => Ok(None),
                Err(e) => Err(Failure::from(e)),
            }
        })
        .await?;
    let status = retrieve_error.status.unwrap_or_default();
    match listed {
        Some(answer) => {
            let ids = listed_ids(&answer);
            if ids.iter().any(|id| same_model(id, model)) {
                return Ok(found(ModelLookup::Listed));
            }
            if answer.get("data").is_none() && !answer.is_array() {
                return Err(bad_response(service, "the model list has no data"));
            }
            let mut shown: Vec<&str> = ids.iter().copied().take(LISTED_IN_REASON).collect();
            if ids.len() > LISTED_IN_REASON {
                shown.push("…");
            }
            Err(not_found(format!(
                "{}; the server lists {}",
                retrieve_error.api.reason(status),
                if shown.is_empty() {
                    "no models".to_owned()
                } else {
                    shown.join(", ")
                }
            )))
        }
        None if missing_route(&retrieve_error, model) => Ok(found(ModelLookup::Unverifiable)),
        None => Err(not_found(retrieve_error.api.reason(status))),
    }
}

/// `value` as one URL path segment (`/` and other reserved bytes
/// percent-encoded).
fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_and_names() {
        let list = json!({"object": "list", "data": [{"id": "llama3.2:latest", "object": "model"}, {"id": "qwen3:8b"}]});
        let ids = listed_ids(&list);
        assert!(ids.iter().any(|id| same_model(id, "llama3.2")));
        assert!(ids.iter().any(|id| same_model(id, "qwen3:8b")));
        assert!(!ids.iter().any(|id| same_model(id, "qwen3")));
        assert_eq!(listed_ids(&json!([{"id": "a"}])), ["a"]);
        assert_eq!(encode_segment("hf.co/x/y:Q4_K_M"), "hf.co%2Fx%2Fy:Q4_K_M");
    }
}
