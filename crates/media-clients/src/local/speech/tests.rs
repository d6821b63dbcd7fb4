//! The rules of the speech module, and the whole flite path against fake
//! flite programs (shell scripts), so they run where flite is not installed.

use super::*;

fn samples(wav: &[u8]) -> Vec<i16> {
    let (rate, pcm) = decode_wav(wav).unwrap();
    assert_eq!(rate, SAMPLE_RATE);
    pcm
}

fn english() -> Language {
    Language::parse("en-GB").unwrap()
}

#[test]
fn speech_choices_parse() {
    assert_eq!("auto".parse(), Ok(Speech::Auto));
    assert_eq!(" tones ".parse(), Ok(Speech::Tones));
    assert_eq!("flite".parse(), Ok(Speech::Flite("flite".into())));
    assert_eq!(
        "/usr/bin/flite".parse(),
        Ok(Speech::Flite("/usr/bin/flite".into()))
    );
    assert!("espeak".parse::<Speech>().is_err());
    assert_eq!(Speech::default(), Speech::Auto);
    assert_eq!(Speech::Tones.resolve(), None);
    assert_eq!(
        (
            SpeechEngine::Flite.as_str(),
            SpeechEngine::Tones.to_string()
        ),
        ("flite", "tones".to_owned())
    );
}

#[test]
fn without_flite_the_tones_are_unchanged() {
    let missing = Speech::Flite("/nonexistent/ytvc/flite".into());
    assert_eq!(missing.resolve(), None);
    assert!(Flite::probe(Path::new("/nonexistent/ytvc/flite")).is_err());
    for voice in [Voice::Neutral, Voice::NarratorFemale, Voice::None] {
        let (wav, engine) = narration(None, "one two three", voice, &english(), 3);
        assert_eq!(engine, SpeechEngine::Tones);
        assert_eq!(wav, audio::narration("one two three", voice, 3));
    }
}

#[test]
fn speakable_text_is_plain_bounded_words() {
    assert_eq!(
        speakable("  Hello,\n\tworld!\u{0}\u{1b}[31m red ", 10),
        "Hello, world! [31m red"
    );
    // A narration starting with a dash is text like any other (it goes to
    // flite in a file, never as an argument).
    assert_eq!(
        speakable("-voice awb -o /tmp/x", 10),
        "-voice awb -o /tmp/x"
    );
    // Long tokens are cut, and only what fits in the scene is kept.
    let long = "x".repeat(5_000);
    assert_eq!(speakable(&long, 10), "x".repeat(MAX_WORD_CHARS));
    let many = "word ".repeat(2_000);
    let kept = speakable(&many, 2);
    assert!(kept.chars().count() <= 2 * MAX_CHARS_PER_SECOND);
    assert!(kept.chars().count() > 2 * MAX_CHARS_PER_SECOND - 5);
    assert_eq!(speakable(&many, 0), "");
    assert_eq!(speakable(" \t\n ", 5), "");
    // Characters, not bytes.
    assert_eq!(
        speakable(&"é".repeat(40), 5).chars().count(),
        MAX_WORD_CHARS
    );
}

#[test]
fn speech_is_fitted_to_the_scene_exactly() {
    // Shorter: from the start, then silence.
    let speech = vec![1000i16; 500];
    let out = fit(&speech, 1600);
    assert_eq!(out.len(), 1600);
    assert_eq!(&out[..500], &speech[..]);
    assert!(out[500..].iter().all(|&s| s == 0));
    // Longer: cut at the end of the scene, faded to silence.
    let out = fit(&vec![10_000i16; 5000], 3200);
    assert_eq!(out.len(), 3200);
    assert_eq!(out[3200 - FADE_OUT - 1], 10_000);
    assert!(out[3200 - FADE_OUT] < 10_000);
    assert_eq!(out[3199], 0);
    assert!(out[3200 - FADE_OUT..].windows(2).all(|w| w[0] >= w[1]));
    // Nothing to say, or no time.
    assert_eq!(fit(&[], 10), vec![0; 10]);
    assert!(fit(&[5; 10], 0).is_empty());
    // A scene shorter than the fade is faded all along.
    assert_eq!(fit(&[7; 10], 5), vec![5, 4, 2, 1, 0]);
}

#[test]
fn trimming_keeps_a_short_edge_of_silence() {
    let mut pcm = vec![0i16; 10_000];
    pcm[4000..5000].fill(2000);
    let trimmed = trim(&pcm);
    assert_eq!(trimmed.len(), 1000 + 2 * EDGE);
    assert_eq!(trimmed[EDGE], 2000);
    assert!(trim(&[0, 100, -256, 3]).is_empty());
    // At the edges of the buffer there is less to keep.
    assert_eq!(trim(&[1000, 0, 0]).len(), 3);
}

