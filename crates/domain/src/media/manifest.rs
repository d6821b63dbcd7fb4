//! The [`Manifest`] of a video's artifact set (`manifest.json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{StoredArtifact, VisualSource};
use crate::validation::{AspectRatio, Language, Style, Voice};

/// The manifest: what the artifact set of a video holds (`manifest.json`).
///
/// It holds no timestamps, so the same storyboard and the same files give
/// byte-identical manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest format version ([`Manifest::VERSION`]).
    pub version: u32,
    /// The video.
    pub video_id: String,
    /// The video's title (the user's, else the storyboard's).
    pub title: String,
    /// The frame shape.
    pub aspect_ratio: AspectRatio,
    /// The visual style.
    pub style: Style,
    /// The narration voice.
    pub voice: Voice,
    /// The narration language.
    pub language: Language,
    /// The sum of the scene durations (= the requested duration).
    pub total_duration_seconds: u32,
    /// The media provider that made the files (`local` marks offline
    /// placeholders, not generated footage); `mixed` when the services
    /// use different providers (see [`providers`](Self::providers)).
    pub provider: String,
    /// The provider of each service when the server lists them (`llm`,
    /// `tts`, `image`, `clip` → `local`, `gemini`, `vertex`, `openai` or
    /// `none`); absent from the JSON when empty (manifests written before
    /// it read as empty).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub providers: BTreeMap<String, String>,
    /// Whether any scene fell back from a clip to a still or a title card.
    pub degraded: bool,
    /// The storyboard file.
    pub storyboard: StoredArtifact,
    /// The scenes, in order.
    pub scenes: Vec<ManifestScene>,
    /// The assembled video ([`VIDEO_FILE`](super::VIDEO_FILE)), when the pipeline has an
    /// assembler.
    pub video: Option<StoredArtifact>,
}

impl Manifest {
    /// The current manifest format version.
    pub const VERSION: u32 = 2;

    /// Every file of the set except the manifest itself, in order: the
    /// storyboard, each scene's visual and narration, the video.
    pub fn files(&self) -> impl Iterator<Item = &StoredArtifact> {
        std::iter::once(&self.storyboard)
            .chain(
                self.scenes
                    .iter()
                    .flat_map(|s| std::iter::once(&s.visual).chain(s.narration_audio.as_ref())),
            )
            .chain(self.video.as_ref())
    }
}

/// One scene in the [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestScene {
    /// 1-based position.
    pub index: u32,
    /// Length in seconds.
    pub duration_seconds: u32,
    /// The narration text.
    pub narration: String,
    /// The visual prompt.
    pub visual_prompt: String,
    /// Which generator made the visual.
    pub visual_source: VisualSource,
    /// The catalog codes of the generators that failed before
    /// `visual_source` succeeded (e.g. `["MEDIA_001"]` for a still).
    pub fallback_codes: Vec<String>,
    /// The visual file.
    pub visual: StoredArtifact,
    /// The narration audio file (`None` when the voice is `none`).
    pub narration_audio: Option<StoredArtifact>,
    /// The engine that spoke the narration, when the narrator names it
    /// ([`Narrator::narrate_named`](super::Narrator::narrate_named)): for
    /// the local provider `flite` (speech) or `tones` (its fallback).
    /// Absent from manifests written before it existed and from narrators
    /// that do not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrator: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(narrator: Option<&str>) -> ManifestScene {
        let file = |name: &str| StoredArtifact {
            name: name.into(),
            media_type: "audio/wav".into(),
            size: 1,
            sha256: "00".into(),
        };
        ManifestScene {
            index: 1,
            duration_seconds: 5,
            narration: "Hello.".into(),
            visual_prompt: "A hill".into(),
            visual_source: VisualSource::Clip,
            fallback_codes: Vec::new(),
            visual: file("scene-01.apng"),
            narration_audio: Some(file("scene-01-narration.wav")),
            narrator: narrator.map(str::to_owned),
        }
    }

    #[test]
    fn the_narrator_is_optional_both_ways() {
        let named = serde_json::to_value(scene(Some("flite"))).unwrap();
        assert_eq!(named["narrator"], "flite");
        // Unnamed: the field is left out, so such a manifest reads as before.
        let mut old = serde_json::to_value(scene(None)).unwrap();
        assert!(old.get("narrator").is_none());
        // A manifest written before the field existed still reads.
        old.as_object_mut().unwrap().remove("narrator");
        let read: ManifestScene = serde_json::from_value(old).unwrap();
        assert_eq!(read, scene(None));
        let read: ManifestScene = serde_json::from_value(named).unwrap();
        assert_eq!(read.narrator.as_deref(), Some("flite"));
    }
}
