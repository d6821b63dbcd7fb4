//! Offline speech for the local narrator: Debian's `flite` (CMU Flite, a
//! BSD-style licence), run as a separate program, never linked, so the
//! binary's licence is untouched. Where it is missing or fails, the
//! narration is [`audio::narration`]'s tones, as before.
//!
//! - **Detection.** [`Speech::Auto`] (the default) runs `flite -lv` once,
//!   the first time the provider needs it; [`Speech::Flite`] names the
//!   program; [`Speech::Tones`] never speaks. A program that does not list
//!   a known voice counts as absent.
//! - **Voices.** `narrator_male` is `rms`, `narrator_female` `slt` (the one
//!   female voice), `neutral` `awb` ([`Flite::voice`]); the next known voice
//!   the program lists stands in for a missing one.
//! - **Safety.** The narration goes to flite in a file of a private
//!   temporary directory (`-f`), never on the command line and never
//!   through a shell, so no text becomes an option. Control characters
//!   become spaces, words are cut to [`MAX_WORD_CHARS`] and the text to what
//!   could be said in the scene ([`speakable`]), so no narration keeps
//!   flite busy; each run is killed after [`TIMEOUT`].
//! - **Fitting.** Flite's output (16 kHz for these voices; any rate is
//!   resampled) is trimmed to [`EDGE`] of silence at each end and laid from
//!   the scene's start, silence after it, exactly `duration_seconds` long
//!   ([`fit`]). Speech longer than the scene is said again faster (flite's
//!   `duration_stretch`, proportionally, at most twice, never below
//!   [`MIN_STRETCH`], i.e. at most about 1.4 times as fast); what is still
//!   too long is cut at the scene's end with a [`FADE_OUT`] fade.
//!
//! Flite is deterministic, so the same text, voice and length give the same
//! bytes on one machine.

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use ytvc_domain::{Language, Voice};

use super::audio::{self, SAMPLE_RATE};

/// How long one flite run may take before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// The shortest `duration_stretch` used to fit a scene (1 is flite's
/// normal pace; 0.7 is about 1.4 times as fast and still intelligible).
pub const MIN_STRETCH: f64 = 0.7;
/// How many times speech that is too long is said again faster.
pub const MAX_RESPEAK: usize = 2;
/// The silence kept before and after the speech, in samples (0.1 s).
pub const EDGE: usize = SAMPLE_RATE as usize / 10;
/// The fade over the last samples of speech cut at the scene's end (20 ms).
pub const FADE_OUT: usize = SAMPLE_RATE as usize / 50;
/// Samples at or below this magnitude count as silence when trimming.
const QUIET: u16 = 256;
/// Words longer than this are cut (flite spells long tokens letter by
/// letter, slowly).
pub const MAX_WORD_CHARS: usize = 32;
/// Characters of text given to flite per second of scene: more than it can
/// say at [`MIN_STRETCH`], so only text that would be cut anyway is dropped.
pub const MAX_CHARS_PER_SECOND: usize = 30;
/// The voices ytvc knows, in order of preference for each [`Voice`].
const MALE: [&str; 4] = ["rms", "awb", "kal16", "kal"];
const FEMALE: [&str; 5] = ["slt", "rms", "awb", "kal16", "kal"];
const NEUTRAL: [&str; 4] = ["awb", "rms", "kal16", "kal"];

/// Which narrator the local provider uses
/// ([`LocalProvider::with_speech`](super::LocalProvider::with_speech)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Speech {
    /// `flite` from `PATH` when it answers, else tones.
    #[default]
    Auto,
    /// This flite program (a path, or a name looked up on `PATH`); tones
    /// when it does not answer.
    Flite(PathBuf),
    /// Tones only.
    Tones,
}

impl FromStr for Speech {
    type Err = String;

    /// `auto`, `tones`, `flite`, or the path of a flite program (containing
    /// a `/`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "auto" => Ok(Speech::Auto),
            "tones" => Ok(Speech::Tones),
            "flite" => Ok(Speech::Flite("flite".into())),
            path if path.contains('/') => Ok(Speech::Flite(path.into())),
            other => Err(format!(
                "unknown speech engine {other:?}: expected auto, flite, tones or a path to flite"
            )),
        }
    }
}

