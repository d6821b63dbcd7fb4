//! Pipeline tests with in-memory fakes (no runtime: the fakes never wait, so
//! a poll loop with a no-op waker drives the futures).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use ytvc_error_codes::ErrorCode;

use super::*;
use crate::media::{Narrator, plan_scene_durations};
use crate::validation::{Language, RawVideoRequest, Voice};

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn spec(duration: i64, voice: &str) -> VideoSpec {
    VideoSpec::parse(RawVideoRequest {
        prompt: Some("A walk through a foggy forest. Birds sing, a stream runs.".into()),
        duration_seconds: Some(duration),
        voice: Some(voice.into()),
        ..RawVideoRequest::default()
    })
    .unwrap()
}

/// A scene as the fake assembler saw it: index, duration, visual bytes as
/// text, source, narration bytes as text.
type AssembledScene = (u32, u32, String, VisualSource, Option<String>);

/// Every port at once, each behaviour configurable.
#[derive(Default)]
struct Fake {
    script_error: Option<MediaError>,
    /// Scenes the script writer returns; `None`: the planned ones.
    script_scenes: Option<Vec<Scene>>,
    clip_error: Option<MediaError>,
    still_error: Option<MediaError>,
    card_error: Option<MediaError>,
    tts_error: Option<MediaError>,
    assembly_error: Option<MediaError>,
    /// Visuals (by their bytes) the fake assembler cannot decode.
    undecodable: Vec<&'static str>,
    /// What the assembler was asked: per scene (index, duration, visual
    /// bytes, source, narration bytes).
    assembled: Mutex<Vec<AssembledScene>>,
    calls: Mutex<Vec<String>>,
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    discarded: Mutex<Vec<String>>,
}

impl Fake {
    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn answer(
        &self,
        call: String,
        error: Option<&MediaError>,
        format: MediaFormat,
    ) -> Result<MediaBlob, MediaError> {
        let bytes = call.clone().into_bytes();
        self.log(call);
        match error {
            Some(e) => Err(e.clone()),
            None => Ok(MediaBlob::new(format, bytes)),
        }
    }
}

impl ScriptWriter for Fake {
    fn write_script<'a>(
        &'a self,
        spec: &'a VideoSpec,
    ) -> BoxFuture<'a, Result<Storyboard, MediaError>> {
        Box::pin(async move {
            self.log("script".into());
            if let Some(e) = &self.script_error {
                return Err(e.clone());
            }
            let scenes = self.script_scenes.clone().unwrap_or_else(|| {
                plan_scene_durations(spec.duration_seconds)
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| Scene {
                        index: i as u32 + 1,
                        narration: format!("narration {i}"),
                        visual_prompt: format!("visual {i}"),
                        duration_seconds: d,
                    })
                    .collect()
            });
            Ok(Storyboard {
                title: "Fog".into(),
                scenes,
            })
        })
    }
}

impl VisualGenerator for Fake {
    fn clip<'a>(
        &'a self,
        scene: &'a Scene,
        _: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        Box::pin(async move {
            self.answer(
                format!("clip {}", scene.index),
                self.clip_error.as_ref(),
                MediaFormat::Mp4,
            )
        })
    }

    fn still<'a>(
        &'a self,
        scene: &'a Scene,
        _: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        Box::pin(async move {
            self.answer(
                format!("still {}", scene.index),
                self.still_error.as_ref(),
                MediaFormat::Png,
            )
        })
    }
}

impl TitleCardRenderer for Fake {
    fn title_card<'a>(
        &'a self,
        title: &'a str,
        scene: &'a Scene,
        _: AspectRatio,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        Box::pin(async move {
            self.answer(
                format!("card {} {title}", scene.index),
                self.card_error.as_ref(),
                MediaFormat::Png,
            )
        })
    }
}

impl Narrator for Fake {
    fn narrate<'a>(
        &'a self,
        scene: &'a Scene,
        _: Voice,
        _: &'a Language,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        Box::pin(async move {
            self.answer(
                format!("tts {}", scene.index),
                self.tts_error.as_ref(),
                MediaFormat::Wav,
            )
        })
    }
}

