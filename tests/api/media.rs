//! The Google provider end to end through the worker, against a fake
//! Google (wiremock): a Veo outage opens its breaker and videos fall back to
//! stills without calling Veo, the breaker half-opens and closes again with
//! the app's clock, a narration outage fails the video with MEDIA_003; the
//! quota is committed or released accordingly.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use ytvc_e2e::{Db, TestApp};

use crate::pipeline::wait_final;

const API_KEY: &str = "AIzaSy-e2e-fake-key";
const LLM: &str = "/v1beta/models/gemini-2.5-flash:generateContent";
const IMAGEN: &str = "/v1beta/models/imagen-4.0-generate-001:predict";
const VEO: &str = "/v1beta/models/veo-3.0-fast-generate-001:predictLongRunning";
const OPERATION: &str = "models/veo-3.0-fast-generate-001/operations/e2e0001";
const TTS: &str = "/v1/text:synthesize";

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

async fn mount(server: &MockServer, verb: &str, at: &str, answer: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(answer)
        .mount(server)
        .await;
}

/// Storyboard (two scenes), stills and narration answer; Veo and TTS as given.
async fn fake_google(server: &MockServer, veo_up: bool, tts_up: bool) {
    server.reset().await;
    let storyboard = json!({"title": "Harbour at night", "scenes": [
        {"narration": "Boats rest at their moorings.", "visual_prompt": "Boats in a dark harbour", "duration_seconds": 5},
        {"narration": "A lighthouse sweeps the bay.", "visual_prompt": "A lighthouse beam over water", "duration_seconds": 5}]});
    mount(
        server,
        "POST",
        LLM,
        ok(json!({"candidates": [{"content": {"parts": [{"text": storyboard.to_string()}], "role": "model"},
            "finishReason": "STOP"}]})),
    )
    .await;
    mount(
        server,
        "POST",
        IMAGEN,
        ok(json!({"predictions": [{"mimeType": "image/png", "bytesBase64Encoded": b64(&png())}]})),
    )
    .await;
    let tts = if tts_up {
        ok(json!({"audioContent": b64(&wav())}))
    } else {
        overloaded()
    };
    mount(server, "POST", TTS, tts).await;
    if veo_up {
        let download = format!("{}/v1beta/files/e2e0001:download", server.uri());
        mount(server, "POST", VEO, ok(json!({"name": OPERATION}))).await;
        mount(
            server,
            "GET",
            &format!("/v1beta/{OPERATION}"),
            ok(
                json!({"name": OPERATION, "done": true, "response": {"generateVideoResponse":
                {"generatedSamples": [{"video": {"uri": download}}]}}}),
            ),
        )
        .await;
        mount(
            server,
            "GET",
            "/v1beta/files/e2e0001:download",
            ResponseTemplate::new(200).set_body_bytes(b"\0\0\0\x20ftypisom-e2e-clip".to_vec()),
        )
        .await;
    } else {
        mount(server, "POST", VEO, overloaded()).await;
    }
}

async fn calls(server: &MockServer, to: &str) -> usize {
    let received = server.received_requests().await.unwrap_or_default();
    assert!(
        received
            .iter()
            .all(|r| !r.url.as_str().contains(API_KEY) && r.headers.get("x-goog-api-key").is_some()),
        "the key travels in its header only"
    );
    received.iter().filter(|r| r.url.path() == to).count()
}

async fn google_app(server: &MockServer) -> TestApp {
    let endpoint = server.uri();
    TestApp::spawn_with(Db::Sqlite, move |c| {
        c.worker_enabled = true;
        c.worker_concurrency = 1;
        c.media_provider = ytvc_server::config::MediaProvider::Gemini;
        c.media.gemini_api_key = Some(ytvc_server::config::Secret::new(API_KEY.to_owned()));
        c.media.google_endpoint = Some(endpoint);
        c.media.retry_base = Duration::ZERO;
        c.media.veo_poll = Duration::from_millis(10);
        c.media.assembly = false;
    })
    .await
    .unwrap()
}

