//! End-to-end: requests assembled into MP4s, read back and decoded.

mod support;

use support::{Inspection, apng, assert_colour, inspect, jpeg, png, request, scene, wav};
use ytvc_assembly::{Config, MOVIE_TIMESCALE, Mp4Assembler, frame_size};
use ytvc_domain::AspectRatio;
use ytvc_domain::media::{
    AssemblyRequest, MediaBlob, MediaError, MediaFormat, VideoAssembler, VisualSource,
};

const RED: [u8; 3] = [220, 40, 40];
const GREEN: [u8; 3] = [40, 200, 60];
const BLUE: [u8; 3] = [30, 60, 210];
const GREY: [u8; 3] = [128, 128, 128];

/// Decoded colours stay within this of the input (YUV 0..=255 units).
const TOLERANCE: f64 = 6.0;

fn blob(format: MediaFormat, bytes: Vec<u8>) -> MediaBlob {
    MediaBlob::new(format, bytes)
}

/// Assembles with `config` and checks the invariants every output has.
fn assemble_and_check(config: Config, request: &AssemblyRequest) -> Inspection {
    let fps = config.fps;
    let out = Mp4Assembler::new(config)
        .assemble_blocking(request)
        .unwrap();
    assert_eq!(out.format, MediaFormat::Mp4);
    let info = inspect(&out.bytes);
    let (w, h) = frame_size(request.aspect_ratio);
    assert_eq!((info.width, info.height), (w, h));
    let total = f64::from(request.total_duration_seconds());
    let frame = 1.0 / f64::from(fps);
    // Every sample lasts whole frames, and they add up to the video.
    let frame_ticks = MOVIE_TIMESCALE / fps;
    assert!(
        info.sample_ticks
            .iter()
            .all(|t| *t > 0 && t % frame_ticks == 0)
    );
    let frames: u32 = info.sample_ticks.iter().map(|t| t / frame_ticks).sum();
    assert_eq!(frames, request.total_duration_seconds() * fps);
    // No picture is held past a keyframe interval.
    assert!(
        info.sample_ticks
            .iter()
            .all(|t| *t <= frame_ticks * fps * Config::default().keyframe_seconds)
    );
    assert_eq!(info.decoded_pictures, info.video_samples as usize);
    assert!((info.video_seconds - total).abs() <= frame, "{info:?}");
    assert!((info.audio_seconds - total).abs() <= frame, "{info:?}");
    assert!((info.movie_seconds - total).abs() <= frame, "{info:?}");
    assert!(info.first_is_sync, "first sample is a sync sample");
    assert!(info.sync_samples >= 1 && info.sync_samples <= info.video_samples);
    info
}

#[test]
fn png_still_with_narration_landscape() {
    let request = request(
        AspectRatio::Landscape,
        vec![scene(
            1,
            2,
            blob(MediaFormat::Png, png(320, 180, RED)),
            VisualSource::Still,
            Some(wav(16_000, 1, 1.5, 440.0)),
        )],
    );
    let info = assemble_and_check(Config::default(), &request);
    assert_colour(info.first_yuv, RED, TOLERANCE);
    assert_colour(info.last_yuv, RED, TOLERANCE);
}

#[test]
fn jpeg_title_card_portrait_silent() {
    let request = request(
        AspectRatio::Portrait,
        vec![scene(
            1,
            2,
            blob(MediaFormat::Jpeg, jpeg(640, 360, BLUE)),
            VisualSource::TitleCard,
            None,
        )],
    );
    let info = assemble_and_check(Config::default(), &request);
    assert_colour(info.first_yuv, BLUE, TOLERANCE);
    assert_colour(info.last_yuv, BLUE, TOLERANCE);
}

#[test]
fn apng_clip_square_is_held_on_its_last_frame() {
    // 3 × 0.5 s of animation in a 2 s scene; 24 kHz stereo narration longer
    // than the scene is cut.
    let request = request(
        AspectRatio::Square,
        vec![scene(
            1,
            2,
            blob(MediaFormat::Apng, apng(240, 240, &[RED, GREEN, BLUE], 500)),
            VisualSource::Clip,
            Some(wav(24_000, 2, 3.0, 300.0)),
        )],
    );
    let info = assemble_and_check(Config::default(), &request);
    assert_colour(info.first_yuv, RED, TOLERANCE);
    assert_colour(info.last_yuv, BLUE, TOLERANCE);
}

