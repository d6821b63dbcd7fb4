//! A fake OpenAI-compatible server (wiremock) for the `openai` provider:
//! storyboards (`chat/completions`), narration (`audio/speech`, streamed
//! like OpenAI's WAVs), stills (`images/generations`, a real PNG) and the
//! model routes (`GET models/{model}`, `GET models`) answer like OpenAI's
//! API, for the models it knows. Spawn an app against it with
//! [`Builder::with_fake_openai`](crate::Builder::with_fake_openai).

use base64::Engine as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The key the app is given.
pub const API_KEY: &str = "sk-e2e-fake-openai-key";
/// Storyboards.
pub const CHAT: &str = "/v1/chat/completions";
/// Narration.
pub const SPEECH: &str = "/v1/audio/speech";
/// Stills.
pub const IMAGES: &str = "/v1/images/generations";
/// The model list.
pub const MODELS: &str = "/v1/models";
/// The models the fake knows (the `openai` provider's defaults).
pub const KNOWN_MODELS: [&str; 3] = ["gpt-4o-mini", "gpt-4o-mini-tts", "gpt-image-1"];
/// The fake's storyboard title.
pub const TITLE: &str = "Lanterns over the river";

/// A running fake OpenAI-compatible server.
pub struct FakeOpenAi {
    server: MockServer,
}

impl FakeOpenAi {
    /// Starts the fake with its canned answers.
    pub async fn start() -> Self {
        let fake = Self {
            server: MockServer::start().await,
        };
        fake.answer().await;
        fake
    }

    /// Forgets every mock and recorded call, then answers: a storyboard of
    /// two 3 s scenes titled [`TITLE`], [`wav`] narration, [`png`] stills,
    /// and the model routes for [`KNOWN_MODELS`] (a 404 `model_not_found`
    /// for any other model).
    pub async fn answer(&self) {
        self.server.reset().await;
        let storyboard = json!({"refused": false, "title": TITLE, "scenes": [
            {"narration": "Paper lanterns drift on the dark water.", "visual_prompt": "Glowing paper lanterns on a river at night", "duration_seconds": 3},
            {"narration": "Children wave from the bank.", "visual_prompt": "Children waving on a riverbank at dusk", "duration_seconds": 3}]});
        self.mount(
            "POST",
            CHAT,
            ok(json!({
                "id": "chatcmpl-e2e0001", "object": "chat.completion", "created": 1_745_935_123,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "message": {"role": "assistant",
                    "content": storyboard.to_string(), "refusal": null}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 400, "completion_tokens": 160, "total_tokens": 560}})),
        )
        .await;
        self.mount(
            "POST",
            SPEECH,
            ResponseTemplate::new(200)
                .insert_header("content-type", "audio/wav")
                .set_body_bytes(wav()),
        )
        .await;
        self.mount(
            "POST",
            IMAGES,
            ok(json!({"created": 1_745_935_300, "data": [{"b64_json":
                base64::engine::general_purpose::STANDARD.encode(png())}],
                "output_format": "png", "size": "1024x1024"})),
        )
        .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/v1/models/.+$"))
            .respond_with(ModelLookup)
            .mount(&self.server)
            .await;
        let list: Vec<Value> = KNOWN_MODELS
            .iter()
            .map(|id| json!({"id": id, "object": "model", "created": 1_745_000_000, "owned_by": "system"}))
            .collect();
        self.mount("GET", MODELS, ok(json!({"object": "list", "data": list})))
            .await;
    }

    /// Answers the first call to `at` (a POST) with a 429 rate limit
    /// (`retry-after-ms: 20`), then as before.
    pub async fn rate_limit_once(&self, at: &str) {
        let limited = ResponseTemplate::new(429)
            .insert_header("retry-after-ms", "20")
            .set_body_json(json!({"error": {"message": "Rate limit reached for gpt-4o-mini in organization org-e2e on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20ms.",
                "type": "requests", "param": null, "code": "rate_limit_exceeded"}}));
        Mock::given(method("POST"))
            .and(path(at))
            .respond_with(limited)
            .up_to_n_times(1)
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

    /// The requests that reached `to` (a path) since the last
    /// [`answer`](Self::answer); asserts every call carried the key.
    pub async fn requests(&self, to: &str) -> Vec<Request> {
        let received = self.server.received_requests().await.unwrap_or_default();
        let bearer = format!("Bearer {API_KEY}");
        assert!(
            received.iter().all(|r| r
                .headers
                .get("authorization")
                .is_some_and(|v| v.to_str().ok() == Some(bearer.as_str()))),
            "every call carries the key"
        );
        received
            .into_iter()
            .filter(|r| r.url.path() == to)
            .collect()
    }

    /// How many calls reached `to` (see [`requests`](Self::requests)).
    pub async fn calls(&self, to: &str) -> usize {
        self.requests(to).await.len()
    }

    /// Every path called, in order.
    pub async fn paths(&self) -> Vec<String> {
        let received = self.server.received_requests().await.unwrap_or_default();
        received.iter().map(|r| r.url.path().to_owned()).collect()
    }

    /// The base URL the app is given (`…/v1`).
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.uri())
    }
}

/// `GET /v1/models/{model}`: the model object for a known model, else
/// OpenAI's 404 `model_not_found`.
struct ModelLookup;

impl Respond for ModelLookup {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let model = request.url.path().trim_start_matches("/v1/models/");
        if KNOWN_MODELS.contains(&model) {
            ok(
                json!({"id": model, "object": "model", "created": 1_745_000_000, "owned_by": "system"}),
            )
        } else {
            ResponseTemplate::new(404).set_body_json(json!({"error": {
                "message": format!("The model `{model}` does not exist or you do not have access to it."),
                "type": "invalid_request_error", "param": null, "code": "model_not_found"}}))
        }
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// The narration the fake speaks: 1 s of a 24 kHz mono 16-bit tone,
/// streamed as OpenAI streams WAVs (RIFF and `data` sizes `0xFFFFFFFF`).
#[must_use]
pub fn wav() -> Vec<u8> {
    let mut b = b"RIFF\xff\xff\xff\xffWAVEfmt ".to_vec();
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&[1, 0, 1, 0]);
    b.extend_from_slice(&24_000u32.to_le_bytes());
    b.extend_from_slice(&48_000u32.to_le_bytes());
    b.extend_from_slice(&[2, 0, 16, 0]);
    b.extend_from_slice(b"data\xff\xff\xff\xff");
    for i in 0..24_000i32 {
        // A 400 Hz triangle wave.
        let phase = i % 60;
        let sample = if phase < 30 { phase } else { 60 - phase } * 600 - 9_000;
        b.extend_from_slice(&(sample as i16).to_le_bytes());
    }
    b
}

/// The still the fake draws: a real 32×18 RGB PNG (stored deflate blocks),
/// in amber, that any decoder reads.
#[must_use]
pub fn png() -> Vec<u8> {
    let (width, height) = (32u32, 18u32);
    // Each row: filter type 0 (none), then its pixels.
    let row: Vec<u8> = std::iter::once(0)
        .chain([255u8, 176, 32].repeat(width as usize))
        .collect();
    let raw = row.repeat(height as usize);
    // zlib: header, one stored block, Adler-32.
    let mut zlib = vec![0x78, 0x01, 0x01];
    let len = raw.len() as u16;
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(&b"IHDR"[..], ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(&data);
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
