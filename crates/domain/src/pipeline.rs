//! The video pipeline use case: prompt → storyboard → visuals → narration →
//! artifact set.
//!
//! [`Pipeline::run`] does, in order:
//!
//! 0. The artifact set of `video_id` is emptied ([`ArtifactStore::discard`]),
//!    so a retried run leaves no stale files of an earlier one.
//! 1. **Script.** [`ScriptWriter::write_script`], then the storyboard is
//!    normalised ([`normalize_storyboard`]): scenes renumbered `1..=n`,
//!    at most [`MAX_SCENES`] (and at most one per
//!    second), durations rescaled to sum exactly to the requested duration,
//!    the user's title used when given. No usable scene is `LLM_003`. The
//!    storyboard is stored as `storyboard.json`.
//! 2. **Visuals**, scene by scene: a clip; when that fails with an error that
//!    [allows a fallback](MediaError::allows_fallback) (any `MEDIA_*`,
//!    `VIDEO_001`, an open circuit), a still; when that fails too, a title
//!    card. A clip or still the assembler (when there is one) cannot decode
//!    ([`VideoAssembler::check_visual`]) counts as a failure of its
//!    generator. Which source was used and the codes of the failures before
//!    it are recorded per scene. A generator that answers
//!    [`Disabled`](MediaError::Disabled) (no clip or still provider is
//!    configured) is skipped: nothing is recorded and the scene is not
//!    degraded. Any other error, or a failing title card, stops the run.
//!    Stored as `scene-NN.<ext>`.
//! 3. **Narration**, scene by scene, unless the voice is `none`:
//!    [`Narrator::narrate_named`]; a failure stops the run (`MEDIA_003` is
//!    retryable, so the job is retried). Stored as `scene-NN-narration.<ext>`;
//!    the engine the narrator names (if any) is the scene's `narrator`.
//! 4. **Assembly**: when the pipeline has a [`VideoAssembler`], the scenes'
//!    visuals and narration become one MP4, stored as
//!    [`VIDEO_FILE`]; its failure (`VIDEO_004`)
//!    fails the run. The [`Manifest`] (no timestamps: deterministic; it
//!    says which provider made the files, per service when they differ,
//!    and whether any scene was `degraded` to a fallback) is stored last,
//!    as `manifest.json`.
//!
//! [`Progress::cancelled`] is checked before the script, before every scene
//! of steps 2 and 3 and before assembly; a cancelled run deletes its partial
//! artifact set and ends with [`PipelineOutcome::Cancelled`], which is not an
//! error. A failed run also deletes its partial set (best effort) and returns
//! the [`MediaError`]: its [`code`](MediaError::code) is the video's error
//! code and [`retryable`](MediaError::retryable) tells the job queue whether
//! to try again.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::media::{
    ArtifactStore, AssemblyRequest, AssemblyScene, BoxFuture, MAX_NARRATION_BYTES, MAX_SCENES,
    MAX_VISUAL_PROMPT_BYTES, Manifest, ManifestScene, MediaBlob, MediaError, MediaFormat, Narrator,
    Scene, ScriptWriter, Service, StoredArtifact, Storyboard, TitleCardRenderer, VIDEO_FILE,
    VideoAssembler, VisualGenerator, VisualSource,
};
use crate::validation::{AspectRatio, VideoSpec};

/// The storyboard's file name in the artifact set.
pub const STORYBOARD_FILE: &str = "storyboard.json";
/// The manifest's file name in the artifact set.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The file name of a scene's visual: `scene-01.png`.
#[must_use]
pub fn visual_file_name(index: u32, format: MediaFormat) -> String {
    format!("scene-{index:02}.{}", format.extension())
}

/// The file name of a scene's narration: `scene-01-narration.wav`.
#[must_use]
pub fn narration_file_name(index: u32, format: MediaFormat) -> String {
    format!("scene-{index:02}-narration.{}", format.extension())
}

/// A step of the pipeline (steps 1 to 4 of the [module docs](crate::pipeline)),
/// as reported to [`Progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Writing, normalising and storing the storyboard (total 1).
    Script,
    /// Generating and storing each scene's visual, falling back from clip
    /// to still to title card (total: the scene count).
    Visuals,
    /// Generating and storing each scene's narration (total: the scene
    /// count, 0 without voice).
    Narration,
    /// Assembling the scenes into one MP4 ([`VIDEO_FILE`]) when the
    /// pipeline has a [`VideoAssembler`], then writing the manifest
    /// (total 1).
    Assembly,
}

