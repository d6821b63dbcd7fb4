//! The Google provider end to end through the worker, against a fake
//! Google (wiremock): a Veo outage opens its breaker and videos fall back to
//! stills without calling Veo, the breaker half-opens and closes again with
//! the app's clock, a narration outage fails the video with MEDIA_003; the
//! quota is committed or released accordingly.

use std::time::Duration;

use serde_json::json;
use wiremock::ResponseTemplate;
use ytvc_e2e::fake_google::{TTS, VEO};
use ytvc_e2e::{FakeGoogle, Outage, TestApp, VideoReq};

async fn google_app(google: &FakeGoogle) -> TestApp {
    TestApp::builder()
        .with_worker()
        .with_fake_google(google)
        .spawn()
        .await
}

/// The harbour video (the fake's storyboard gives it two scenes).
fn harbour() -> VideoReq {
    VideoReq::new("A quiet harbour at night, boats and a lighthouse").duration(10)
}

#[tokio::test]
async fn a_veo_outage_opens_its_breaker_and_videos_fall_back_then_recover() {
    let google = FakeGoogle::start(Outage::Veo).await;
    let app = google_app(&google).await;
    let (id, token, _) = app.user("veo@example.com").await;
    app.set_plan(&id, "pro").await;

    // Video 1: each of its 2 scenes tries Veo 3 times, then takes a still.
    let v = app.make_video(&token, &harbour()).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["degraded"], true);
    assert_eq!(
        v["fallbacks"],
        json!([{"scene": 1, "visual_source": "still", "failed": ["MEDIA_001"]},
               {"scene": 2, "visual_source": "still", "failed": ["MEDIA_001"]}])
    );
    assert_eq!(google.calls(VEO).await, 6);
    // Video 2: the 10th Veo failure in the window opens the breaker.
    let v = app.make_video(&token, &harbour()).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(google.calls(VEO).await, 10);
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
    let v = app.make_video(&token, &harbour()).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["fallbacks"][0]["failed"], json!(["MEDIA_001"]));
    assert_eq!(google.calls(VEO).await, 10, "the open circuit spared Veo");

    // Veo recovers; 30 s later the breaker is half-open and lets 3 trial
    // calls through (scene 1's submit and download, scene 2's submit),
    // which close it.
    google.answer(Outage::None).await;
    app.clock.advance(Duration::from_secs(31));
    let ready = app.get("/health/ready").await;
    let media = &ready.body["data"]["components"]["media"];
    assert_eq!(
        media["info"]["breakers"]["veo"]["state"], "half_open",
        "{media}"
    );
    assert_eq!(media["status"], "degraded");
    let v = app.make_video(&token, &harbour()).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(
        (v["degraded"].clone(), v["fallbacks"].clone()),
        (json!(false), json!([]))
    );
    assert_eq!(google.calls(VEO).await, 2, "one submit per scene");
    let ready = app.get("/health/ready").await;
    let media = &ready.body["data"]["components"]["media"];
    assert_eq!(media["status"], "up", "{media}");
    assert_eq!(media["info"]["breakers"]["veo"]["state"], "closed");
    assert_eq!(
        app.used_and_reserved(&token).await,
        (4, 0),
        "every completed video committed"
    );
}

#[tokio::test]
async fn a_narration_outage_fails_the_video_with_media_003_and_releases_the_quota() {
    let google = FakeGoogle::start(Outage::Tts).await;
    let app = google_app(&google).await;
    let (_, token, _) = app.user("tts@example.com").await;
    let v = app.make_video(&token, &harbour()).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "MEDIA_003");
    assert_eq!(v["attempts"], 3, "the job retried");
    assert!(v["artifacts"].is_null());
    assert_eq!(google.calls(TTS).await, 9, "3 job attempts × 3 calls");
    assert_eq!(app.used_and_reserved(&token).await, (0, 0), "released");
}

#[tokio::test]
async fn an_exhausted_provider_quota_fails_the_video_at_once_and_releases_the_quota() {
    let google = FakeGoogle::start(Outage::None).await;
    let exhausted = ResponseTemplate::new(429).set_body_json(json!({"error": {"code": 429,
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "status": "RESOURCE_EXHAUSTED", "details": [{
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaMetric": "texttospeech.googleapis.com/characters",
                "quotaId": "CharactersPerDayPerProject", "quotaValue": "0"}]}]}}));
    google.override_answer("POST", TTS, exhausted).await;
    let app = google_app(&google).await;
    let (_, token, _) = app.user("quota@example.com").await;
    let v = app.make_video(&token, &harbour()).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "MEDIA_004");
    assert_eq!(v["attempts"], 1, "a used-up daily quota is not retried");
    assert_eq!(google.calls(TTS).await, 1, "nor called again");
    assert_eq!(app.used_and_reserved(&token).await, (0, 0), "released");
    let ready = app.get("/health/ready").await;
    assert_eq!(
        ready.body["data"]["components"]["media"]["info"]["breakers"]["tts"]["state"], "closed",
        "quota is not held against the service"
    );
}
