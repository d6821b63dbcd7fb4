//! The domain pipeline on the local provider, on real temp directories.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};
use ytvc_domain::media::{Manifest, MediaError, Service, Storyboard, VisualSource};
use ytvc_domain::pipeline::{NoProgress, Pipeline, PipelineOutcome, Progress, Stage};
use ytvc_domain::{AspectRatio, RawVideoRequest, VideoSpec};
use ytvc_media_clients::{Fault, Flaky, LocalProvider, Op};

const ID: &str = "0190f5a2-7c1e-7000-8000-00000000abcd";

fn spec(prompt: &str, duration: i64, aspect: &str, voice: &str) -> VideoSpec {
    VideoSpec::parse(RawVideoRequest {
        prompt: Some(prompt.into()),
        duration_seconds: Some(duration),
        aspect_ratio: Some(aspect.into()),
        voice: Some(voice.into()),
        ..RawVideoRequest::default()
    })
    .unwrap()
}

fn specs() -> Vec<VideoSpec> {
    vec![
        spec(
            "A red fox crosses a frozen lake. Snow starts to fall.",
            20,
            "16:9",
            "neutral",
        ),
        spec(
            "How bread is made: flour, water, salt and yeast, kneading, proving, baking",
            35,
            "9:16",
            "narrator_female",
        ),
        spec("Five seconds of calm ocean waves", 5, "1:1", "none"),
        spec(
            "A long tour of the old town of Porto, its bridges and its tiled churches",
            65,
            "16:9",
            "narrator_male",
        ),
    ]
}

async fn run_on<P>(provider: P, spec: &VideoSpec) -> Result<PipelineOutcome, MediaError>
where
    P: ytvc_domain::media::ScriptWriter
        + ytvc_domain::media::VisualGenerator
        + ytvc_domain::media::TitleCardRenderer
        + ytvc_domain::media::Narrator
        + ytvc_domain::media::ArtifactStore
        + 'static,
{
    Pipeline::with_provider(Arc::new(provider))
        .run(ID, spec, &NoProgress)
        .await
}

async fn run_local(root: &Path, spec: &VideoSpec) -> Manifest {
    run_on(LocalProvider::new(root.into()), spec)
        .await
        .unwrap()
        .completed()
        .unwrap()
        .manifest
}

/// The PNG chunks after the signature: (type, data).
fn png_chunks(bytes: &[u8]) -> Vec<([u8; 4], &[u8])> {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    let mut chunks = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = bytes[at + 4..at + 8].try_into().unwrap();
        chunks.push((kind, &bytes[at + 8..at + 8 + len]));
        at += 12 + len;
    }
    assert_eq!(at, bytes.len());
    chunks
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().unwrap())
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes(b[..2].try_into().unwrap())
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().unwrap())
}

/// Checks a PNG / APNG: IHDR size, decodable, and for a clip the frame
/// delays adding up to the scene length.
fn check_png(bytes: &[u8], aspect: AspectRatio, animated_seconds: Option<u32>) {
    let chunks = png_chunks(bytes);
    assert_eq!(&chunks[0].0, b"IHDR");
    let (w, h) = (be32(chunks[0].1), be32(&chunks[0].1[4..]));
    let expected = match aspect {
        AspectRatio::Landscape => (320, 180),
        AspectRatio::Portrait => (180, 320),
        AspectRatio::Square => (240, 240),
    };
    assert_eq!((w, h), expected);
    assert_eq!(&chunks.last().unwrap().0, b"IEND");
    let has_actl = chunks.iter().any(|(k, _)| k == b"acTL");
    assert_eq!(has_actl, animated_seconds.is_some());
    if let Some(seconds) = animated_seconds {
        let centis: u32 = chunks
            .iter()
            .filter(|(k, _)| k == b"fcTL")
            .map(|(_, d)| {
                let (num, den) = (
                    u16::from_be_bytes([d[20], d[21]]),
                    u16::from_be_bytes([d[22], d[23]]),
                );
                assert_eq!(den, 100);
                u32::from(num)
            })
            .sum();
        assert_eq!(centis, seconds * 100, "clip length");
    }
    // The png decoder reads it back.
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), expected);
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut buf).unwrap();
}

fn check_wav(bytes: &[u8], seconds: u32) {
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(le32(&bytes[4..]) as usize, bytes.len() - 8);
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    assert_eq!(le32(&bytes[16..]), 16);
    assert_eq!(le16(&bytes[20..]), 1, "PCM");
    assert_eq!(le16(&bytes[22..]), 1, "mono");
    assert_eq!(le32(&bytes[24..]), 16_000, "sample rate");
    assert_eq!(le32(&bytes[28..]), 32_000, "byte rate");
    assert_eq!(le16(&bytes[32..]), 2, "block align");
    assert_eq!(le16(&bytes[34..]), 16, "bits");
    assert_eq!(&bytes[36..40], b"data");
    assert_eq!(le32(&bytes[40..]), seconds * 16_000 * 2, "data length");
    assert_eq!(bytes.len(), 44 + (seconds * 16_000 * 2) as usize);
}

