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
        AspectRatio::Landscape => (1280, 720),
        AspectRatio::Portrait => (720, 1280),
        AspectRatio::Square => (720, 720),
    };
    assert_eq!(
        ytvc_media_clients::local::image::frame_size(aspect),
        expected
    );
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

// ---- The pictures themselves -------------------------------------------

use ytvc_domain::media::Scene;
use ytvc_media_clients::local::image;

const ASPECTS: [AspectRatio; 3] = [
    AspectRatio::Landscape,
    AspectRatio::Portrait,
    AspectRatio::Square,
];

fn scene(narration: &str, visual_prompt: &str, duration_seconds: u32) -> Scene {
    Scene {
        index: 2,
        narration: narration.into(),
        visual_prompt: visual_prompt.into(),
        duration_seconds,
    }
}

/// Every frame of a PNG / APNG as whole RGB pictures (later APNG frames
/// composited over the earlier ones, as a player shows them), with the
/// picture size.
fn decode_frames(bytes: &[u8]) -> ((u32, u32), Vec<Vec<u8>>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let (w, h) = (reader.info().width, reader.info().height);
    let count = reader
        .info()
        .animation_control
        .map_or(1, |control| control.num_frames);
    let mut canvas = vec![0u8; (w * h * 3) as usize];
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let mut frames = Vec::new();
    for _ in 0..count {
        let frame = reader.next_frame(&mut buf).unwrap();
        assert_eq!(frame.color_type, png::ColorType::Rgb);
        let (fx, fy) = reader
            .info()
            .frame_control
            .map_or((0, 0), |fc| (fc.x_offset, fc.y_offset));
        if let Some(fc) = reader.info().frame_control {
            assert_eq!(fc.dispose_op, png::DisposeOp::None);
            assert_eq!(fc.blend_op, png::BlendOp::Source);
        }
        assert!(fx + frame.width <= w && fy + frame.height <= h);
        for row in 0..frame.height {
            let src = &buf[(row * frame.width * 3) as usize..][..(frame.width * 3) as usize];
            let at = (((fy + row) * w + fx) * 3) as usize;
            canvas[at..at + src.len()].copy_from_slice(src);
        }
        frames.push(canvas.clone());
    }
    ((w, h), frames)
}

/// Pixels of exactly `colour` in rows `y0..y1`.
fn count_colour(pixels: &[u8], width: u32, (y0, y1): (u32, u32), colour: [u8; 3]) -> usize {
    pixels[(y0 * width * 3) as usize..(y1 * width * 3) as usize]
        .chunks_exact(3)
        .filter(|p| *p == colour)
        .count()
}

#[test]
fn pictures_have_the_output_size_of_each_aspect() {
    let scene = scene("The narration.", "A picture of a hill", 4);
    for (aspect, expected) in ASPECTS
        .into_iter()
        .zip([(1280, 720), (720, 1280), (720, 720)])
    {
        assert_eq!(image::frame_size(aspect), expected);
        let pictures = [
            image::still(&scene, aspect).unwrap(),
            image::title_card("A title", &scene, aspect).unwrap(),
            image::clip(&scene, aspect).unwrap(),
        ];
        for (format, bytes) in pictures {
            let (size, frames) = decode_frames(&bytes);
            assert_eq!(size, expected, "{format:?} {aspect:?}");
            assert_eq!(
                frames.len(),
                if format.extension() == "apng" { 4 } else { 1 }
            );
        }
    }
}

#[test]
fn the_caption_is_drawn_in_the_band_at_the_bottom() {
    for aspect in ASPECTS {
        let (w, h) = image::frame_size(aspect);
        // The caption band is the bottom rows; the heading is above it.
        let band = (h - h / 6, h);
        let renders: [fn(&Scene, AspectRatio) -> Vec<u8>; 2] = [
            |s, a| image::still(s, a).unwrap().1,
            |s, a| image::title_card("Title", s, a).unwrap().1,
        ];
        for render in renders {
            let hello = render(&scene("Hello", "a hill", 3), aspect);
            let empty = render(&scene("", "a hill", 3), aspect);
            assert!(hello != empty);
            let (_, hello) = decode_frames(&hello);
            let (_, empty) = decode_frames(&empty);
            let ink = count_colour(&hello[0], w, band, image::TEXT_COLOUR);
            assert!(ink > 50, "{aspect:?}: {ink} caption pixels");
            assert_eq!(count_colour(&empty[0], w, band, image::TEXT_COLOUR), 0);
            // The heading is drawn too (above the band).
            assert!(count_colour(&hello[0], w, (h / 4, band.0), image::TEXT_COLOUR) > 50);
        }
    }
}

