//! The offline `local` provider: every media port, deterministic, no
//! network, no credentials, real files. It exists so the product runs end to
//! end anywhere; its pictures say so (stills and clips carry the label
//! "ytvc local provider (offline placeholder)", [`image::LABEL`]; title
//! cards, which every provider uses as the last-resort visual, say
//! [`image::TITLE_CARD_LABEL`]).
//!
//! | port | what it makes |
//! |---|---|
//! | [`ScriptWriter`] | a storyboard cut from the prompt: one scene per sentence (or clause), durations from the pipeline's plan ([`script`]) |
//! | [`VisualGenerator::still`] | a PNG: a gradient and translucent discs coloured from the visual prompt's hash, the visual prompt as large wrapped text, the narration as a caption band at the bottom, the scene number and the label ([`image`]) |
//! | [`VisualGenerator::clip`] | an animated PNG (`.apng`) of the scene's exact length: the still, with a progress bar filling along the bottom edge over 2 to 8 frames (later frames only redraw the bar's rows) |
//! | [`TitleCardRenderer`] | a PNG: the video title large and bold on a dark gradient, the scene's narration as the caption, the scene number and the label |
//! | [`Narrator`] | a WAV (16 kHz mono 16-bit PCM) of the scene's exact length: English speech from the `flite` program when it is installed ([`speech`]), else one soft tone per word, then silence ([`audio`]); the manifest's `narrator` says which (`flite` or `tones`) |
//! | [`ArtifactStore`] | files under `<root>/<video_id>/` |
//!
//! Pictures are at the video's output size ([`image::frame_size`]):
//! 1280×720 (16:9), 720×1280 (9:16) or 720×720 (1:1), with text drawn by
//! `ab_glyph` in the embedded DejaVu Sans fonts (the `dejavu` crate). The
//! same input always gives byte-identical files (for speech: on the same
//! flite). Files are written to a
//! temporary name and renamed, so a reader never sees half a file. Work runs
//! on tokio's blocking pool when called inside a tokio runtime, inline
//! otherwise.

pub mod audio;
pub mod image;
pub mod script;
pub mod speech;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use ytvc_domain::media::{
    ArtifactStore, BoxFuture, MediaBlob, MediaError, Narrator, Scene, ScriptWriter, StoredArtifact,
    Storyboard, TitleCardRenderer, VisualGenerator, is_artifact_name, is_artifact_set_id,
};
use ytvc_domain::{AspectRatio, Language, VideoSpec, Voice};

pub use speech::{Speech, SpeechEngine};

/// FNV-1a, 64 bits: a stable hash (unlike `DefaultHasher`) for colours and
/// tones.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Runs `f` on tokio's blocking pool when inside a runtime, else inline.
async fn blocking<T, F>(f: F) -> Result<T, MediaError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, MediaError> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(f)
            .await
            .map_err(|e| MediaError::GenerationFailed(format!("blocking task: {e}")))?,
        Err(_) => f(),
    }
}

/// The local provider. Cheap to clone; share it as `Arc<LocalProvider>`
/// (e.g. `Pipeline::with_provider`).
#[derive(Debug, Clone)]
pub struct LocalProvider {
    root: PathBuf,
    speech: Arc<SpeechSlot>,
}

/// The narrator choice and, once probed, the flite it found (shared by
/// clones, so the probe runs once).
#[derive(Debug, Default)]
struct SpeechSlot {
    choice: Speech,
    flite: OnceLock<Option<speech::Flite>>,
}

impl SpeechSlot {
    fn flite(&self) -> Option<&speech::Flite> {
        self.flite.get_or_init(|| self.choice.resolve()).as_ref()
    }
}

impl LocalProvider {
    /// A provider writing artifact sets under `root` (created on first
    /// write), narrating with [`Speech::Auto`].
    #[must_use]
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            speech: Arc::default(),
        }
    }

    /// The same provider narrating with `speech`: flite when it answers
    /// (probed on first use), else tones.
    #[must_use]
    pub fn with_speech(mut self, speech: Speech) -> Self {
        self.speech = Arc::new(SpeechSlot {
            choice: speech,
            flite: OnceLock::new(),
        });
        self
    }

    /// The engine narrations are made with: [`SpeechEngine::Flite`] when a
    /// flite answered (probing it now if it has not been), else
    /// [`SpeechEngine::Tones`]. A scene can still get tones (a language
    /// other than English, or a flite run that failed); the manifest says
    /// so per scene. It blocks for the probe (a few milliseconds, at most
    /// [`speech::TIMEOUT`]) the first time.
    #[must_use]
    pub fn narrator(&self) -> SpeechEngine {
        if self.speech.flite().is_some() {
            SpeechEngine::Flite
        } else {
            SpeechEngine::Tones
        }
    }

    /// The root directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of a video's artifact set, if `video_id` is valid
    /// ([`is_artifact_set_id`]).
    #[must_use]
    pub fn video_dir(&self, video_id: &str) -> Option<PathBuf> {
        is_artifact_set_id(video_id).then(|| self.root.join(video_id))
    }

    /// The path of one artifact, if both names are valid
    /// ([`is_artifact_name`]); the file may not exist.
    #[must_use]
    pub fn artifact_path(&self, video_id: &str, name: &str) -> Option<PathBuf> {
        if !is_artifact_name(name) {
            return None;
        }
        self.video_dir(video_id).map(|dir| dir.join(name))
    }
}