impl ArtifactStore for Fake {
    fn put<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        blob: &'a MediaBlob,
    ) -> BoxFuture<'a, Result<StoredArtifact, MediaError>> {
        Box::pin(async move {
            self.files
                .lock()
                .unwrap()
                .insert(format!("{video_id}/{name}"), blob.bytes.clone());
            Ok(StoredArtifact {
                name: name.to_owned(),
                media_type: blob.format.media_type().to_owned(),
                size: blob.bytes.len() as u64,
                sha256: "0".repeat(64),
            })
        })
    }

    fn discard<'a>(&'a self, video_id: &'a str) -> BoxFuture<'a, Result<(), MediaError>> {
        Box::pin(async move {
            self.files
                .lock()
                .unwrap()
                .retain(|k, _| !k.starts_with(&format!("{video_id}/")));
            self.discarded.lock().unwrap().push(video_id.to_owned());
            Ok(())
        })
    }

    fn read<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, MediaError>> {
        Box::pin(async move {
            Ok(self
                .files
                .lock()
                .unwrap()
                .get(&format!("{video_id}/{name}"))
                .cloned())
        })
    }
}

impl VideoAssembler for Fake {
    fn assemble<'a>(
        &'a self,
        request: &'a AssemblyRequest,
    ) -> BoxFuture<'a, Result<MediaBlob, MediaError>> {
        Box::pin(async move {
            let text = |b: &MediaBlob| String::from_utf8(b.bytes.clone()).unwrap();
            *self.assembled.lock().unwrap() = request
                .scenes
                .iter()
                .map(|s| {
                    (
                        s.index,
                        s.duration_seconds,
                        text(&s.visual),
                        s.visual_source,
                        s.narration.as_ref().map(text),
                    )
                })
                .collect();
            self.answer(
                format!("assemble {}s", request.total_duration_seconds()),
                self.assembly_error.as_ref(),
                MediaFormat::Mp4,
            )
        })
    }

    fn check_visual<'a>(
        &'a self,
        visual: &'a MediaBlob,
        source: VisualSource,
        _: u32,
    ) -> BoxFuture<'a, Result<(), MediaError>> {
        Box::pin(async move {
            let text = String::from_utf8_lossy(&visual.bytes);
            if self.undecodable.iter().any(|u| text == *u) {
                return Err(MediaError::BadResponse {
                    service: if source == VisualSource::Clip {
                        Service::Veo
                    } else {
                        Service::Imagen
                    },
                    reason: "undecodable".into(),
                });
            }
            Ok(())
        })
    }
}

/// Records the steps; cancels once `cancelled` was asked `cancel_after`
/// times (as a lost lease when `lost`).
#[derive(Default)]
struct Recorder {
    steps: Mutex<Vec<(Stage, u32, u32)>>,
    cancel_after: Option<usize>,
    asked: AtomicUsize,
    lost: bool,
}

impl Progress for Recorder {
    fn step(&self, stage: Stage, done: u32, total: u32) {
        self.steps.lock().unwrap().push((stage, done, total));
    }

    fn cancelled(&self) -> bool {
        let asked = self.asked.fetch_add(1, Ordering::SeqCst);
        self.cancel_after.is_some_and(|n| asked >= n)
    }

    fn lease_lost(&self) -> bool {
        self.lost
    }
}

fn run(
    fake: Fake,
    spec: &VideoSpec,
    progress: &Recorder,
) -> (Arc<Fake>, Result<PipelineOutcome, MediaError>) {
    let fake = Arc::new(fake);
    let pipeline = Pipeline::with_provider(fake.clone());
    let outcome = block_on(pipeline.run("vid-1", spec, progress));
    (fake, outcome)
}

fn unavailable(service: Service) -> MediaError {
    MediaError::Unavailable {
        service,
        reason: "down".into(),
    }
}

