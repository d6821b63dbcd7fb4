//! The Gemini API flavor of the Google adapters against a fake server
//! replaying Google's answer and error bodies.

mod google_support;

use std::time::Duration;

use google_support::*;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use ytvc_domain::media::{
    MediaError, MediaFormat, Narrator, ScriptWriter, Service, VisualGenerator, script_request,
};
use ytvc_domain::screen::{USER_PROMPT_CLOSE, USER_PROMPT_OPEN};
use ytvc_domain::{AspectRatio, Language, Voice};
use ytvc_media_clients::google::{GoogleConfig, GoogleProvider, Secret};
use ytvc_media_clients::resilience::{BreakerState, ServiceGuards};

const LLM_PATH: &str = "/v1beta/models/gemini-3.8-flash:generateContent";
const IMAGE_PATH: &str = "/v1beta/models/gemini-nano-banana-2.1:generateContent";
const VEO_PATH: &str = "/v1beta/models/veo-3.1-fast-generate-preview:predictLongRunning";
const OP_NAME: &str = "models/veo-3.1-fast-generate-preview/operations/qb7kx2n1f9zd";
const TTS_PATH: &str = "/v1beta/models/gemini-3.8-flash-tts:generateContent";
const CLOUD_TTS_PATH: &str = "/v1/text:synthesize";

fn provider(server: &MockServer) -> GoogleProvider {
    provider_with(config(server), guards())
}

