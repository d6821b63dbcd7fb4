//! The Vertex AI flavor: the service-account token flow against a fake
//! token endpoint, and the Vertex endpoints and answer shapes.

mod google_support;

use std::time::Duration;

use google_support::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};
use ytvc_domain::media::{
    MediaError, MediaFormat, Narrator, ScriptWriter, Service, VisualGenerator,
};
use ytvc_domain::{AspectRatio, Language, Voice};
use ytvc_media_clients::google::{
    CLOUD_PLATFORM_SCOPE, GoogleConfig, GoogleProvider, ServiceAccountKey, VertexTarget,
};

const PRIVATE_KEY: &str = include_str!("fixtures/throwaway-test-only-rsa-private.pem");
const PUBLIC_KEY: &str = include_str!("fixtures/throwaway-test-only-rsa-public.pem");
const CLIENT_EMAIL: &str = "ytvc-test@ytvc-test-project.iam.gserviceaccount.com";
const MODELS: &str =
    "/v1/projects/ytvc-test-project/locations/us-central1/publishers/google/models";

fn key_json(token_uri: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": "ytvc-test-project",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": PRIVATE_KEY,
        "client_email": CLIENT_EMAIL,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "universe_domain": "googleapis.com"
    })
    .to_string()
}

fn token_uri(server: &MockServer) -> String {
    format!("{}/token", server.uri())
}

fn provider_with(server: &MockServer, config: GoogleConfig) -> GoogleProvider {
    let key = ServiceAccountKey::from_json(&key_json(&token_uri(server))).unwrap();
    let target = VertexTarget {
        project: "ytvc-test-project".into(),
        location: "us-central1".into(),
    };
    GoogleProvider::vertex(config, target, key, guards()).unwrap()
}

fn provider(server: &MockServer) -> GoogleProvider {
    provider_with(server, config(server))
}

fn token_answer(token: &str, expires_in: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(
        json!({"access_token": token, "expires_in": expires_in, "token_type": "Bearer"}),
    )
}

async fn mount(server: &MockServer, http_method: &str, at: &str, response: ResponseTemplate) {
    Mock::given(method(http_method))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn is_token_request(r: &Request) -> bool {
    r.url.path() == "/token"
}

fn bearer(r: &Request) -> &str {
    r.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    scope: String,
    aud: String,
    iat: u64,
    exp: u64,
}

/// Checks the token request: the JWT bearer grant with an RS256 assertion
/// signed by the fixture key.
fn check_token_request(request: &Request, token_uri: &str) {
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    let form = String::from_utf8(request.body.clone()).unwrap();
    let mut grant = None;
    let mut assertion = None;
    for pair in form.split('&') {
        let (k, v) = pair.split_once('=').unwrap();
        match k {
            "grant_type" => grant = Some(v.replace("%3A", ":")),
            "assertion" => assertion = Some(v.to_owned()),
            other => panic!("unexpected form field {other}"),
        }
    }
    assert_eq!(
        grant.as_deref(),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    let assertion = assertion.unwrap();
    let header = jsonwebtoken::decode_header(&assertion).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(
        header.kid.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[token_uri]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["iss", "aud", "exp", "iat"]);
    let decoded = jsonwebtoken::decode::<Claims>(
        &assertion,
        &DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap(),
        &validation,
    )
    .expect("a valid RS256 JWT signed by the service-account key");
    let claims = decoded.claims;
    assert_eq!(claims.iss, CLIENT_EMAIL);
    assert_eq!(claims.aud, token_uri);
    assert_eq!(claims.scope, CLOUD_PLATFORM_SCOPE);
    assert_eq!(claims.exp - claims.iat, 3600);
}

#[tokio::test]
async fn tokens_are_minted_with_a_signed_jwt_cached_and_sent_as_bearer() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/token",
        token_answer("ya29.c.first-token", 3599),
    )
    .await;
    mount(
        &server,
        "POST",
        &format!("{MODELS}/gemini-3.8-flash:generateContent"),
        ok(generate_content(&storyboard_text())),
    )
    .await;
    mount(&server, "POST", "/v1/text:synthesize", ok(tts_answer())).await;

    let provider = provider(&server);
    assert_eq!(provider.flavor(), "vertex");
    provider.write_script(&spec()).await.unwrap();
    provider.write_script(&spec()).await.unwrap();
    let language = Language::parse("en").unwrap();
    let blob = provider
        .narrate(&scene(), Voice::NarratorMale, &language)
        .await
        .unwrap();
    assert_eq!(blob.format, MediaFormat::Wav);

    let received = requests(&server).await;
    let tokens: Vec<&Request> = received.iter().filter(|r| is_token_request(r)).collect();
    assert_eq!(tokens.len(), 1, "one token for three calls");
    check_token_request(tokens[0], &token_uri(&server));
    let api: Vec<&Request> = received.iter().filter(|r| !is_token_request(r)).collect();
    assert_eq!(api.len(), 3);
    // Narration: Cloud TTS with the Chirp 3: HD voice of narrator_male.
    assert_eq!(api[2].url.path(), "/v1/text:synthesize");
    assert_eq!(
        body(api[2]),
        json!({
            "input": {"text": scene().narration},
            "voice": {"languageCode": "en-US", "name": "en-US-Chirp3-HD-Charon"},
            "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": 24000}
        })
    );
    for r in api {
        assert_eq!(bearer(r), "Bearer ya29.c.first-token", "{}", r.url);
        assert!(r.headers.get("x-goog-api-key").is_none());
    }
    let debug = format!("{provider:?}");
    assert!(!debug.contains("BEGIN PRIVATE KEY") && !debug.contains("first-token"));
}