/// Every file the manifest lists exists with its size and hash; checks each
/// visual and narration; no other files are in the directory.
fn check_set(dir: &Path, manifest: &Manifest, spec: &VideoSpec) {
    let on_disk: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(&on_disk, manifest);
    let storyboard: Storyboard =
        serde_json::from_slice(&std::fs::read(dir.join("storyboard.json")).unwrap()).unwrap();
    assert_eq!(storyboard.scenes.len(), manifest.scenes.len());
    assert_eq!(
        storyboard.total_duration_seconds(),
        spec.duration_seconds.get()
    );
    assert_eq!(manifest.total_duration_seconds, spec.duration_seconds.get());
    assert_eq!(manifest.video_id, ID);
    assert_eq!(manifest.aspect_ratio, spec.aspect_ratio);

    let mut listed = vec!["manifest.json".to_owned()];
    for file in manifest.files() {
        let bytes = std::fs::read(dir.join(&file.name)).unwrap();
        assert_eq!(bytes.len() as u64, file.size, "{}", file.name);
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(digest, file.sha256, "{}", file.name);
        listed.push(file.name.clone());
    }
    for scene in &manifest.scenes {
        let visual = std::fs::read(dir.join(&scene.visual.name)).unwrap();
        let animated =
            (scene.visual_source == VisualSource::Clip).then_some(scene.duration_seconds);
        let ext = if animated.is_some() { "apng" } else { "png" };
        assert_eq!(scene.visual.name, format!("scene-{:02}.{ext}", scene.index));
        check_png(&visual, spec.aspect_ratio, animated);
        match &scene.narration_audio {
            Some(audio) => {
                assert!(spec.voice.is_narrated());
                assert_eq!(
                    audio.name,
                    format!("scene-{:02}-narration.wav", scene.index)
                );
                assert_eq!(audio.media_type, "audio/wav");
                check_wav(
                    &std::fs::read(dir.join(&audio.name)).unwrap(),
                    scene.duration_seconds,
                );
            }
            None => assert!(!spec.voice.is_narrated()),
        }
    }
    let mut present: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    present.sort();
    listed.sort();
    assert_eq!(
        present, listed,
        "exactly the listed files, no temporary ones"
    );
}

#[tokio::test]
async fn local_pipeline_writes_valid_files() {
    let root = tempfile::tempdir().unwrap();
    for spec in specs() {
        let manifest = run_local(root.path(), &spec).await;
        let expected_scenes = spec.duration_seconds.get().div_ceil(10).min(12) as usize;
        assert_eq!(manifest.scenes.len(), expected_scenes);
        assert!(
            manifest
                .scenes
                .iter()
                .all(|s| s.visual_source == VisualSource::Clip)
        );
        check_set(&root.path().join(ID), &manifest, &spec);
    }
}

#[tokio::test]
async fn same_spec_gives_identical_files() {
    for spec in specs() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (ma, mb) = (
            run_local(a.path(), &spec).await,
            run_local(b.path(), &spec).await,
        );
        assert_eq!(ma, mb);
        for name in std::fs::read_dir(a.path().join(ID))
            .unwrap()
            .map(|e| e.unwrap().file_name())
        {
            let fa = std::fs::read(a.path().join(ID).join(&name)).unwrap();
            let fb = std::fs::read(b.path().join(ID).join(&name)).unwrap();
            assert!(fa == fb, "{name:?} differs");
        }
    }
    // A different prompt gives a different storyboard and pictures.
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run_local(a.path(), &specs()[0]).await;
    run_local(
        b.path(),
        &spec(
            "A blue heron stands in a misty marsh. Dawn breaks.",
            20,
            "16:9",
            "neutral",
        ),
    )
    .await;
    for name in ["storyboard.json", "scene-01.apng", "scene-01-narration.wav"] {
        let fa = std::fs::read(a.path().join(ID).join(name)).unwrap();
        let fb = std::fs::read(b.path().join(ID).join(name)).unwrap();
        assert!(fa != fb, "{name} should depend on the prompt");
    }
}

