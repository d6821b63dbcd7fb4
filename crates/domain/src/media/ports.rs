//! The ports: one object-safe "async trait" per thing the pipeline needs
//! from outside, each method returning a [`BoxFuture`].

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::{
    ArtifactMeta, AssemblyRequest, ByteStream, MediaBlob, MediaError, Scene, StoredArtifact,
    Storyboard, VisualSource, byte_stream_of,
};
use crate::validation::{AspectRatio, Language, VideoSpec, Voice};

/// A boxed, `Send` future: what every port method returns, so that the ports
/// are object safe (`Arc<dyn ScriptWriter>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Writes the storyboard of a video (the language model).
///
/// # Contract
///
/// An implementation that sends the prompt anywhere must build its request
/// with [`script_request`](super::script_request): the user prompt travels only as delimited data
/// (`user_data`), never inside the instructions. The returned storyboard may
/// be imperfect (scene count, durations): the pipeline normalises it.
pub trait ScriptWriter: Send + Sync {
    /// The storyboard for `spec`.
    ///
    /// # Errors
    ///
    /// `Timeout` (`LLM_001`), `CircuitOpen` / `Unavailable` / `Rejected` /
    /// `QuotaExhausted` (`LLM_002`), `BadResponse` (`LLM_003`), `Refused`
    /// (`LLM_004`), all with [`Service::Llm`](super::Service::Llm).
    fn write_script<'a>(
        &'a self,
        spec: &'a VideoSpec,
    ) -> BoxFuture<'a, Result<Storyboard, MediaError>>;
}

/// Generates the visual of a scene: a clip (Veo) or a still (Imagen).
pub trait VisualGenerator: Send + Sync {
    /// A video clip of the scene, lasting about `scene.duration_seconds`.
    ///
    /// # Errors
    ///
    /// Errors of [`Service::Veo`](super::Service::Veo) (`MEDIA_001`, `MEDIA_004`, `VIDEO_001`);
    /// an implementation without clips answers `Unavailable`.
    fn clip<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>>;

    /// A still image of the scene.
    ///
    /// # Errors
    ///
    /// Errors of [`Service::Imagen`](super::Service::Imagen) (`MEDIA_002`,
    /// `MEDIA_004`, `VIDEO_001`).
    fn still<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>>;
}

/// Renders a title card: the visual of last resort, made without any
/// external service.
pub trait TitleCardRenderer: Send + Sync {
    /// A still image showing the video title and the scene.
    ///
    /// # Errors
    ///
    /// `GenerationFailed` (`VIDEO_001`) when it cannot be rendered.
    fn title_card<'a>(
        &'a self,
        title: &'a str,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>>;
}

/// Speaks a scene's narration (text-to-speech).
pub trait Narrator: Send + Sync {
    /// Audio of `scene.narration` in `voice` and `language`, lasting about
    /// `scene.duration_seconds`.
    ///
    /// # Errors
    ///
    /// Errors of [`Service::Tts`](super::Service::Tts) (`MEDIA_003`, `MEDIA_004`, `VIDEO_001`).
    fn narrate<'a>(
        &'a self,
        scene: &'a Scene,
        voice: Voice,
        language: &'a Language,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>>;

    /// [`narrate`](Self::narrate), also naming the engine that spoke this
    /// narration (e.g. the local provider's `flite` or `tones`), which the
    /// pipeline writes into the manifest as the scene's `narrator`. The
    /// default names none.
    ///
    /// # Errors
    ///
    /// Those of [`narrate`](Self::narrate).
    fn narrate_named<'a>(
        &'a self,
        scene: &'a Scene,
        voice: Voice,
        language: &'a Language,
    ) -> BoxFuture<'a, Result<(MediaBlob, Option<String>), MediaError>> {
        let narration = self.narrate(scene, voice, language);
        Box::pin(async move { Ok((narration.await?, None)) })
    }
}

/// Turns the scenes of a video into one playable file (step 4 of the
/// pipeline).
pub trait VideoAssembler: Send + Sync {
    /// An MP4 ([`MediaFormat::Mp4`](super::MediaFormat::Mp4)) with one H.264 video track and one
    /// audio track, lasting [`AssemblyRequest::total_duration_seconds`]
    /// (within one frame).
    ///
    /// # Errors
    ///
    /// `AssemblyFailed` (`VIDEO_004`) when an input cannot be decoded or
    /// the encoder fails.
    fn assemble<'a>(
        &'a self,
        request: &'a AssemblyRequest,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>>;

    /// Whether a generated clip or still can be assembled (decoded) for a
    /// scene of `duration_seconds`. The pipeline asks before accepting a
    /// generated visual and falls back to the next source when the answer
    /// is an error, so an undecodable clip costs its scene a still, not the
    /// whole video. The default accepts everything.
    ///
    /// # Errors
    ///
    /// `BadResponse` (`VIDEO_001`) of the service that made `visual`.
    fn check_visual<'a>(
        &'a self,
        visual: &'a MediaBlob,
        source: VisualSource,
        duration_seconds: u32,
    ) -> BoxFuture<'a, Result<(), MediaError>> {
        let _ = (visual, source, duration_seconds);
        Box::pin(async { Ok(()) })
    }
}

