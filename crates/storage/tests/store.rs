//! The artifact store's contract, on `file://` always and on S3 when
//! `YTVC_TEST_S3_ENDPOINT` names an S3-compatible server (moto in CI; the
//! bucket `ytvc-test` exists there, `AWS_*` credentials are set). Without it
//! the S3 tests print why they skip, unless `YTVC_REQUIRE_S3=1`.

use std::time::Duration;

use futures::TryStreamExt as _;
use ytvc_domain::media::{ArtifactStore, MediaBlob, MediaFormat};
use ytvc_storage::testing::{TEST_BUCKET as BUCKET, s3_endpoint};
use ytvc_storage::{Location, ObjectArtifactStore, S3Options, Storage};

fn local() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let storage = Storage::from_url(&url, &S3Options::default()).unwrap();
    (dir, storage)
}

fn s3(endpoint: String) -> Storage {
    let url = format!("s3://{BUCKET}/t-{}", uuid::Uuid::new_v4().simple());
    let options = S3Options {
        endpoint: Some(endpoint),
        ..S3Options::default()
    };
    Storage::from_url(&url, &options).unwrap()
}

/// Every backend under test: local disk, and S3 when configured.
fn backends(test: &str) -> Vec<(tempfile::TempDir, Storage)> {
    let mut all = vec![local()];
    if let Some(endpoint) = s3_endpoint(test) {
        all.push((tempfile::tempdir().unwrap(), s3(endpoint)));
    }
    all
}

fn blob(bytes: &[u8]) -> MediaBlob {
    MediaBlob::new(MediaFormat::Png, bytes.to_vec())
}

async fn collect(store: &ObjectArtifactStore, name: &str, range: std::ops::Range<u64>) -> Vec<u8> {
    let body = store.open("v-1", name, range).await.unwrap().unwrap();
    let chunks: Vec<_> = body.try_collect().await.unwrap();
    chunks.concat()
}

#[tokio::test]
async fn put_stat_open_read_and_discard() {
    for (_dir, storage) in backends("put_stat_open_read_and_discard") {
        let store = storage.artifacts();
        let at = storage.location().to_string();
        let bytes: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let stored = store
            .put("v-1", "scene-01.png", &blob(&bytes))
            .await
            .unwrap();
        assert_eq!(stored.size, 10_000, "{at}");
        assert_eq!(stored.media_type, "image/png");
        assert_eq!(stored.sha256.len(), 64);

        let meta = store.stat("v-1", "scene-01.png").await.unwrap().unwrap();
        assert_eq!(meta.size, 10_000, "{at}");
        assert!(
            !meta.etag.is_empty() && !meta.etag.contains('"'),
            "{at}: {meta:?}"
        );
        assert!(meta.last_modified.is_some());
        // The same file, asked again, has the same tag.
        assert_eq!(
            store.stat("v-1", "scene-01.png").await.unwrap().unwrap(),
            meta
        );

        assert_eq!(
            collect(&store, "scene-01.png", 0..10_000).await,
            bytes,
            "{at}"
        );
        assert_eq!(
            collect(&store, "scene-01.png", 10..20).await,
            &bytes[10..20]
        );
        assert_eq!(
            collect(&store, "scene-01.png", 9_990..10_000).await,
            &bytes[9_990..]
        );
        assert_eq!(
            store.read("v-1", "scene-01.png").await.unwrap().unwrap(),
            bytes
        );

        // Writing again replaces the file (and its tag).
        store
            .put("v-1", "scene-01.png", &blob(b"short"))
            .await
            .unwrap();
        let again = store.stat("v-1", "scene-01.png").await.unwrap().unwrap();
        assert_eq!(again.size, 5);
        assert_ne!(again.etag, meta.etag, "{at}");
        assert_eq!(collect(&store, "scene-01.png", 0..5).await, b"short");

        // An empty file: no byte to stream, but it exists.
        store.put("v-1", "empty.json", &blob(b"")).await.unwrap();
        assert_eq!(
            store.stat("v-1", "empty.json").await.unwrap().unwrap().size,
            0
        );
        assert!(collect(&store, "empty.json", 0..0).await.is_empty());

        // Missing files and invalid names are None, not errors.
        assert!(store.stat("v-1", "nope.png").await.unwrap().is_none());
        assert!(store.open("v-1", "nope.png", 0..1).await.unwrap().is_none());
        assert!(store.read("v-2", "scene-01.png").await.unwrap().is_none());
        assert!(
            store
                .stat("../v-1", "scene-01.png")
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.stat("v-1", "../x").await.unwrap().is_none());
        let refused = store.put("v-1", "a/b.png", &blob(b"x")).await.unwrap_err();
        assert_eq!(refused.code().as_str(), "VIDEO_004");

        // Another set is untouched by a discard; discarding twice is fine.
        store
            .put("v-2", "scene-01.png", &blob(b"other"))
            .await
            .unwrap();
        store.discard("v-1").await.unwrap();
        store.discard("v-1").await.unwrap();
        assert!(
            store.stat("v-1", "scene-01.png").await.unwrap().is_none(),
            "{at}"
        );
        assert!(store.stat("v-1", "empty.json").await.unwrap().is_none());
        assert_eq!(
            store.read("v-2", "scene-01.png").await.unwrap().unwrap(),
            b"other"
        );
        store.discard("v-2").await.unwrap();
    }
}