fn provider_with(config: GoogleConfig, guards: ServiceGuards) -> GoogleProvider {
    GoogleProvider::gemini(config, Secret::new(API_KEY), guards).unwrap()
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

async fn mount(server: &MockServer, http_method: &str, at: &str, response: ResponseTemplate) {
    Mock::given(method(http_method))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}

/// `response` for the first `n` matching requests only (takes precedence).
async fn mount_first(
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

fn code(error: &MediaError) -> &'static str {
    error.code().as_str()
}

// ------------------------------------------------------------------ LLM

#[tokio::test]
async fn storyboard_prompt_is_only_delimited_data_and_key_is_a_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(LLM_PATH))
        .and(header("x-goog-api-key", API_KEY))
        .respond_with(ok(generate_content(&storyboard_text())))
        .expect(1)
        .mount(&server)
        .await;
    let storyboard = provider(&server).write_script(&spec()).await.unwrap();
    assert_eq!(storyboard.title, "Life in the Tide Pools");
    assert_eq!(storyboard.scenes.len(), 2);
    assert_eq!(storyboard.scenes[1].index, 2);

    let received = requests(&server).await;
    let request = &received[0];
    assert!(request.url.query().is_none(), "no key in the URL");
    assert!(!request.url.as_str().contains(API_KEY));
    let body = body(request);
    let expected = script_request(&spec());
    let system = body["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert_eq!(system, expected.system_instructions);
    assert!(!system.contains("zanzibarquux") && !system.contains("My own title"));
    let contents = body["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 1);
    assert_eq!(contents[0]["role"], "user");
    let user = contents[0]["parts"][0]["text"].as_str().unwrap();
    assert_eq!(
        user,
        format!("{USER_PROMPT_OPEN}\n{PROMPT}\n{USER_PROMPT_CLOSE}")
    );
    assert_eq!(
        body["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert_eq!(
        body["generationConfig"]["responseSchema"]["properties"]["scenes"]["type"],
        "ARRAY"
    );
    // The prompt appears exactly once in the whole request.
    assert_eq!(
        String::from_utf8_lossy(&request.body)
            .matches("zanzibarquux")
            .count(),
        1
    );
}

#[tokio::test]
async fn malformed_storyboard_is_repaired_once_then_llm_003() {
    let server = MockServer::start().await;
    let bad = "Sure! Here is your storyboard: {\"title\": \"Tide pools\", \"scenes\": [";
    mount(&server, "POST", LLM_PATH, ok(generate_content(bad))).await;
    let error = provider(&server).write_script(&spec()).await.unwrap_err();
    assert_eq!(code(&error), "LLM_003");
    assert!(matches!(
        error,
        MediaError::BadResponse {
            service: Service::Llm,
            ..
        }
    ));

    let received = requests(&server).await;
    assert_eq!(received.len(), 2, "one answer, one repair");
    let repair = body(&received[1]);
    let contents = repair["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 3);
    assert_eq!(
        contents[0]["parts"][0]["text"],
        format!("{USER_PROMPT_OPEN}\n{PROMPT}\n{USER_PROMPT_CLOSE}")
    );
    assert_eq!(contents[1]["role"], "model");
    assert_eq!(contents[1]["parts"][0]["text"], bad);
    assert_eq!(contents[2]["role"], "user");
    let ask = contents[2]["parts"][0]["text"].as_str().unwrap();
    assert!(ask.contains("JSON") && !ask.contains("zanzibarquux"));
    assert_eq!(
        repair["systemInstruction"],
        body(&received[0])["systemInstruction"]
    );
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_asked_again_once_then_llm_003() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        LLM_PATH,
        ResponseTemplate::new(200).set_body_string("{\"candidates\": [{\"content\": "),
    )
    .await;
    let error = provider(&server).write_script(&spec()).await.unwrap_err();
    assert_eq!(code(&error), "LLM_003");
    let received = requests(&server).await;
    assert_eq!(received.len(), 2);
    assert_eq!(body(&received[1]), body(&received[0]), "same request again");
}

#[tokio::test]
async fn a_repaired_storyboard_is_used() {
    let server = MockServer::start().await;
    mount_first(
        &server,
        "POST",
        LLM_PATH,
        1,
        ok(generate_content(r#"{"title": "Tide pools", "scenes": []}"#)),
    )
    .await;
    mount(
        &server,
        "POST",
        LLM_PATH,
        ok(generate_content(&storyboard_text())),
    )
    .await;
    let storyboard = provider(&server).write_script(&spec()).await.unwrap();
    assert_eq!(storyboard.scenes.len(), 2);
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn safety_blocks_and_refusals_are_final_llm_004() {
    for answer in [
        safety_blocked(),
        prompt_blocked(),
        generate_content(r#"{"refused": true}"#),
    ] {
        let server = MockServer::start().await;
        mount(&server, "POST", LLM_PATH, ok(answer.clone())).await;
        let error = provider(&server).write_script(&spec()).await.unwrap_err();
        assert_eq!(code(&error), "LLM_004", "{answer}");
        assert!(!error.retryable());
        assert_eq!(requests(&server).await.len(), 1, "{answer}");
    }
}

#[tokio::test]
async fn rate_limit_with_retry_info_is_retried_after_the_servers_delay() {
    // A per-minute violation; then the free tier's usual list, where a
    // per-day quota sits beside the per-minute ones: retried, not final.
    for (answer, waited) in [
        (rate_limited("0.05s"), 50),
        (rate_limited_listing_daily("0.04s"), 40),
    ] {
        let server = MockServer::start().await;
        mount_first(
            &server,
            "POST",
            LLM_PATH,
            1,
            ResponseTemplate::new(429).set_body_json(answer),
        )
        .await;
        mount(
            &server,
            "POST",
            LLM_PATH,
            ok(generate_content(&storyboard_text())),
        )
        .await;
        let (guards, slept) = recording_guards();
        let provider = provider_with(config(&server), guards);
        provider.write_script(&spec()).await.unwrap();
        assert_eq!(requests(&server).await.len(), 2);
        assert_eq!(*slept.lock().unwrap(), [Duration::from_millis(waited)]);
    }
}

#[tokio::test]
async fn capacity_429_is_retried_until_max_attempts() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        LLM_PATH,
        ResponseTemplate::new(429).set_body_json(capacity_exhausted()),
    )
    .await;
    let error = provider(&server).write_script(&spec()).await.unwrap_err();
    assert_eq!(code(&error), "LLM_002");
    assert!(matches!(error, MediaError::Unavailable { .. }));
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn exhausted_quota_is_final_and_not_held_against_the_service() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        LLM_PATH,
        ResponseTemplate::new(429).set_body_json(quota_exhausted()),
    )
    .await;
    mount(
        &server,
        "POST",
        VEO_PATH,
        ResponseTemplate::new(429).set_body_json(quota_exhausted()),
    )
    .await;
    let provider = provider(&server);
    let error = provider.write_script(&spec()).await.unwrap_err();
    assert_eq!(
        error,
        MediaError::QuotaExhausted {
            service: Service::Llm
        }
    );
    assert_eq!(code(&error), "LLM_002");
    assert_eq!(requests(&server).await.len(), 1, "never retried");

    let error = provider
        .clip(&scene(), AspectRatio::Landscape)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "MEDIA_004");
    assert_eq!(requests(&server).await.len(), 2);

    for _ in 0..15 {
        let _ = provider.write_script(&spec()).await;
    }
    assert_eq!(provider.guards().llm.state(), BreakerState::Closed);
    assert_eq!(requests(&server).await.len(), 17);
}

#[tokio::test]
async fn server_errors_are_retried_then_unavailable() {
    for (status, answer) in [(503, overloaded()), (500, internal())] {
        let server = MockServer::start().await;
        mount(
            &server,
            "POST",
            LLM_PATH,
            ResponseTemplate::new(status).set_body_json(answer),
        )
        .await;
        let error = provider(&server).write_script(&spec()).await.unwrap_err();
        assert!(matches!(error, MediaError::Unavailable { .. }), "{error}");
        assert_eq!(code(&error), "LLM_002");
        assert_eq!(requests(&server).await.len(), 3, "max_attempts");
    }
}

#[tokio::test]
async fn client_errors_are_final() {
    let server = MockServer::start().await;
    let answer = json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"}}]}});
    mount(
        &server,
        "POST",
        LLM_PATH,
        ResponseTemplate::new(400).set_body_json(answer),
    )
    .await;
    let error = provider(&server).write_script(&spec()).await.unwrap_err();
    assert_eq!(code(&error), "LLM_002");
    assert!(!error.to_string().contains(API_KEY));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn slow_answers_time_out() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        LLM_PATH,
        ok(generate_content(&storyboard_text())).set_delay(Duration::from_secs(2)),
    )
    .await;
    mount(
        &server,
        "POST",
        TTS_PATH,
        ok(gemini_tts_answer()).set_delay(Duration::from_secs(2)),
    )
    .await;
    let mut config = config(&server);
    config.backoff.max_attempts = 1;
    let provider = provider_with(
        config,
        ServiceGuards::for_tests(
            ytvc_media_clients::resilience::Backoff {
                max_attempts: 1,
                ..backoff()
            },
            Default::default(),
        ),
    );
    let error = provider.write_script(&spec()).await.unwrap_err();
    assert_eq!(
        error,
        MediaError::Timeout {
            service: Service::Llm
        }
    );
    assert_eq!(code(&error), "LLM_001");
    let language = Language::parse("en").unwrap();
    let error = provider
        .narrate(&scene(), Voice::Neutral, &language)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "MEDIA_003");
    assert!(matches!(error, MediaError::Timeout { .. }));
}

