//! Narration, stills, clips and the model check of the OpenAI-compatible
//! provider, against fake servers replaying OpenAI's, Kokoro-FastAPI's and
//! LocalAI's answers; and the whole pipeline on it.

mod openai_support;

use std::sync::Arc;

use openai_support::*;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use ytvc_domain::media::{
    MediaError, MediaFormat, Narrator, Service, VisualGenerator, VisualSource,
};
use ytvc_domain::pipeline::{NoProgress, Pipeline};
use ytvc_domain::{AspectRatio, Language, Voice};
use ytvc_media_clients::LocalProvider;
use ytvc_media_clients::openai::{ModelCheck, ModelLookup, OpenAiProvider};
use ytvc_media_clients::resilience::BreakerState;

fn code(error: &MediaError) -> &'static str {
    error.code().as_str()
}

fn en() -> Language {
    Language::parse("en").unwrap()
}

// ------------------------------------------------------------ narration

#[tokio::test]
async fn kokoro_narration_is_a_wav_with_its_streamed_sizes_repaired_and_no_key() {
    // The LLM on OpenAI with the key, narration on a local Kokoro-FastAPI.
    let openai = MockServer::start().await;
    let kokoro = MockServer::start().await;
    let mut cfg = keyed(&openai);
    cfg.tts.base_url = Some(format!("{}/v1", kokoro.uri()));
    cfg.tts.model = "kokoro".into();
    cfg.tts_voice = Some("af_bella".into());
    let samples = 2400;
    mount(
        &kokoro,
        "POST",
        TTS_PATH,
        wav_response(streamed_wav(samples)),
    )
    .await;
    let provider = provider_with(cfg, guards());
    assert!(!provider.sends_key(Service::Tts));

    let blob = provider
        .narrate(&scene(), Voice::NarratorFemale, &en())
        .await
        .unwrap();
    assert_eq!(blob.format, MediaFormat::Wav);
    assert_eq!(blob.bytes.len(), 44 + 2 * samples);
    assert_eq!(
        u32_at(&blob.bytes, 4) as usize,
        36 + 2 * samples,
        "RIFF size"
    );
    assert_eq!(u32_at(&blob.bytes, 40) as usize, 2 * samples, "data size");
    assert_eq!(
        blob.bytes[44..],
        streamed_wav(samples)[44..],
        "audio unchanged"
    );

    let received = requests(&kokoro).await;
    assert_eq!(received.len(), 1);
    assert!(received[0].headers.get("authorization").is_none());
    assert_eq!(
        body(&received[0]),
        json!({"model": "kokoro", "input": scene().narration, "voice": "af_bella", "response_format": "wav"})
    );
}

#[tokio::test]
async fn openai_narration_sends_the_key_and_maps_the_voice() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TTS_PATH))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .respond_with(wav_response(streamed_wav(480)))
        .expect(3)
        .mount(&server)
        .await;
    let provider = provider(&server);
    for voice in [Voice::Neutral, Voice::NarratorFemale, Voice::NarratorMale] {
        provider.narrate(&scene(), voice, &en()).await.unwrap();
    }
    let voices: Vec<Value> = requests(&server)
        .await
        .iter()
        .map(|r| body(r)["voice"].clone())
        .collect();
    assert_eq!(voices, [json!("alloy"), json!("nova"), json!("onyx")]);
    assert_eq!(
        body(&requests(&server).await[0])["model"],
        "gpt-4o-mini-tts"
    );
    let error = provider
        .narrate(&scene(), Voice::None, &en())
        .await
        .unwrap_err();
    assert!(matches!(error, MediaError::GenerationFailed(_)));
}

#[tokio::test]
async fn unusable_audio_is_a_final_bad_response() {
    let mp3 = ResponseTemplate::new(200)
        .insert_header("content-type", "audio/mpeg")
        .set_body_bytes(b"ID3\x04\0\0\0\0\0\x00\xff\xfb\x90\x64".to_vec());
    let mut float = streamed_wav(100);
    float[20] = 3; // IEEE float, 32 bits
    float[34] = 32;
    for answer in [mp3, wav_response(float), wav_response(streamed_wav(0))] {
        let server = serving("POST", TTS_PATH, answer).await;
        let error = provider(&server)
            .narrate(&scene(), Voice::Neutral, &en())
            .await
            .unwrap_err();
        assert!(matches!(error, MediaError::BadResponse { .. }), "{error}");
        assert_eq!(code(&error), "VIDEO_001");
        assert_eq!(requests(&server).await.len(), 1);
    }
}

