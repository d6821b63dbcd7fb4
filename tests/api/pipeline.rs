//! The worker and the offline `local` provider end to end: create → poll →
//! completed with downloadable artifacts; fallbacks; retries; final failures.

use std::time::Duration;

use serde_json::json;
use ytvc_e2e::{BatchReq, TestApp, VideoReq};

/// A new user submits `video`; returns their token and the video's id.
async fn submit(app: &TestApp, email: &str, video: VideoReq) -> (String, String) {
    let (_, token, _) = app.user(email).await;
    let v = app.submit_video(&token, &video).await;
    (token, v["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_video_completes_with_downloadable_artifacts_and_commits_its_quota() {
    let app = TestApp::builder().with_worker().spawn().await;
    let video = VideoReq::new("Coral reefs at dawn. Parrotfish graze. The tide turns.")
        .duration(20)
        .aspect_ratio("1:1");
    let (token, id) = submit(&app, "w@example.com", video).await;
    let v = app.wait_final(&token, &id).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["attempts"], 1);
    assert!(v["started_at"].is_string() && v["completed_at"].is_string());
    assert_eq!(
        (v["degraded"].clone(), v["fallbacks"].clone()),
        (json!(false), json!([]))
    );
    let artifacts = v["artifacts"].as_array().unwrap();
    let names: Vec<&str> = artifacts
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"manifest.json") && names.contains(&"storyboard.json"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.ends_with(".apng")), "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with("-narration.wav")),
        "{names:?}"
    );

    let manifest = app.get_artifact(&token, &id, "manifest.json").await;
    assert_eq!(manifest.status, 200);
    assert_eq!(manifest.body["video_id"], id);
    assert_eq!(manifest.body["total_duration_seconds"], 20);
    assert_eq!(manifest.body["provider"], "local");
    assert_eq!(manifest.body["degraded"], false);
    let wav = names.iter().find(|n| n.ends_with(".wav")).unwrap();
    let r = app.get_artifact(&token, &id, wav).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "audio/wav");

    assert_eq!(
        app.used_and_reserved(&token).await,
        (1, 0),
        "committed once"
    );

    let (_, other, _) = app.user("x@example.com").await;
    app.get_artifact(&other, &id, "manifest.json")
        .await
        .assert_error("NOT_FOUND_001");
    app.get_artifact(&token, &id, "..%2Fmanifest.json")
        .await
        .assert_error("NOT_FOUND_004");
    app.get_artifact(&token, &id, "nothing.png")
        .await
        .assert_error("NOT_FOUND_004");
    app.cancel_video(&token, &id)
        .await
        .assert_error("VIDEO_003");
    let ready = app.get("/health/ready").await;
    assert_eq!(
        ready.body["data"]["components"]["worker"]["status"], "up",
        "{}",
        ready.text
    );
    let usage = app.authed("GET", "/v1/analytics/usage", &token, None).await;
    assert_eq!(usage.body["data"]["days"][0]["completed"], 1);
    assert_eq!(usage.body["data"]["days"][0]["success_rate"], 1.0);
}

#[tokio::test]
async fn a_batch_runs_to_completion() {
    let app = TestApp::builder().with_worker().spawn().await;
    let (_, token, _) = app.user("b@example.com").await;
    let videos = (0..3).map(|i| {
        VideoReq::new(format!("Short film number {i} about mountains"))
            .duration(5)
            .voice("none")
    });
    let b = app.submit_batch(&token, &BatchReq::of(videos)).await;
    let bid = b["id"].as_str().unwrap();
    for v in b["videos"].as_array().unwrap() {
        app.wait_final(&token, v["id"].as_str().unwrap()).await;
    }
    let r = app.get_batch(&token, bid).await;
    assert_eq!(r.body["data"]["status"], "completed", "{}", r.text);
    assert_eq!(r.body["data"]["progress"]["completed"], 3);
    app.cancel_batch(&token, bid)
        .await
        .assert_error("BATCH_003");
}

#[tokio::test]
async fn visuals_fall_back_when_veo_fails() {
    let app = TestApp::builder()
        .with_worker()
        .with_media_faults("clip=always")
        .spawn()
        .await;
    let video = VideoReq::new("A slow pan over a quiet harbour at night").duration(10);
    let (token, id) = submit(&app, "f@example.com", video).await;
    let v = app.wait_final(&token, &id).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["degraded"], true, "{v}");
    assert_eq!(
        v["fallbacks"],
        json!([{"scene": 1, "visual_source": "still", "failed": ["MEDIA_001"]}])
    );
    let m = app.get_artifact(&token, &id, "manifest.json").await;
    for scene in m.body["scenes"].as_array().unwrap() {
        assert_eq!(scene["visual_source"], "still", "{scene}");
        assert_eq!(scene["fallback_codes"], json!(["MEDIA_001"]));
    }
}

#[tokio::test]
async fn a_persistent_tts_outage_retries_then_fails_and_releases_the_quota() {
    let app = TestApp::builder()
        .with_worker()
        .with_media_faults("narrate=always")
        .spawn()
        .await;
    let video = VideoReq::new("A narrated tour of an old lighthouse").duration(10);
    let (token, id) = submit(&app, "t@example.com", video).await;
    let v = app.wait_final(&token, &id).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "MEDIA_003");
    assert_eq!(v["attempts"], 3, "retried up to the maximum");
    assert!(v["artifacts"].is_null());
    assert_eq!(app.used_and_reserved(&token).await, (0, 0), "released");
    app.get_artifact(&token, &id, "manifest.json")
        .await
        .assert_error("VIDEO_002");
}

