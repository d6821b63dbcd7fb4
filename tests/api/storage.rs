//! Artifact storage end to end: streamed downloads with ranges and ETags on
//! local disk; a store that fails mid-write; and S3 (moto in CI) shared by
//! two API instances and a separate worker process, every artifact
//! downloadable from both, and presigned redirects. The S3 tests skip (with
//! the reason printed) when `YTVC_TEST_S3_ENDPOINT` is unset, unless
//! `YTVC_REQUIRE_S3=1`.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use ytvc_e2e::{Db, TestApp, VideoReq, WorkerProcess};
use ytvc_storage::Location;
use ytvc_storage::testing::{TEST_BUCKET as BUCKET, s3_endpoint};

/// A raw download: status, headers, bytes.
struct Download {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Download {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn download(
    app: &TestApp,
    token: &str,
    id: &str,
    name: &str,
    headers: &[(&str, &str)],
) -> Download {
    let mut req = app
        .build(
            reqwest::Method::GET,
            &format!("/v1/videos/{id}/artifacts/{name}"),
        )
        .bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("sent");
    Download {
        status: res.status(),
        headers: res.headers().clone(),
        bytes: res.bytes().await.expect("body").to_vec(),
    }
}

fn names(video: &Value) -> Vec<String> {
    video["artifacts"]
        .as_array()
        .unwrap_or_else(|| panic!("artifacts: {video}"))
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A whole download answers 200 with the validators, and ranges agree with it.
async fn check_ranges(app: &TestApp, token: &str, id: &str, name: &str) -> Vec<u8> {
    let whole = download(app, token, id, name, &[]).await;
    assert_eq!(whole.status, 200, "{name}");
    let size = whole.bytes.len();
    assert!(size > 20, "{name}: {size} bytes");
    assert_eq!(whole.header("accept-ranges"), "bytes");
    assert_eq!(whole.header("content-length"), size.to_string());
    let etag = whole.header("etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "{etag}"
    );
    assert!(whole.header("last-modified").ends_with(" GMT"));

    let first = download(app, token, id, name, &[("range", "bytes=0-9")]).await;
    assert_eq!(first.status, 206);
    assert_eq!(first.header("content-range"), format!("bytes 0-9/{size}"));
    assert_eq!(first.header("content-length"), "10");
    assert_eq!(first.bytes, &whole.bytes[..10]);
    assert_eq!(first.header("etag"), etag);

    let last = download(app, token, id, name, &[("range", "bytes=-7")]).await;
    assert_eq!(last.status, 206);
    assert_eq!(
        last.header("content-range"),
        format!("bytes {}-{}/{size}", size - 7, size - 1)
    );
    assert_eq!(last.bytes, &whole.bytes[size - 7..]);

    let tail = download(
        app,
        token,
        id,
        name,
        &[("range", &format!("bytes={}-", size - 3))],
    )
    .await;
    assert_eq!(
        (tail.status, tail.bytes.as_slice()),
        (StatusCode::PARTIAL_CONTENT, &whole.bytes[size - 3..])
    );

    // If-None-Match with the tag: 304, no body, the tag again.
    let cached = download(app, token, id, name, &[("if-none-match", &etag)]).await;
    assert_eq!(cached.status, 304);
    assert!(cached.bytes.is_empty());
    assert_eq!(cached.header("etag"), etag);
    let stale = download(app, token, id, name, &[("if-none-match", "\"other\"")]).await;
    assert_eq!((stale.status, stale.bytes.len()), (StatusCode::OK, size));

    // If-Range: the range while the tag holds, else the whole file.
    let resumed = download(
        app,
        token,
        id,
        name,
        &[("range", "bytes=5-"), ("if-range", &etag)],
    )
    .await;
    assert_eq!(
        (resumed.status, resumed.bytes.as_slice()),
        (StatusCode::PARTIAL_CONTENT, &whole.bytes[5..])
    );
    let changed = download(
        app,
        token,
        id,
        name,
        &[("range", "bytes=5-"), ("if-range", "\"old\"")],
    )
    .await;
    assert_eq!(
        (changed.status, changed.bytes.len()),
        (StatusCode::OK, size)
    );

    // Several ranges are answered with the whole file.
    let several = download(app, token, id, name, &[("range", "bytes=0-1,4-5")]).await;
    assert_eq!(
        (several.status, several.bytes.len()),
        (StatusCode::OK, size)
    );
    whole.bytes
}

#[tokio::test]
async fn downloads_stream_with_ranges_etags_and_416_on_local_disk() {
    let app = TestApp::builder().with_worker().spawn().await;
    let (_, token, _) = app.user("range@example.com").await;
    let video =
        VideoReq::new("A lighthouse blinks. Waves roll in. Gulls circle the rocks.").duration(6);
    let v = app.make_video(&token, &video).await;
    assert_eq!(v["status"], "completed", "{v}");
    let id = v["id"].as_str().unwrap();
    // The default storage: files under the data dir, as before.
    let Location::Local(root) = &app.config.storage.location else {
        panic!("local storage by default");
    };
    assert_eq!(root, &app.config.data_dir);
    for name in names(&v) {
        let bytes = check_ranges(&app, &token, id, &name).await;
        assert_eq!(
            std::fs::read(root.join("artifacts").join(id).join(&name)).unwrap(),
            bytes
        );
    }

    let wav = names(&v).into_iter().find(|n| n.ends_with(".wav")).unwrap();
    let size = download(&app, &token, id, &wav, &[]).await.bytes.len();
    for past in [
        format!("bytes={size}-"),
        format!("bytes={}-{}", size + 10, size + 20),
    ] {
        let r = app
            .send(
                app.build(
                    reqwest::Method::GET,
                    &format!("/v1/videos/{id}/artifacts/{wav}"),
                )
                .bearer_auth(&token)
                .header("range", past),
            )
            .await;
        let error = r.assert_error("HTTP_003");
        assert_eq!(r.status, 416);
        assert_eq!(r.header("content-range"), format!("bytes */{size}"));
        assert_eq!(error["details"]["size"], size);
    }
    // The owner check comes before anything about ranges.
    let (_, other, _) = app.user("other-range@example.com").await;
    let r = app
        .send(
            app.build(
                reqwest::Method::GET,
                &format!("/v1/videos/{id}/artifacts/{wav}"),
            )
            .bearer_auth(&other)
            .header("range", "bytes=0-1"),
        )
        .await;
    r.assert_error("NOT_FOUND_001");
}

#[tokio::test]
async fn a_store_failing_mid_write_fails_the_video_with_video_004_and_releases_its_quota() {
    // Where the sets' directory should be is a file: the first write works
    // nowhere, like a full disk.
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(broken.path().join("artifacts"), b"in the way").unwrap();
    let root = broken.path().to_path_buf();
    let app = TestApp::builder()
        .with_worker()
        .with_config(move |c| c.storage.location = Location::Local(root))
        .spawn()
        .await;
    let (_, token, _) = app.user("full@example.com").await;
    let v = app
        .make_video(
            &token,
            &VideoReq::new("Rain on a tin roof. A cat sleeps.").duration(6),
        )
        .await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "VIDEO_004", "{v}");
    assert!(v["artifacts"].is_null(), "no half set is served: {v}");
    assert_eq!(app.used_and_reserved(&token).await, (0, 0), "released");
    let id = v["id"].as_str().unwrap();
    app.get_artifact(&token, id, "manifest.json")
        .await
        .assert_error("VIDEO_002");
}

#[tokio::test]
async fn two_api_instances_and_a_separate_worker_share_s3_storage() {
    let Some(endpoint) = s3_endpoint("two_api_instances_and_a_separate_worker_share_s3_storage")
    else {
        return;
    };
    let url = format!("s3://{BUCKET}/e2e-{}", uuid_like());
    let location: Location = url.parse().unwrap();
    let on_s3 = {
        let (location, endpoint) = (location.clone(), endpoint.clone());
        move |c: &mut ytvc_server::config::Config| {
            c.storage.location = location;
            c.storage.s3_endpoint = Some(endpoint);
        }
    };
    // PostgreSQL when configured (as a fleet would run), else SQLite.
    let db = if std::env::var_os("YTVC_TEST_DATABASE_URL").is_some() {
        Db::Postgres
    } else {
        Db::Sqlite
    };
    let a = TestApp::builder()
        .with_db(db)
        .with_jwt_secret("0123456789abcdef0123456789abcdef-shared-s3")
        .with_config(on_s3.clone())
        .spawn()
        .await;
    let b = a.spawn_beside_with(on_s3.clone()).await;
    let presigning = {
        let on_s3 = on_s3.clone();
        a.spawn_beside_with(move |c| {
            on_s3(c);
            c.storage.presign = true;
        })
        .await
    };
    // Neither API instance runs a worker: a separate process makes the video.
    assert!(!a.config.worker_enabled && !b.config.worker_enabled);
    let mut worker = WorkerProcess::start(
        env!("CARGO_BIN_EXE_ytvc-e2e-server"),
        &a,
        &[
            ("YTVC_STORAGE_URL", url.clone()),
            ("YTVC_S3_ENDPOINT", endpoint.clone()),
            ("YTVC_VIDEO_ASSEMBLY", "on".to_owned()),
        ],
    );

    let (_, token, _) = a.user("s3@example.com").await;
    let video = VideoReq::new("Snow falls on a quiet town. A train arrives.").duration(6);
    let submitted = a.submit_video(&token, &video).await;
    let id = submitted["id"].as_str().unwrap().to_owned();
    let v = b.wait_final(&token, &id).await;
    assert!(worker.is_running(), "the worker process is alive");
    assert_eq!(v["status"], "completed", "{v}");
    let all = names(&v);
    assert!(all.iter().any(|n| n == "video.mp4"), "{all:?}");
    assert!(all.iter().any(|n| n == "manifest.json"), "{all:?}");

    // Every artifact, from both instances, byte for byte the same, with
    // the same ETag (none of it is on either instance's disk).
    for name in &all {
        let from_a = download(&a, &token, &id, name, &[]).await;
        let from_b = download(&b, &token, &id, name, &[]).await;
        assert_eq!(from_a.status, 200, "{name} from A");
        assert_eq!(from_b.status, 200, "{name} from B");
        assert_eq!(from_a.bytes, from_b.bytes, "{name}");
        assert!(!from_a.bytes.is_empty());
        assert_eq!(from_a.header("etag"), from_b.header("etag"), "{name}");
        for app in [&a, &b] {
            assert!(!app.config.data_dir.join("artifacts").join(&id).exists());
        }
    }
    // A player seeking in the video on B; revalidation on A with B's tag.
    let mp4 = check_ranges(&b, &token, &id, "video.mp4").await;
    let etag = download(&b, &token, &id, "video.mp4", &[])
        .await
        .header("etag")
        .to_owned();
    let cached = download(&a, &token, &id, "video.mp4", &[("if-none-match", &etag)]).await;
    assert_eq!(cached.status, 304);

    // Presigned: a 307 to a short-lived URL that serves the file (and its
    // ranges) straight from the bucket.
    let redirect = download(&presigning, &token, &id, "video.mp4", &[]).await;
    assert_eq!(redirect.status, 307);
    let location = redirect.header("location").to_owned();
    assert!(location.starts_with(&endpoint), "{location}");
    assert!(location.contains("X-Amz-Expires=300"), "{location}");
    let client = reqwest::Client::new();
    let direct = client.get(&location).send().await.unwrap();
    assert_eq!(direct.status(), 200);
    assert_eq!(direct.bytes().await.unwrap().to_vec(), mp4);
    let part = client
        .get(&location)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().to_vec(), &mp4[..100]);
    // The owner check still comes first.
    let (_, other, _) = presigning.user("not-owner@example.com").await;
    let refused = download(&presigning, &other, &id, "video.mp4", &[]).await;
    assert_eq!(refused.status, 404);
    drop(worker);
}

/// A fresh name for a test's prefix in the shared bucket.
fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}-{}", std::process::id())
}

