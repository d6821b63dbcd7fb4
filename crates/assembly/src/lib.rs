#![doc = include_str!("../README.md")]

mod audio;
mod clip;
mod frames;
mod mux;
mod video;
mod yuv;

use ytvc_domain::AspectRatio;
use ytvc_domain::media::{
    AssemblyRequest, BoxFuture, MediaBlob, MediaError, MediaFormat, Service, VideoAssembler,
    VisualSource,
};

use crate::frames::{SceneTiming, SceneVisual};
use crate::video::{VideoEncoder, VideoSettings};
use crate::yuv::Yuv420;

pub use crate::audio::SAMPLE_RATE as AUDIO_SAMPLE_RATE;
pub use crate::mux::MOVIE_TIMESCALE;

/// Settings of the [`Mp4Assembler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Frames per second, constant. Must divide [`MOVIE_TIMESCALE`]
    /// (90 000) so every frame lasts a whole number of ticks. Default 24:
    /// the film rate, the cheapest of the common rates to encode, and
    /// plenty for stills with a slow pan / zoom and for Veo clips (24 fps).
    pub fps: u32,
    /// Target H.264 bit rate, bits per second (default 1.2 Mbit/s: clean
    /// 720p for stills with slow motion and for clips; the encoder's time
    /// grows with the bit rate, 2 Mbit/s is about 40 % slower).
    pub video_bitrate: u32,
    /// Target AAC-LC bit rate, bits per second (default 64 kbit/s: mono
    /// narration).
    pub audio_bitrate: u32,
    /// Seconds between keyframes (default 2).
    pub keyframe_seconds: u32,
    /// Encoder threads; 1 (the default) keeps the assembly on one core.
    pub encoder_threads: u16,
    /// A still's pan / zoom advances every this many frames (default 2,
    /// i.e. 12 steps a second at 24 fps); the frames in between repeat the
    /// picture, which the encoder codes almost for free. The motion is slow
    /// (well under a pixel per step), so this looks the same as moving every
    /// frame at about half the cost. 1 moves every frame.
    pub still_motion_step: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            fps: 24,
            video_bitrate: 1_200_000,
            audio_bitrate: 64_000,
            keyframe_seconds: 2,
            encoder_threads: 1,
            still_motion_step: 2,
        }
    }
}

/// The [`VideoAssembler`]: H.264 video (OpenH264) and AAC-LC audio (FDK AAC)
/// in an MP4 (the `mp4` crate), no external tools.
#[derive(Debug, Clone, Default)]
pub struct Mp4Assembler {
    config: Config,
}

/// The output frame size of an aspect ratio
/// ([`video_frame_size`](ytvc_domain::media::video_frame_size), as the MP4
/// track's 16-bit width and height).
#[must_use]
pub fn frame_size(aspect: AspectRatio) -> (u16, u16) {
    let (width, height) = ytvc_domain::media::video_frame_size(aspect);
    // Both sides are at most 1280.
    (width as u16, height as u16)
}

fn failed(reason: impl Into<String>) -> MediaError {
    MediaError::AssemblyFailed(reason.into())
}