#[tokio::test]
async fn an_expiring_token_is_refreshed() {
    let server = MockServer::start().await;
    // Valid for exactly the refresh margin (5 min): stale at once.
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(token_answer("ya29.c.short-lived", 300))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "POST",
        "/token",
        token_answer("ya29.c.second", 3599),
    )
    .await;
    mount(&server, "POST", "/v1/text:synthesize", ok(tts_answer())).await;

    let provider = provider(&server);
    let language = Language::parse("en").unwrap();
    for _ in 0..3 {
        provider
            .narrate(&scene(), Voice::Neutral, &language)
            .await
            .unwrap();
    }
    let received = requests(&server).await;
    let order: Vec<String> = received
        .iter()
        .map(|r| {
            if is_token_request(r) {
                "token".to_owned()
            } else {
                bearer(r).to_owned()
            }
        })
        .collect();
    assert_eq!(
        order,
        [
            "token",
            "Bearer ya29.c.short-lived",
            "token",
            "Bearer ya29.c.second",
            "Bearer ya29.c.second"
        ]
    );
}

#[tokio::test]
async fn concurrent_callers_share_one_token_request() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/token",
        token_answer("ya29.c.shared", 3599).set_delay(Duration::from_millis(100)),
    )
    .await;
    mount(&server, "POST", "/v1/text:synthesize", ok(tts_answer())).await;
    let provider = provider(&server);
    let language = Language::parse("en").unwrap();
    let scene = scene();
    let calls = (0..5).map(|_| provider.narrate(&scene, Voice::Neutral, &language));
    for result in futures_join_all(calls).await {
        result.unwrap();
    }
    let received = requests(&server).await;
    assert_eq!(received.iter().filter(|r| is_token_request(r)).count(), 1);
    assert_eq!(received.len(), 6);
}

/// Runs the futures concurrently on this task (no `futures` dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn rejected_credentials_are_final_and_call_nothing() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/token",
        ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
        ),
    )
    .await;
    let error = provider(&server).write_script(&spec()).await.unwrap_err();
    assert!(matches!(error, MediaError::Unavailable { .. }), "{error}");
    assert_eq!(error.code().as_str(), "LLM_002");
    assert!(!error.to_string().contains("BEGIN"));
    let received = requests(&server).await;
    assert_eq!(received.len(), 1, "one token request, no API call");
}