#[tokio::test]
async fn expired_sets_are_deleted_by_the_maintenance_and_answer_storage_001() {
    for db in [Db::Sqlite, Db::Postgres] {
        let app = TestApp::builder()
            .with_db(db)
            .with_worker()
            .with_config(|c| c.storage.retention_days = 2)
            .try_spawn()
            .await;
        match app {
            Some(app) => expires_on(&app).await,
            None => eprintln!(
                "expired_sets_are_deleted_by_the_maintenance: {db:?} skipped: not configured"
            ),
        }
    }
}

/// Retention on one backend: kept, then 410, then deleted and marked.
async fn expires_on(app: &TestApp) {
    let (_, token, _) = app.user("retention@example.com").await;
    let v = app
        .make_video(
            &token,
            &VideoReq::new("Leaves fall in a park. A dog runs.").duration(6),
        )
        .await;
    assert_eq!(v["status"], "completed", "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let completed: chrono::DateTime<chrono::Utc> =
        v["completed_at"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<chrono::Utc> =
        v["artifacts_expire_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires - completed, chrono::TimeDelta::days(2));
    let set = app.config.data_dir.join("artifacts").join(&id);
    assert!(set.join("manifest.json").is_file());
    assert_eq!(
        download(app, &token, &id, "manifest.json", &[])
            .await
            .status,
        200
    );

    // A day later: still kept (a new token: the first one has expired).
    app.clock.advance(std::time::Duration::from_secs(86_400));
    let token = app.access_token("retention@example.com").await;
    assert_eq!(
        download(app, &token, &id, "manifest.json", &[])
            .await
            .status,
        200
    );
    // Past the expiry: downloads answer STORAGE_001 at once, and the next
    // maintenance pass deletes the set and marks the video.
    app.clock
        .advance(std::time::Duration::from_secs(86_400 + 1));
    let token = app.access_token("retention@example.com").await;
    let r = app.get_artifact(&token, &id, "manifest.json").await;
    let error = r.assert_error("STORAGE_001");
    assert_eq!(r.status, 410);
    assert_eq!(error["details"]["expired_at"], v["artifacts_expire_at"]);
    let started = std::time::Instant::now();
    while set.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "set not deleted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let after = app.get_video(&token, &id).await;
    let after = after.data(200);
    assert_eq!(after["status"], "completed", "the video itself stays");
    assert!(
        after["artifacts"].is_null() && after["video_url"].is_null(),
        "{after}"
    );
    assert_eq!(after["artifacts_expire_at"], v["artifacts_expire_at"]);
    app.get_artifact(&token, &id, "scene-01.apng")
        .await
        .assert_error("STORAGE_001");
}

#[tokio::test]
async fn retention_0_keeps_sets_forever() {
    let app = TestApp::builder()
        .with_worker()
        .with_config(|c| c.storage.retention_days = 0)
        .spawn()
        .await;
    let (_, token, _) = app.user("forever@example.com").await;
    let v = app
        .make_video(
            &token,
            &VideoReq::new("Stars turn over a desert. An owl calls.").duration(6),
        )
        .await;
    assert_eq!(v["status"], "completed", "{v}");
    assert!(v["artifacts_expire_at"].is_null(), "{v}");
    app.clock
        .advance(std::time::Duration::from_secs(3650 * 86_400));
    let token = app.access_token("forever@example.com").await;
    let id = v["id"].as_str().unwrap();
    assert_eq!(
        download(&app, &token, id, "manifest.json", &[])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn s3_down_fails_the_video_with_video_004_after_the_stores_retries() {
    if s3_endpoint("s3_down_fails_the_video_with_video_004_after_the_stores_retries").is_none() {
        return;
    }
    // Nothing listens there: every request to "S3" is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::builder()
        .with_worker()
        .with_config(move |c| {
            c.storage.location = format!("s3://{BUCKET}/down").parse().unwrap();
            c.storage.s3_endpoint = Some(format!("http://127.0.0.1:{port}"));
        })
        .spawn()
        .await;
    let (_, token, _) = app.user("s3-down@example.com").await;
    let v = app
        .make_video(
            &token,
            &VideoReq::new("Fog over a harbour. Boats wait.").duration(6),
        )
        .await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "VIDEO_004", "{v}");
    assert!(v["artifacts"].is_null(), "{v}");
    assert_eq!(app.used_and_reserved(&token).await, (0, 0), "released");
}

#[tokio::test]
async fn a_write_failing_after_others_leaves_no_half_set() {
    // The third write fails (after the storyboard and a visual were stored).
    let app = TestApp::builder()
        .with_worker()
        .with_media_faults("put=calls:3")
        .spawn()
        .await;
    let (_, token, _) = app.user("half@example.com").await;
    let v = app
        .make_video(
            &token,
            &VideoReq::new("A kite rises. The string snaps. It drifts away.").duration(12),
        )
        .await;
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "VIDEO_004", "{v}");
    assert!(v["artifacts"].is_null(), "{v}");
    assert_eq!(app.used_and_reserved(&token).await, (0, 0), "released");
    let id = v["id"].as_str().unwrap();
    let set = app.config.data_dir.join("artifacts").join(id);
    assert!(!set.exists(), "the partial set was deleted");
    app.get_artifact(&token, id, "storyboard.json")
        .await
        .assert_error("VIDEO_002");
}