// --------------------------------------------------------------- images

#[tokio::test]
async fn the_default_still_is_a_gemini_image_model_reading_inline_data() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(IMAGE_PATH))
        .and(header("x-goog-api-key", API_KEY))
        .respond_with(ok(gemini_image_answer()))
        .mount(&server)
        .await;
    let blob = provider(&server)
        .still(&scene(), AspectRatio::Square)
        .await
        .unwrap();
    assert_eq!(blob.format, MediaFormat::Png);
    assert_eq!(blob.bytes, png_bytes());
    let body = body(&requests(&server).await[0]);
    assert_eq!(
        body["contents"][0]["parts"][0]["text"],
        scene().visual_prompt
    );
    assert_eq!(
        body["generationConfig"]["responseModalities"],
        json!(["IMAGE"])
    );
    assert_eq!(
        body["generationConfig"]["imageConfig"]["aspectRatio"],
        "1:1"
    );
}

#[tokio::test]
async fn filtered_or_unusable_images_are_video_001_and_final() {
    let candidate = |parts: Value, finish: &str| {
        json!({"candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": finish, "index": 0}],
            "modelVersion": "gemini-nano-banana-2.1"})
    };
    let cases = [
        (candidate(json!([]), "IMAGE_SAFETY"), "refused"),
        (
            json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "modelVersion": "gemini-nano-banana-2.1"}),
            "refused",
        ),
        (
            candidate(
                json!([{"text": "I can only describe that picture."}]),
                "STOP",
            ),
            "bad",
        ),
        (
            candidate(
                json!([{"inlineData": {"mimeType": "image/webp", "data": b64(b"RIFF....WEBPVP8 ")}}]),
                "STOP",
            ),
            "bad",
        ),
    ];
    for (answer, kind) in cases {
        let server = MockServer::start().await;
        mount(&server, "POST", IMAGE_PATH, ok(answer.clone())).await;
        let error = provider(&server)
            .still(&scene(), AspectRatio::Landscape)
            .await
            .unwrap_err();
        assert_eq!(code(&error), "VIDEO_001", "{answer}");
        match kind {
            "refused" => assert!(matches!(error, MediaError::Refused { .. }), "{answer}"),
            _ => assert!(matches!(error, MediaError::BadResponse { .. }), "{answer}"),
        }
        assert_eq!(requests(&server).await.len(), 1, "{answer}");
    }
}

