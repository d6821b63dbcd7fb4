//! Deterministic WAV narration: 16 kHz mono 16-bit PCM, one short soft
//! tone per narration word (pitch from the word's hash around the voice's
//! base pitch, faded in and out so it does not click), then silence,
//! exactly `duration_seconds` long. It stands in for speech where flite is
//! missing or fails, or the language is not English ([`super::speech`]; the
//! words are the picture's caption). Integer arithmetic only, so the bytes
//! are the same on every machine.

use ytvc_domain::Voice;

use super::fnv1a;

/// Samples per second.
pub const SAMPLE_RATE: u32 = 16_000;
const TONE_MS: u32 = 220;
const GAP_MS: u32 = 60;
const AMPLITUDE: i64 = 6_000;
/// Fade in / out of each tone, in samples (10 ms).
const FADE: i64 = 160;

/// The WAV file for a narration.
#[must_use]
pub fn narration(text: &str, voice: Voice, duration_seconds: u32) -> Vec<u8> {
    let samples = duration_seconds as usize * SAMPLE_RATE as usize;
    let base = match voice {
        Voice::NarratorMale => 220,
        Voice::NarratorFemale => 440,
        Voice::Neutral => 330,
        Voice::None => 0,
    };
    let mut pcm = vec![0i16; samples];
    let tone = (TONE_MS * SAMPLE_RATE / 1000) as usize;
    let gap = (GAP_MS * SAMPLE_RATE / 1000) as usize;
    let mut at = 0usize;
    if base > 0 {
        for word in text.split_whitespace() {
            if at >= samples {
                break;
            }
            let freq = base + (fnv1a(word.as_bytes()) % 8) as u32 * 30;
            let mut phase = 0u32;
            for (k, sample) in pcm.iter_mut().skip(at).take(tone).enumerate() {
                // Triangle wave: phase runs over one period of SAMPLE_RATE.
                let x = i64::from(phase);
                let half = i64::from(SAMPLE_RATE / 2);
                let wave = (4 * AMPLITUDE * (x - half).abs()) / i64::from(SAMPLE_RATE) - AMPLITUDE;
                let edge = (k as i64).min(tone as i64 - 1 - k as i64);
                *sample = (wave * edge.clamp(0, FADE) / FADE) as i16;
                phase = (phase + freq) % SAMPLE_RATE;
            }
            at += tone + gap;
        }
    }
    wav(&pcm)
}

/// A RIFF/WAVE file of 16-bit mono PCM at [`SAMPLE_RATE`].
#[must_use]
pub fn wav(pcm: &[i16]) -> Vec<u8> {
    let data_len = (pcm.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + pcm.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for sample in pcm {
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(wav: &[u8]) -> Vec<i16> {
        wav[44..]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect()
    }

    #[test]
    fn tones_are_soft_and_exactly_as_long_as_the_scene() {
        let wav = narration("one two three", Voice::Neutral, 3);
        let pcm = samples(&wav);
        assert_eq!(pcm.len(), 3 * SAMPLE_RATE as usize);
        assert!(pcm.iter().all(|s| i64::from(s.unsigned_abs()) <= AMPLITUDE));
        // Each tone starts and ends at zero (no click).
        let tone = (TONE_MS * SAMPLE_RATE / 1000) as usize;
        assert_eq!((pcm[0], pcm[tone - 1], pcm[tone]), (0, 0, 0));
        assert!(pcm[tone / 2..tone / 2 + 200].iter().any(|&s| s != 0));
        // Silence after the words; none at all without a voice.
        assert!(pcm[SAMPLE_RATE as usize..].iter().all(|&s| s == 0));
        assert!(
            samples(&narration("one", Voice::None, 1))
                .iter()
                .all(|&s| s == 0)
        );
        assert_eq!(wav, narration("one two three", Voice::Neutral, 3));
    }
}
