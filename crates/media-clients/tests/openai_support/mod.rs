//! Shared helpers of the `openai_*` tests: configs pointed at a wiremock
//! server, guards that do not wait, and the answer and error bodies of
//! OpenAI's API (the shapes of openai-python's types) and of the servers
//! that imitate it (Ollama, Kokoro-FastAPI, LocalAI, llama.cpp).
//!
//! The provider-neutral helpers (spec, scene, request bodies, a PNG) are
//! the Google tests' own, included as they are.

#![allow(dead_code, unused_imports)]

#[path = "../google_support/mod.rs"]
mod google_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use google_support::{PROMPT, b64, body, png_bytes, requests, scene, spec};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use ytvc_domain::media::Service;
use ytvc_media_clients::openai::{CallTimeouts, OpenAiConfig, OpenAiProvider, Secret};
use ytvc_media_clients::resilience::{
    Backoff, BreakerConfig, CircuitBreaker, ManualClock, ServiceGuard, ServiceGuards,
};

pub const API_KEY: &str = "sk-proj-test-Q2VGnx81WjRkTh3v0123456789";
pub const LLM_PATH: &str = "/v1/chat/completions";
pub const TTS_PATH: &str = "/v1/audio/speech";
pub const IMAGE_PATH: &str = "/v1/images/generations";

/// Three attempts, tiny backoff, waits up to 1 s honoured.
pub fn backoff() -> Backoff {
    Backoff {
        max_attempts: 3,
        base: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(1),
    }
}

/// Every service on `server` under `/v1`, short timeouts, no key.
pub fn config(server: &MockServer) -> OpenAiConfig {
    let short = CallTimeouts::new(Duration::from_secs(2), Duration::from_millis(400));
    let mut config = OpenAiConfig {
        backoff: backoff(),
        ..OpenAiConfig::default()
    }
    .with_base_url(&format!("{}/v1", server.uri()));
    for service in [&mut config.llm, &mut config.tts, &mut config.image] {
        service.timeouts = short;
    }
    config
}

/// [`config`] with the shared key [`API_KEY`].
pub fn keyed(server: &MockServer) -> OpenAiConfig {
    OpenAiConfig {
        api_key: Some(Secret::new(API_KEY)),
        ..config(server)
    }
}

/// Guards that never wait between attempts (default breakers).
pub fn guards() -> ServiceGuards {
    ServiceGuards::for_tests(backoff(), ManualClock::default())
}

/// Guards whose waits are recorded instead of slept.
pub fn recording_guards() -> (ServiceGuards, Arc<Mutex<Vec<Duration>>>) {
    let slept = Arc::new(Mutex::new(Vec::new()));
    let clock = ManualClock::default();
    let record = slept.clone();
    let guards = ServiceGuards::build(|service: Service| {
        let breaker =
            CircuitBreaker::new(service, BreakerConfig::default(), Arc::new(clock.clone()));
        let record = record.clone();
        ServiceGuard::new(breaker, backoff())
            .with_jitter(Arc::new(|| 0.5))
            .with_sleep(Arc::new(move |d| {
                record.lock().unwrap().push(d);
                Box::pin(async {})
            }))
    });
    (guards, slept)
}

pub fn provider_with(config: OpenAiConfig, guards: ServiceGuards) -> OpenAiProvider {
    OpenAiProvider::new(config, guards).unwrap()
}

/// The provider with the key, on `server`.
pub fn provider(server: &MockServer) -> OpenAiProvider {
    provider_with(keyed(server), guards())
}

pub fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

pub fn status(code: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(body)
}

pub async fn mount(server: &MockServer, http_method: &str, at: &str, response: ResponseTemplate) {
    Mock::given(method(http_method))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}

/// A fake server answering `response` to every `http_method` at `at`.
pub async fn serving(http_method: &str, at: &str, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    mount(&server, http_method, at, response).await;
    server
}

/// `response` for the first `n` matching requests only (takes precedence).
pub async fn mount_first(
    server: &MockServer,
    http_method: &str,
    at: &str,
    n: u64,
    response: ResponseTemplate,
) {
    Mock::given(method(http_method))
        .and(path(at))
        .respond_with(response)
        .up_to_n_times(n)
        .with_priority(1)
        .mount(server)
        .await;
}

// ------------------------------------------------------------ chat bodies

pub fn storyboard_text() -> String {
    json!({
        "refused": false,
        "title": "Life in the Tide Pools",
        "scenes": [
            {"narration": "When the tide goes out, a hidden world appears.", "visual_prompt": "Wide shot of rocky tide pools at low tide, golden hour", "duration_seconds": 10},
            {"narration": "Crabs and anemones share every pool.", "visual_prompt": "Macro shot of a green anemone beside a small crab", "duration_seconds": 10}
        ]
    })
    .to_string()
}

/// A `ChatCompletion` (openai-python `types/chat/chat_completion.py`) whose
/// message is `message`.
pub fn completion_with(message: Value, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-BRmUgk9Z1vQJ7sWq3mX2yT8fLpAa",
        "object": "chat.completion",
        "created": 1_745_935_123,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason
        }],
        "usage": {
            "prompt_tokens": 412, "completion_tokens": 163, "total_tokens": 575,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        },
        "service_tier": "default",
        "system_fingerprint": "fp_0392822090"
    })
}