impl Speech {
    /// The flite program to use, if there is one that answers.
    #[must_use]
    pub fn resolve(&self) -> Option<Flite> {
        match self {
            Speech::Auto => Flite::probe(Path::new("flite")).ok(),
            Speech::Flite(program) => Flite::probe(program).ok(),
            Speech::Tones => None,
        }
    }
}

/// The engine that made a narration: written into the manifest as the
/// scene's `narrator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpeechEngine {
    /// Speech from flite.
    Flite,
    /// Tones ([`audio::narration`]): no engine, or it failed.
    Tones,
}

impl SpeechEngine {
    /// `"flite"` or `"tones"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            SpeechEngine::Flite => "flite",
            SpeechEngine::Tones => "tones",
        }
    }
}

impl fmt::Display for SpeechEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether flite can say text of `language` (it speaks English only).
#[must_use]
pub fn speaks(language: &Language) -> bool {
    language.primary() == "en"
}

/// The narration WAV and the engine that made it: flite's speech when there
/// is a flite, the voice speaks and the language is English, and flite
/// succeeds; else the tones.
#[must_use]
pub fn narration(
    flite: Option<&Flite>,
    text: &str,
    voice: Voice,
    language: &Language,
    duration_seconds: u32,
) -> (Vec<u8>, SpeechEngine) {
    if let Some(flite) = flite.filter(|_| voice.is_narrated() && speaks(language))
        && let Ok(wav) = flite.narration(text, voice, duration_seconds)
    {
        return (wav, SpeechEngine::Flite);
    }
    (
        audio::narration(text, voice, duration_seconds),
        SpeechEngine::Tones,
    )
}

/// A flite program that answered, with the voice for each [`Voice`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flite {
    program: PathBuf,
    male: &'static str,
    female: &'static str,
    neutral: &'static str,
    timeout: Duration,
}

impl Flite {
    /// Asks `program` for its voices (`-lv`).
    ///
    /// # Errors
    ///
    /// Why it cannot be used: it does not run, fails, or lists no voice
    /// that ytvc knows.
    pub fn probe(program: &Path) -> Result<Self, String> {
        let dir = private_dir()?;
        let listing = run(program, &[OsStr::new("-lv")], dir.path(), TIMEOUT)?;
        let listing = String::from_utf8_lossy(&listing);
        let voices: Vec<&str> = listing
            .split_once("Voices available:")
            .map(|(_, list)| list.split_whitespace().collect())
            .unwrap_or_default();
        let pick = |preferred: &[&'static str]| {
            preferred
                .iter()
                .copied()
                .find(|v| voices.contains(v))
                .ok_or_else(|| format!("{} lists no known voice", program.display()))
        };
        Ok(Self {
            program: program.to_owned(),
            male: pick(&MALE)?,
            female: pick(&FEMALE)?,
            neutral: pick(&NEUTRAL)?,
            timeout: TIMEOUT,
        })
    }