#[test]
fn faster_speech_is_proportional_and_bounded() {
    assert_eq!(faster(1.0, 1100, 1000), 0.9);
    assert_eq!(faster(1.0, 1001, 1000), 0.99);
    assert_eq!(faster(0.9, 1200, 1000), 0.75);
    assert_eq!(faster(1.0, 3000, 1000), MIN_STRETCH);
    assert_eq!(faster(1.0, 0, 1000), 1.0);
}

#[test]
fn wav_decoding_and_resampling() {
    let pcm: Vec<i16> = (0..800).map(|i| (i * 10) as i16).collect();
    assert_eq!(samples(&audio::wav(&pcm)), pcm);
    // 8 kHz to 16 kHz: twice the samples, interpolated.
    let up = resample(&pcm, 8000, 16_000);
    assert_eq!(up.len(), 1600);
    assert_eq!((up[0], up[1], up[2]), (0, 5, 10));
    assert_eq!(resample(&pcm, 16_000, 16_000), pcm);
    // Stereo is averaged; other formats are refused.
    let mut stereo = audio::wav(&[100, 300, -100, -300]);
    stereo[22] = 2; // channels
    assert_eq!(decode_wav(&stereo).unwrap().1, vec![200, -200]);
    let mut float = audio::wav(&[0; 4]);
    float[20] = 3;
    assert!(decode_wav(&float).is_err());
    assert!(decode_wav(b"RIFF....WAVE").is_err());
    assert!(decode_wav(b"not a wav").is_err());
}

#[test]
fn english_only() {
    assert!(speaks(&english()));
    assert!(speaks(&Language::parse("en").unwrap()));
    assert!(!speaks(&Language::parse("fr").unwrap()));
}

// ---- The flite path against fake programs ----------------------------------

#[cfg(unix)]
mod fake {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A fake flite in `dir`: `-lv` lists `voices`; a synthesis run appends
    /// its arguments (one per line, then `--`) and a copy of the `-f` text to
    /// `calls.txt`, then copies `speech.wav` to the `-o` file. `body` runs
    /// first (e.g. `exit 1`).
    fn program(dir: &Path, voices: &str, body: &str, speech: &[i16]) -> PathBuf {
        std::fs::write(dir.join("speech.wav"), audio::wav(speech)).unwrap();
        let log = dir.join("calls.txt");
        let wav = dir.join("speech.wav");
        let script = format!(
            "#!/bin/sh\n\
             if [ \"$1\" = -lv ]; then echo 'Voices available: {voices}'; exit 0; fi\n\
             {body}\n\
             for a in \"$@\"; do printf '%s\\n' \"$a\" >> '{log}'; done\n\
             while [ $# -gt 0 ]; do\n\
             case \"$1\" in\n\
             -f) shift; printf 'text:' >> '{log}'; cat \"$1\" >> '{log}'; echo >> '{log}' ;;\n\
             -o) shift; cp '{wav}' \"$1\" ;;\n\
             esac; shift; done\n\
             echo -- >> '{log}'\n",
            log = log.display(),
            wav = wav.display(),
        );
        let path = dir.join("flite");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn calls(dir: &Path) -> Vec<Vec<String>> {
        std::fs::read_to_string(dir.join("calls.txt"))
            .unwrap_or_default()
            .split("--\n")
            .filter(|c| !c.is_empty())
            .map(|c| c.lines().map(str::to_owned).collect())
            .collect()
    }

    /// 0.1 s of silence, `seconds` of a loud square wave, 0.3 s of silence.
    fn speech(seconds: f64) -> Vec<i16> {
        let loud = (seconds * f64::from(SAMPLE_RATE)) as usize;
        let mut pcm = vec![0i16; 1600];
        pcm.extend((0..loud).map(|i| if i % 40 < 20 { 8000 } else { -8000 }));
        pcm.extend(vec![0i16; 4800]);
        pcm
    }

    #[test]
    fn voices_are_probed_and_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let all = Flite::probe(&program(
            dir.path(),
            "kal awb_time kal16 awb rms slt",
            "",
            &[],
        ))
        .unwrap();
        let voices = [
            Voice::NarratorMale,
            Voice::NarratorFemale,
            Voice::Neutral,
            Voice::None,
        ]
        .map(|v| all.voice(v));
        assert_eq!(voices, [Some("rms"), Some("slt"), Some("awb"), None]);
        // Missing voices are stood in for; none known is no flite.
        let dir = tempfile::tempdir().unwrap();
        let few = Flite::probe(&program(dir.path(), "kal", "", &[])).unwrap();
        assert_eq!(few.voice(Voice::NarratorFemale), Some("kal"));
        let dir = tempfile::tempdir().unwrap();
        assert!(Flite::probe(&program(dir.path(), "someone_else", "", &[])).is_err());
    }