// ------------------------------------------------------------------ TTS

#[tokio::test]
async fn narration_goes_through_gemini_tts_with_the_api_key_never_cloud_tts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TTS_PATH))
        .and(header("x-goog-api-key", API_KEY))
        .respond_with(ok(gemini_tts_answer()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(CLOUD_TTS_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {"code": 401,
            "message": "API keys are not supported by this API. Expected OAuth2 access token or other authentication credentials that assert a principal.",
            "status": "UNAUTHENTICATED"}})))
        .expect(0)
        .mount(&server)
        .await;
    let language = Language::parse("pt-BR").unwrap();
    let blob = provider(&server)
        .narrate(&scene(), Voice::NarratorFemale, &language)
        .await
        .unwrap();
    assert_eq!(blob.format, MediaFormat::Wav);
    // The PCM in a RIFF header: 16-bit mono at the answered 24 kHz.
    let wav = &blob.bytes;
    assert_eq!(&wav[0..4], b"RIFF");
    assert_eq!(&wav[8..16], b"WAVEfmt ");
    assert_eq!(u16::from_le_bytes([wav[20], wav[21]]), 1, "PCM");
    assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 1, "mono");
    assert_eq!(
        u32::from_le_bytes([wav[24], wav[25], wav[26], wav[27]]),
        24_000
    );
    assert_eq!(u16::from_le_bytes([wav[34], wav[35]]), 16, "bits");
    assert_eq!(&wav[36..40], b"data");
    assert_eq!(&wav[44..], pcm_bytes());

    let received = requests(&server).await;
    assert_eq!(received.len(), 1);
    assert!(received[0].url.query().is_none(), "no key in the URL");
    let body = body(&received[0]);
    assert_eq!(
        body,
        json!({
            "contents": [{"role": "user", "parts": [{"text": scene().narration}]}],
            "generationConfig": {
                "responseModalities": ["AUDIO"],
                "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}
            }
        })
    );
}

#[tokio::test]
async fn each_voice_is_one_prebuilt_gemini_voice_and_none_calls_nothing() {
    let server = MockServer::start().await;
    mount(&server, "POST", TTS_PATH, ok(gemini_tts_answer())).await;
    let provider = provider(&server);
    let language = Language::parse("ja").unwrap();
    for (voice, name) in [
        (Voice::NarratorMale, "Charon"),
        (Voice::NarratorFemale, "Kore"),
        (Voice::Neutral, "Schedar"),
    ] {
        provider.narrate(&scene(), voice, &language).await.unwrap();
        let received = requests(&server).await;
        let body = body(received.last().unwrap());
        assert_eq!(
            body["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"],
            name,
            "{voice:?}"
        );
    }
    let error = provider
        .narrate(&scene(), Voice::None, &language)
        .await
        .unwrap_err();
    assert!(matches!(error, MediaError::GenerationFailed(_)), "{error}");
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn a_wav_answer_is_used_as_is() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        TTS_PATH,
        ok(gemini_tts_answer_of("audio/wav", &wav_bytes())),
    )
    .await;
    let language = Language::parse("en").unwrap();
    let blob = provider(&server)
        .narrate(&scene(), Voice::Neutral, &language)
        .await
        .unwrap();
    assert_eq!(blob.bytes, wav_bytes());
}