/// A provider whose stills come from a configured Imagen model.
fn imagen_provider(server: &MockServer) -> GoogleProvider {
    let mut config = config(server);
    config.image_model = IMAGEN_MODEL.into();
    provider_with(server, config)
}

const IMAGEN_MODEL: &str = "imagen-4.0-generate-001";

#[tokio::test]
async fn vertex_imagen_and_veo_with_fetch_predict_operation() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/token",
        token_answer("ya29.c.vertex", 3599),
    )
    .await;
    mount(
        &server,
        "POST",
        &format!("{MODELS}/{IMAGEN_MODEL}:predict"),
        ok(imagen_answer()),
    )
    .await;
    let op_name = "projects/ytvc-test-project/locations/us-central1/publishers/google/models/veo-3.1-fast-generate-001/operations/6d1c6a0e-5c8f-4a3b-9f7e-1c2d3e4f5a6b";
    mount(
        &server,
        "POST",
        &format!("{MODELS}/veo-3.1-fast-generate-001:predictLongRunning"),
        ok(json!({"name": op_name})),
    )
    .await;
    let fetch = format!("{MODELS}/veo-3.1-fast-generate-001:fetchPredictOperation");
    Mock::given(method("POST"))
        .and(path(fetch.as_str()))
        .respond_with(ok(json!({"name": op_name})))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "POST",
        &fetch,
        ok(json!({"name": op_name, "done": true, "response": {
            "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
            "raiMediaFilteredCount": 0,
            "videos": [{"bytesBase64Encoded": b64(&mp4_bytes()), "mimeType": "video/mp4"}]}})),
    )
    .await;

    let provider = imagen_provider(&server);
    let still = provider
        .still(&scene(), AspectRatio::Landscape)
        .await
        .unwrap();
    assert_eq!(still.format, MediaFormat::Png);
    let clip = provider.clip(&scene(), AspectRatio::Square).await.unwrap();
    assert_eq!((clip.format, clip.bytes), (MediaFormat::Mp4, mp4_bytes()));

    let received = requests(&server).await;
    let polls: Vec<&Request> = received.iter().filter(|r| r.url.path() == fetch).collect();
    assert_eq!(polls.len(), 3);
    for poll in polls {
        assert_eq!(body(poll), json!({"operationName": op_name}));
    }
    let submit = received
        .iter()
        .find(|r| r.url.path().ends_with(":predictLongRunning"))
        .unwrap();
    assert_eq!(
        body(submit)["parameters"],
        json!({"aspectRatio": "16:9", "durationSeconds": 8, "sampleCount": 1, "generateAudio": false})
    );
    assert!(
        received
            .iter()
            .filter(|r| !is_token_request(r))
            .all(|r| bearer(r) == "Bearer ya29.c.vertex")
    );
    assert_eq!(received.iter().filter(|r| is_token_request(r)).count(), 1);
}