impl Stage {
    /// The string form (`"script"`, `"visuals"`, `"narration"`,
    /// `"assembly"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Script => "script",
            Stage::Visuals => "visuals",
            Stage::Narration => "narration",
            Stage::Assembly => "assembly",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the pipeline tells its caller (the worker) while it runs.
pub trait Progress: Send + Sync {
    /// `done` of `total` units of `stage` are finished. Called with
    /// `done == 0` when a stage starts and after every unit; stages come in
    /// order and `done` never decreases within a stage.
    fn step(&self, stage: Stage, done: u32, total: u32);

    /// Whether the run should stop (checked between steps).
    fn cancelled(&self) -> bool;

    /// Whether the run stopped because another worker now owns the job (its
    /// lease was lost): the artifact set is then the new owner's, so the
    /// stopped run leaves it alone instead of deleting it. Default: never.
    fn lease_lost(&self) -> bool {
        false
    }
}

/// A [`Progress`] that ignores progress and is never cancelled.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn step(&self, _stage: Stage, _done: u32, _total: u32) {}

    fn cancelled(&self) -> bool {
        false
    }
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineOutput {
    /// What was written (also stored as `manifest.json`).
    pub manifest: Manifest,
    /// The manifest file itself.
    pub manifest_file: StoredArtifact,
}

/// How a run that did not fail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipelineOutcome {
    /// Every step ran; the artifact set is complete.
    Completed(Box<PipelineOutput>),
    /// [`Progress::cancelled`] answered `true` before `stage` (or before one
    /// of its units); the partial artifact set was deleted.
    Cancelled {
        /// The stage that did not run (or did not finish).
        stage: Stage,
    },
}

impl PipelineOutcome {
    /// The output of a completed run.
    #[must_use]
    pub fn completed(self) -> Option<PipelineOutput> {
        match self {
            PipelineOutcome::Completed(output) => Some(*output),
            PipelineOutcome::Cancelled { .. } => None,
        }
    }
}

/// Makes a storyboard from any [`ScriptWriter`] fit `spec`:
///
/// - scenes whose narration and visual prompt are both blank are dropped; a
///   blank one of the two is filled with the other; texts are trimmed, and
///   cut at a word to [`MAX_NARRATION_BYTES`] / [`MAX_VISUAL_PROMPT_BYTES`];
/// - at most [`MAX_SCENES`] scenes, and no more than the requested seconds
///   (later scenes are dropped);
/// - scenes are renumbered `1..=n`;
/// - durations are kept when they are all ≥ 1 and sum to the requested
///   duration, else rescaled proportionally (floors of the exact shares,
///   each ≥ 1 s, missing seconds to the largest remainders, ties to the
///   earlier scene) so that they do;
/// - the title is the user's when given, else the storyboard's trimmed
///   title, else the start of the prompt.
///
/// # Errors
///
/// `BadResponse` of [`Service::Llm`] (`LLM_003`) when no usable scene is
/// left.
pub fn normalize_storyboard(board: Storyboard, spec: &VideoSpec) -> Result<Storyboard, MediaError> {
    let total = spec.duration_seconds.get();
    let limit = MAX_SCENES.min(total) as usize;
    let mut scenes: Vec<Scene> = board
        .scenes
        .into_iter()
        .filter_map(|scene| {
            let narration = scene.narration.trim();
            let visual = scene.visual_prompt.trim();
            let (narration, visual) = match (narration.is_empty(), visual.is_empty()) {
                (true, true) => return None,
                (true, false) => (visual, visual),
                (false, true) => (narration, narration),
                (false, false) => (narration, visual),
            };
            Some(Scene {
                index: 0,
                narration: cut_at_word(narration, MAX_NARRATION_BYTES),
                visual_prompt: cut_at_word(visual, MAX_VISUAL_PROMPT_BYTES),
                duration_seconds: scene.duration_seconds,
            })
        })
        .take(limit)
        .collect();
    if scenes.is_empty() {
        return Err(MediaError::BadResponse {
            service: Service::Llm,
            reason: "storyboard has no usable scene".into(),
        });
    }
    let weights: Vec<u32> = scenes.iter().map(|s| s.duration_seconds).collect();
    for (i, (scene, duration)) in scenes
        .iter_mut()
        .zip(fit_durations(&weights, total))
        .enumerate()
    {
        scene.index = i as u32 + 1;
        scene.duration_seconds = duration;
    }
    let title = match &spec.title {
        Some(title) => title.as_str().to_owned(),
        None if !board.title.trim().is_empty() => board.title.trim().to_owned(),
        None => fallback_title(spec.prompt.as_str()),
    };
    Ok(Storyboard { title, scenes })
}