    #[test]
    fn text_goes_in_a_file_and_speech_is_trimmed_and_padded() {
        let dir = tempfile::tempdir().unwrap();
        let flite = Flite::probe(&program(dir.path(), "rms slt awb", "", &speech(1.0))).unwrap();
        let text = "-voice kal -o /tmp/ytvc-pwned.wav $(touch /tmp/ytvc-pwned) 'quote'";
        let (wav, engine) = narration(Some(&flite), text, Voice::NarratorFemale, &english(), 3);
        assert_eq!(engine, SpeechEngine::Flite);
        assert!(!Path::new("/tmp/ytvc-pwned").exists());
        let calls = calls(dir.path());
        assert_eq!(calls.len(), 1, "short speech is said once");
        let args = &calls[0];
        assert_eq!(
            &args[..4],
            ["-voice", "slt", "--setf", "duration_stretch=1.00"]
        );
        assert_eq!(args[4], "-f");
        assert!(args[5].ends_with("narration.txt"));
        assert_eq!(args[6], "-o");
        assert!(args[7].ends_with("narration.wav"));
        assert_eq!(args.len(), 9);
        assert_eq!(args[8], format!("text:{text}"));
        // The speech from the start (0.1 s kept of the fake's silence), then
        // silence up to exactly 3 s.
        let pcm = samples(&wav);
        assert_eq!(pcm.len(), 3 * SAMPLE_RATE as usize);
        assert_eq!(pcm[0], 0);
        assert_eq!(pcm[EDGE], 8000);
        assert!(pcm[EDGE + 16_000 + EDGE..].iter().all(|&s| s == 0));
        // The temporary files are gone.
        assert!(!args[5].is_empty() && !Path::new(&args[5]).exists());
    }

    #[test]
    fn long_speech_is_said_faster_then_cut() {
        let dir = tempfile::tempdir().unwrap();
        // The fake does not speed up: 5 s of speech for a 2 s scene.
        let flite = Flite::probe(&program(dir.path(), "rms", "", &speech(5.0))).unwrap();
        let wav = flite
            .narration("A sentence too long for its scene.", Voice::Neutral, 2)
            .unwrap();
        let stretches: Vec<String> = calls(dir.path()).iter().map(|c| c[3].clone()).collect();
        // Said again at the fastest pace at once (5.2 s for 2 s), and not a
        // third time: no faster pace is left.
        assert_eq!(
            stretches,
            ["duration_stretch=1.00", "duration_stretch=0.70"]
        );
        let pcm = samples(&wav);
        assert_eq!(pcm.len(), 2 * SAMPLE_RATE as usize);
        assert_eq!(pcm[pcm.len() - 1], 0, "faded out at the cut");
        assert!(
            pcm[pcm.len() - FADE_OUT - 100..pcm.len() - FADE_OUT]
                .iter()
                .any(|&s| s != 0)
        );
    }

    #[test]
    fn a_failing_or_hanging_flite_falls_back_to_tones() {
        // Fails, hangs, "succeeds" without writing a WAV.
        for body in ["echo broken >&2; exit 3", "sleep 5", "exit 0"] {
            let dir = tempfile::tempdir().unwrap();
            let flite = Flite::probe(&program(dir.path(), "rms", body, &speech(1.0)))
                .unwrap()
                .with_timeout(Duration::from_millis(300));
            let started = Instant::now();
            let error = flite
                .narration("Hello there.", Voice::NarratorMale, 2)
                .unwrap_err();
            assert!(started.elapsed() < Duration::from_secs(3), "{body}");
            if body.contains("broken") {
                assert!(error.contains("broken"), "{error}");
            }
            let (wav, engine) = narration(
                Some(&flite),
                "Hello there.",
                Voice::NarratorMale,
                &english(),
                2,
            );
            assert_eq!(engine, SpeechEngine::Tones, "{body}");
            assert_eq!(
                wav,
                audio::narration("Hello there.", Voice::NarratorMale, 2)
            );
        }
    }

    #[test]
    fn only_english_narrated_scenes_are_spoken() {
        let dir = tempfile::tempdir().unwrap();
        let flite = Flite::probe(&program(dir.path(), "rms", "", &speech(0.5))).unwrap();
        let french = Language::parse("fr").unwrap();
        let (wav, engine) = narration(Some(&flite), "Bonjour.", Voice::Neutral, &french, 2);
        assert_eq!(engine, SpeechEngine::Tones);
        assert_eq!(wav, audio::narration("Bonjour.", Voice::Neutral, 2));
        let (_, engine) = narration(Some(&flite), "Hi.", Voice::None, &english(), 2);
        assert_eq!(engine, SpeechEngine::Tones);
        // Nothing to say: silence, without running flite.
        let wav = flite.narration(" \n ", Voice::Neutral, 2).unwrap();
        assert!(samples(&wav).iter().all(|&s| s == 0));
        assert!(calls(dir.path()).is_empty());
    }
}
