//! A fake Google (wiremock) for the `gemini` provider: storyboards, Imagen
//! stills, Veo clips and narration answer from canned bodies, and Veo or TTS
//! can be down. Spawn an app against it with
//! [`Builder::with_fake_google`](crate::Builder::with_fake_google).

use base64::Engine as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The API key the app is given (it must travel in its header only).
pub const API_KEY: &str = "AIzaSy-e2e-fake-key";
/// The storyboard model.
pub const LLM: &str = "/v1beta/models/gemini-3.8-flash:generateContent";
/// The stills model (a Gemini image model, answering inline data).
pub const IMAGEN: &str = "/v1beta/models/gemini-nano-banana-2.1:generateContent";
/// The clips model (a long-running operation).
pub const VEO: &str = "/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning";
/// The Veo operation the fake hands out.
pub const OPERATION: &str = "models/veo-3.1-fast-generate-preview/operations/e2e0001";
/// The clips model's resource (`providers check` looks it up).
pub const VEO_MODEL: &str = "/v1beta/models/veo-3.1-fast-generate-preview";
/// Text to speech: Gemini's TTS model, with the same API key.
pub const TTS: &str = "/v1beta/models/gemini-3.8-flash-tts:generateContent";
/// Cloud Text-to-Speech, which refuses API keys: the `gemini` provider
/// must never call it.
pub const CLOUD_TTS: &str = "/v1/text:synthesize";

/// Which service of the fake is down (answers 503 "overloaded").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Everything answers.
    None,
    /// Veo is down.
    Veo,
    /// Text to speech is down.
    Tts,
}

/// A running fake Google.
pub struct FakeGoogle {
    server: MockServer,
}

impl FakeGoogle {
    /// Starts the fake, answering as `outage` says.
    pub async fn start(outage: Outage) -> Self {
        let google = Self {
            server: MockServer::start().await,
        };
        google.answer(outage).await;
        google
    }

    /// Forgets every mock and recorded call, then answers as `outage` says:
    /// a storyboard of two 5 s scenes, stills, the Veo model's resource,
    /// and narration and Veo clips unless they are down.
    pub async fn answer(&self, outage: Outage) {
        let server = &self.server;
        server.reset().await;
        let storyboard = json!({"title": "Harbour at night", "scenes": [
            {"narration": "Boats rest at their moorings.", "visual_prompt": "Boats in a dark harbour", "duration_seconds": 5},
            {"narration": "A lighthouse sweeps the bay.", "visual_prompt": "A lighthouse beam over water", "duration_seconds": 5}]});
        self.mount(
            "POST",
            LLM,
            ok(json!({"candidates": [{"content": {"parts": [{"text": storyboard.to_string()}], "role": "model"},
                "finishReason": "STOP"}]})),
        )
        .await;
        self.mount(
            "POST",
            IMAGEN,
            ok(json!({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": b64(&png())}}], "role": "model"}, "finishReason": "STOP"}]})),
        )
        .await;
        let tts = if outage == Outage::Tts {
            overloaded()
        } else {
            ok(
                json!({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": b64(&wav()[44..])}}], "role": "model"}, "finishReason": "STOP"}]}),
            )
        };
        self.mount("POST", TTS, tts).await;
        self.mount(
            "POST",
            CLOUD_TTS,
            ResponseTemplate::new(401).set_body_json(json!({"error": {"code": 401,
                "message": "API keys are not supported by this API.", "status": "UNAUTHENTICATED"}})),
        )
        .await;
        self.mount(
            "GET",
            VEO_MODEL,
            ok(json!({"name": "models/veo-3.1-fast-generate-preview", "version": "3.1",
                "displayName": "Veo 3.1 fast", "supportedGenerationMethods": ["predictLongRunning"]})),
        )
        .await;
        if outage == Outage::Veo {
            self.mount("POST", VEO, overloaded()).await;
            return;
        }
        let download = format!("{}/v1beta/files/e2e0001:download", server.uri());
        self.mount("POST", VEO, ok(json!({"name": OPERATION})))
            .await;
        self.mount(
            "GET",
            &format!("/v1beta/{OPERATION}"),
            ok(
                json!({"name": OPERATION, "done": true, "response": {"generateVideoResponse":
                {"generatedSamples": [{"video": {"uri": download}}]}}}),
            ),
        )
        .await;
        self.mount(
            "GET",
            "/v1beta/files/e2e0001:download",
            ResponseTemplate::new(200).set_body_bytes(b"\0\0\0\x20ftypisom-e2e-clip".to_vec()),
        )
        .await;
    }

    /// Answers `verb at` with `answer` instead of the canned mock (until the
    /// next [`answer`](Self::answer)).
    pub async fn override_answer(&self, verb: &str, at: &str, answer: ResponseTemplate) {
        Mock::given(method(verb))
            .and(path(at))
            .respond_with(answer)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    async fn mount(&self, verb: &str, at: &str, answer: ResponseTemplate) {
        Mock::given(method(verb))
            .and(path(at))
            .respond_with(answer)
            .mount(&self.server)
            .await;
    }

    /// How many calls reached `to` (a path) since the last
    /// [`answer`](Self::answer); asserts the API key travelled in its header
    /// only, on every call.
    pub async fn calls(&self, to: &str) -> usize {
        let received = self.server.received_requests().await.unwrap_or_default();
        assert!(
            received
                .iter()
                .all(|r| !r.url.as_str().contains(API_KEY)
                    && r.headers.get("x-goog-api-key").is_some()),
            "the key travels in its header only"
        );
        assert!(
            received.iter().all(|r| r.url.path() != CLOUD_TTS),
            "never Cloud TTS"
        );
        received.iter().filter(|r| r.url.path() == to).count()
    }

    /// The fake's base URL.
    #[must_use]
    pub fn uri(&self) -> String {
        self.server.uri()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A 16-bit mono 24 kHz WAV of silence.
fn wav() -> Vec<u8> {
    let data: u32 = 480;
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    for v in [1u16, 1] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for v in [24_000u32, 48_000] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for v in [2u16, 16] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    b.resize(b.len() + data as usize, 0);
    b
}

fn png() -> Vec<u8> {
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec()
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn overloaded() -> ResponseTemplate {
    ResponseTemplate::new(503).set_body_json(json!({"error": {"code": 503,
        "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}))
}