/// `text` cut to at most `max` bytes, at the last whitespace before the
/// limit when there is one (else at a character boundary).
fn cut_at_word(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    head.rfind(char::is_whitespace)
        .map_or(head, |space| &head[..space])
        .trim_end()
        .to_owned()
}

/// Scene lengths summing to `total` (which is ≥ `weights.len()`), each ≥ 1,
/// proportional to `weights` (a zero weight counts as 1).
fn fit_durations(weights: &[u32], total: u32) -> Vec<u32> {
    if weights.iter().all(|&w| w >= 1)
        && weights.iter().map(|&w| u64::from(w)).sum::<u64>() == u64::from(total)
    {
        return weights.to_vec();
    }
    let weights: Vec<u64> = weights.iter().map(|&w| u64::from(w.max(1))).collect();
    let sum: u64 = weights.iter().sum();
    let total = u64::from(total);
    let mut out: Vec<u64> = weights.iter().map(|w| (w * total / sum).max(1)).collect();
    let mut assigned: u64 = out.iter().sum();
    // Short: largest remainders first (the sort is stable: ties keep scene
    // order).
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(weights[i] * total % sum));
    for &i in order.iter().cycle() {
        if assigned >= total {
            break;
        }
        out[i] += 1;
        assigned += 1;
    }
    // Over (the 1-second floors): take from the longest, the last on ties.
    while assigned > total {
        let longest = (0..out.len()).max_by_key(|&i| out[i]).unwrap_or(0);
        out[longest] -= 1;
        assigned -= 1;
    }
    out.into_iter().map(|d| d as u32).collect()
}