#[test]
fn a_cloud_tts_voice_name_is_refused_for_gemini() {
    let mut config = GoogleConfig::default();
    config.tts_voices.male = "en-US-Chirp3-HD-Charon".into();
    let error = GoogleProvider::gemini(config, Secret::new(API_KEY), ServiceGuards::new(backoff()))
        .unwrap_err();
    assert!(error.to_string().contains("prebuilt voice"), "{error}");
}

#[tokio::test]
async fn malformed_or_refused_narration_answers_are_final() {
    let cases = [
        (
            ResponseTemplate::new(200).set_body_string("<html>oops</html>"),
            "bad",
        ),
        (
            ok(gemini_tts_answer_of("audio/mpeg", b"\xff\xfb\x90\x00")),
            "bad",
        ),
        (
            ok(
                json!({"candidates": [{"content": {"parts": [{"text": "Crabs scuttle between the rocks."}], "role": "model"},
                "finishReason": "STOP", "index": 0}], "modelVersion": "gemini-3.8-flash-tts"}),
            ),
            "bad",
        ),
        (
            ok(
                json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "modelVersion": "gemini-3.8-flash-tts"}),
            ),
            "refused",
        ),
    ];
    let language = Language::parse("en").unwrap();
    for (answer, kind) in cases {
        let server = MockServer::start().await;
        mount(&server, "POST", TTS_PATH, answer).await;
        let error = provider(&server)
            .narrate(&scene(), Voice::Neutral, &language)
            .await
            .unwrap_err();
        match kind {
            "refused" => assert!(matches!(error, MediaError::Refused { .. }), "{error}"),
            _ => assert!(matches!(error, MediaError::BadResponse { .. }), "{error}"),
        }
        assert_eq!(code(&error), "VIDEO_001");
        assert_eq!(requests(&server).await.len(), 1, "never retried");
    }
}

// ------------------------------------------------------------------ Veo

fn operation(done: bool) -> Value {
    if done {
        json!({
            "name": OP_NAME,
            "done": true,
            "response": {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": {"generatedSamples": [{"video": {"uri": "DOWNLOAD_URI"}}]}
            }
        })
    } else {
        json!({"name": OP_NAME})
    }
}

async fn mount_veo(server: &MockServer, polls_before_done: u64, done: Value) {
    mount(server, "POST", VEO_PATH, ok(operation(false))).await;
    let poll_path = format!("/v1beta/{OP_NAME}");
    if polls_before_done > 0 {
        mount_first(
            server,
            "GET",
            &poll_path,
            polls_before_done,
            ok(operation(false)),
        )
        .await;
    }
    mount(server, "GET", &poll_path, ok(done)).await;
}