#[tokio::test]
async fn kokoro_errors_in_fastapi_shape_are_read() {
    let server = MockServer::start().await;
    let unknown_voice = json!({"detail": {"error": "validation_error",
        "message": "Voice 'am_v0adam' not found. Available voices: af_bella, af_heart, am_adam, bm_george",
        "type": "invalid_request_error"}});
    mount(&server, "POST", TTS_PATH, status(400, unknown_voice)).await;
    let error = provider_with(config(&server), guards())
        .narrate(&scene(), Voice::Neutral, &en())
        .await
        .unwrap_err();
    assert!(matches!(error, MediaError::Rejected { .. }), "{error}");
    assert_eq!(code(&error), "MEDIA_003");
    assert!(
        error
            .to_string()
            .contains("HTTP 400 validation_error: Voice 'am_v0adam' not found"),
        "{error}"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

// --------------------------------------------------------------- stills

#[tokio::test]
async fn gpt_image_stills_are_decoded_from_b64_json() {
    let server = serving("POST", IMAGE_PATH, ok(images_response(&png_bytes()))).await;
    let provider = provider(&server);
    let blob = provider
        .still(&scene(), AspectRatio::Landscape)
        .await
        .unwrap();
    assert_eq!(blob.format, MediaFormat::Png);
    assert_eq!(blob.bytes, png_bytes());
    let request = &requests(&server).await[0];
    assert_eq!(
        request.headers.get("authorization").unwrap(),
        format!("Bearer {API_KEY}").as_str()
    );
    assert_eq!(
        body(request),
        json!({"model": "gpt-image-1", "prompt": scene().visual_prompt, "n": 1, "size": "1536x1024"}),
        "no response_format: GPT image models refuse it"
    );
}

#[tokio::test]
async fn localai_and_dall_e_stills_ask_for_b64_json() {
    let server = MockServer::start().await;
    // LocalAI's answer: an item per image, base64 only when asked.
    let local_ai = json!({"id": "0f4b4f0e-8f2c-4e38-9a53-8d8c3c1f6b1a", "created": 1_745_935_400,
        "data": [{"embedding": null, "index": 0, "b64_json": b64(&png_bytes())}]});
    mount(&server, "POST", IMAGE_PATH, ok(local_ai)).await;
    let mut cfg = config(&server);
    cfg.image.model = "stablediffusion".into();
    cfg.image_sizes.portrait = "512x896".into();
    let blob = provider_with(cfg, guards())
        .still(&scene(), AspectRatio::Portrait)
        .await
        .unwrap();
    assert_eq!(blob.bytes, png_bytes());
    let request = &requests(&server).await[0];
    assert!(request.headers.get("authorization").is_none());
    let sent = body(request);
    assert_eq!(sent["response_format"], "b64_json");
    assert_eq!(sent["size"], "512x896");
}

#[tokio::test]
async fn a_server_refusing_response_format_is_asked_without_it_once() {
    let server = MockServer::start().await;
    let unknown = openai_error(
        "Unknown parameter: 'response_format'.",
        "invalid_request_error",
        json!("response_format"),
        json!("unknown_parameter"),
    );
    Mock::given(method("POST"))
        .and(path(IMAGE_PATH))
        .and(wiremock::matchers::body_partial_json(
            json!({"response_format": "b64_json"}),
        ))
        .respond_with(status(400, unknown))
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "POST",
        IMAGE_PATH,
        ok(images_response(&png_bytes())),
    )
    .await;
    let mut cfg = keyed(&server);
    cfg.image.model = "flux.1-schnell".into();
    let provider = provider_with(cfg, guards());
    provider.still(&scene(), AspectRatio::Square).await.unwrap();
    provider.still(&scene(), AspectRatio::Square).await.unwrap();
    let formats: Vec<Value> = requests(&server)
        .await
        .iter()
        .map(|r| body(r)["response_format"].clone())
        .collect();
    assert_eq!(formats, [json!("b64_json"), Value::Null, Value::Null]);
}

#[tokio::test]
async fn blocked_or_unusable_images_are_final_video_001() {
    let blocked = openai_error(
        "Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_8c1e.",
        "image_generation_user_error",
        Value::Null,
        json!("moderation_blocked"),
    );
    let dall_e = openai_error(
        "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.",
        "invalid_request_error",
        Value::Null,
        json!("content_policy_violation"),
    );
    let cases = [
        (status(400, blocked), "refused"),
        (status(400, dall_e), "refused"),
        (
            ok(
                json!({"created": 1, "data": [{"url": "http://127.0.0.1:1/generated-images/b64.png"}]}),
            ),
            "bad",
        ),
        (ok(json!({"created": 1, "data": []})), "bad"),
        (
            ok(json!({"created": 1, "data": [{"b64_json": b64(b"RIFF\0\0\0\0WEBPVP8 ")}]})),
            "bad",
        ),
    ];
    for (answer, kind) in cases {
        let server = serving("POST", IMAGE_PATH, answer).await;
        let error = provider(&server)
            .still(&scene(), AspectRatio::Landscape)
            .await
            .unwrap_err();
        assert_eq!(code(&error), "VIDEO_001", "{error}");
        match kind {
            "refused" => assert!(matches!(error, MediaError::Refused { .. }), "{error}"),
            _ => assert!(matches!(error, MediaError::BadResponse { .. }), "{error}"),
        }
        assert!(error.allows_fallback(), "a title card follows");
        assert_eq!(requests(&server).await.len(), 1, "{error}");
    }
}

#[tokio::test]
async fn there_are_no_clips_and_the_scene_falls_back_without_a_request() {
    let server = MockServer::start().await;
    let provider = provider(&server);
    let error = provider
        .clip(&scene(), AspectRatio::Landscape)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        MediaError::Rejected {
            service: Service::Veo,
            ..
        }
    ));
    assert_eq!(code(&error), "MEDIA_001");
    assert!(error.allows_fallback());
    assert!(requests(&server).await.is_empty());
    assert_eq!(provider.guards().veo.breaker().stats().calls, 0);
}