#[tokio::test]
async fn vertex_veo_gcs_uri_is_downloaded_with_the_token() {
    let server = MockServer::start().await;
    mount(&server, "POST", "/token", token_answer("ya29.c.gcs", 3599)).await;
    let op_name = "projects/ytvc-test-project/locations/us-central1/publishers/google/models/veo-3.1-fast-generate-001/operations/op-1";
    mount(
        &server,
        "POST",
        &format!("{MODELS}/veo-3.1-fast-generate-001:predictLongRunning"),
        ok(json!({"name": op_name})),
    )
    .await;
    mount(
        &server,
        "POST",
        &format!("{MODELS}/veo-3.1-fast-generate-001:fetchPredictOperation"),
        ok(json!({"name": op_name, "done": true, "response": {"raiMediaFilteredCount": 0,
            "videos": [{"gcsUri": "gs://ytvc-clips/out/1234/sample_0.mp4", "mimeType": "video/mp4"}]}})),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/storage/v1/b/ytvc-clips/o/out%2F1234%2Fsample_0.mp4"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(mp4_bytes()))
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.veo_generate_audio = true;
    let clip = provider_with(&server, config)
        .clip(&scene(), AspectRatio::Landscape)
        .await
        .unwrap();
    assert_eq!(clip.bytes, mp4_bytes());
    let received = requests(&server).await;
    let submit = received
        .iter()
        .find(|r| r.url.path().ends_with(":predictLongRunning"))
        .unwrap();
    assert_eq!(body(submit)["parameters"]["generateAudio"], true);
    let download = received.last().unwrap();
    assert_eq!(download.url.query(), Some("alt=media"));
    assert_eq!(bearer(download), "Bearer ya29.c.gcs");
}

#[tokio::test]
async fn vertex_capacity_429_is_retried_and_quota_is_not() {
    let server = MockServer::start().await;
    mount(&server, "POST", "/token", token_answer("ya29.c.q", 3599)).await;
    let llm = format!("{MODELS}/gemini-3.8-flash:generateContent");
    Mock::given(method("POST"))
        .and(path(llm.as_str()))
        .respond_with(ResponseTemplate::new(429).set_body_json(capacity_exhausted()))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "POST",
        &llm,
        ok(generate_content(&storyboard_text())),
    )
    .await;
    let provider = imagen_provider(&server);
    provider.write_script(&spec()).await.unwrap();
    let api_calls = |rs: &[Request]| rs.iter().filter(|r| !is_token_request(r)).count();
    assert_eq!(api_calls(&requests(&server).await), 3);

    let imagen = format!("{MODELS}/{IMAGEN_MODEL}:predict");
    mount(
        &server,
        "POST",
        &imagen,
        ResponseTemplate::new(429).set_body_json(json!({"error": {
            "code": 429,
            "message": "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: imagen-4.0-generate. Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "subject": "project:ytvc-test-project",
                "description": "Daily limit for online_prediction_requests_per_base_model exceeded"}]}]}})),
    )
    .await;
    let error = provider
        .still(&scene(), AspectRatio::Landscape)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        MediaError::QuotaExhausted {
            service: Service::Imagen
        }
    );
    assert_eq!(error.code().as_str(), "MEDIA_004");
    assert_eq!(api_calls(&requests(&server).await), 4);
}

#[test]
fn bad_keys_are_rejected_without_quoting_them() {
    let error = ServiceAccountKey::from_json("{\"private_key\": \"secret-material\"}").unwrap_err();
    assert!(!error.to_string().contains("secret-material"));
    let key = ServiceAccountKey::from_json(
        &json!({"client_email": CLIENT_EMAIL, "private_key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"}).to_string(),
    )
    .unwrap();
    assert_eq!(key.token_uri, "https://oauth2.googleapis.com/token");
    assert!(format!("{key:?}").contains("***"));
    let target = VertexTarget {
        project: "p".into(),
        location: "us-central1".into(),
    };
    let error = GoogleProvider::vertex(GoogleConfig::default(), target, key, guards()).unwrap_err();
    assert!(error.to_string().contains("RSA"), "{error}");
}

#[tokio::test]
async fn filtered_or_unusable_imagen_answers_are_video_001_and_final() {
    let cases = [
        (json!({}), "refused"),
        (
            json!({"predictions": [{"raiFilteredReason": "Your current safety filter threshold filtered out the generated image."}]}),
            "refused",
        ),
        (
            json!({"predictions": [{"mimeType": "image/png", "bytesBase64Encoded": "not base64!"}]}),
            "bad",
        ),
        (
            json!({"predictions": [{"mimeType": "image/webp", "bytesBase64Encoded": b64(b"RIFF....WEBPVP8 ")}]}),
            "bad",
        ),
    ];
    for (answer, kind) in cases {
        let server = MockServer::start().await;
        mount(&server, "POST", "/token", token_answer("ya29.c.img", 3599)).await;
        let at = format!("{MODELS}/{IMAGEN_MODEL}:predict");
        mount(&server, "POST", &at, ok(answer.clone())).await;
        let error = imagen_provider(&server)
            .still(&scene(), AspectRatio::Landscape)
            .await
            .unwrap_err();
        assert_eq!(error.code().as_str(), "VIDEO_001", "{answer}");
        match kind {
            "refused" => assert!(matches!(error, MediaError::Refused { .. }), "{answer}"),
            _ => assert!(matches!(error, MediaError::BadResponse { .. }), "{answer}"),
        }
        let received = requests(&server).await;
        assert_eq!(received.iter().filter(|r| r.url.path() == at).count(), 1);
    }
}