#[test]
fn mp4_clip_made_by_our_own_encoder_is_played_then_cut() {
    // A 3 s green-then-grey clip, used in a 1 s scene (cut) then a 2 s scene.
    let clip_request = request(
        AspectRatio::Landscape,
        vec![
            scene(
                1,
                1,
                blob(MediaFormat::Png, png(64, 36, GREEN)),
                VisualSource::Still,
                None,
            ),
            scene(
                2,
                2,
                blob(MediaFormat::Png, png(64, 36, GREY)),
                VisualSource::Still,
                None,
            ),
        ],
    );
    let clip = Mp4Assembler::default()
        .assemble_blocking(&clip_request)
        .unwrap();
    let played = request(
        AspectRatio::Portrait,
        vec![
            scene(
                1,
                1,
                clip.clone(),
                VisualSource::Clip,
                Some(wav(16_000, 1, 1.0, 500.0)),
            ),
            scene(
                2,
                2,
                blob(MediaFormat::Jpeg, jpeg(100, 100, RED)),
                VisualSource::Still,
                None,
            ),
        ],
    );
    let info = assemble_and_check(Config::default(), &played);
    assert_colour(info.first_yuv, GREEN, TOLERANCE);
    assert_colour(info.last_yuv, RED, TOLERANCE);

    // Longer than the clip: held on its last (grey) picture.
    let held = request(
        AspectRatio::Landscape,
        vec![scene(1, 4, clip, VisualSource::Clip, None)],
    );
    let info = assemble_and_check(
        Config {
            fps: 10,
            ..Config::default()
        },
        &held,
    );
    assert_colour(info.first_yuv, GREEN, TOLERANCE);
    assert_colour(info.last_yuv, GREY, TOLERANCE);
}

#[test]
fn mixed_scenes_keep_their_order_and_total_length() {
    let request = request(
        AspectRatio::Landscape,
        vec![
            scene(
                1,
                1,
                blob(MediaFormat::Jpeg, jpeg(200, 120, BLUE)),
                VisualSource::Still,
                Some(wav(16_000, 1, 0.5, 200.0)),
            ),
            scene(
                2,
                1,
                blob(MediaFormat::Apng, apng(32, 18, &[GREY, GREEN], 100)),
                VisualSource::Clip,
                None,
            ),
            scene(
                3,
                2,
                blob(MediaFormat::Png, png(1920, 1080, GREEN)),
                VisualSource::TitleCard,
                Some(wav(24_000, 1, 2.0, 700.0)),
            ),
        ],
    );
    let info = assemble_and_check(
        Config {
            fps: 25,
            ..Config::default()
        },
        &request,
    );
    assert_colour(info.first_yuv, BLUE, TOLERANCE);
    assert_colour(info.last_yuv, GREEN, TOLERANCE);
}

fn assert_fails(request: &AssemblyRequest, needle: &str) {
    match Mp4Assembler::default().assemble_blocking(request) {
        Err(MediaError::AssemblyFailed(reason)) => {
            assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
        }
        other => panic!("expected AssemblyFailed, got {other:?}"),
    }
}

fn one_scene(visual: MediaBlob, narration: Option<MediaBlob>) -> AssemblyRequest {
    let mut scene = scene(1, 1, visual, VisualSource::Still, None);
    scene.narration = narration;
    request(AspectRatio::Landscape, vec![scene])
}

#[test]
fn undecodable_inputs_fail_cleanly() {
    let garbage = b"this is not an image at all".to_vec();
    assert_fails(
        &one_scene(blob(MediaFormat::Png, garbage.clone()), None),
        "PNG",
    );
    assert_fails(
        &one_scene(blob(MediaFormat::Jpeg, garbage.clone()), None),
        "JPEG",
    );
    assert_fails(
        &one_scene(blob(MediaFormat::Apng, garbage.clone()), None),
        "PNG",
    );
    assert_fails(
        &one_scene(blob(MediaFormat::Mp4, garbage.clone()), None),
        "MP4",
    );
    assert_fails(
        &one_scene(blob(MediaFormat::Json, b"{}".to_vec()), None),
        "not a picture",
    );
    let mut truncated = png(64, 64, RED);
    truncated.truncate(truncated.len() / 2);
    assert_fails(&one_scene(blob(MediaFormat::Png, truncated), None), "PNG");
}