#[tokio::test]
async fn veo_operation_finishing_after_two_polls_is_downloaded_with_the_key() {
    let server = MockServer::start().await;
    let uri = format!("{}/v1beta/files/n2k4xw8l:download?alt=media", server.uri());
    let done =
        serde_json::from_str(&operation(true).to_string().replace("DOWNLOAD_URI", &uri)).unwrap();
    mount_veo(&server, 2, done).await;
    // The download redirects (as Google's does) to the file's bytes.
    Mock::given(method("GET"))
        .and(path("/v1beta/files/n2k4xw8l:download"))
        .and(header("x-goog-api-key", API_KEY))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/blobs/n2k4xw8l.mp4"))
        .mount(&server)
        .await;
    mount(
        &server,
        "GET",
        "/blobs/n2k4xw8l.mp4",
        ResponseTemplate::new(200).set_body_bytes(mp4_bytes()),
    )
    .await;

    let provider = provider(&server);
    let blob = provider
        .clip(&scene(), AspectRatio::Portrait)
        .await
        .unwrap();
    assert_eq!(blob.format, MediaFormat::Mp4);
    assert_eq!(blob.bytes, mp4_bytes());

    let received = requests(&server).await;
    let paths: Vec<&str> = received.iter().map(|r| r.url.path()).collect();
    let poll = format!("/v1beta/{OP_NAME}");
    assert_eq!(
        paths,
        [
            VEO_PATH,
            &poll,
            &poll,
            &poll,
            "/v1beta/files/n2k4xw8l:download",
            "/blobs/n2k4xw8l.mp4"
        ]
    );
    let submit = body(&received[0]);
    assert_eq!(submit["instances"][0]["prompt"], scene().visual_prompt);
    // No generateAudio (nor sampleCount): the Gemini API refuses them.
    assert_eq!(
        submit["parameters"],
        json!({"aspectRatio": "9:16", "durationSeconds": 8})
    );
    assert!(received.iter().all(|r| !r.url.as_str().contains(API_KEY)));
    // Polls hold no breaker slot: submit + final download only.
    assert_eq!(provider.guards().veo.breaker().stats().calls, 2);
}

#[tokio::test]
async fn veo_download_redirected_to_another_host_does_not_carry_the_key() {
    let server = MockServer::start().await;
    let other_host = MockServer::start().await;
    let uri = format!("{}/v1beta/files/n2k4xw8l:download?alt=media", server.uri());
    let done =
        serde_json::from_str(&operation(true).to_string().replace("DOWNLOAD_URI", &uri)).unwrap();
    mount_veo(&server, 0, done).await;
    Mock::given(method("GET"))
        .and(path("/v1beta/files/n2k4xw8l:download"))
        .and(header("x-goog-api-key", API_KEY))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/signed/n2k4xw8l.mp4?sig=abc", other_host.uri()).as_str(),
        ))
        .mount(&server)
        .await;
    mount(
        &other_host,
        "GET",
        "/signed/n2k4xw8l.mp4",
        ResponseTemplate::new(200).set_body_bytes(mp4_bytes()),
    )
    .await;
    let blob = provider(&server)
        .clip(&scene(), AspectRatio::Landscape)
        .await
        .unwrap();
    assert_eq!(blob.bytes, mp4_bytes());
    let fetched = requests(&other_host).await;
    assert_eq!(fetched.len(), 1);
    assert!(fetched[0].headers.get("x-goog-api-key").is_none());
}

#[tokio::test]
async fn veo_inline_video_bytes_are_used() {
    let server = MockServer::start().await;
    let done = json!({"name": OP_NAME, "done": true, "response": {"generateVideoResponse": {
        "generatedSamples": [{"video": {"encodedVideo": b64(&mp4_bytes()), "mimeType": "video/mp4"}}]}}});
    mount_veo(&server, 0, done).await;
    let blob = provider(&server)
        .clip(&scene(), AspectRatio::Landscape)
        .await
        .unwrap();
    assert_eq!(blob.bytes, mp4_bytes());
}