#[tokio::test]
async fn every_media_service_retries_5xx_and_stops_on_exhausted_quota() {
    for (at, unavailable) in [(IMAGE_PATH, "MEDIA_002"), (TTS_PATH, "MEDIA_003")] {
        let server = MockServer::start().await;
        mount(&server, "POST", at, status(503, overloaded())).await;
        let error = call_media(&provider(&server), at).await.unwrap_err();
        assert_eq!(code(&error), unavailable, "{at}");
        assert_eq!(requests(&server).await.len(), 3, "{at}: max_attempts");

        let server = MockServer::start().await;
        mount(&server, "POST", at, status(429, insufficient_quota())).await;
        let quota = provider(&server);
        for _ in 0..12 {
            let error = call_media(&quota, at).await.unwrap_err();
            assert_eq!(code(&error), "MEDIA_004", "{at}");
            assert!(!error.retryable(), "{at}");
        }
        assert_eq!(requests(&server).await.len(), 12, "{at}: never retried");
        let service = if at == IMAGE_PATH {
            Service::Imagen
        } else {
            Service::Tts
        };
        assert_eq!(quota.guards().get(service).state(), BreakerState::Closed);
    }
}

#[tokio::test]
async fn slow_media_answers_time_out_per_service() {
    let slow = |r: ResponseTemplate| r.set_delay(std::time::Duration::from_secs(2));
    let server = serving("POST", TTS_PATH, slow(wav_response(streamed_wav(10)))).await;
    mount(
        &server,
        "POST",
        IMAGE_PATH,
        slow(ok(images_response(&png_bytes()))),
    )
    .await;
    let once = ytvc_media_clients::resilience::Backoff {
        max_attempts: 1,
        ..backoff()
    };
    let provider = provider_with(
        keyed(&server),
        ytvc_media_clients::resilience::ServiceGuards::for_tests(once, Default::default()),
    );
    for (at, expected) in [(TTS_PATH, "MEDIA_003"), (IMAGE_PATH, "MEDIA_002")] {
        let error = call_media(&provider, at).await.unwrap_err();
        assert!(matches!(error, MediaError::Timeout { .. }), "{error}");
        assert_eq!(code(&error), expected);
    }
}

async fn call_media(provider: &OpenAiProvider, at: &str) -> Result<(), MediaError> {
    if at == IMAGE_PATH {
        provider
            .still(&scene(), AspectRatio::Landscape)
            .await
            .map(drop)
    } else {
        provider
            .narrate(&scene(), Voice::Neutral, &en())
            .await
            .map(drop)
    }
}

// ---------------------------------------------------------- model check

fn not_found_text() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_string("404 page not found")
}

/// Checks `service` configured with `model` against a server answering
/// `lookup` to `GET /v1/models/{model}` and `list` to `GET /v1/models`.
async fn check(
    service: Service,
    model: &str,
    lookup: ResponseTemplate,
    list: ResponseTemplate,
) -> (MockServer, Result<ModelCheck, MediaError>) {
    let server = serving("GET", &format!("/v1/models/{model}"), lookup).await;
    mount(&server, "GET", "/v1/models", list).await;
    let mut cfg = keyed(&server);
    for slot in [&mut cfg.llm, &mut cfg.tts, &mut cfg.image] {
        slot.model = model.into();
    }
    let result = provider_with(cfg, guards()).check_model(service).await;
    (server, result)
}

