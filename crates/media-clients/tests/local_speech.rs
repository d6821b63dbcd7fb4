//! The local provider's speech, heard by an outside recogniser.
//!
//! [`narration_is_intelligible`] narrates 24 storyboard-like sentences
//! (14 to 19 words, at a brisk three words per second of scene, so some are
//! said faster to fit), in the three voices in turn, writes the WAVs to a
//! temporary directory and transcribes them with PocketSphinx
//! (`tests/support/recognise.py`, the PyPI package `pocketsphinx` and the
//! en-us model it ships). The word error rate over all sentences (words
//! lower-cased, punctuation dropped, Levenshtein distance on word sequences
//! over the reference's word count) is printed and must be at most
//! [`MAX_WER`].
//!
//! Without flite (`apt-get install flite`) or pocketsphinx (`pip install
//! pocketsphinx`) it prints why and skips, unless `YTVC_REQUIRE_SPEECH=1`
//! (CI), when it fails. `YTVC_PYTHON` names the Python (default `python3`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use ytvc_domain::media::{Narrator, Scene};
use ytvc_domain::pipeline::{NoProgress, Pipeline};
use ytvc_domain::{Language, RawVideoRequest, VideoSpec, Voice};
use ytvc_media_clients::LocalProvider;
use ytvc_media_clients::local::{Speech, SpeechEngine};

/// The highest word error rate accepted.
const MAX_WER: f64 = 0.35;

const SENTENCES: [&str; 24] = [
    "The red fox crosses the frozen lake at dawn, leaving a line of small tracks in the fresh snow.",
    "Bread begins with flour, water, salt and yeast, mixed together into a soft and sticky dough.",
    "After an hour of rest, the dough has doubled in size and is ready to be shaped.",
    "The old town of Porto climbs the steep hills above the river, its houses painted in bright colours.",
    "Coral reefs cover a tiny part of the ocean floor, yet they shelter a quarter of all sea life.",
    "Every morning the fishing boats return to the harbour, followed by a noisy cloud of hungry gulls.",
    "The first computers filled entire rooms and used more power than a small village.",
    "Honey bees visit thousands of flowers each day, carrying pollen from one plant to the next.",
    "In the desert, the temperature can fall below freezing once the sun goes down.",
    "The train leaves the city behind and winds slowly through green valleys and quiet farms.",
    "A volcano forms when melted rock from deep inside the earth pushes its way up to the surface.",
    "The library opened its doors to the public more than two hundred years ago.",
    "Tea was first grown in the mountains of southern China, where the air is cool and wet.",
    "Our planet turns once every day, and that simple motion gives us morning, noon and night.",
    "The market fills with people selling fresh fruit, warm bread, cheese and bunches of flowers.",
    "Whales sing long and complex songs that can travel across hundreds of miles of open water.",
    "The bridge was built of stone and iron, and it still carries thousands of cars every day.",
    "Autumn arrives in the forest, and the leaves turn yellow, orange and deep red before they fall.",
    "A good cup of coffee depends on fresh beans, clean water and the right grind.",
    "The astronauts spent six months on the space station, running experiments and repairing equipment.",
    "Elephants remember the paths to water, and the oldest female leads the herd through the dry season.",
    "The painter worked by candle light, mixing colours from crushed stones and plant oils.",
    "Rain falls on the mountains, gathers in small streams and finally reaches the sea as a wide river.",
    "Children learn to read by listening to stories long before they can recognise the letters.",
];

const VOICES: [Voice; 3] = [Voice::NarratorMale, Voice::NarratorFemale, Voice::Neutral];

fn required() -> bool {
    std::env::var("YTVC_REQUIRE_SPEECH").is_ok_and(|v| v == "1")
}

/// Skips (prints why) or, when speech is required, fails.
fn missing(what: &str) {
    assert!(
        !required(),
        "YTVC_REQUIRE_SPEECH=1 but {what}: the speech test cannot run"
    );
    println!(
        "skipping the speech intelligibility test: {what} (YTVC_REQUIRE_SPEECH=1 makes this fail)"
    );
}

fn python() -> String {
    std::env::var("YTVC_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/recognise.py")
}

/// Lower-case words: letters, digits and apostrophes; anything else
/// separates words.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Word-level Levenshtein distance (substitutions, insertions, deletions).
fn distance(reference: &[String], heard: &[String]) -> usize {
    let mut row: Vec<usize> = (0..=heard.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, h) in heard.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(r != h));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[heard.len()]
}

#[test]
fn word_error_rate_arithmetic() {
    let w = |s: &str| words(s);
    assert_eq!(
        w("The fox's tracks, in fresh-snow!"),
        ["the", "fox's", "tracks", "in", "fresh", "snow"]
    );
    assert_eq!(distance(&w("a b c"), &w("a b c")), 0);
    assert_eq!(distance(&w("a b c"), &w("a x c")), 1);
    assert_eq!(distance(&w("a b c"), &w("a c")), 1);
    assert_eq!(distance(&w("a b c"), &w("a b c d e")), 2);
    assert_eq!(distance(&w("a b c"), &[]), 3);
}

