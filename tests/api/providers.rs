//! Per-service providers end to end through the worker: the `openai`
//! provider against a fake OpenAI-compatible server on loopback (its
//! storyboard, narration and stills in the MP4; a 429 retried), services
//! that are off (`none`), a mixed set-up, and the providers check at start
//! in `/health/ready`.

use serde_json::{Value, json};
use ytvc_e2e::fake_openai::{CHAT, IMAGES, MODELS, SPEECH, TITLE, png, wav};
use ytvc_e2e::{FakeOpenAi, TestApp, VideoReq};
use ytvc_server::config::{MediaProvider, VisualChoice};

/// Six seconds: the fake's storyboard gives it two 3 s scenes.
fn lanterns() -> VideoReq {
    VideoReq::new("Lanterns float down a river at night while children wave").duration(6)
}

/// The manifest of a completed video.
async fn manifest(app: &TestApp, token: &str, id: &str) -> Value {
    let m = app.get_artifact(token, id, "manifest.json").await;
    assert_eq!(m.status, 200, "{}", m.text);
    m.body
}

#[tokio::test]
async fn an_openai_compatible_server_makes_the_whole_video() {
    let openai = FakeOpenAi::start().await;
    // Per service (YTVC_{LLM,TTS,IMAGE}_PROVIDER=openai, clips off), over
    // an offline default.
    let app = TestApp::builder()
        .with_worker()
        .with_assembly()
        .with_fake_openai(&openai)
        .with_config(|c| {
            c.media_provider = MediaProvider::Local;
            c.media.llm_provider = Some(MediaProvider::OpenAi);
            c.media.tts_provider = Some(MediaProvider::OpenAi);
            c.media.image_provider = Some(VisualChoice::Use(MediaProvider::OpenAi));
            c.media.clip_provider = Some(VisualChoice::Off);
        })
        .spawn()
        .await;
    let (_, token, _) = app.user("openai@example.com").await;
    let v = app.make_video(&token, &lanterns()).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["attempts"], 1);
    assert_eq!(
        (v["degraded"].clone(), v["fallbacks"].clone()),
        (json!(false), json!([])),
        "no clips is the configuration, not a degradation"
    );
    let id = v["id"].as_str().unwrap();

    // The fake's storyboard, stills and narration are the video's.
    let m = manifest(&app, &token, id).await;
    assert_eq!(m["title"], TITLE);
    assert_eq!(m["provider"], "openai");
    assert_eq!(
        m["providers"],
        json!({"llm": "openai", "tts": "openai", "image": "openai", "clip": "none"})
    );
    let scenes = m["scenes"].as_array().unwrap();
    assert_eq!(scenes.len(), 2);
    assert_eq!(
        scenes[0]["narration"],
        "Paper lanterns drift on the dark water."
    );
    for scene in scenes {
        assert_eq!(scene["visual_source"], "still", "{scene}");
        assert_eq!(scene["fallback_codes"], json!([]));
        assert_eq!(scene["duration_seconds"], 3);
        let still = scene["visual"]["name"].as_str().unwrap();
        assert_eq!(app.artifact_bytes(&token, id, still).await, png());
        let narration = scene["narration_audio"]["name"].as_str().unwrap();
        let stored = app.artifact_bytes(&token, id, narration).await;
        assert_eq!(
            stored[44..],
            wav()[44..],
            "the fake's audio, its streamed sizes repaired"
        );
    }
    assert_eq!(openai.calls(CHAT).await, 1);
    assert_eq!(openai.calls(IMAGES).await, 2);
    assert_eq!(openai.calls(SPEECH).await, 2);
    let chat = &openai.requests(CHAT).await[0];
    let body: Value = serde_json::from_slice(&chat.body).unwrap();
    assert_eq!(body["model"], "gpt-4o-mini");
    let speech: Value = serde_json::from_slice(&openai.requests(SPEECH).await[0].body).unwrap();
    assert_eq!(
        (speech["model"].as_str(), speech["response_format"].as_str()),
        (Some("gpt-4o-mini-tts"), Some("wav"))
    );
    assert!(
        openai
            .paths()
            .await
            .iter()
            .all(|p| [CHAT, IMAGES, SPEECH].contains(&p.as_str())),
        "no other call (no clips)"
    );

    // The MP4: 6 s, the stills as H.264 at 1280×720, the narration as AAC.
    let url = v["video_url"].as_str().expect("assembled");
    let bytes = app
        .artifact_bytes(&token, id, url.rsplit('/').next().unwrap())
        .await;
    let reader =
        mp4::Mp4Reader::read_header(std::io::Cursor::new(&bytes), bytes.len() as u64).unwrap();
    let frame = 1.0 / 24.0;
    assert!((reader.duration().as_secs_f64() - 6.0).abs() <= frame);
    let mut kinds: Vec<&str> = reader
        .tracks()
        .values()
        .map(|track| match track.track_type().unwrap() {
            mp4::TrackType::Video => {
                assert_eq!(track.media_type().unwrap(), mp4::MediaType::H264);
                assert_eq!((track.width(), track.height()), (1280, 720));
                "video"
            }
            mp4::TrackType::Audio => {
                assert_eq!(track.media_type().unwrap(), mp4::MediaType::AAC);
                let seconds = track.duration().as_secs_f64();
                assert!((6.0..6.1).contains(&seconds), "audio lasts {seconds} s");
                "audio"
            }
            other => panic!("unexpected track {other:?}"),
        })
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["audio", "video"]);

    // Readiness lists every service with its provider; only the external
    // ones have breakers.
    let ready = app.get("/health/ready").await;
    let media = &ready.body["data"]["components"]["media"];
    assert_eq!(media["status"], "up", "{media}");
    assert_eq!(media["info"]["provider"], "openai");
    assert_eq!(
        media["info"]["services"]["llm"],
        json!({"provider": "openai", "model": "gpt-4o-mini"})
    );
    assert_eq!(
        media["info"]["services"]["clip"],
        json!({"provider": "none", "model": null})
    );
    let breakers = media["info"]["breakers"].as_object().unwrap();
    let mut names: Vec<&str> = breakers.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["imagen", "llm", "tts"]);
    assert_eq!(breakers["tts"]["provider"], "openai");
    assert_eq!(breakers["tts"]["calls"], 2);
    assert_eq!(
        ready.body["data"]["components"]["providers"]["info"]["check"], "off",
        "not at start outside production"
    );
}