fn blob((format, bytes): (ytvc_domain::media::MediaFormat, Vec<u8>)) -> MediaBlob {
    MediaBlob::new(format, bytes)
}

impl ScriptWriter for LocalProvider {
    /// Sends nothing anywhere: the storyboard is cut from the prompt
    /// ([`script::storyboard`]).
    fn write_script<'a>(
        &'a self,
        spec: &'a VideoSpec,
    ) -> BoxFuture<'a, Result<Storyboard, MediaError>> {
        Box::pin(async move { Ok(script::storyboard(spec)) })
    }
}

impl VisualGenerator for LocalProvider {
    fn clip<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        let scene = scene.clone();
        Box::pin(async move { blocking(move || image::clip(&scene, aspect).map(blob)).await })
    }

    fn still<'a>(
        &'a self,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        let scene = scene.clone();
        Box::pin(async move { blocking(move || image::still(&scene, aspect).map(blob)).await })
    }
}

impl TitleCardRenderer for LocalProvider {
    fn title_card<'a>(
        &'a self,
        title: &'a str,
        scene: &'a Scene,
        aspect: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        let (title, scene) = (title.to_owned(), scene.clone());
        Box::pin(async move {
            blocking(move || image::title_card(&title, &scene, aspect).map(blob)).await
        })
    }
}

impl Narrator for LocalProvider {
    fn narrate<'a>(
        &'a self,
        scene: &'a Scene,
        voice: Voice,
        language: &'a Language,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        let named = self.narrate_named(scene, voice, language);
        Box::pin(async move { Ok(named.await?.0) })
    }

    /// Speech from flite, else tones ([`speech::narration`]), named
    /// `flite` or `tones`.
    fn narrate_named<'a>(
        &'a self,
        scene: &'a Scene,
        voice: Voice,
        language: &'a Language,
    ) -> BoxFuture<'a, Result<(MediaBlob, Option<String>), MediaError>> {
        let (text, duration) = (scene.narration.clone(), scene.duration_seconds);
        let (slot, language) = (self.speech.clone(), language.clone());
        Box::pin(async move {
            blocking(move || {
                let (wav, engine) =
                    speech::narration(slot.flite(), &text, voice, &language, duration);
                Ok((
                    MediaBlob::new(ytvc_domain::media::MediaFormat::Wav, wav),
                    Some(engine.as_str().to_owned()),
                ))
            })
            .await
        })
    }
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> MediaError {
    MediaError::AssemblyFailed(format!("{what} {}: {e}", path.display()))
}

fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), MediaError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, &e))?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let mut file = std::fs::File::create(&tmp).map_err(|e| io_error("create", &tmp, &e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_data())
        .map_err(|e| io_error("write", &tmp, &e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io_error("rename", &path, &e))
}

impl ArtifactStore for LocalProvider {
    fn put<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        blob: &'a MediaBlob,
    ) -> BoxFuture<'a, Result<StoredArtifact, MediaError>> {
        Box::pin(async move {
            let (Some(dir), true) = (self.video_dir(video_id), is_artifact_name(name)) else {
                return Err(MediaError::AssemblyFailed(format!(
                    "invalid artifact name {video_id:?}/{name:?}"
                )));
            };
            let stored = StoredArtifact {
                name: name.to_owned(),
                media_type: blob.format.media_type().to_owned(),
                size: blob.bytes.len() as u64,
                sha256: hex(&Sha256::digest(&blob.bytes)),
            };
            let (name, bytes) = (name.to_owned(), blob.bytes.clone());
            blocking(move || write_atomically(&dir, &name, &bytes)).await?;
            Ok(stored)
        })
    }

    fn discard<'a>(&'a self, video_id: &'a str) -> BoxFuture<'a, Result<(), MediaError>> {
        Box::pin(async move {
            let Some(dir) = self.video_dir(video_id) else {
                return Ok(());
            };
            blocking(move || match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(io_error("remove", &dir, &e))
                }
                _ => Ok(()),
            })
            .await
        })
    }

    fn read<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, MediaError>> {
        Box::pin(async move {
            let (Some(dir), true) = (self.video_dir(video_id), is_artifact_name(name)) else {
                return Ok(None);
            };
            let path = dir.join(name);
            blocking(move || match std::fs::read(&path) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io_error("read", &path, &e)),
            })
            .await
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