/// Runs the recogniser on `files` (none: only whether it can run); `None`
/// (after [`missing`]) when Python or pocketsphinx is not installed.
fn recognise(files: &[PathBuf]) -> Option<Vec<String>> {
    let output = match Command::new(python()).arg(script()).args(files).output() {
        Ok(output) => output,
        Err(e) => {
            missing(&format!("{} does not run ({e})", python()));
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(2) {
        missing(&format!("{} (pip install pocketsphinx)", stderr.trim()));
        return None;
    }
    assert!(output.status.success(), "recogniser failed: {stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len());
    Some(
        lines
            .iter()
            .zip(files)
            .map(|(line, file)| {
                assert_eq!(line["file"], file.to_str().unwrap());
                line["text"].as_str().unwrap().to_owned()
            })
            .collect(),
    )
}

#[tokio::test]
async fn narration_is_intelligible() {
    let dir = tempfile::tempdir().unwrap();
    let provider = LocalProvider::new(dir.path().join("artifacts"));
    if provider.narrator() != SpeechEngine::Flite {
        missing("flite is not installed (apt-get install flite)");
        return;
    }
    if recognise(&[]).is_none() {
        return;
    }
    let english = Language::parse("en").unwrap();
    let mut files = Vec::new();
    for (i, sentence) in SENTENCES.iter().enumerate() {
        let count = words(sentence).len();
        assert!((10..=20).contains(&count), "{sentence}");
        let scene = Scene {
            index: i as u32 + 1,
            narration: (*sentence).to_owned(),
            visual_prompt: "a picture".into(),
            duration_seconds: count.div_ceil(3) as u32,
        };
        let voice = VOICES[i % VOICES.len()];
        let (blob, narrator) = provider
            .narrate_named(&scene, voice, &english)
            .await
            .unwrap();
        assert_eq!(narrator.as_deref(), Some("flite"), "{sentence}");
        // Exactly the scene's length, in the local format.
        assert_eq!(&blob.bytes[..4], b"RIFF");
        assert_eq!(
            blob.bytes.len(),
            44 + scene.duration_seconds as usize * 16_000 * 2
        );
        if i == 0 {
            let again = provider.narrate(&scene, voice, &english).await.unwrap();
            assert!(again == blob, "flite's narration is deterministic");
        }
        let file = dir.path().join(format!("sentence-{:02}.wav", i + 1));
        std::fs::write(&file, &blob.bytes).unwrap();
        files.push(file);
    }
    let heard = recognise(&files).expect("the recogniser ran a moment ago");
    let (mut errors, mut total) = ([0usize; 3], [0usize; 3]);
    println!("sentence | voice | errors/words | heard");
    for (i, (sentence, heard)) in SENTENCES.iter().zip(&heard).enumerate() {
        let (reference, hypothesis) = (words(sentence), words(heard));
        let e = distance(&reference, &hypothesis);
        let v = i % VOICES.len();
        errors[v] += e;
        total[v] += reference.len();
        println!(
            "{:>2} | {:<15} | {e:>2}/{:<2} | {heard}",
            i + 1,
            VOICES[v].as_str(),
            reference.len()
        );
    }
    for v in 0..VOICES.len() {
        println!(
            "word error rate, {}: {:.3} ({}/{})",
            VOICES[v].as_str(),
            errors[v] as f64 / total[v] as f64,
            errors[v],
            total[v]
        );
    }
    let (errors, total): (usize, usize) = (errors.iter().sum(), total.iter().sum());
    let wer = errors as f64 / total as f64;
    println!(
        "word error rate of the local provider's speech (flite, {} sentences, PocketSphinx en-us): {wer:.3} ({errors}/{total} words), limit {MAX_WER}",
        SENTENCES.len()
    );
    assert!(wer <= MAX_WER, "word error rate {wer:.3} > {MAX_WER}");
}

fn spec(voice: &str, language: &str) -> VideoSpec {
    VideoSpec::parse(RawVideoRequest {
        prompt: Some("A heron waits in the reeds. The mist lifts over the marsh.".into()),
        duration_seconds: Some(20),
        voice: Some(voice.into()),
        language: Some(language.into()),
        ..RawVideoRequest::default()
    })
    .unwrap()
}

async fn narrators(provider: LocalProvider, spec: &VideoSpec) -> Vec<Option<String>> {
    let manifest = Pipeline::with_provider(Arc::new(provider))
        .run("0190f5a2-7c1e-7000-8000-00000000beef", spec, &NoProgress)
        .await
        .unwrap()
        .completed()
        .unwrap()
        .manifest;
    manifest.scenes.into_iter().map(|s| s.narrator).collect()
}

#[tokio::test]
async fn the_manifest_names_the_narrator_of_each_scene() {
    let dir = tempfile::tempdir().unwrap();
    let local = |speech: Speech| LocalProvider::new(dir.path().into()).with_speech(speech);
    let tones = Some("tones".to_owned());
    let english = spec("narrator_female", "en");
    // Tones asked for, or a flite that is not there.
    for speech in [Speech::Tones, Speech::Flite("/nonexistent/flite".into())] {
        assert_eq!(local(speech.clone()).narrator(), SpeechEngine::Tones);
        assert_eq!(
            narrators(local(speech), &english).await,
            [tones.clone(), tones.clone()]
        );
    }
    // The default: whatever this machine has, for every English scene.
    let auto = local(Speech::Auto);
    let engine = Some(auto.narrator().as_str().to_owned());
    assert_eq!(
        narrators(auto, &english).await,
        [engine.clone(), engine.clone()]
    );
    // Flite speaks English only; no voice, no narration.
    assert_eq!(
        narrators(local(Speech::Auto), &spec("neutral", "fr")).await,
        [tones.clone(), tones]
    );
    assert_eq!(
        narrators(local(Speech::Auto), &spec("none", "en")).await,
        [None, None]
    );
}