#[test]
fn happy_path_uses_clips_and_writes_the_set() {
    let spec = spec(25, "neutral");
    let progress = Recorder::default();
    let (fake, outcome) = run(Fake::default(), &spec, &progress);
    let output = outcome.unwrap().completed().unwrap();
    let m = &output.manifest;
    assert_eq!(m.video_id, "vid-1");
    assert_eq!(m.title, "Fog");
    assert_eq!(m.total_duration_seconds, 25);
    assert_eq!(m.scenes.len(), 3);
    for (i, scene) in m.scenes.iter().enumerate() {
        assert_eq!(scene.index, i as u32 + 1);
        assert_eq!(scene.visual_source, VisualSource::Clip);
        assert!(scene.fallback_codes.is_empty());
        assert_eq!(scene.visual.name, format!("scene-0{}.mp4", i + 1));
        assert_eq!(
            scene.narration_audio.as_ref().unwrap().name,
            format!("scene-0{}-narration.wav", i + 1)
        );
    }
    assert_eq!(
        fake.calls(),
        [
            "script", "clip 1", "clip 2", "clip 3", "tts 1", "tts 2", "tts 3"
        ]
    );
    let files: Vec<String> = fake.files.lock().unwrap().keys().cloned().collect();
    assert_eq!(files.len(), 1 + 3 + 3 + 1);
    assert!(files.contains(&"vid-1/manifest.json".to_owned()));
    assert!(files.contains(&"vid-1/storyboard.json".to_owned()));
    assert_eq!(m.files().count(), 7);
    assert!(m.video.is_none(), "no assembler, no video");
    assert!(!m.degraded);
    assert_eq!(m.provider, "local");
    // The stored manifest is the returned one.
    let stored = fake.files.lock().unwrap()["vid-1/manifest.json"].clone();
    assert_eq!(serde_json::from_slice::<Manifest>(&stored).unwrap(), *m);
    assert_eq!(output.manifest_file.name, MANIFEST_FILE);
    assert_eq!(
        *fake.discarded.lock().unwrap(),
        ["vid-1"],
        "emptied once, at the start"
    );
    assert_eq!(
        *progress.steps.lock().unwrap(),
        [
            (Stage::Script, 0, 1),
            (Stage::Script, 1, 1),
            (Stage::Visuals, 0, 3),
            (Stage::Visuals, 1, 3),
            (Stage::Visuals, 2, 3),
            (Stage::Visuals, 3, 3),
            (Stage::Narration, 0, 3),
            (Stage::Narration, 1, 3),
            (Stage::Narration, 2, 3),
            (Stage::Narration, 3, 3),
            (Stage::Assembly, 0, 1),
            (Stage::Assembly, 1, 1),
        ]
    );
}

fn run_assembled(fake: Fake, spec: &VideoSpec) -> (Arc<Fake>, Result<PipelineOutcome, MediaError>) {
    let fake = Arc::new(fake);
    let pipeline = Pipeline::with_provider(fake.clone())
        .with_assembler(fake.clone())
        .with_provider_name("fake");
    let outcome = block_on(pipeline.run("vid-1", spec, &NoProgress));
    (fake, outcome)
}

#[test]
fn the_assembler_gets_every_scene_and_its_video_is_listed_last() {
    let fake = Fake {
        clip_error: Some(unavailable(Service::Veo)),
        ..Fake::default()
    };
    let (fake, outcome) = run_assembled(fake, &spec(25, "neutral"));
    let m = outcome.unwrap().completed().unwrap().manifest;
    assert_eq!(
        *fake.assembled.lock().unwrap(),
        [
            (
                1,
                9,
                "still 1".into(),
                VisualSource::Still,
                Some("tts 1".into())
            ),
            (
                2,
                8,
                "still 2".into(),
                VisualSource::Still,
                Some("tts 2".into())
            ),
            (
                3,
                8,
                "still 3".into(),
                VisualSource::Still,
                Some("tts 3".into())
            ),
        ]
    );
    let video = m.video.as_ref().unwrap();
    assert_eq!(
        (video.name.as_str(), video.media_type.as_str()),
        (VIDEO_FILE, "video/mp4")
    );
    assert_eq!(m.files().last(), Some(video));
    assert_eq!(m.files().count(), 8);
    assert_eq!(
        fake.files.lock().unwrap()["vid-1/video.mp4"],
        b"assemble 25s".to_vec()
    );
    assert!(m.degraded, "every scene fell back to a still");
    assert_eq!(m.provider, "fake");
    assert_eq!(m.version, 2);

    // Without voice the scenes are silent; without fallbacks nothing is degraded.
    let (fake, outcome) = run_assembled(Fake::default(), &spec(10, "none"));
    let m = outcome.unwrap().completed().unwrap().manifest;
    assert!(!m.degraded);
    assert_eq!(
        *fake.assembled.lock().unwrap(),
        [(1, 10, "clip 1".into(), VisualSource::Clip, None)]
    );
}