#[tokio::test]
async fn veo_operation_failures_are_classified() {
    let cases = [
        (
            json!({"name": OP_NAME, "done": true, "error": {"code": 13, "message": "Internal error encountered."}}),
            "MEDIA_001",
            "unavailable",
        ),
        (
            json!({"name": OP_NAME, "done": true, "error": {"code": 3, "message": "Unable to generate videos because the prompt violates Gemini API's usage guidelines."}}),
            "VIDEO_001",
            "refused",
        ),
        (
            json!({"name": OP_NAME, "done": true, "response": {"generateVideoResponse": {
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": ["We encountered an issue with the audio for your prompt. You have not been charged for this request."]}}}),
            "VIDEO_001",
            "refused",
        ),
        (
            json!({"name": OP_NAME, "done": true, "response": {"generateVideoResponse": {"generatedSamples": []}}}),
            "VIDEO_001",
            "bad",
        ),
    ];
    for (done, expected_code, kind) in cases {
        let server = MockServer::start().await;
        mount_veo(&server, 1, done.clone()).await;
        let error = provider(&server)
            .clip(&scene(), AspectRatio::Landscape)
            .await
            .unwrap_err();
        assert_eq!(code(&error), expected_code, "{done}");
        let matched = match kind {
            "unavailable" => matches!(error, MediaError::Unavailable { .. }),
            "refused" => matches!(error, MediaError::Refused { .. }),
            _ => matches!(error, MediaError::BadResponse { .. }),
        };
        assert!(matched, "{error}");
        // Submit + 2 polls: a finished operation is never resubmitted.
        assert_eq!(requests(&server).await.len(), 3, "{done}");
    }
}

#[tokio::test]
async fn veo_operation_that_never_finishes_times_out() {
    let server = MockServer::start().await;
    mount_veo(&server, 0, operation(false)).await;
    let mut config = config(&server);
    config.veo_max_wait = Duration::from_millis(300);
    let provider = provider_with(config, guards());
    let started = std::time::Instant::now();
    let error = provider
        .clip(&scene(), AspectRatio::Landscape)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        MediaError::Timeout {
            service: Service::Veo
        }
    );
    assert_eq!(code(&error), "MEDIA_001");
    assert!(started.elapsed() < Duration::from_secs(2));
    let polls = requests(&server).await.len() - 1;
    assert!(polls >= 5, "polled every 10 ms: {polls}");
    // The submit succeeded; the generation that never finished counts as a
    // failure of the service (polls themselves hold no breaker slot).
    let stats = provider.guards().veo.breaker().stats();
    assert_eq!((stats.calls, stats.failures), (2, 1));
}

// -------------------------------------------------------------- breaker

#[tokio::test]
async fn breaker_opens_after_503s_then_answers_without_calling() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        TTS_PATH,
        ResponseTemplate::new(503).set_body_json(overloaded()),
    )
    .await;
    let provider = provider(&server);
    let language = Language::parse("en").unwrap();
    let mut last = None;
    for _ in 0..5 {
        last = Some(
            provider
                .narrate(&scene(), Voice::Neutral, &language)
                .await
                .unwrap_err(),
        );
        if provider.guards().tts.state() == BreakerState::Open {
            break;
        }
    }
    assert_eq!(provider.guards().tts.state(), BreakerState::Open);
    assert!(last.is_some());
    let before = requests(&server).await.len();
    let error = provider
        .narrate(&scene(), Voice::Neutral, &language)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        MediaError::CircuitOpen {
            service: Service::Tts
        }
    );
    assert_eq!(code(&error), "MEDIA_003");
    assert_eq!(requests(&server).await.len(), before, "no HTTP request");
    // The other services are unaffected.
    assert_eq!(provider.guards().llm.state(), BreakerState::Closed);
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let config = GoogleConfig::default();
    let provider =
        GoogleProvider::gemini(config, Secret::new(API_KEY), ServiceGuards::new(backoff()))
            .unwrap();
    let debug = format!("{provider:?}");
    assert!(!debug.contains(API_KEY), "{debug}");
    assert!(debug.contains("***"));
    assert_eq!(provider.flavor(), "gemini");
}

#[tokio::test]
async fn a_timed_out_veo_submit_is_not_sent_again() {
    // The submit is not idempotent: a timed-out one may have started a
    // billed generation, so the scene falls back instead of submitting twice.
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        VEO_PATH,
        ok(operation(false)).set_delay(Duration::from_secs(2)),
    )
    .await;
    let provider = provider_with(config(&server), guards());
    let error = provider
        .clip(&scene(), AspectRatio::Landscape)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        MediaError::Timeout {
            service: Service::Veo
        }
    );
    assert_eq!(requests(&server).await.len(), 1, "submitted once");
}

/// Calls the media service behind `at` once (image, Veo submit or TTS).
async fn call_media(provider: &GoogleProvider, at: &str) -> Result<(), MediaError> {
    let language = Language::parse("en").unwrap();
    match at {
        IMAGE_PATH => provider
            .still(&scene(), AspectRatio::Landscape)
            .await
            .map(drop),
        VEO_PATH => provider
            .clip(&scene(), AspectRatio::Landscape)
            .await
            .map(drop),
        _ => provider
            .narrate(&scene(), Voice::Neutral, &language)
            .await
            .map(drop),
    }
}