impl Mp4Assembler {
    /// An assembler with `config`.
    #[must_use]
    pub fn new(config: Config) -> Self {
        Self { config }
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Assembles on the calling thread (CPU-bound: seconds per minute of
    /// video). [`VideoAssembler::assemble`] runs this on tokio's blocking
    /// pool.
    ///
    /// # Errors
    ///
    /// [`MediaError::AssemblyFailed`] when the request has no scenes, an
    /// input cannot be decoded, the configuration is invalid, or an
    /// encoder fails.
    pub fn assemble_blocking(&self, request: &AssemblyRequest) -> Result<MediaBlob, MediaError> {
        let config = &self.config;
        if config.fps == 0 || !MOVIE_TIMESCALE.is_multiple_of(config.fps) {
            return Err(failed(format!(
                "fps {} does not divide {MOVIE_TIMESCALE}",
                config.fps
            )));
        }
        if request.scenes.is_empty() {
            return Err(failed("no scenes to assemble"));
        }
        if let Some(scene) = request.scenes.iter().find(|s| s.duration_seconds == 0) {
            return Err(failed(format!("scene {} lasts 0 s", scene.index)));
        }
        let (width, height) = frame_size(request.aspect_ratio);
        let total = request.total_duration_seconds();

        // Audio first: cheap, and it validates every narration early.
        let mut pcm = vec![0i16; total as usize * audio::SAMPLE_RATE as usize];
        let mut offset = 0;
        for scene in &request.scenes {
            let len = scene.duration_seconds as usize * audio::SAMPLE_RATE as usize;
            if let Some(narration) = &scene.narration {
                if narration.format != MediaFormat::Wav {
                    return Err(failed(format!(
                        "scene {}: narration is {:?}, not WAV",
                        scene.index, narration.format
                    )));
                }
                let decoded = audio::decode_wav(&narration.bytes)
                    .map_err(|e| failed(format!("scene {}: {e}", scene.index)))?;
                let resampled = audio::resample(&decoded, audio::SAMPLE_RATE);
                let n = resampled.len().min(len);
                pcm[offset..offset + n].copy_from_slice(&resampled[..n]);
            }
            offset += len;
        }
        let aac = audio::encode_aac(&pcm, config.audio_bitrate).map_err(failed)?;
        drop(pcm);

        let mut visuals = Vec::with_capacity(request.scenes.len());
        for scene in &request.scenes {
            let visual = SceneVisual::decode(
                &scene.visual,
                scene.visual_source,
                width.into(),
                height.into(),
            )
            .map_err(|e| failed(format!("scene {}: {e}", scene.index)))?;
            visuals.push(visual);
        }

        let max_hold = config.fps * config.keyframe_seconds.max(1);
        let mut encoder = VideoEncoder::new(&VideoSettings {
            fps: config.fps,
            bitrate: config.video_bitrate,
            keyframe_interval: config.fps * config.keyframe_seconds.max(1),
            threads: config.encoder_threads,
        })
        .map_err(failed)?;
        let mut picture = Yuv420::new(width.into(), height.into());
        let mut samples: Vec<video::AccessUnit> = Vec::with_capacity((total * config.fps) as usize);
        let mut output_frame = 0u64;
        let mut last_keyframe = 0u64;
        for (scene, visual) in request.scenes.iter().zip(&mut visuals) {
            let timing = SceneTiming {
                index: scene.index,
                frames: scene.duration_seconds * config.fps,
                fps: config.fps,
                motion_step: config.still_motion_step,
            };
            for frame in 0..timing.frames {
                let changed = visual
                    .render(frame, timing, &mut picture)
                    .map_err(|e| failed(format!("scene {}: {e}", scene.index)))?;
                // A picture that did not change is held: the previous sample
                // lasts one frame longer instead of encoding it again (a
                // still moving every `still_motion_step` frames, an APNG
                // clip of a few pictures). A scene's first frame is always
                // encoded, and no sample is held longer than a keyframe
                // interval, so seeking stays cheap.
                let held = match samples.last_mut() {
                    Some(last) if !changed && frame > 0 && last.frames < max_hold => {
                        last.frames += 1;
                        true
                    }
                    _ => false,
                };
                if !held {
                    // Keyframes by time, not by encoded pictures (held
                    // samples would stretch an interval counted in pictures).
                    if output_frame >= last_keyframe + u64::from(max_hold) {
                        encoder.force_keyframe();
                    }
                    let unit = encoder.encode(&picture, output_frame).map_err(failed)?;
                    if unit.keyframe {
                        last_keyframe = output_frame;
                    }
                    samples.push(unit);
                }
                output_frame += 1;
            }
        }
        let (sps, pps) = encoder.parameter_sets().map_err(failed)?;
        let video = mux::VideoTrack {
            width,
            height,
            sps,
            pps,
            fps: config.fps,
            samples,
        };
        let bytes = mux::write_mp4(video, &aac, total).map_err(failed)?;
        Ok(MediaBlob::new(MediaFormat::Mp4, bytes))
    }
}

impl Mp4Assembler {
    /// Checks on the calling thread that `visual` decodes for a scene of
    /// `duration_seconds`: a still or card is decoded, a clip is decoded
    /// frame by frame over the scene (at a small output size, so the check
    /// costs a fraction of the assembly).
    ///
    /// # Errors
    ///
    /// [`MediaError::BadResponse`] of Veo (clips) or Imagen (stills) saying
    /// why, so that the pipeline falls back to the next visual source.
    pub fn check_visual_blocking(
        &self,
        visual: &MediaBlob,
        source: VisualSource,
        duration_seconds: u32,
    ) -> Result<(), MediaError> {
        let (width, height) = (64, 64);
        let check = || -> Result<(), String> {
            let mut decoded = SceneVisual::decode(visual, source, width, height)?;
            if matches!(decoded, SceneVisual::Clip(_)) {
                let fps = self.config.fps.max(1);
                let timing = SceneTiming {
                    index: 1,
                    frames: duration_seconds.max(1) * fps,
                    fps,
                    motion_step: 1,
                };
                let mut picture = Yuv420::new(width, height);
                for frame in 0..timing.frames {
                    decoded.render(frame, timing, &mut picture)?;
                }
            }
            Ok(())
        };
        // A decoder that panics on a malformed file is a file that cannot be
        // used, not a crashed worker: the pipeline falls back.
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check))
            .unwrap_or_else(|_| Err("the decoder panicked on this file".to_owned()));
        checked.map_err(|reason| MediaError::BadResponse {
            service: match source {
                VisualSource::Clip => Service::Veo,
                VisualSource::Still | VisualSource::TitleCard => Service::Imagen,
            },
            reason: format!("cannot be assembled: {reason}"),
        })
    }
}

/// Runs `work` on tokio's blocking pool when called inside a runtime (the
/// work is CPU-bound: seconds per minute of video), inline otherwise.
async fn off_the_runtime<T, F>(what: &str, work: F) -> Result<T, MediaError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, MediaError> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|e| failed(format!("{what} task: {e}")))?,
        Err(_) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .unwrap_or_else(|_| Err(failed(format!("{what} panicked")))),
    }
}

impl VideoAssembler for Mp4Assembler {
    fn check_visual<'a>(
        &'a self,
        visual: &'a MediaBlob,
        source: VisualSource,
        duration_seconds: u32,
    ) -> BoxFuture<'a, Result<(), MediaError>> {
        let (assembler, visual) = (self.clone(), visual.clone());
        Box::pin(off_the_runtime("check", move || {
            assembler.check_visual_blocking(&visual, source, duration_seconds)
        }))
    }

    fn assemble<'a>(
        &'a self,
        request: &'a AssemblyRequest,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        let (assembler, request) = (self.clone(), request.clone());
        Box::pin(off_the_runtime("assembly", move || {
            assembler.assemble_blocking(&request)
        }))
    }
}