#[tokio::test]
async fn clip_failures_fall_back_to_stills_and_title_cards() {
    let spec = &specs()[1];
    let root = tempfile::tempdir().unwrap();
    let local = || LocalProvider::new(root.path().into());

    // Veo down: stills everywhere.
    let manifest = run_on(Flaky::new(local()).fail(Op::Clip, Fault::always()), spec)
        .await
        .unwrap()
        .completed()
        .unwrap()
        .manifest;
    assert!(
        manifest
            .scenes
            .iter()
            .all(|s| s.visual_source == VisualSource::Still && s.fallback_codes == ["MEDIA_001"])
    );
    check_set(&root.path().join(ID), &manifest, spec);

    // Veo and Imagen down (open circuit, quota): title cards.
    let flaky = Flaky::new(local())
        .fail(
            Op::Clip,
            Fault::always().with_error(MediaError::CircuitOpen {
                service: Service::Veo,
            }),
        )
        .fail(
            Op::Still,
            Fault::always().with_error(MediaError::QuotaExhausted {
                service: Service::Imagen,
            }),
        );
    let manifest = run_on(flaky, spec)
        .await
        .unwrap()
        .completed()
        .unwrap()
        .manifest;
    assert!(
        manifest
            .scenes
            .iter()
            .all(|s| s.visual_source == VisualSource::TitleCard
                && s.fallback_codes == ["MEDIA_001", "MEDIA_004"])
    );
    check_set(&root.path().join(ID), &manifest, spec);

    // Mixed: the second clip fails, the still of that scene too.
    let flaky = Flaky::new(local())
        .fail(Op::Clip, Fault::on_calls([1]))
        .fail(Op::Still, Fault::on_calls([0]));
    let flaky = Arc::new(flaky);
    let manifest = Pipeline::with_provider(flaky.clone())
        .run(ID, spec, &NoProgress)
        .await
        .unwrap()
        .completed()
        .unwrap()
        .manifest;
    let sources: Vec<_> = manifest.scenes.iter().map(|s| s.visual_source).collect();
    assert_eq!(
        sources,
        [
            VisualSource::Clip,
            VisualSource::TitleCard,
            VisualSource::Clip,
            VisualSource::Clip
        ]
    );
    assert_eq!(
        (
            flaky.calls(Op::Clip),
            flaky.calls(Op::Still),
            flaky.calls(Op::TitleCard)
        ),
        (4, 1, 1)
    );
    check_set(&root.path().join(ID), &manifest, spec);
}

#[tokio::test]
async fn failures_have_codes_and_leave_nothing_behind() {
    let spec = &specs()[0];
    let root = tempfile::tempdir().unwrap();
    let local = || LocalProvider::new(root.path().into());
    let cases = [
        (
            Op::Script,
            Fault::always().with_error(MediaError::Timeout {
                service: Service::Llm,
            }),
            "LLM_001",
            true,
        ),
        (
            Op::Script,
            Fault::always().with_error(MediaError::Refused {
                service: Service::Llm,
                reason: "x".into(),
            }),
            "LLM_004",
            false,
        ),
        (Op::Narrate, Fault::on_calls([1]), "MEDIA_003", true),
        (Op::Put, Fault::on_calls([2]), "VIDEO_004", false),
    ];
    for (op, fault, code, retryable) in cases {
        let e = run_on(Flaky::new(local()).fail(op, fault), spec)
            .await
            .unwrap_err();
        assert_eq!(
            (e.code().as_str(), e.retryable()),
            (code, retryable),
            "{op}"
        );
        assert!(!root.path().join(ID).exists(), "{op}: partial set deleted");
    }
    // Every visual source down: the run fails with VIDEO_001.
    let flaky = Flaky::new(local()).with_faults(
        Flaky::<()>::parse_faults("clip=always,still=always,title_card=always").unwrap(),
    );
    let e = run_on(flaky, spec).await.unwrap_err();
    assert_eq!(e.code().as_str(), "VIDEO_001");
    assert!(!root.path().join(ID).exists());

    // An id that is not a safe directory name is refused.
    let e = Pipeline::with_provider(Arc::new(local()))
        .run("../escape", spec, &NoProgress)
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "VIDEO_004");
    assert!(std::fs::read_dir(root.path()).unwrap().next().is_none());
}

/// Cancels when asked for the `n`-th time.
struct CancelAt(usize, AtomicUsize);

impl Progress for CancelAt {
    fn step(&self, _: Stage, _: u32, _: u32) {}

    fn cancelled(&self) -> bool {
        self.1.fetch_add(1, Ordering::SeqCst) >= self.0
    }
}

#[tokio::test]
async fn cancelled_runs_delete_their_files() {
    let spec = &specs()[0];
    let root = tempfile::tempdir().unwrap();
    let pipeline = Pipeline::with_provider(Arc::new(LocalProvider::new(root.path().into())));
    let outcome = pipeline
        .run(ID, spec, &CancelAt(2, AtomicUsize::new(0)))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        PipelineOutcome::Cancelled {
            stage: Stage::Visuals
        }
    );
    assert!(!root.path().join(ID).exists());
}

#[test]
fn works_without_a_tokio_runtime() {
    // Outside a tokio runtime the provider does its work inline, so the
    // future is ready at its first poll (no executor needed).
    let root = tempfile::tempdir().unwrap();
    let provider = LocalProvider::new(root.path().into());
    let scene = ytvc_domain::media::Scene {
        index: 1,
        narration: "hello there".into(),
        visual_prompt: "a hill".into(),
        duration_seconds: 3,
    };
    let future = ytvc_domain::media::VisualGenerator::still(&provider, &scene, AspectRatio::Square);
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let std::task::Poll::Ready(blob) = future.as_mut().poll(&mut cx) else {
        panic!("inline work completes at once");
    };
    check_png(&blob.unwrap().bytes, AspectRatio::Square, None);
}