#[tokio::test]
async fn a_rate_limited_storyboard_is_retried_and_the_video_completes() {
    let openai = FakeOpenAi::start().await;
    openai.rate_limit_once(CHAT).await;
    let app = TestApp::builder()
        .with_worker()
        .with_fake_openai(&openai)
        .spawn()
        .await;
    let (_, token, _) = app.user("ratelimited@example.com").await;
    let v = app.make_video(&token, &lanterns()).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["attempts"], 1, "retried within the call, not the job");
    assert_eq!(openai.calls(CHAT).await, 2, "a 429, then the 200");
    let m = manifest(&app, &token, v["id"].as_str().unwrap()).await;
    assert_eq!(m["title"], TITLE);
    let ready = app.get("/health/ready").await;
    let llm = &ready.body["data"]["components"]["media"]["info"]["breakers"]["llm"];
    assert_eq!(
        (llm["calls"].clone(), llm["failures"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(llm["state"], "closed");
}

#[tokio::test]
async fn with_clips_off_scenes_are_stills_and_not_degraded() {
    let app = TestApp::builder()
        .with_worker()
        .with_config(|c| c.media.clip_provider = Some(VisualChoice::Off))
        .spawn()
        .await;
    let (_, token, _) = app.user("noclips@example.com").await;
    let v = app
        .make_video(
            &token,
            &VideoReq::new("A walk along the cliffs at dawn").duration(20),
        )
        .await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(
        (v["degraded"].clone(), v["fallbacks"].clone()),
        (json!(false), json!([]))
    );
    let m = manifest(&app, &token, v["id"].as_str().unwrap()).await;
    assert_eq!(m["provider"], "local");
    assert_eq!(m["providers"]["clip"], "none");
    assert_eq!(m["degraded"], false);
    let scenes = m["scenes"].as_array().unwrap();
    assert_eq!(scenes.len(), 2);
    for scene in scenes {
        assert_eq!(scene["visual_source"], "still", "{scene}");
        assert_eq!(scene["fallback_codes"], json!([]));
        assert!(
            scene["visual"]["name"].as_str().unwrap().ends_with(".png"),
            "{scene}"
        );
    }
}

#[tokio::test]
async fn a_mixed_set_up_routes_each_service_and_no_visuals_means_title_cards() {
    // The storyboard from the fake, narration offline, no stills, no clips.
    let openai = FakeOpenAi::start().await;
    let app = TestApp::builder()
        .with_worker()
        .with_fake_openai(&openai)
        .with_config(|c| {
            c.media_provider = MediaProvider::Local;
            c.media.llm_provider = Some(MediaProvider::OpenAi);
            c.media.image_provider = Some(VisualChoice::Off);
            c.media.clip_provider = Some(VisualChoice::Off);
        })
        .spawn()
        .await;
    let (_, token, _) = app.user("mixed@example.com").await;
    let v = app.make_video(&token, &lanterns()).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["degraded"], false, "{v}");
    let m = manifest(&app, &token, v["id"].as_str().unwrap()).await;
    assert_eq!(m["title"], TITLE);
    assert_eq!(m["provider"], "mixed");
    assert_eq!(
        m["providers"],
        json!({"llm": "openai", "tts": "local", "image": "none", "clip": "none"})
    );
    for scene in m["scenes"].as_array().unwrap() {
        assert_eq!(scene["visual_source"], "title_card", "{scene}");
        assert_eq!(scene["fallback_codes"], json!([]));
    }
    assert_eq!(openai.calls(CHAT).await, 1);
    assert_eq!(
        openai.paths().await,
        [CHAT],
        "only the storyboard is remote"
    );
    let ready = app.get("/health/ready").await;
    let breakers = &ready.body["data"]["components"]["media"]["info"]["breakers"];
    assert_eq!(
        breakers.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["llm"]
    );
}

#[tokio::test]
async fn the_providers_check_at_start_names_an_unknown_model_in_readiness() {
    let openai = FakeOpenAi::start().await;
    let app = TestApp::builder()
        .with_fake_openai(&openai)
        .with_config(|c| {
            c.providers_check = true;
            c.media.openai.tts_model = Some("kokoro-x".into());
        })
        .spawn()
        .await;
    let ready = app.get("/health/ready").await;
    assert_eq!(
        ready.status, 200,
        "a failed check degrades, it does not unready"
    );
    let providers = &ready.body["data"]["components"]["providers"];
    assert_eq!(providers["status"], "degraded", "{providers}");
    let error = providers["error"].as_str().unwrap();
    assert!(
        error.starts_with("tts (openai, kokoro-x): MEDIA_003: ")
            && error.contains("model \"kokoro-x\" not found")
            && error.contains("The model `kokoro-x` does not exist"),
        "{error}"
    );
    let rows = providers["info"]["rows"].as_array().unwrap();
    let summary: Vec<(&str, &str, bool)> = rows
        .iter()
        .map(|r| {
            (
                r["service"].as_str().unwrap(),
                r["provider"].as_str().unwrap(),
                r["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("llm", "openai", true),
            ("tts", "openai", false),
            ("image", "openai", true),
            ("clip", "none", true)
        ]
    );
    assert_eq!(rows[1]["code"], "MEDIA_003");
    assert_eq!(rows[1]["model"], "kokoro-x");
    assert!(providers["info"]["checked_at"].is_string());
    // Lookups only: no storyboard, narration or still was generated.
    let paths = openai.paths().await;
    assert!(
        paths.iter().all(|p| p.starts_with(MODELS)),
        "model routes only: {paths:?}"
    );
    assert!(paths.contains(&format!("{MODELS}/kokoro-x")));

    // Every model known: the check passes.
    let app = TestApp::builder()
        .with_fake_openai(&openai)
        .with_config(|c| c.providers_check = true)
        .spawn()
        .await;
    let ready = app.get("/health/ready").await;
    let providers = &ready.body["data"]["components"]["providers"];
    assert_eq!(providers["status"], "up", "{providers}");
    assert!(providers.get("error").is_none());
    assert!(
        providers["info"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ok"] == true)
    );
}

#[tokio::test]
async fn the_providers_check_on_google_makes_one_small_call_per_service_and_looks_veo_up() {
    use ytvc_e2e::fake_google::{IMAGEN, LLM, TTS, VEO, VEO_MODEL};
    use ytvc_e2e::{FakeGoogle, Outage};
    let google = FakeGoogle::start(Outage::None).await;
    let app = TestApp::builder()
        .with_fake_google(&google)
        .with_config(|c| c.providers_check = true)
        .spawn()
        .await;
    let ready = app.get("/health/ready").await;
    let providers = &ready.body["data"]["components"]["providers"];
    assert_eq!(providers["status"], "up", "{providers}");
    let rows: Vec<(String, String)> = providers["info"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("{} {} {}", r["service"], r["provider"], r["model"]),
                r["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "\"llm\" \"gemini\" \"gemini-3.8-flash\"".to_owned(),
                "ok (a one-word storyboard)".to_owned()
            ),
            (
                "\"tts\" \"gemini\" \"gemini-3.8-flash-tts\"".to_owned(),
                "ok (a 1 s narration)".to_owned()
            ),
            (
                "\"image\" \"gemini\" \"gemini-nano-banana-2.1\"".to_owned(),
                "ok (one still)".to_owned()
            ),
            (
                "\"clip\" \"gemini\" \"veo-3.1-fast-generate-preview\"".to_owned(),
                "ok (model found)".to_owned()
            ),
        ]
    );
    for (at, expected) in [(LLM, 1), (TTS, 1), (IMAGEN, 1), (VEO_MODEL, 1), (VEO, 0)] {
        assert_eq!(
            google.calls(at).await,
            expected,
            "{at}: never a billed clip"
        );
    }
}