#[tokio::test]
async fn a_model_found_by_lookup_or_in_the_list() {
    // OpenAI: `GET /models/{model}`.
    let (server, found) = check(
        Service::Llm,
        "gpt-4o-mini",
        ok(model_object("gpt-4o-mini")),
        not_found_text(),
    )
    .await;
    let found = found.unwrap();
    assert_eq!(
        (found.model.as_str(), found.lookup),
        ("gpt-4o-mini", ModelLookup::Retrieved)
    );
    assert_eq!(requests(&server).await.len(), 1);

    // vLLM-like: no per-model route, the list has it; Ollama lists
    // `name:latest`.
    let no_route = ResponseTemplate::new(404).set_body_json(json!({"detail": "Not Found"}));
    let list = ok(model_list(&["qwen3:8b", "llama3.2:latest"]));
    let (_, found) = check(Service::Llm, "llama3.2", no_route, list).await;
    assert_eq!(found.unwrap().lookup, ModelLookup::Listed);

    // A speech server with neither route: reachable, model unverifiable.
    let (_, found) = check(Service::Tts, "tts-1", not_found_text(), not_found_text()).await;
    assert_eq!(found.unwrap().lookup, ModelLookup::Unverifiable);
}

#[tokio::test]
async fn a_retired_or_unknown_model_is_named() {
    let (_, result) = check(
        Service::Imagen,
        "dall-e-2",
        status(404, model_not_found("dall-e-2")),
        ok(model_list(&["gpt-image-1", "dall-e-3"])),
    )
    .await;
    let error = result.unwrap_err();
    assert!(matches!(
        error,
        MediaError::Rejected {
            service: Service::Imagen,
            ..
        }
    ));
    let text = error.to_string();
    for part in [
        "model \"dall-e-2\" not found",
        "does not exist or you do not have access",
        "the server lists gpt-image-1, dall-e-3",
    ] {
        assert!(text.contains(part), "{text}");
    }

    // Ollama: the lookup names the model, and no list to consult.
    let lookup = status(404, ollama_model_not_found("llama3.2"));
    let (_, result) = check(Service::Llm, "llama3.2", lookup, not_found_text()).await;
    let error = result.unwrap_err();
    assert!(
        error.to_string().contains("try pulling it first"),
        "{error}"
    );

    // A refused key is final at the first call; Veo has nothing to check.
    let lookup = status(401, invalid_api_key());
    let (server, result) = check(Service::Llm, "gpt-4o-mini", lookup, not_found_text()).await;
    assert!(matches!(result, Err(MediaError::Rejected { .. })));
    assert_eq!(requests(&server).await.len(), 1);
    let error = provider(&server)
        .check_model(Service::Veo)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "MEDIA_001");
}

// -------------------------------------------------------------- pipeline

#[tokio::test]
async fn the_pipeline_runs_on_it_with_stills_for_every_scene() {
    let server = serving("POST", LLM_PATH, ok(completion(&storyboard_text()))).await;
    mount(
        &server,
        "POST",
        IMAGE_PATH,
        ok(images_response(&png_bytes())),
    )
    .await;
    mount(
        &server,
        "POST",
        TTS_PATH,
        wav_response(streamed_wav(24_000)),
    )
    .await;
    let openai = Arc::new(provider(&server));
    let dir = tempfile::tempdir().unwrap();
    let local = Arc::new(LocalProvider::new(dir.path().into()));
    let pipeline = Pipeline::new(openai.clone(), openai.clone(), local.clone(), openai, local)
        .with_provider_name("openai");
    let manifest = pipeline
        .run("video-openai-1", &spec(), &NoProgress)
        .await
        .unwrap()
        .completed()
        .unwrap()
        .manifest;
    assert_eq!(manifest.provider, "openai");
    assert_eq!(manifest.scenes.len(), 2);
    for scene in &manifest.scenes {
        assert_eq!(scene.visual_source, VisualSource::Still);
        assert_eq!(scene.fallback_codes, ["MEDIA_001"]);
        assert!(scene.narration_audio.is_some());
    }
    let wav = std::fs::read(dir.path().join("video-openai-1/scene-01-narration.wav")).unwrap();
    assert_eq!(u32_at(&wav, 40), 48_000, "a valid data size on disk");
}