#[test]
fn mp4_without_a_video_track_fails() {
    let audio_only = support::audio_only_mp4();
    assert_fails(
        &one_scene(blob(MediaFormat::Mp4, audio_only), None),
        "no video track",
    );
}

#[test]
fn narration_that_is_not_16_bit_pcm_fails() {
    let visual = || blob(MediaFormat::Png, png(16, 16, GREY));
    let mut eight_bit = wav(16_000, 1, 0.5, 440.0);
    eight_bit[34] = 8; // bits per sample
    assert_fails(
        &one_scene(visual(), Some(blob(MediaFormat::Wav, eight_bit))),
        "16-bit",
    );
    let mut float = wav(16_000, 1, 0.5, 440.0);
    float[20] = 3; // IEEE float
    assert_fails(
        &one_scene(visual(), Some(blob(MediaFormat::Wav, float))),
        "16-bit",
    );
    assert_fails(
        &one_scene(visual(), Some(blob(MediaFormat::Wav, b"RIFF".to_vec()))),
        "WAVE",
    );
    assert_fails(
        &one_scene(
            visual(),
            Some(blob(MediaFormat::Mp3, vec![0xff, 0xfb, 0, 0])),
        ),
        "not WAV",
    );
}

#[test]
fn visuals_are_checked_before_the_pipeline_accepts_them() {
    let assembler = Mp4Assembler::new(Config {
        fps: 10,
        ..Config::default()
    });
    let good_clip = assembler
        .assemble_blocking(&one_scene(blob(MediaFormat::Png, png(32, 32, RED)), None))
        .unwrap();
    assert!(
        assembler
            .check_visual_blocking(&good_clip, VisualSource::Clip, 2)
            .is_ok()
    );
    let still = blob(MediaFormat::Png, png(32, 32, GREEN));
    assert!(
        assembler
            .check_visual_blocking(&still, VisualSource::Still, 5)
            .is_ok()
    );
    let mut cut = good_clip.clone();
    cut.bytes.truncate(cut.bytes.len() / 3);
    for (bad, source, service) in [
        (cut, VisualSource::Clip, "veo"),
        (
            blob(MediaFormat::Mp4, support::audio_only_mp4()),
            VisualSource::Clip,
            "veo",
        ),
        (
            blob(MediaFormat::Jpeg, vec![0xff, 0xd8, 1, 2]),
            VisualSource::Still,
            "imagen",
        ),
    ] {
        let error = assembler
            .check_visual_blocking(&bad, source, 2)
            .unwrap_err();
        assert!(
            matches!(&error, MediaError::BadResponse { service: s, .. } if s.as_str() == service),
            "{error}"
        );
        assert_eq!(error.code().as_str(), "VIDEO_001");
        assert!(error.allows_fallback());
    }
}

#[test]
fn bad_requests_and_configs_fail() {
    assert_fails(&request(AspectRatio::Landscape, vec![]), "no scenes");
    let mut zero = one_scene(blob(MediaFormat::Png, png(16, 16, GREY)), None);
    zero.scenes[0].duration_seconds = 0;
    assert_fails(&zero, "0 s");
    let ok = one_scene(blob(MediaFormat::Png, png(16, 16, GREY)), None);
    let result = Mp4Assembler::new(Config {
        fps: 7,
        ..Config::default()
    })
    .assemble_blocking(&ok);
    assert!(matches!(result, Err(MediaError::AssemblyFailed(_))));
}