#[tokio::test]
async fn cancelling_a_running_video_stops_it_at_the_next_step() {
    let app = TestApp::builder()
        .with_worker()
        .with_media_faults("narrate=slow:800")
        .with_config(|c| c.job_lease = Duration::from_secs(3)) // heartbeats every second
        .spawn()
        .await;
    let video = VideoReq::new("A long walk along a windy beach").duration(60);
    let (token, id) = submit(&app, "cr@example.com", video).await;
    app.wait_for_status(&token, &id, &["processing"]).await;
    let r = app.cancel_video(&token, &id).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["data"]["status"], "processing",
        "a running video stops at its next step"
    );
    let v = app
        .wait_for_status(&token, &id, &["completed", "failed", "cancelled"])
        .await;
    assert_eq!(v["status"], "cancelled", "{v}");
    assert!(v["artifacts"].is_null());
    assert_eq!(app.used_and_reserved(&token).await, (0, 0), "released");
}

#[tokio::test]
async fn a_completed_video_has_a_playable_mp4_with_picture_and_sound() {
    let app = TestApp::builder()
        .with_worker()
        .with_assembly()
        .spawn()
        .await;
    let video =
        VideoReq::new("Lanterns float over a river. Children wave from the bank.").duration(6);
    let (token, id) = submit(&app, "mp4@example.com", video).await;
    let v = app.wait_final(&token, &id).await;
    assert_eq!(v["status"], "completed", "{v}");
    let url = v["video_url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/v1/videos/{id}/artifacts/video.mp4"));
    assert!(
        v["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "video.mp4")
    );
    let response = app
        .build(reqwest::Method::GET, &url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "video/mp4");
    let bytes = response.bytes().await.unwrap().to_vec();

    // Read it back: the movie lasts 6 s (within a frame), with one H.264
    // track at 1280×720 and one AAC track (whose media also holds the
    // encoder's priming samples, hidden by an edit list).
    let size = bytes.len() as u64;
    let reader = mp4::Mp4Reader::read_header(std::io::Cursor::new(&bytes), size).unwrap();
    let frame = 1.0 / 24.0;
    let movie = reader.duration().as_secs_f64();
    assert!((movie - 6.0).abs() <= frame, "the movie lasts {movie} s");
    let mut kinds = Vec::new();
    for track in reader.tracks().values() {
        let seconds = track.duration().as_secs_f64();
        match track.track_type().unwrap() {
            mp4::TrackType::Video => {
                assert!((seconds - 6.0).abs() <= frame, "video lasts {seconds} s");
                assert_eq!(track.media_type().unwrap(), mp4::MediaType::H264);
                assert_eq!((track.width(), track.height()), (1280, 720));
                kinds.push("video");
            }
            mp4::TrackType::Audio => {
                assert!(
                    (6.0..6.1).contains(&seconds),
                    "audio media lasts {seconds} s"
                );
                assert_eq!(track.media_type().unwrap(), mp4::MediaType::AAC);
                kinds.push("audio");
            }
            other => panic!("unexpected track {other:?}"),
        }
    }
    kinds.sort_unstable();
    assert_eq!(kinds, ["audio", "video"]);

    // And, where ffmpeg is installed (CI installs it), it decodes cleanly.
    let path = app.config.data_dir.join("e2e-video.mp4");
    std::fs::write(&path, &bytes).unwrap();
    match std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "null", "-"])
        .output()
    {
        Ok(out) => {
            assert!(out.status.success());
            assert_eq!(String::from_utf8_lossy(&out.stderr), "", "ffmpeg errors");
        }
        Err(e) if std::env::var_os("YTVC_REQUIRE_FFMPEG").is_some() => {
            panic!("YTVC_REQUIRE_FFMPEG is set but ffmpeg cannot run: {e}")
        }
        Err(e) => eprintln!("skipping the ffmpeg decode check: {e}"),
    }
}

#[tokio::test]
async fn with_clips_and_stills_down_title_cards_still_make_a_video() {
    let app = TestApp::builder()
        .with_worker()
        .with_assembly()
        .with_media_faults("clip=always,still=always")
        .spawn()
        .await;
    let video =
        VideoReq::new("Night trains cross a snowy valley. Lights flicker in the carriages.")
            .duration(8)
            .aspect_ratio("9:16");
    let (token, id) = submit(&app, "cards@example.com", video).await;
    let v = app.wait_final(&token, &id).await;
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["degraded"], true);
    for fallback in v["fallbacks"].as_array().unwrap() {
        assert_eq!(fallback["visual_source"], "title_card", "{fallback}");
        assert_eq!(fallback["failed"], json!(["MEDIA_001", "MEDIA_002"]));
    }
    assert!(!v["fallbacks"].as_array().unwrap().is_empty());
    let url = v["video_url"].as_str().expect("the video was assembled");
    let response = app
        .build(reqwest::Method::GET, url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap().to_vec();
    let reader =
        mp4::Mp4Reader::read_header(std::io::Cursor::new(&bytes), bytes.len() as u64).unwrap();
    let video = reader
        .tracks()
        .values()
        .find(|t| t.track_type().ok() == Some(mp4::TrackType::Video))
        .unwrap();
    assert_eq!((video.width(), video.height()), (720, 1280));
    assert!((reader.duration().as_secs_f64() - 8.0).abs() <= 1.0 / 24.0);
}