#[test]
fn pictures_are_deterministic_and_depend_on_the_text() {
    let a = scene("A fox wakes up.", "Cinematic shot of a fox, 16:9 frame", 7);
    let b = scene("A fox wakes up!", "Cinematic shot of a fox, 16:9 frame", 7);
    for aspect in ASPECTS {
        assert_eq!(
            image::still(&a, aspect).unwrap(),
            image::still(&a, aspect).unwrap()
        );
        assert_eq!(
            image::clip(&a, aspect).unwrap(),
            image::clip(&a, aspect).unwrap()
        );
        assert_eq!(
            image::title_card("T", &a, aspect).unwrap(),
            image::title_card("T", &a, aspect).unwrap()
        );
        assert!(image::still(&a, aspect).unwrap() != image::still(&b, aspect).unwrap());
        assert!(
            image::title_card("T", &a, aspect).unwrap()
                != image::title_card("U", &a, aspect).unwrap()
        );
    }
}

#[test]
fn clips_last_exactly_the_scene_and_animate_a_bar() {
    for duration in [1, 2, 3, 7, 8, 10, 13, 60] {
        let (format, bytes) = image::clip(
            &scene("Some narration.", "a hill", duration),
            AspectRatio::Square,
        )
        .unwrap();
        assert_eq!(format.extension(), "apng");
        // fcTL delays add up to the duration.
        check_png(&bytes, AspectRatio::Square, Some(duration));
        let ((w, h), frames) = decode_frames(&bytes);
        assert_eq!(
            frames.len() as u32,
            duration.clamp(2, image::MAX_CLIP_FRAMES)
        );
        // Frames differ (the bar moves) only at the bottom edge.
        for pair in frames.windows(2) {
            assert!(pair[0] != pair[1]);
            let top = ((h - 20) * w * 3) as usize;
            assert_eq!(pair[0][..top], pair[1][..top]);
        }
        // On the last frame the bar has crossed the picture.
        let last = frames.last().unwrap();
        let bottom_right = ((h * w - 1) * 3) as usize;
        assert_eq!(last[bottom_right..bottom_right + 3], [255, 255, 255]);
    }
}

#[test]
fn any_text_renders_without_panicking() {
    let long_word = "x".repeat(5_000);
    let texts = [
        String::new(),
        " \t\n ".to_owned(),
        "日本語のナレーション、東京の夜景と富士山".to_owned(),
        "🦊🐟🌊🔥✨ emoji only 👩‍👩‍👧‍👦".to_owned(),
        "\u{0}\u{7}\u{1b}[31m control \u{202e}reversed\u{202c} \u{fffd} \u{10ffff}".to_owned(),
        "ṩ̃̈ combining 한국어 العربية עברית हिन्दी".to_owned(),
        long_word.clone(),
        format!("{} {long_word}", "word ".repeat(2_000)),
    ];
    // Each text on each kind of picture, the aspects taking turns (every
    // picture takes tens of milliseconds in a debug build).
    for (k, text) in texts.iter().enumerate() {
        let s = scene(text, text, 3);
        let aspect = |n: usize| ASPECTS[(k + n) % ASPECTS.len()];
        check_png(&image::still(&s, aspect(0)).unwrap().1, aspect(0), None);
        check_png(
            &image::title_card(text, &s, aspect(1)).unwrap().1,
            aspect(1),
            None,
        );
        check_png(&image::clip(&s, aspect(2)).unwrap().1, aspect(2), Some(3));
    }
}