#[tokio::test]
async fn every_media_service_retries_capacity_stops_on_quota_and_retries_5xx() {
    for (at, unavailable) in [
        (IMAGE_PATH, "MEDIA_002"),
        (VEO_PATH, "MEDIA_001"),
        (TTS_PATH, "MEDIA_003"),
    ] {
        // 429 with RetryInfo: retried after the server's delay, then the
        // failure of the next call decides (a 503 here, so the service's
        // unavailable code after max_attempts).
        let server = MockServer::start().await;
        mount_first(
            &server,
            "POST",
            at,
            1,
            ResponseTemplate::new(429).set_body_json(rate_limited("0.05s")),
        )
        .await;
        mount(
            &server,
            "POST",
            at,
            ResponseTemplate::new(503).set_body_json(overloaded()),
        )
        .await;
        let (guards, slept) = recording_guards();
        let retrying = provider_with(config(&server), guards);
        let error = call_media(&retrying, at).await.unwrap_err();
        assert_eq!(code(&error), unavailable, "{at}");
        assert_eq!(requests(&server).await.len(), 3, "{at}: max_attempts");
        assert_eq!(
            slept.lock().unwrap().first(),
            Some(&Duration::from_millis(50)),
            "{at}: RetryInfo honoured"
        );

        // Exhausted quota: one request, MEDIA_004, final, breaker closed.
        let server = MockServer::start().await;
        mount(
            &server,
            "POST",
            at,
            ResponseTemplate::new(429).set_body_json(quota_exhausted()),
        )
        .await;
        let quota = provider(&server);
        for _ in 0..12 {
            let error = call_media(&quota, at).await.unwrap_err();
            assert_eq!(code(&error), "MEDIA_004", "{at}");
            assert!(!error.retryable(), "{at}: the job is not retried either");
        }
        assert_eq!(requests(&server).await.len(), 12, "{at}: never retried");
        assert_eq!(
            quota.guards().get(service_of(at)).state(),
            BreakerState::Closed,
            "{at}"
        );
    }
}

fn service_of(at: &str) -> Service {
    match at {
        IMAGE_PATH => Service::Imagen,
        VEO_PATH => Service::Veo,
        _ => Service::Tts,
    }
}

// ---------------------------------------------------------- model check

#[tokio::test]
async fn the_model_check_looks_the_model_up_with_the_key_and_names_a_missing_one() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1beta/models/veo-3.1-fast-generate-preview"))
        .and(header("x-goog-api-key", API_KEY))
        .respond_with(ok(json!({"name": "models/veo-3.1-fast-generate-preview",
            "displayName": "Veo 3.1 fast", "supportedGenerationMethods": ["predictLongRunning"]})))
        .mount(&server)
        .await;
    mount(
        &server,
        "GET",
        "/v1beta/models/veo-2.0-generate-001",
        ResponseTemplate::new(404).set_body_json(json!({"error": {"code": 404,
            "message": "models/veo-2.0-generate-001 is not found for API version v1beta, or is not supported for predictLongRunning.",
            "status": "NOT_FOUND"}})),
    )
    .await;
    let found = provider(&server).check_model(Service::Veo).await.unwrap();
    assert_eq!(found, "veo-3.1-fast-generate-preview");
    let mut retired = config(&server);
    retired.veo_model = "veo-2.0-generate-001".into();
    let error = provider_with(retired, guards())
        .check_model(Service::Veo)
        .await
        .unwrap_err();
    assert!(matches!(error, MediaError::Rejected { .. }), "{error}");
    assert_eq!(code(&error), "MEDIA_001");
    let text = error.to_string();
    assert!(
        text.contains("\"veo-2.0-generate-001\"") && text.contains("is not found"),
        "{text}"
    );
    let received = requests(&server).await;
    assert_eq!(received.len(), 2, "a lookup each, no generation, no retry");
    assert!(received.iter().all(|r| r.method.as_str() == "GET"));
}
