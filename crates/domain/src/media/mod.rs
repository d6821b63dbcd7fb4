//! The media ports: what the video pipeline needs from the outside world, and
//! the values that travel through them.
//!
//! | port | Google adapter (`ytvc_media_clients::google::GoogleProvider`) | local adapter (`ytvc_media_clients::LocalProvider`) |
//! |---|---|---|
//! | [`ScriptWriter`] | a Gemini model (`generateContent`, Gemini API or Vertex AI) | a storyboard cut from the prompt, one scene per sentence |
//! | [`VisualGenerator::clip`] | Veo (an MP4) | an animated PNG of the scene's length |
//! | [`VisualGenerator::still`] | Imagen, or a Gemini image model (a PNG or JPEG) | a PNG |
//! | [`TitleCardRenderer`] | none: the local one is used | a PNG |
//! | [`Narrator`] | Cloud Text-to-Speech (a WAV) | a WAV tone pattern of the scene's length |
//! | [`ArtifactStore`] | none (the server uses `ytvc_storage::ObjectArtifactStore`: `file://` or `s3://`) | files under `<root>/<video_id>/` |
//! | [`VideoAssembler`] | `ytvc_assembly::Mp4Assembler`: H.264 + AAC-LC in MP4, no external tools (unless the server's `video_assembly` setting is off) | (the same) |
//!
//! `ytvc_media_clients::Flaky` wraps any adapter and makes chosen calls fail
//! (tests, and the server's `media_faults` setting with the local provider).
//!
//! Every port is an object-safe "async trait": its methods return a
//! [`BoxFuture`], so the server holds `Arc<dyn Port>` and use cases are tested
//! with in-memory fakes. Every failure is a [`MediaError`], which knows its
//! catalog code and whether a retry may help.
//!
//! # The user prompt is data, never instructions
//!
//! A [`ScriptWriter`] that talks to a language model must build what it sends
//! with [`script_request`]: fixed system instructions (built only from
//! validated enums and numbers) and the user prompt wrapped, alone, between
//! [`USER_PROMPT_OPEN`](crate::screen::USER_PROMPT_OPEN) and
//! [`USER_PROMPT_CLOSE`](crate::screen::USER_PROMPT_CLOSE). The user's text
//! never appears in the instructions, and the optional user title is not
//! sent at all (the pipeline uses it as is).

mod assembly;
mod blob;
mod error;
mod manifest;
mod ports;
mod storyboard;
mod stream;

pub use assembly::{AssemblyRequest, AssemblyScene, VIDEO_FILE, video_frame_size};
pub use blob::{
    MediaBlob, MediaFormat, StoredArtifact, VisualSource, is_artifact_name, is_artifact_set_id,
};
pub use error::{MediaError, Service};
pub use manifest::{Manifest, ManifestScene};
pub use ports::{
    ArtifactStore, BoxFuture, Narrator, ScriptWriter, TitleCardRenderer, VideoAssembler,
    VisualGenerator,
};
pub use storyboard::{
    MAX_NARRATION_BYTES, MAX_SCENES, MAX_VISUAL_PROMPT_BYTES, SECONDS_PER_SCENE, Scene,
    ScriptRequest, Storyboard, plan_scene_durations, script_request,
};
pub use stream::{ArtifactMeta, ByteRange, ByteStream, Unsatisfiable, byte_stream_of};