    /// The program.
    #[must_use]
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The flite voice of `voice` (`None` for [`Voice::None`]).
    #[must_use]
    pub fn voice(&self, voice: Voice) -> Option<&'static str> {
        match voice {
            Voice::NarratorMale => Some(self.male),
            Voice::NarratorFemale => Some(self.female),
            Voice::Neutral => Some(self.neutral),
            Voice::None => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `text` spoken in `voice`, fitted to exactly `duration_seconds`
    /// (module docs), as a 16 kHz mono 16-bit WAV. Silence for
    /// [`Voice::None`] or text with nothing to say.
    ///
    /// # Errors
    ///
    /// Why flite failed (it did not run, exited with an error, timed out or
    /// wrote no readable WAV).
    pub fn narration(
        &self,
        text: &str,
        voice: Voice,
        duration_seconds: u32,
    ) -> Result<Vec<u8>, String> {
        let samples = duration_seconds as usize * SAMPLE_RATE as usize;
        let text = speakable(text, duration_seconds);
        let Some(name) = self.voice(voice).filter(|_| !text.is_empty()) else {
            return Ok(audio::wav(&vec![0; samples]));
        };
        let mut stretch = 1.0;
        let mut speech = self.speak(&text, name, stretch)?;
        for _ in 0..MAX_RESPEAK {
            if speech.len() <= samples || stretch <= MIN_STRETCH {
                break;
            }
            stretch = faster(stretch, speech.len(), samples);
            speech = self.speak(&text, name, stretch)?;
        }
        Ok(audio::wav(&fit(&speech, samples)))
    }

    /// One flite run: the speech, trimmed ([`trim`]), at [`SAMPLE_RATE`].
    fn speak(&self, text: &str, voice: &str, stretch: f64) -> Result<Vec<i16>, String> {
        let dir = private_dir()?;
        let input = dir.path().join("narration.txt");
        let output = dir.path().join("narration.wav");
        std::fs::write(&input, text).map_err(|e| format!("narration text: {e}"))?;
        let stretch = format!("duration_stretch={stretch:.2}");
        let args = [
            OsStr::new("-voice"),
            OsStr::new(voice),
            OsStr::new("--setf"),
            OsStr::new(&stretch),
            OsStr::new("-f"),
            input.as_os_str(),
            OsStr::new("-o"),
            output.as_os_str(),
        ];
        run(&self.program, &args, dir.path(), self.timeout)?;
        let bytes = std::fs::read(&output).map_err(|e| format!("flite wrote no WAV: {e}"))?;
        let (rate, pcm) = decode_wav(&bytes)?;
        Ok(trim(&resample(&pcm, rate, SAMPLE_RATE)).to_vec())
    }
}

/// A private temporary directory (removed on drop).
fn private_dir() -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix("ytvc-flite-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))
}

/// Runs `program` with `args` (no shell, no standard input), its output and
/// errors going to files in `dir`; kills it after `timeout`. Its standard
/// output on success.
fn run(program: &Path, args: &[&OsStr], dir: &Path, timeout: Duration) -> Result<Vec<u8>, String> {
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let file = |path: &Path| File::create(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut attempt = 0;
    let mut child = loop {
        let spawned = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file(&out_path)?)
            .stderr(file(&err_path)?)
            .spawn();
        match spawned {
            // A program just written (tests) may still be open for writing
            // in a child another thread forked: try again shortly.
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempt < 5 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("cannot run {}: {e}", program.display())),
            Ok(child) => break child,
        }
    };
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} timed out after {:?}",
                    program.display(),
                    timeout
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for {}: {e}", program.display())),
        }
    };
    if !status.success() {
        let err = std::fs::read(&err_path).unwrap_or_default();
        let first = String::from_utf8_lossy(&err);
        let first: String = first
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        return Err(format!("{} {status}: {first}", program.display()));
    }
    std::fs::read(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))
}

/// The text given to flite: control characters as spaces, whitespace runs
/// as one space, each word cut to [`MAX_WORD_CHARS`] characters, and only
/// the words that fit in [`MAX_CHARS_PER_SECOND`] per second of scene.
#[must_use]
pub fn speakable(text: &str, duration_seconds: u32) -> String {
    let budget = duration_seconds as usize * MAX_CHARS_PER_SECOND;
    let mut out = String::new();
    let mut used = 0;
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        let word: String = word.chars().take(MAX_WORD_CHARS).collect();
        let len = word.chars().count() + usize::from(used > 0);
        if used + len > budget {
            break;
        }
        if used > 0 {
            out.push(' ');
        }
        out.push_str(&word);
        used += len;
    }
    out
}

/// The next `duration_stretch` for speech of `len` samples that should
/// last `target`: proportionally shorter, rounded down to 0.01, never
/// slower than `stretch` nor faster than [`MIN_STRETCH`].
#[must_use]
pub fn faster(stretch: f64, len: usize, target: usize) -> f64 {
    let want = stretch * target as f64 / len.max(1) as f64;
    ((want * 100.0).floor() / 100.0).clamp(MIN_STRETCH, stretch.max(MIN_STRETCH))
}

