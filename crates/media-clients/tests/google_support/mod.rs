//! Shared helpers of the `google_*` tests: configs pointed at a wiremock
//! server, guards that do not wait, and Google's answer bodies.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use wiremock::{MockServer, Request};
use ytvc_domain::media::{Scene, Service};
use ytvc_domain::{RawVideoRequest, VideoSpec};
use ytvc_media_clients::google::{CallTimeouts, GoogleConfig, Timeouts};
use ytvc_media_clients::resilience::{
    Backoff, BreakerConfig, CircuitBreaker, ManualClock, ServiceGuard, ServiceGuards,
};

pub const API_KEY: &str = "AIzaSy-test-key-0123456789";
pub const PROMPT: &str = "A zanzibarquux tour of tide pools, with crabs and anemones";

/// Three attempts, tiny backoff, `Retry-After` up to 1 s honoured.
pub fn backoff() -> Backoff {
    Backoff {
        max_attempts: 3,
        base: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(1),
    }
}

/// Every endpoint on `server`, short timeouts, 10 ms Veo polls.
pub fn config(server: &MockServer) -> GoogleConfig {
    let short = CallTimeouts::new(Duration::from_secs(2), Duration::from_millis(400));
    GoogleConfig {
        timeouts: Timeouts {
            llm: short,
            image: short,
            veo: short,
            tts: short,
            token: short,
        },
        veo_poll_interval: Duration::from_millis(10),
        veo_max_wait: Duration::from_secs(3),
        backoff: backoff(),
        ..GoogleConfig::default()
    }
    .with_base_url(&server.uri())
}

/// Guards that never wait between attempts (default breakers).
pub fn guards() -> ServiceGuards {
    ServiceGuards::for_tests(backoff(), ManualClock::default())
}

/// Guards whose sleeps are recorded instead of waited.
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

pub fn spec() -> VideoSpec {
    VideoSpec::parse(RawVideoRequest {
        prompt: Some(PROMPT.into()),
        duration_seconds: Some(20),
        title: Some("My own title".into()),
        ..RawVideoRequest::default()
    })
    .unwrap()
}

pub fn scene() -> Scene {
    Scene {
        index: 1,
        narration: "Crabs scuttle between the rocks.".into(),
        visual_prompt: "Close-up of a red crab in a tide pool, golden hour".into(),
        duration_seconds: 10,
    }
}

pub async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

pub fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

// ----------------------------------------------------------------- bodies

pub fn storyboard_text() -> String {
    json!({
        "title": "Life in the Tide Pools",
        "scenes": [
            {"narration": "When the tide goes out, a hidden world appears.", "visual_prompt": "Wide shot of rocky tide pools at low tide, golden hour", "duration_seconds": 10},
            {"narration": "Crabs and anemones share every pool.", "visual_prompt": "Macro shot of a green anemone beside a small crab", "duration_seconds": 10}
        ]
    })
    .to_string()
}

/// A `generateContent` answer whose text is `text` (the shape Gemini sends).
pub fn generate_content(text: &str) -> Value {
    json!({
        "candidates": [{
            "content": {"parts": [{"text": text}], "role": "model"},
            "finishReason": "STOP",
            "avgLogprobs": -0.215
        }],
        "usageMetadata": {"promptTokenCount": 389, "candidatesTokenCount": 152, "totalTokenCount": 541,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 389}]},
        "modelVersion": "gemini-3.8-flash",
        "responseId": "Xm1WaN2tKpGrvdIP-4mUsAY"
    })
}

/// A candidate stopped by the safety filters.
pub fn safety_blocked() -> Value {
    json!({
        "candidates": [{
            "finishReason": "SAFETY",
            "index": 0,
            "safetyRatings": [
                {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
                {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
                {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}
            ]
        }],
        "usageMetadata": {"promptTokenCount": 389, "totalTokenCount": 389},
        "modelVersion": "gemini-3.8-flash"
    })
}

/// A prompt blocked before generation.
pub fn prompt_blocked() -> Value {
    json!({
        "promptFeedback": {
            "blockReason": "PROHIBITED_CONTENT"
        },
        "usageMetadata": {"promptTokenCount": 389, "totalTokenCount": 389},
        "modelVersion": "gemini-3.8-flash"
    })
}

/// A per-minute rate limit: QuotaFailure on a per-minute quota + RetryInfo.
pub fn rate_limited(retry_delay: &str) -> Value {
    json!({
        "error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: gemini-3.8-flash\nPlease retry in 37.123456s.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": "gemini-3.8-flash"},
                    "quotaValue": "10"}]},
                {"@type": "type.googleapis.com/google.rpc.Help", "links": [{
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
            ]
        }
    })
}