/// OpenAI's answer with `text` as the content.
pub fn completion(text: &str) -> Value {
    completion_with(
        json!({"role": "assistant", "content": text, "refusal": null, "annotations": []}),
        "stop",
    )
}

/// Ollama's `/v1/chat/completions` answer (its `openai/openai.go`): no
/// `refusal`, `fp_ollama`, the thinking in `reasoning`.
pub fn ollama_completion(text: &str) -> Value {
    json!({
        "id": "chatcmpl-512",
        "object": "chat.completion",
        "created": 1_745_935_200,
        "model": "qwen3:8b",
        "system_fingerprint": "fp_ollama",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "reasoning": "The user wants a storyboard about tide pools."},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 398, "completion_tokens": 171, "total_tokens": 569}
    })
}

/// A Structured Outputs refusal: `content` null, `refusal` set.
pub fn refusal_completion() -> Value {
    completion_with(
        json!({"role": "assistant", "content": null, "refusal": "I'm sorry, I can't assist with that request.", "annotations": []}),
        "stop",
    )
}

/// An answer cut by the content filter (Azure OpenAI's shape).
pub fn filtered_completion() -> Value {
    let mut answer = completion_with(
        json!({"role": "assistant", "content": null}),
        "content_filter",
    );
    answer["choices"][0]["content_filter_results"] =
        json!({"violence": {"filtered": true, "severity": "high"}});
    answer
}

/// OpenAI's error body (`{"error": {"message", "type", "param", "code"}}`).
pub fn openai_error(message: &str, kind: &str, param: Value, code: Value) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

pub fn insufficient_quota() -> Value {
    openai_error(
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "insufficient_quota",
        Value::Null,
        json!("insufficient_quota"),
    )
}

/// A tokens-per-minute rate limit.
pub fn rate_limited() -> Value {
    openai_error(
        "Rate limit reached for gpt-4o-mini in organization org-5d4Qk2 on tokens per min (TPM): Limit 200000, Used 199837, Requested 612. Please try again in 134ms. Visit https://platform.openai.com/account/rate-limits to learn more.",
        "tokens",
        Value::Null,
        json!("rate_limit_exceeded"),
    )
}

pub fn invalid_api_key() -> Value {
    openai_error(
        "Incorrect API key provided: sk-proj-****6789. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        Value::Null,
        json!("invalid_api_key"),
    )
}

pub fn model_not_found(model: &str) -> Value {
    openai_error(
        &format!("The model `{model}` does not exist or you do not have access to it."),
        "invalid_request_error",
        Value::Null,
        json!("model_not_found"),
    )
}

pub fn server_error() -> Value {
    openai_error(
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        Value::Null,
        Value::Null,
    )
}

pub fn overloaded() -> Value {
    openai_error(
        "The engine is currently overloaded, please try again later.",
        "server_error",
        Value::Null,
        Value::Null,
    )
}

/// Ollama's 404 for a model it has not pulled.
pub fn ollama_model_not_found(model: &str) -> Value {
    json!({"error": {"message": format!("model \"{model}\" not found, try pulling it first"), "type": "not_found_error", "param": null, "code": null}})
}

// ------------------------------------------------------------- images

/// An `ImagesResponse` (openai-python `types/images_response.py`) of a GPT
/// image model.
pub fn images_response(png: &[u8]) -> Value {
    json!({
        "created": 1_745_935_300,
        "background": "opaque",
        "data": [{"b64_json": b64(png)}],
        "output_format": "png",
        "quality": "medium",
        "size": "1536x1024",
        "usage": {"input_tokens": 31, "input_tokens_details": {"image_tokens": 0, "text_tokens": 31},
            "output_tokens": 1056, "total_tokens": 1087}
    })
}

// -------------------------------------------------------------- audio

/// A WAV as OpenAI and Kokoro-FastAPI stream it: 24 kHz mono 16-bit PCM
/// whose RIFF and `data` sizes are `0xFFFFFFFF`, with `samples` samples.
pub fn streamed_wav(samples: usize) -> Vec<u8> {
    let mut b = b"RIFF\xff\xff\xff\xffWAVEfmt ".to_vec();
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&[1, 0, 1, 0]);
    b.extend_from_slice(&24_000u32.to_le_bytes());
    b.extend_from_slice(&48_000u32.to_le_bytes());
    b.extend_from_slice(&[2, 0, 16, 0]);
    b.extend_from_slice(b"data\xff\xff\xff\xff");
    for i in 0..samples {
        b.extend_from_slice(&((i % 200) as i16 * 40).to_le_bytes());
    }
    b
}

/// The little-endian `u32` at `at`.
pub fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

pub fn wav_response(bytes: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "audio/wav")
        .set_body_bytes(bytes)
}

// ------------------------------------------------------------- models

/// A `Model` (openai-python `types/model.py`).
pub fn model_object(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": 1_721_172_741, "owned_by": "system"})
}

pub fn model_list(ids: &[&str]) -> Value {
    json!({"object": "list", "data": ids.iter().map(|id| model_object(id)).collect::<Vec<_>>()})
}