#[tokio::test]
async fn a_large_file_streams_in_chunks() {
    for (_dir, storage) in backends("a_large_file_streams_in_chunks") {
        let store = storage.artifacts();
        let bytes: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
        store.put("v-1", "video.mp4", &blob(&bytes)).await.unwrap();
        let body = store
            .open("v-1", "video.mp4", 0..bytes.len() as u64)
            .await
            .unwrap()
            .unwrap();
        let chunks: Vec<_> = body.try_collect().await.unwrap();
        assert!(
            chunks.len() > 1,
            "{}: one chunk of 4 MiB",
            storage.location()
        );
        assert!(chunks.iter().all(|c| c.len() < bytes.len()));
        assert_eq!(chunks.concat(), bytes);
        store.discard("v-1").await.unwrap();
    }
}

#[tokio::test]
async fn local_layout_is_the_data_dirs() {
    let (dir, storage) = local();
    let store = storage.artifacts();
    store
        .put("v-1", "manifest.json", &blob(b"{}"))
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("artifacts/v-1/manifest.json")).unwrap(),
        b"{}"
    );
    assert!(!store.can_presign());
    let url = store
        .presign("v-1", "manifest.json", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(url, None);
    // A set written by an earlier version (plain files) reads the same.
    std::fs::create_dir_all(dir.path().join("artifacts/v-old")).unwrap();
    std::fs::write(dir.path().join("artifacts/v-old/scene-01.wav"), b"RIFF").unwrap();
    assert_eq!(
        store.read("v-old", "scene-01.wav").await.unwrap().unwrap(),
        b"RIFF"
    );
    store.discard("v-1").await.unwrap();
    assert!(
        !dir.path().join("artifacts/v-1").exists(),
        "empty directories are removed"
    );
}

#[tokio::test]
async fn a_failing_disk_fails_the_write_with_video_004() {
    let (dir, storage) = local();
    // Where the sets' directory should be there is a file: every write fails.
    std::fs::write(dir.path().join("artifacts"), b"in the way").unwrap();
    let store = storage.artifacts();
    let err = store
        .put("v-1", "scene-01.png", &blob(b"x"))
        .await
        .unwrap_err();
    assert_eq!(err.code().as_str(), "VIDEO_004", "{err}");
    assert!(!err.retryable());
}

#[test]
fn urls_are_checked_when_opened() {
    let opts = S3Options::default();
    assert!(Storage::from_url("ftp://x/y", &opts).is_err());
    assert!(Storage::from_url("./relative", &opts).is_err());
    let err = Storage::from_url("s3://AKIA:hunter2@bucket/p", &opts).unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let (dir, storage) = local();
    assert_eq!(
        storage.location(),
        &Location::Local(dir.path().to_path_buf())
    );
}

#[tokio::test]
async fn s3_presigned_urls_fetch_the_file_until_they_expire() {
    let Some(endpoint) = s3_endpoint("s3_presigned_urls_fetch_the_file_until_they_expire") else {
        return;
    };
    let storage = s3(endpoint.clone());
    let store = storage.artifacts();
    assert!(store.can_presign());
    store
        .put("v-1", "video.mp4", &blob(b"0123456789"))
        .await
        .unwrap();
    let url = store
        .presign("v-1", "video.mp4", Duration::from_secs(300))
        .await
        .unwrap()
        .expect("S3 presigns");
    assert!(url.starts_with(&endpoint), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    let client = reqwest::Client::new();
    let whole = client.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap().as_ref(), b"0123456789");
    // A ranged GET on the presigned URL (a player seeking after the redirect).
    let part = client
        .get(&url)
        .header("range", "bytes=2-4")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), b"234");
    // A URL signed for one file does not fetch another (moto does not check
    // signatures, so only "not that file" is asserted here; S3 says 403).
    let forged = url.replace("video.mp4", "other.mp4");
    assert_ne!(client.get(&forged).send().await.unwrap().status(), 200);
    store.discard("v-1").await.unwrap();
}

#[tokio::test]
async fn s3_down_fails_the_write_with_video_004_after_the_retries() {
    if s3_endpoint("s3_down_fails_the_write_with_video_004_after_the_retries").is_none() {
        return;
    }
    // Nothing listens there: every attempt is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = S3Options {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        max_retries: Some(2),
        retry_timeout: Some(Duration::from_secs(5)),
    };
    let store = ObjectArtifactStore::from_url(&format!("s3://{BUCKET}/down"), &options).unwrap();
    let started = std::time::Instant::now();
    let err = store
        .put("v-1", "scene-01.png", &blob(b"x"))
        .await
        .unwrap_err();
    assert_eq!(err.code().as_str(), "VIDEO_004", "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(store.stat("v-1", "scene-01.png").await.is_err());
}