async fn make_video(app: &TestApp, token: &str) -> Value {
    let r = app
        .authed(
            "POST",
            "/v1/videos",
            token,
            Some(&json!({"prompt": "A quiet harbour at night, boats and a lighthouse", "duration_seconds": 10})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["data"]["id"].as_str().unwrap().to_owned();
    wait_final(app, token, &id).await
}

async fn usage(app: &TestApp, token: &str) -> (u64, u64) {
    let q = app.authed("GET", "/v1/quota", token, None).await;
    (
        q.body["data"]["used"].as_u64().unwrap(),
        q.body["data"]["reserved"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn a_veo_outage_opens_its_breaker_and_videos_fall_back_then_recover() {
    let server = MockServer::start().await;
    fake_google(&server, false, true).await;
    let app = google_app(&server).await;
    let (id, token, _) = app.user("veo@example.com").await;
    app.set_plan(&id, "pro").await;

    // Video 1: each of its 2 scenes tries Veo 3 times, then takes a still.
    let v = make_video(&app, &token).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["degraded"], true);
    assert_eq!(
        v["fallbacks"],
        json!([{"scene": 1, "visual_source": "still", "failed": ["MEDIA_001"]},
               {"scene": 2, "visual_source": "still", "failed": ["MEDIA_001"]}])
    );
    assert_eq!(calls(&server, VEO).await, 6);
    // Video 2: the 10th Veo failure in the window opens the breaker.
    let v = make_video(&app, &token).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(calls(&server, VEO).await, 10);
    let ready = app.get("/health/ready").await;
    assert_eq!(
        ready.status, 200,
        "an open breaker degrades, it does not unready"
    );
    let media = &ready.body["data"]["components"]["media"];
    assert_eq!(media["status"], "degraded", "{media}");
    assert_eq!(media["info"]["breakers"]["veo"]["state"], "open");
    assert_eq!(media["info"]["breakers"]["imagen"]["state"], "closed");
    let metrics = app.get("/metrics").await;
    assert!(
        metrics
            .text
            .contains("ytvc_media_breaker_state{service=\"veo\"} 2"),
        "{}",
        metrics.text
    );

    // Video 3: Veo is not called at all; the still comes at once.
    let v = make_video(&app, &token).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["fallbacks"][0]["failed"], json!(["MEDIA_001"]));
    assert_eq!(calls(&server, VEO).await, 10, "the open circuit spared Veo");

    // Veo recovers; 30 s later the breaker is half-open and lets 3 trial
    // calls through (scene 1's submit and download, scene 2's submit),
    // which close it.
    fake_google(&server, true, true).await;
    app.clock.advance(Duration::from_secs(31));
    let ready = app.get("/health/ready").await;
    let media = &ready.body["data"]["components"]["media"];
    assert_eq!(
        media["info"]["breakers"]["veo"]["state"], "half_open",
        "{media}"
    );
    assert_eq!(media["status"], "degraded");
    let v = make_video(&app, &token).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(
        (v["degraded"].clone(), v["fallbacks"].clone()),
        (json!(false), json!([]))
    );
    assert_eq!(calls(&server, VEO).await, 2, "one submit per scene");
    let ready = app.get("/health/ready").await;
    let media = &ready.body["data"]["components"]["media"];
    assert_eq!(media["status"], "up", "{media}");
    assert_eq!(media["info"]["breakers"]["veo"]["state"], "closed");
    assert_eq!(
        usage(&app, &token).await,
        (4, 0),
        "every completed video committed"
    );
}

#[tokio::test]
async fn a_narration_outage_fails_the_video_with_media_003_and_releases_the_quota() {
    let server = MockServer::start().await;
    fake_google(&server, true, false).await;
    let app = google_app(&server).await;
    let (_, token, _) = app.user("tts@example.com").await;
    let v = make_video(&app, &token).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "MEDIA_003");
    assert_eq!(v["attempts"], 3, "the job retried");
    assert!(v["artifacts"].is_null());
    assert_eq!(calls(&server, TTS).await, 9, "3 job attempts × 3 calls");
    assert_eq!(usage(&app, &token).await, (0, 0), "released");
}

#[tokio::test]
async fn an_exhausted_provider_quota_fails_the_video_at_once_and_releases_the_quota() {
    let server = MockServer::start().await;
    fake_google(&server, true, true).await;
    Mock::given(method("POST"))
        .and(path(TTS))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"error": {"code": 429,
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "status": "RESOURCE_EXHAUSTED", "details": [{
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{"quotaMetric": "texttospeech.googleapis.com/characters",
                    "quotaId": "CharactersPerDayPerProject", "quotaValue": "0"}]}]}})))
        .with_priority(1)
        .mount(&server)
        .await;
    let app = google_app(&server).await;
    let (_, token, _) = app.user("quota@example.com").await;
    let v = make_video(&app, &token).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "MEDIA_004");
    assert_eq!(v["attempts"], 1, "a used-up daily quota is not retried");
    assert_eq!(calls(&server, TTS).await, 1, "nor called again");
    assert_eq!(usage(&app, &token).await, (0, 0), "released");
    let ready = app.get("/health/ready").await;
    assert_eq!(
        ready.body["data"]["components"]["media"]["info"]["breakers"]["tts"]["state"], "closed",
        "quota is not held against the service"
    );
}