/// The first words of the prompt (at most 60 characters, cut at a word).
fn fallback_title(prompt: &str) -> String {
    let mut title = String::new();
    for word in prompt.split_whitespace() {
        if title.chars().count() + word.chars().count() + 1 > 60 {
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    if title.is_empty() {
        title = prompt.chars().take(60).collect();
    }
    title
}

/// The video pipeline, holding its ports.
#[derive(Clone)]
pub struct Pipeline {
    script: Arc<dyn ScriptWriter>,
    visuals: Arc<dyn VisualGenerator>,
    cards: Arc<dyn TitleCardRenderer>,
    narrator: Arc<dyn Narrator>,
    store: Arc<dyn ArtifactStore>,
    assembler: Option<Arc<dyn VideoAssembler>>,
    provider: String,
    providers: BTreeMap<String, String>,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("provider", &self.provider)
            .field("providers", &self.providers)
            .field("assembles", &self.assembler.is_some())
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A pipeline over these ports.
    #[must_use]
    pub fn new(
        script: Arc<dyn ScriptWriter>,
        visuals: Arc<dyn VisualGenerator>,
        cards: Arc<dyn TitleCardRenderer>,
        narrator: Arc<dyn Narrator>,
        store: Arc<dyn ArtifactStore>,
    ) -> Self {
        Self {
            script,
            visuals,
            cards,
            narrator,
            store,
            assembler: None,
            provider: "local".to_owned(),
            providers: BTreeMap::new(),
        }
    }

    /// Assembles every completed run into one MP4 with `assembler`.
    #[must_use]
    pub fn with_assembler(mut self, assembler: Arc<dyn VideoAssembler>) -> Self {
        self.assembler = Some(assembler);
        self
    }

    /// The provider name written into manifests (default `local`).
    #[must_use]
    pub fn with_provider_name(mut self, provider: impl Into<String>) -> Self {
        self.provider = provider.into();
        self
    }

    /// Keeps the artifact sets in `store` instead (e.g. object storage
    /// shared by every worker, while the provider makes the media).
    #[must_use]
    pub fn with_store(mut self, store: Arc<dyn ArtifactStore>) -> Self {
        self.store = store;
        self
    }

    /// The provider of each service (e.g. `llm` → `openai`, `clip` →
    /// `none`), written into manifests as
    /// [`providers`](Manifest::providers) (default: none listed).
    #[must_use]
    pub fn with_service_providers(mut self, providers: BTreeMap<String, String>) -> Self {
        self.providers = providers;
        self
    }

    /// A pipeline whose every port is `provider` (e.g. the local provider).
    #[must_use]
    pub fn with_provider<P>(provider: Arc<P>) -> Self
    where
        P: ScriptWriter + VisualGenerator + TitleCardRenderer + Narrator + ArtifactStore + 'static,
    {
        Self::new(
            provider.clone(),
            provider.clone(),
            provider.clone(),
            provider.clone(),
            provider,
        )
    }

    /// Runs the pipeline for `video_id` (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// The first [`MediaError`] that stopped the run (after the visual
    /// fallbacks); the partial artifact set has been deleted (unless
    /// [`Progress::lease_lost`]: it is then the new owner's).
    pub fn run<'a>(
        &'a self,
        video_id: &'a str,
        spec: &'a VideoSpec,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<PipelineOutcome, MediaError>> {
        Box::pin(async move {
            let outcome = self.run_steps(video_id, spec, progress).await;
            // A run that lost its lease must not delete what the job's new
            // owner is writing (on shared storage, from another machine).
            if !matches!(outcome, Ok(PipelineOutcome::Completed(_))) && !progress.lease_lost() {
                // Best effort: the outcome matters more than a failed cleanup.
                let _ = self.store.discard(video_id).await;
            }
            outcome
        })
    }

    async fn run_steps(
        &self,
        video_id: &str,
        spec: &VideoSpec,
        progress: &dyn Progress,
    ) -> Result<PipelineOutcome, MediaError> {
        let cancelled = |stage| Ok(PipelineOutcome::Cancelled { stage });

        // 1. Script.
        if progress.cancelled() {
            return cancelled(Stage::Script);
        }
        // A retried run starts from an empty set: no stale files of an
        // earlier, differently shaped run survive.
        self.store.discard(video_id).await?;
        progress.step(Stage::Script, 0, 1);
        let board = self.script.write_script(spec).await?;
        let board = normalize_storyboard(board, spec)?;
        let json = serde_json::to_vec_pretty(&board)
            .map_err(|e| MediaError::AssemblyFailed(format!("storyboard json: {e}")))?;
        let storyboard = self
            .store
            .put(
                video_id,
                STORYBOARD_FILE,
                &MediaBlob::new(MediaFormat::Json, json),
            )
            .await?;
        progress.step(Stage::Script, 1, 1);

        // 2. Visuals.
        let total = board.scenes.len() as u32;
        progress.step(Stage::Visuals, 0, total);
        let mut visuals = Vec::with_capacity(board.scenes.len());
        for scene in &board.scenes {
            if progress.cancelled() {
                return cancelled(Stage::Visuals);
            }
            let (blob, source, fallback_codes) =
                self.visual(&board.title, scene, spec.aspect_ratio).await?;
            let name = visual_file_name(scene.index, blob.format);
            let stored = self.store.put(video_id, &name, &blob).await?;
            visuals.push((stored, source, fallback_codes, blob));
            progress.step(Stage::Visuals, scene.index, total);
        }

        // 3. Narration.
        let narrated = spec.voice.is_narrated();
        let total_narrated = if narrated { total } else { 0 };
        progress.step(Stage::Narration, 0, total_narrated);
        let mut audio = Vec::with_capacity(board.scenes.len());
        let mut audio_blobs = Vec::with_capacity(board.scenes.len());
        if narrated {
            for scene in &board.scenes {
                if progress.cancelled() {
                    return cancelled(Stage::Narration);
                }
                let (blob, narrator) = self
                    .narrator
                    .narrate_named(scene, spec.voice, &spec.language)
                    .await?;
                let name = narration_file_name(scene.index, blob.format);
                audio.push((self.store.put(video_id, &name, &blob).await?, narrator));
                audio_blobs.push(blob);
                progress.step(Stage::Narration, scene.index, total);
            }
        }

        // 4. Assembly.
        if progress.cancelled() {
            return cancelled(Stage::Assembly);
        }
        progress.step(Stage::Assembly, 0, 1);
        let video = match &self.assembler {
            Some(assembler) => {
                let mut narration = audio_blobs.into_iter();
                let request = AssemblyRequest {
                    video_id: video_id.to_owned(),
                    aspect_ratio: spec.aspect_ratio,
                    scenes: board
                        .scenes
                        .iter()
                        .zip(&mut visuals)
                        .map(|(scene, (_, source, _, blob))| AssemblyScene {
                            index: scene.index,
                            duration_seconds: scene.duration_seconds,
                            visual: std::mem::replace(
                                blob,
                                MediaBlob::new(blob.format, Vec::new()),
                            ),
                            visual_source: *source,
                            narration: narration.next(),
                        })
                        .collect(),
                };
                let file = assembler.assemble(&request).await?;
                drop(request);
                Some(self.store.put(video_id, VIDEO_FILE, &file).await?)
            }
            None => None,
        };
        let degraded = visuals.iter().any(|(_, _, codes, _)| !codes.is_empty());
        let mut audio = audio.into_iter();
        let scenes = board
            .scenes
            .iter()
            .zip(visuals)
            .map(|(scene, (visual, visual_source, fallback_codes, _))| {
                let (narration_audio, narrator) = audio.next().unzip();
                ManifestScene {
                    index: scene.index,
                    duration_seconds: scene.duration_seconds,
                    narration: scene.narration.clone(),
                    visual_prompt: scene.visual_prompt.clone(),
                    visual_source,
                    fallback_codes,
                    visual,
                    narration_audio,
                    narrator: narrator.flatten(),
                }
            })
            .collect();
        let manifest = Manifest {
            version: Manifest::VERSION,
            video_id: video_id.to_owned(),
            title: board.title.clone(),
            aspect_ratio: spec.aspect_ratio,
            style: spec.style,
            voice: spec.voice,
            language: spec.language.clone(),
            total_duration_seconds: board.total_duration_seconds(),
            provider: self.provider.clone(),
            providers: self.providers.clone(),
            degraded,
            storyboard,
            scenes,
            video,
        };
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| MediaError::AssemblyFailed(format!("manifest json: {e}")))?;
        let manifest_file = self
            .store
            .put(
                video_id,
                MANIFEST_FILE,
                &MediaBlob::new(MediaFormat::Json, json),
            )
            .await?;
        progress.step(Stage::Assembly, 1, 1);
        Ok(PipelineOutcome::Completed(Box::new(PipelineOutput {
            manifest,
            manifest_file,
        })))
    }

    /// A generated visual, if the assembler (when there is one) can use it.
    async fn usable(
        &self,
        generated: Result<MediaBlob, MediaError>,
        source: VisualSource,
        scene: &Scene,
    ) -> Result<MediaBlob, MediaError> {
        let blob = generated?;
        if let Some(assembler) = &self.assembler {
            assembler
                .check_visual(&blob, source, scene.duration_seconds)
                .await?;
        }
        Ok(blob)
    }

    /// Clip, else still, else title card; a clip or still the assembler
    /// cannot decode counts as a failure of its generator, a disabled one
    /// is skipped without counting.
    async fn visual(
        &self,
        title: &str,
        scene: &Scene,
        aspect: AspectRatio,
    ) -> Result<(MediaBlob, VisualSource, Vec<String>), MediaError> {
        let mut failed = Vec::new();
        let clip = self.visuals.clip(scene, aspect).await;
        match self.usable(clip, VisualSource::Clip, scene).await {
            Ok(blob) => return Ok((blob, VisualSource::Clip, failed)),
            Err(MediaError::Disabled { .. }) => {}
            Err(e) if e.allows_fallback() => failed.push(e.code().as_str().to_owned()),
            Err(e) => return Err(e),
        }
        let still = self.visuals.still(scene, aspect).await;
        match self.usable(still, VisualSource::Still, scene).await {
            Ok(blob) => return Ok((blob, VisualSource::Still, failed)),
            Err(MediaError::Disabled { .. }) => {}
            Err(e) if e.allows_fallback() => failed.push(e.code().as_str().to_owned()),
            Err(e) => return Err(e),
        }
        let blob = self.cards.title_card(title, scene, aspect).await?;
        Ok((blob, VisualSource::TitleCard, failed))
    }
}

#[cfg(test)]
mod tests;