/// A per-minute limit hit on the free tier: the Gemini API lists every quota
/// of the model it counts against, the per-day one included, and says when
/// to come back (the shape of googleapis/python-genai#2044).
pub fn rate_limited_listing_daily(retry_delay: &str) -> Value {
    let violation = |metric: &str, id: &str| {
        json!({"quotaMetric": format!("generativelanguage.googleapis.com/{metric}"),
            "quotaId": id, "quotaDimensions": {"location": "global", "model": "gemini-3.8-flash"}})
    };
    json!({
        "error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.Help", "links": [{
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                    violation("generate_content_free_tier_requests", "GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
                    violation("generate_content_free_tier_requests", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"),
                    violation("generate_content_free_tier_input_token_count", "GenerateContentInputTokensPerModelPerMinute-FreeTier")
                ]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
            ]
        }
    })
}

/// A per-day quota used up (the free tier's daily requests).
pub fn quota_exhausted() -> Value {
    json!({
        "error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 250, model: gemini-3.8-flash",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": "gemini-3.8-flash"},
                    "quotaValue": "250"}]},
                {"@type": "type.googleapis.com/google.rpc.Help", "links": [{
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]}
            ]
        }
    })
}

/// Shared capacity exhausted (Vertex "dynamic shared quota").
pub fn capacity_exhausted() -> Value {
    json!({
        "error": {
            "code": 429,
            "message": "Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
            "status": "RESOURCE_EXHAUSTED"
        }
    })
}

pub fn overloaded() -> Value {
    json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}})
}

pub fn internal() -> Value {
    json!({"error": {"code": 500, "message": "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", "status": "INTERNAL"}})
}

/// A tiny PNG (1×1, the signature is what matters).
pub fn png_bytes() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 13]);
    bytes.extend_from_slice(b"IHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0");
    bytes
}

/// The first bytes of an MP4 (an `ftyp` box) and some payload.
pub fn mp4_bytes() -> Vec<u8> {
    let mut bytes = vec![0, 0, 0, 0x20];
    bytes.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2avc1mp41");
    bytes.extend_from_slice(&[0u8; 64]);
    bytes
}

/// A WAV (16-bit mono 24 kHz) with 100 silent samples.
pub fn wav_bytes() -> Vec<u8> {
    let data_len: u32 = 200;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&24_000u32.to_le_bytes());
    b.extend_from_slice(&48_000u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    b.extend_from_slice(&vec![0u8; data_len as usize]);
    b
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Imagen `:predict` answer (a configured Imagen model on Vertex AI).
pub fn imagen_answer() -> Value {
    json!({"predictions": [{"mimeType": "image/png", "bytesBase64Encoded": b64(&png_bytes())}]})
}

/// Gemini image model answer (text part + inlineData).
pub fn gemini_image_answer() -> Value {
    json!({
        "candidates": [{
            "content": {"parts": [
                {"text": "Here is the tide pool you asked for."},
                {"inlineData": {"mimeType": "image/png", "data": b64(&png_bytes())}}
            ], "role": "model"},
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 14, "candidatesTokenCount": 1290, "totalTokenCount": 1304},
        "modelVersion": "gemini-nano-banana-2.1"
    })
}

/// Cloud Text-to-Speech `text:synthesize` answer (Vertex AI flavor).
pub fn tts_answer() -> Value {
    json!({"audioContent": b64(&wav_bytes())})
}

/// 100 samples of 16-bit little-endian mono PCM (a ramp), what Gemini TTS
/// answers.
pub fn pcm_bytes() -> Vec<u8> {
    (0..100i16).flat_map(|i| (i * 300).to_le_bytes()).collect()
}

/// A Gemini TTS `generateContent` answer: the audio as `inlineData` of
/// `mime_type` (`audio/L16;codec=pcm;rate=24000` for PCM).
pub fn gemini_tts_answer_of(mime_type: &str, audio: &[u8]) -> Value {
    json!({
        "candidates": [{
            "content": {"parts": [{"inlineData": {"mimeType": mime_type, "data": b64(audio)}}], "role": "model"},
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 83, "totalTokenCount": 91,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}],
            "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 83}]},
        "modelVersion": "gemini-3.8-flash-tts",
        "responseId": "b0NWaPq3HJ2ovdIPzZ6ZqQk"
    })
}

/// A Gemini TTS answer of [`pcm_bytes`] at 24 kHz.
pub fn gemini_tts_answer() -> Value {
    gemini_tts_answer_of("audio/L16;codec=pcm;rate=24000", &pcm_bytes())
}