/// `pcm` without its silence beyond [`EDGE`] at each end (empty when it is
/// all silence).
#[must_use]
pub fn trim(pcm: &[i16]) -> &[i16] {
    let loud = |s: &i16| s.unsigned_abs() > QUIET;
    let Some(first) = pcm.iter().position(loud) else {
        return &[];
    };
    let last = pcm.iter().rposition(loud).unwrap_or(first);
    &pcm[first.saturating_sub(EDGE)..(last + 1 + EDGE).min(pcm.len())]
}

/// `speech` laid on exactly `samples` samples from the start, silence
/// after it; when longer, cut there, its last [`FADE_OUT`] samples faded to
/// silence so the cut does not click.
#[must_use]
pub fn fit(speech: &[i16], samples: usize) -> Vec<i16> {
    let mut out = vec![0i16; samples];
    let n = speech.len().min(samples);
    out[..n].copy_from_slice(&speech[..n]);
    if speech.len() > samples {
        let fade = FADE_OUT.min(samples);
        for (k, sample) in out[samples - fade..].iter_mut().enumerate() {
            // From (fade-1)/fade of the level down to 0 at the last sample.
            let left = (fade - 1 - k) as i32;
            *sample = (i32::from(*sample) * left / fade as i32) as i16;
        }
    }
    out
}

/// The rate and mono samples of a RIFF/WAVE file of 16-bit PCM (channels
/// averaged).
///
/// # Errors
///
/// When it is not such a file.
pub fn decode_wav(bytes: &[u8]) -> Result<(u32, Vec<i16>), String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a RIFF/WAVE file".into());
    }
    let le16 = |b: &[u8]| u16::from_le_bytes([b[0], b[1]]);
    let le32 = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let mut pos = 12;
    let mut format = None;
    while pos + 8 <= bytes.len() {
        let size = le32(&bytes[pos + 4..]) as usize;
        let start = pos + 8;
        let body = &bytes[start..start.saturating_add(size).min(bytes.len())];
        match &bytes[pos..pos + 4] {
            b"fmt " if body.len() >= 16 => {
                let (tag, channels, rate, bits) = (
                    le16(body),
                    le16(&body[2..]),
                    le32(&body[4..]),
                    le16(&body[14..]),
                );
                if tag != 1 || bits != 16 || channels == 0 || rate == 0 {
                    return Err(format!(
                        "WAV is {bits}-bit format {tag:#x}, {channels} channels at {rate} Hz"
                    ));
                }
                format = Some((rate, usize::from(channels)));
            }
            b"data" => {
                let (rate, channels) = format.ok_or("WAV data before its fmt chunk")?;
                let samples = body
                    .chunks_exact(2 * channels)
                    .map(|frame| {
                        let sum: i32 = frame
                            .chunks_exact(2)
                            .map(|s| i32::from(i16::from_le_bytes([s[0], s[1]])))
                            .sum();
                        (sum / channels as i32) as i16
                    })
                    .collect();
                return Ok((rate, samples));
            }
            _ => {}
        }
        pos = start.saturating_add(size).saturating_add(size & 1);
    }
    Err("WAV has no data chunk".into())
}

/// Linear-interpolation resampling from `from` to `to` Hz.
#[must_use]
pub fn resample(pcm: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || pcm.is_empty() {
        return pcm.to_vec();
    }
    let out_len = (pcm.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    let last = pcm.len() - 1;
    (0..out_len)
        .map(|i| {
            let pos = i as u64 * u64::from(from) * 65536 / u64::from(to);
            let idx = ((pos >> 16) as usize).min(last);
            let frac = (pos & 0xffff) as i64;
            let (a, b) = (i64::from(pcm[idx]), i64::from(pcm[(idx + 1).min(last)]));
            (a + (b - a) * frac / 65536) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests;