#[test]
fn the_veo_default_becomes_the_vertex_id_and_a_configured_model_stays() {
    let key =
        || ServiceAccountKey::from_json(&key_json("https://oauth2.googleapis.com/token")).unwrap();
    let target = || VertexTarget {
        project: "p".into(),
        location: "us".into(),
    };
    let vertex =
        GoogleProvider::vertex(GoogleConfig::default(), target(), key(), guards()).unwrap();
    assert_eq!(vertex.config().veo_model, "veo-3.1-fast-generate-001");
    let config = GoogleConfig {
        veo_model: "veo-3.1-lite-generate-001".into(),
        ..GoogleConfig::default()
    };
    let vertex = GoogleProvider::vertex(config, target(), key(), guards()).unwrap();
    assert_eq!(vertex.config().veo_model, "veo-3.1-lite-generate-001");
}

#[tokio::test]
async fn cloud_tts_voices_are_chirp3_hd_names_per_language_never_neutral() {
    let server = MockServer::start().await;
    mount(&server, "POST", "/token", token_answer("ya29.c.tts", 3599)).await;
    mount(&server, "POST", "/v1/text:synthesize", ok(tts_answer())).await;
    let provider = provider(&server);
    let cases = [
        (
            Voice::Neutral,
            "de",
            json!({"languageCode": "de-DE", "name": "de-DE-Chirp3-HD-Schedar"}),
        ),
        (
            Voice::NarratorFemale,
            "zh",
            json!({"languageCode": "cmn-CN", "name": "cmn-CN-Chirp3-HD-Kore"}),
        ),
        (
            Voice::NarratorMale,
            "pt-BR",
            json!({"languageCode": "pt-BR", "name": "pt-BR-Chirp3-HD-Charon"}),
        ),
        // No Chirp 3: HD voices for the locale: the service picks one.
        (
            Voice::NarratorFemale,
            "es-419",
            json!({"languageCode": "es-419", "ssmlGender": "FEMALE"}),
        ),
        (Voice::Neutral, "es-419", json!({"languageCode": "es-419"})),
    ];
    for (voice, tag, expected) in cases {
        let language = Language::parse(tag).unwrap();
        let blob = provider.narrate(&scene(), voice, &language).await.unwrap();
        assert_eq!(blob.bytes, wav_bytes());
        let received = requests(&server).await;
        let sent = body(received.last().unwrap());
        assert_eq!(sent["voice"], expected, "{voice:?} {tag}");
        assert!(!sent.to_string().contains("NEUTRAL"));
    }
}

#[tokio::test]
async fn the_model_check_gets_the_publisher_model_with_a_token() {
    let server = MockServer::start().await;
    mount(&server, "POST", "/token", token_answer("ya29.check", 3600)).await;
    mount(
        &server,
        "GET",
        "/v1/publishers/google/models/veo-3.1-fast-generate-001",
        ok(json!({"name": "publishers/google/models/veo-3.1-fast-generate-001"})),
    )
    .await;
    let found = provider(&server).check_model(Service::Veo).await.unwrap();
    assert_eq!(found, "veo-3.1-fast-generate-001", "the Vertex id");
    let lookups: Vec<_> = requests(&server)
        .await
        .into_iter()
        .filter(|r| !is_token_request(r))
        .collect();
    assert_eq!(lookups.len(), 1);
    assert_eq!(bearer(&lookups[0]), "Bearer ya29.check");
    // An unknown model: the fake answers 404 to anything else.
    let mut unknown = config(&server);
    unknown.veo_model = "veo-9-nope".into();
    let error = provider_with(&server, unknown)
        .check_model(Service::Veo)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("\"veo-9-nope\""), "{error}");
    assert_eq!(error.code().as_str(), "MEDIA_001");
}