/// Keeps the artifact set of each video: one flat set of named files per
/// video id (`storyboard.json`, `scene-01.png`, `manifest.json`, ...).
///
/// Writing a name again replaces the file (a retried job rewrites its
/// set); each write replaces the file whole (a reader never sees half of
/// it). The manifest is written last, so its presence marks a complete set.
///
/// Downloads read through [`stat`](Self::stat) and [`open`](Self::open),
/// which stream; their defaults go through [`read`](Self::read) (the whole
/// file in memory, fine for in-memory fakes): a store of real files
/// overrides them.
pub trait ArtifactStore: Send + Sync {
    /// Writes `blob` as `name` in the set of `video_id` and describes it.
    ///
    /// # Errors
    ///
    /// `AssemblyFailed` (`VIDEO_004`) when `video_id` or `name` is invalid
    /// ([`is_artifact_set_id`](super::is_artifact_set_id),
    /// [`is_artifact_name`](super::is_artifact_name)) or the write fails.
    fn put<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        blob: &'a MediaBlob,
    ) -> BoxFuture<'a, Result<StoredArtifact, MediaError>>;

    /// Deletes the whole set of `video_id` (nothing to delete is fine).
    ///
    /// # Errors
    ///
    /// `AssemblyFailed` when the files exist but cannot be deleted.
    fn discard<'a>(&'a self, video_id: &'a str) -> BoxFuture<'a, Result<(), MediaError>>;

    /// Reads the file `name` of the set of `video_id`; `None` when the set
    /// or the file does not exist (or either name is invalid).
    ///
    /// # Errors
    ///
    /// `AssemblyFailed` when the file exists but cannot be read.
    fn read<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, MediaError>>;

    /// The size, tag and time of the file `name` of the set of `video_id`,
    /// without its bytes; `None` as for [`read`](Self::read).
    ///
    /// # Errors
    ///
    /// `AssemblyFailed` when the store cannot be asked.
    fn stat<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<ArtifactMeta>, MediaError>> {
        Box::pin(async move {
            Ok(self
                .read(video_id, name)
                .await?
                .map(|bytes| ArtifactMeta::of_bytes(&bytes)))
        })
    }

    /// Streams the bytes `range` (half-open, within the size
    /// [`stat`](Self::stat) gave) of the file `name`; `None` as for
    /// [`read`](Self::read).
    ///
    /// # Errors
    ///
    /// `AssemblyFailed` when the file exists but cannot be read (a failure
    /// later, while streaming, is an item of the stream).
    fn open<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        range: Range<u64>,
    ) -> BoxFuture<'a, Result<Option<ByteStream>, MediaError>> {
        Box::pin(async move {
            let Some(bytes) = self.read(video_id, name).await? else {
                return Ok(None);
            };
            let len = bytes.len() as u64;
            let (start, end) = (range.start.min(len), range.end.min(len));
            let bytes = bytes::Bytes::from(bytes).slice(
                usize::try_from(start).unwrap_or(usize::MAX)
                    ..usize::try_from(end.max(start)).unwrap_or(usize::MAX),
            );
            Ok(Some(byte_stream_of(bytes)))
        })
    }

    /// A URL anyone holding it may `GET` the file `name` from, for
    /// `expires_in`, without the store's credentials (a presigned URL);
    /// `None` when the store cannot make one (the default: local files).
    ///
    /// # Errors
    ///
    /// `AssemblyFailed` when signing fails.
    fn presign<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        expires_in: Duration,
    ) -> BoxFuture<'a, Result<Option<String>, MediaError>> {
        let _ = (video_id, name, expires_in);
        Box::pin(async { Ok(None) })
    }
}

/// A shared store is a store (so wrappers such as a fault injector can hold
/// an `Arc<dyn ArtifactStore>`).
impl<T: ArtifactStore + ?Sized> ArtifactStore for Arc<T> {
    fn put<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        blob: &'a MediaBlob,
    ) -> BoxFuture<'a, Result<StoredArtifact, MediaError>> {
        (**self).put(video_id, name, blob)
    }

    fn discard<'a>(&'a self, video_id: &'a str) -> BoxFuture<'a, Result<(), MediaError>> {
        (**self).discard(video_id)
    }

    fn read<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, MediaError>> {
        (**self).read(video_id, name)
    }

    fn stat<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<ArtifactMeta>, MediaError>> {
        (**self).stat(video_id, name)
    }

    fn open<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        range: Range<u64>,
    ) -> BoxFuture<'a, Result<Option<ByteStream>, MediaError>> {
        (**self).open(video_id, name, range)
    }

    fn presign<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        expires_in: Duration,
    ) -> BoxFuture<'a, Result<Option<String>, MediaError>> {
        (**self).presign(video_id, name, expires_in)
    }
}