#[tokio::test]
async fn the_port_runs_on_the_blocking_pool() {
    let assembler: std::sync::Arc<dyn VideoAssembler> =
        std::sync::Arc::new(Mp4Assembler::new(Config {
            fps: 10,
            ..Config::default()
        }));
    let request = one_scene(blob(MediaFormat::Png, png(32, 32, GREEN)), None);
    let out = assembler.assemble(&request).await.unwrap();
    let frames: u32 = inspect(&out.bytes)
        .sample_ticks
        .iter()
        .map(|t| t / (MOVIE_TIMESCALE / 10))
        .sum();
    assert_eq!(frames, 10);
    let bad = one_scene(blob(MediaFormat::Png, vec![1, 2, 3]), None);
    assert!(matches!(
        assembler.assemble(&bad).await,
        Err(MediaError::AssemblyFailed(_))
    ));
}

#[test]
fn the_port_runs_inline_outside_a_runtime() {
    let assembler = Mp4Assembler::new(Config {
        fps: 10,
        ..Config::default()
    });
    let request = one_scene(blob(MediaFormat::Png, png(32, 32, RED)), None);
    let out = futures::executor::block_on(assembler.assemble(&request)).unwrap();
    assert_colour(inspect(&out.bytes).last_yuv, RED, TOLERANCE);
}

/// ffmpeg, when installed, decodes the whole file without a complaint.
#[test]
fn ffmpeg_decodes_the_output_without_errors() {
    let Ok(status) = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
    else {
        assert!(
            std::env::var_os("YTVC_REQUIRE_FFMPEG").is_none(),
            "YTVC_REQUIRE_FFMPEG is set but ffmpeg is not on PATH"
        );
        println!("skipped: ffmpeg is not on PATH");
        return;
    };
    assert!(status.status.success());
    let request = request(
        AspectRatio::Landscape,
        vec![
            scene(
                1,
                2,
                blob(MediaFormat::Png, png(320, 180, RED)),
                VisualSource::Still,
                Some(wav(16_000, 1, 1.0, 440.0)),
            ),
            scene(
                2,
                1,
                blob(MediaFormat::Apng, apng(32, 32, &[GREEN, BLUE], 250)),
                VisualSource::Clip,
                None,
            ),
        ],
    );
    let out = Mp4Assembler::default().assemble_blocking(&request).unwrap();
    let dir = std::env::temp_dir().join(format!("ytvc-assembly-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out.mp4");
    std::fs::write(&path, &out.bytes).unwrap();
    let run = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    if let Ok(probe) = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name,profile,width,height,duration,sample_rate,channels,color_space,color_primaries:format=duration"])
        .arg(&path)
        .output()
    {
        println!("{}", String::from_utf8_lossy(&probe.stdout));
    }
    if let Some(keep) = std::env::var_os("YTVC_ASSEMBLY_KEEP") {
        std::fs::copy(&path, keep).unwrap();
    }
    std::fs::remove_dir_all(&dir).ok();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success() && stderr.trim().is_empty(),
        "ffmpeg: {stderr}"
    );
}

/// A clip shaped like Veo's output: H.264 High profile with B-frames (CABAC),
/// 1280×720 at 24 fps, 3 s, with an AAC track (made once with
/// `ffmpeg -f lavfi -i testsrc=size=1280x720:rate=24 -f lavfi -i sine -t 3
/// -c:v libx264 -profile:v high -bf 2 -pix_fmt yuv420p -c:a aac`).
#[test]
fn a_high_profile_clip_with_b_frames_is_decoded_and_assembled() {
    let clip = blob(
        MediaFormat::Mp4,
        include_bytes!("fixtures/high-profile-b-frames.mp4").to_vec(),
    );
    let assembler = Mp4Assembler::new(Config {
        fps: 12,
        ..Config::default()
    });
    assembler
        .check_visual_blocking(&clip, VisualSource::Clip, 4)
        .expect("decodable");
    let mut request = one_scene(clip, None);
    request.scenes[0].duration_seconds = 4;
    request.scenes[0].visual_source = VisualSource::Clip;
    let out = assembler.assemble_blocking(&request).unwrap();
    let seen = inspect(&out.bytes);
    // 3 s of moving picture at 12 fps, then the last picture held for 1 s.
    assert_eq!(seen.video_samples, 37, "{:?}", seen.sample_ticks);
    assert_eq!(seen.sample_ticks.iter().sum::<u32>(), 4 * MOVIE_TIMESCALE);
}
