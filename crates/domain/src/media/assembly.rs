//! What the [`VideoAssembler`](super::VideoAssembler) gets and makes: the
//! scenes' files ([`AssemblyRequest`]), the picture size and the video's
//! file name.

use super::{MediaBlob, VisualSource};
use crate::validation::AspectRatio;

/// One scene as the [`VideoAssembler`](super::VideoAssembler) gets it: the files the pipeline
/// generated for it, and how long it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssemblyScene {
    /// 1-based position.
    pub index: u32,
    /// How long the scene lasts in the video, in seconds (≥ 1).
    pub duration_seconds: u32,
    /// The scene's visual: an MP4 (H.264) or APNG clip, or a PNG / JPEG
    /// still or title card.
    pub visual: MediaBlob,
    /// Which generator made it: stills and title cards are shown with a
    /// slow pan / zoom, clips as they are (held on their last frame when
    /// shorter than the scene, cut when longer).
    pub visual_source: VisualSource,
    /// The narration (WAV, 16-bit PCM), `None` when the voice is `none`:
    /// the scene is then silent. Shorter audio is padded with silence,
    /// longer audio is cut at the scene's end.
    pub narration: Option<MediaBlob>,
}

/// What the [`VideoAssembler`](super::VideoAssembler) turns into one video file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssemblyRequest {
    /// The video (for logs).
    pub video_id: String,
    /// The frame shape ([`video_frame_size`]).
    pub aspect_ratio: AspectRatio,
    /// The scenes, in order.
    pub scenes: Vec<AssemblyScene>,
}

impl AssemblyRequest {
    /// The sum of the scene durations: the length of the video.
    #[must_use]
    pub fn total_duration_seconds(&self) -> u32 {
        self.scenes.iter().map(|s| s.duration_seconds).sum()
    }
}

/// The picture size of a video, in pixels (width, height): 16:9 is
/// 1280×720, 9:16 is 720×1280, 1:1 is 720×720. The assembler encodes at
/// this size and the local provider draws its pictures at it.
#[must_use]
pub const fn video_frame_size(aspect: AspectRatio) -> (u32, u32) {
    match aspect {
        AspectRatio::Landscape => (1280, 720),
        AspectRatio::Portrait => (720, 1280),
        AspectRatio::Square => (720, 720),
    }
}

/// The file name of the assembled video in the artifact set.
pub const VIDEO_FILE: &str = "video.mp4";