#[test]
fn an_undecodable_clip_or_still_falls_back_like_a_failed_one() {
    let fake = Fake {
        undecodable: vec!["clip 1", "clip 2", "still 2"],
        ..Fake::default()
    };
    let (fake, outcome) = run_assembled(fake, &spec(30, "none"));
    let m = outcome.unwrap().completed().unwrap().manifest;
    let sources: Vec<_> = m
        .scenes
        .iter()
        .map(|s| (s.visual_source, s.fallback_codes.clone()))
        .collect();
    assert_eq!(
        sources,
        [
            (VisualSource::Still, vec!["VIDEO_001".to_owned()]),
            (
                VisualSource::TitleCard,
                vec!["VIDEO_001".to_owned(), "VIDEO_001".to_owned()]
            ),
            (VisualSource::Clip, vec![]),
        ]
    );
    assert!(m.degraded);
    let assembled: Vec<_> = fake
        .assembled
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.2.clone())
        .collect();
    assert_eq!(assembled, ["still 1", "card 2 Fog", "clip 3"]);
}

#[test]
fn a_failing_assembly_fails_the_run_and_leaves_nothing() {
    let fake = Fake {
        assembly_error: Some(MediaError::AssemblyFailed("encoder".into())),
        ..Fake::default()
    };
    let (fake, outcome) = run_assembled(fake, &spec(10, "neutral"));
    let error = outcome.unwrap_err();
    assert_eq!(error.code(), ErrorCode::AssemblyFailed);
    assert!(!error.retryable());
    assert!(
        fake.files.lock().unwrap().is_empty(),
        "the partial set is gone"
    );
}

#[test]
fn veo_failing_falls_back_to_stills() {
    let fake = Fake {
        clip_error: Some(unavailable(Service::Veo)),
        ..Fake::default()
    };
    let (fake, outcome) = run(fake, &spec(20, "neutral"), &Recorder::default());
    let m = outcome.unwrap().completed().unwrap().manifest;
    for scene in &m.scenes {
        assert_eq!(scene.visual_source, VisualSource::Still);
        assert_eq!(scene.fallback_codes, ["MEDIA_001"]);
        assert!(scene.visual.name.ends_with(".png"));
    }
    assert_eq!(
        fake.calls()[..5],
        ["script", "clip 1", "still 1", "clip 2", "still 2"]
    );
}

#[test]
fn both_failing_falls_back_to_title_cards() {
    let fake = Fake {
        clip_error: Some(MediaError::CircuitOpen {
            service: Service::Veo,
        }),
        still_error: Some(MediaError::QuotaExhausted {
            service: Service::Imagen,
        }),
        ..Fake::default()
    };
    let (fake, outcome) = run(fake, &spec(10, "neutral"), &Recorder::default());
    let m = outcome.unwrap().completed().unwrap().manifest;
    assert_eq!(m.scenes.len(), 1);
    assert_eq!(m.scenes[0].visual_source, VisualSource::TitleCard);
    assert_eq!(m.scenes[0].fallback_codes, ["MEDIA_001", "MEDIA_004"]);
    assert!(fake.calls().contains(&"card 1 Fog".to_owned()));
}

#[test]
fn a_disabled_visual_is_skipped_without_a_failure_or_degradation() {
    // No clip provider: stills, nothing recorded, not degraded.
    let fake = Fake {
        clip_error: Some(MediaError::Disabled {
            service: Service::Veo,
        }),
        ..Fake::default()
    };
    let (fake, outcome) = run(fake, &spec(20, "neutral"), &Recorder::default());
    let m = outcome.unwrap().completed().unwrap().manifest;
    for scene in &m.scenes {
        assert_eq!(scene.visual_source, VisualSource::Still);
        assert!(
            scene.fallback_codes.is_empty(),
            "{:?}",
            scene.fallback_codes
        );
    }
    assert!(!m.degraded);
    assert_eq!(fake.calls()[..3], ["script", "clip 1", "still 1"]);

    // Neither clips nor stills: title cards, still not degraded.
    let fake = Fake {
        clip_error: Some(MediaError::Disabled {
            service: Service::Veo,
        }),
        still_error: Some(MediaError::Disabled {
            service: Service::Imagen,
        }),
        ..Fake::default()
    };
    let (_, outcome) = run(fake, &spec(10, "neutral"), &Recorder::default());
    let m = outcome.unwrap().completed().unwrap().manifest;
    assert_eq!(m.scenes[0].visual_source, VisualSource::TitleCard);
    assert!(m.scenes[0].fallback_codes.is_empty());
    assert!(!m.degraded);

    // Disabled clips, then a failing still: only the real failure counts.
    let fake = Fake {
        clip_error: Some(MediaError::Disabled {
            service: Service::Veo,
        }),
        still_error: Some(unavailable(Service::Imagen)),
        ..Fake::default()
    };
    let (_, outcome) = run(fake, &spec(10, "neutral"), &Recorder::default());
    let m = outcome.unwrap().completed().unwrap().manifest;
    assert_eq!(m.scenes[0].visual_source, VisualSource::TitleCard);
    assert_eq!(m.scenes[0].fallback_codes, ["MEDIA_002"]);
    assert!(m.degraded);
}

#[test]
fn the_providers_of_each_service_are_in_the_manifest() {
    let fake = Arc::new(Fake::default());
    let providers: BTreeMap<String, String> = [("llm", "openai"), ("clip", "none")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let pipeline = Pipeline::with_provider(fake.clone())
        .with_provider_name("mixed")
        .with_service_providers(providers.clone());
    let output = block_on(pipeline.run("vid-1", &spec(10, "none"), &Recorder::default()))
        .unwrap()
        .completed()
        .unwrap();
    assert_eq!(output.manifest.provider, "mixed");
    assert_eq!(output.manifest.providers, providers);
    let json: serde_json::Value =
        serde_json::from_slice(&fake.files.lock().unwrap()["vid-1/manifest.json"]).unwrap();
    assert_eq!(json["providers"]["llm"], "openai");
    // None listed: the key is absent, and a manifest without it reads back.
    let (fake, outcome) = run(Fake::default(), &spec(10, "none"), &Recorder::default());
    let m = outcome.unwrap().completed().unwrap().manifest;
    let stored = fake.files.lock().unwrap()["vid-1/manifest.json"].clone();
    let json: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    assert!(json.get("providers").is_none(), "{json}");
    assert_eq!(serde_json::from_slice::<Manifest>(&stored).unwrap(), m);
}

#[test]
fn failing_title_card_or_non_fallback_error_stops_the_run() {
    let fake = Fake {
        clip_error: Some(unavailable(Service::Veo)),
        still_error: Some(MediaError::GenerationFailed("bad".into())),
        card_error: Some(MediaError::GenerationFailed("no font".into())),
        ..Fake::default()
    };
    let (fake, outcome) = run(fake, &spec(10, "neutral"), &Recorder::default());
    assert_eq!(
        outcome.unwrap_err().code(),
        ErrorCode::VideoGenerationFailed
    );
    assert_eq!(*fake.discarded.lock().unwrap(), ["vid-1", "vid-1"]);
    assert!(fake.files.lock().unwrap().is_empty());

    let fake = Fake {
        clip_error: Some(MediaError::AssemblyFailed("disk".into())),
        ..Fake::default()
    };
    let (fake, outcome) = run(fake, &spec(10, "neutral"), &Recorder::default());
    assert_eq!(outcome.unwrap_err().code(), ErrorCode::AssemblyFailed);
    assert!(!fake.calls().iter().any(|c| c.starts_with("still")));
}

#[test]
fn llm_failures_carry_their_code_and_retry_flag() {
    let cases = [
        (
            MediaError::Timeout {
                service: Service::Llm,
            },
            "LLM_001",
            true,
        ),
        (
            MediaError::CircuitOpen {
                service: Service::Llm,
            },
            "LLM_002",
            true,
        ),
        (
            MediaError::BadResponse {
                service: Service::Llm,
                reason: "x".into(),
            },
            "LLM_003",
            true,
        ),
        (
            MediaError::Refused {
                service: Service::Llm,
                reason: "x".into(),
            },
            "LLM_004",
            false,
        ),
    ];
    for (error, code, retryable) in cases {
        let fake = Fake {
            script_error: Some(error),
            ..Fake::default()
        };
        let (fake, outcome) = run(fake, &spec(30, "neutral"), &Recorder::default());
        let e = outcome.unwrap_err();
        assert_eq!((e.code().as_str(), e.retryable()), (code, retryable));
        assert_eq!(fake.calls(), ["script"]);
        assert!(fake.files.lock().unwrap().is_empty());
    }
}

#[test]
fn empty_storyboard_is_llm_003() {
    let blank = Scene {
        index: 1,
        narration: " ".into(),
        visual_prompt: String::new(),
        duration_seconds: 5,
    };
    let fake = Fake {
        script_scenes: Some(vec![blank]),
        ..Fake::default()
    };
    let (_, outcome) = run(fake, &spec(30, "neutral"), &Recorder::default());
    assert_eq!(outcome.unwrap_err().code(), ErrorCode::LlmBadResponse);
}

#[test]
fn tts_failure_stops_the_run_and_no_voice_means_no_tts() {
    let fake = Fake {
        tts_error: Some(unavailable(Service::Tts)),
        ..Fake::default()
    };
    let (_, outcome) = run(fake, &spec(20, "neutral"), &Recorder::default());
    let e = outcome.unwrap_err();
    assert_eq!((e.code(), e.retryable()), (ErrorCode::TtsUnavailable, true));

    let fake = Fake {
        tts_error: Some(unavailable(Service::Tts)),
        ..Fake::default()
    };
    let progress = Recorder::default();
    let (fake, outcome) = run(fake, &spec(20, "none"), &progress);
    let m = outcome.unwrap().completed().unwrap().manifest;
    assert!(m.scenes.iter().all(|s| s.narration_audio.is_none()));
    assert!(!fake.calls().iter().any(|c| c.starts_with("tts")));
    assert!(
        progress
            .steps
            .lock()
            .unwrap()
            .contains(&(Stage::Narration, 0, 0))
    );
}

#[test]
fn cancellation_between_steps() {
    // cancelled() is asked: 0 before script, 1..=2 before each of 2 visuals,
    // 3..=4 before each narration, 5 before assembly.
    let expected = [
        (0, Stage::Script, vec![]),
        (1, Stage::Visuals, vec!["script"]),
        (2, Stage::Visuals, vec!["script", "clip 1"]),
        (3, Stage::Narration, vec!["script", "clip 1", "clip 2"]),
        (
            4,
            Stage::Narration,
            vec!["script", "clip 1", "clip 2", "tts 1"],
        ),
        (
            5,
            Stage::Assembly,
            vec!["script", "clip 1", "clip 2", "tts 1", "tts 2"],
        ),
    ];
    for (after, stage, calls) in expected {
        let progress = Recorder {
            cancel_after: Some(after),
            ..Recorder::default()
        };
        let (fake, outcome) = run(Fake::default(), &spec(20, "neutral"), &progress);
        assert_eq!(
            outcome.unwrap(),
            PipelineOutcome::Cancelled { stage },
            "after {after}"
        );
        assert_eq!(fake.calls(), calls);
        assert!(fake.files.lock().unwrap().is_empty(), "partial set deleted");
        assert_eq!(fake.discarded.lock().unwrap().last().unwrap(), "vid-1");
    }
    // Never cancelled: completes.
    let progress = Recorder {
        cancel_after: Some(6),
        ..Recorder::default()
    };
    let (_, outcome) = run(Fake::default(), &spec(20, "neutral"), &progress);
    assert!(outcome.unwrap().completed().is_some());
}

#[test]
fn a_run_that_lost_its_lease_leaves_the_set_to_the_new_owner() {
    let progress = Recorder {
        cancel_after: Some(3),
        lost: true,
        ..Recorder::default()
    };
    let (fake, outcome) = run(Fake::default(), &spec(20, "neutral"), &progress);
    assert!(matches!(outcome, Ok(PipelineOutcome::Cancelled { .. })));
    // Only the step-0 clearing of its own run; what it wrote stays (the new
    // owner clears the set itself when it starts).
    assert_eq!(*fake.discarded.lock().unwrap(), ["vid-1"]);
    assert!(!fake.files.lock().unwrap().is_empty());
}

#[test]
fn scene_count_is_deterministic() {
    for (duration, scenes) in [(5, 1), (10, 1), (11, 2), (60, 6), (119, 12), (600, 12)] {
        let spec = spec(duration, "neutral");
        let a = run(Fake::default(), &spec, &Recorder::default())
            .1
            .unwrap()
            .completed()
            .unwrap();
        let b = run(Fake::default(), &spec, &Recorder::default())
            .1
            .unwrap()
            .completed()
            .unwrap();
        assert_eq!(a.manifest.scenes.len(), scenes, "{duration}s");
        assert_eq!(a, b);
        assert_eq!(a.manifest.total_duration_seconds, duration as u32);
    }
}

#[test]
fn storyboards_are_normalised() {
    let scene = |narration: &str, visual: &str, duration| Scene {
        index: 99,
        narration: narration.into(),
        visual_prompt: visual.into(),
        duration_seconds: duration,
    };
    // Too many scenes, bad durations, blanks.
    let mut scenes = vec![scene("", "", 3), scene(" a ", "", 0), scene("", "b", 30)];
    scenes.extend((0..20).map(|i| scene("n", "v", i)));
    let spec = spec(7, "neutral");
    let board = normalize_storyboard(
        Storyboard {
            title: "  ".into(),
            scenes,
        },
        &spec,
    )
    .unwrap();
    assert_eq!(board.scenes.len(), 7, "at most one scene per second");
    assert_eq!(board.total_duration_seconds(), 7);
    assert!(board.scenes.iter().all(|s| s.duration_seconds >= 1));
    assert_eq!(
        board.scenes.iter().map(|s| s.index).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6, 7]
    );
    assert_eq!(
        (
            board.scenes[0].narration.as_str(),
            board.scenes[0].visual_prompt.as_str()
        ),
        ("a", "a")
    );
    assert_eq!(
        (
            board.scenes[1].narration.as_str(),
            board.scenes[1].visual_prompt.as_str()
        ),
        ("b", "b")
    );
    assert_eq!(
        board.title,
        "A walk through a foggy forest. Birds sing, a stream runs."
    );

    // Exact durations are kept; the user's title wins.
    let mut spec = spec.clone();
    spec.title = Some(crate::validation::Title::parse("Mine").unwrap());
    let board = normalize_storyboard(
        Storyboard {
            title: "Theirs".into(),
            scenes: vec![scene("a", "b", 5), scene("c", "d", 2)],
        },
        &spec,
    )
    .unwrap();
    assert_eq!(board.title, "Mine");
    assert_eq!(
        board
            .scenes
            .iter()
            .map(|s| s.duration_seconds)
            .collect::<Vec<_>>(),
        [5, 2]
    );

    for (weights, total, expected) in [
        (vec![1, 1, 1], 10, vec![4, 3, 3]),
        (vec![10, 30], 8, vec![2, 6]),
        (vec![0, 0], 5, vec![3, 2]),
        (vec![100], 5, vec![5]),
        (vec![100, 1, 1], 3, vec![1, 1, 1]),
        (vec![50, 50, 1, 1], 6, vec![2, 2, 1, 1]),
        (vec![1, 1, 1, 1, 1], 5, vec![1, 1, 1, 1, 1]),
    ] {
        let got = fit_durations(&weights, total);
        assert_eq!(got, expected, "{weights:?} into {total}");
    }
}

#[test]
fn the_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let fake = Arc::new(Fake::default());
    let pipeline = Pipeline::with_provider(fake);
    let spec = spec(10, "neutral");
    let future = pipeline.run("x", &spec, &NoProgress);
    assert_send(&future);
}

#[test]
fn overlong_texts_are_cut_at_a_word_within_the_limits() {
    let word = "narration ";
    let long = word.repeat(1000); // 10,000 bytes
    let board = Storyboard {
        title: "T".into(),
        scenes: vec![Scene {
            index: 1,
            narration: long.clone(),
            visual_prompt: format!("é{}", "x".repeat(5000)), // no space at all
            duration_seconds: 10,
        }],
    };
    let out = normalize_storyboard(board, &spec(10, "neutral")).unwrap();
    let scene = &out.scenes[0];
    assert!(scene.narration.len() <= crate::media::MAX_NARRATION_BYTES);
    assert!(long.starts_with(&scene.narration));
    assert!(scene.narration.ends_with("narration"), "cut at a word");
    assert!(scene.visual_prompt.len() <= crate::media::MAX_VISUAL_PROMPT_BYTES);
    assert!(scene.visual_prompt.starts_with('é'));
}
