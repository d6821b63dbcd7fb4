//! The audio track: WAV narrations decoded, resampled to one rate, laid on
//! the scene timeline (silence where there is none), and encoded to AAC-LC
//! with the bundled Fraunhofer FDK AAC encoder.

use fdk_aac::enc::{AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport};

/// The output sample rate: 48 kHz makes one AAC frame (1024 samples) an
/// exact 1920 ticks of the 90 kHz movie clock.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples per AAC-LC frame.
pub(crate) const FRAME_SAMPLES: u32 = 1024;

/// Decoded PCM: mono, 16-bit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pcm {
    pub(crate) sample_rate: u32,
    pub(crate) samples: Vec<i16>,
}

/// Parses a RIFF/WAVE file of 16-bit integer PCM (any rate, any channel
/// count; channels are averaged to mono).
pub(crate) fn decode_wav(bytes: &[u8]) -> Result<Pcm, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("narration is not a RIFF/WAVE file".into());
    }
    let mut pos = 12;
    let mut format: Option<(u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body_start = pos + 8;
        // A streamed WAV may carry a bogus (e.g. 0xFFFFFFFF) data size.
        let body_end = body_start.saturating_add(size).min(bytes.len());
        let body = &bytes[body_start..body_end];
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err("WAV fmt chunk too short".into());
                }
                let tag = u16::from_le_bytes([body[0], body[1]]);
                let channels = u16::from_le_bytes([body[2], body[3]]);
                let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                let bits = u16::from_le_bytes([body[14], body[15]]);
                // 1 = PCM; 0xFFFE = WAVE_FORMAT_EXTENSIBLE, whose sub-format
                // GUID starts with the format tag.
                let pcm = tag == 1 || (tag == 0xFFFE && body.len() >= 26 && body[24..26] == [1, 0]);
                if !pcm || bits != 16 {
                    return Err(format!(
                        "WAV is not 16-bit integer PCM (format {tag:#x}, {bits} bits)"
                    ));
                }
                if channels == 0 || !(1000..=384_000).contains(&rate) {
                    return Err(format!("WAV has {channels} channels at {rate} Hz"));
                }
                format = Some((tag, rate, channels));
            }
            b"data" => {
                let (_, rate, channels) = format.ok_or("WAV data before its fmt chunk")?;
                let channels = usize::from(channels);
                let frames = body.len() / (2 * channels);
                let mut samples = Vec::with_capacity(frames);
                for frame in body.chunks_exact(2 * channels).take(frames) {
                    let sum: i32 = frame
                        .chunks_exact(2)
                        .map(|s| i32::from(i16::from_le_bytes([s[0], s[1]])))
                        .sum();
                    samples.push((sum / channels as i32) as i16);
                }
                return Ok(Pcm {
                    sample_rate: rate,
                    samples,
                });
            }
            _ => {}
        }
        pos = body_start.saturating_add(size).saturating_add(size & 1);
    }
    Err("WAV has no data chunk".into())
}

/// Linear-interpolation resampling to `rate` (speech narration only needs
/// this; the AAC encoder's low-pass removes most imaging).
pub(crate) fn resample(pcm: &Pcm, rate: u32) -> Vec<i16> {
    if pcm.sample_rate == rate || pcm.samples.is_empty() {
        return pcm.samples.clone();
    }
    let out_len =
        (pcm.samples.len() as u64 * u64::from(rate) / u64::from(pcm.sample_rate)) as usize;
    let last = pcm.samples.len() - 1;
    (0..out_len)
        .map(|i| {
            // Position in input samples, in 1/65536 units (exact integer math).
            let pos = i as u64 * u64::from(pcm.sample_rate) * 65536 / u64::from(rate);
            let idx = ((pos >> 16) as usize).min(last);
            let frac = (pos & 0xffff) as i64;
            let a = i64::from(pcm.samples[idx]);
            let b = i64::from(pcm.samples[(idx + 1).min(last)]);
            (a + (b - a) * frac / 65536) as i16
        })
        .collect()
}

/// An encoded AAC-LC track.
#[derive(Debug, Clone)]
pub(crate) struct AacTrack {
    /// Raw AAC frames (no ADTS headers), 1024 samples each.
    pub(crate) frames: Vec<Vec<u8>>,
    /// The encoder's delay in samples: the first `delay` decoded samples
    /// are priming, skipped by the edit list.
    pub(crate) delay: u32,
    /// The target bit rate (for the `esds` box).
    pub(crate) bitrate: u32,
}

/// Encodes `samples` (mono at [`SAMPLE_RATE`]) to AAC-LC, with enough
/// frames that `delay + samples.len()` samples are covered.
pub(crate) fn encode_aac(samples: &[i16], bitrate: u32) -> Result<AacTrack, String> {
    let encoder = Encoder::new(EncoderParams {
        bit_rate: BitRate::Cbr(bitrate),
        sample_rate: SAMPLE_RATE,
        transport: Transport::Raw,
        channels: ChannelMode::Mono,
        audio_object_type: AudioObjectType::Mpeg4LowComplexity,
    })
    .map_err(|e| format!("AAC encoder: {e}"))?;
    let info = encoder.info().map_err(|e| format!("AAC encoder: {e}"))?;
    let delay = info.nDelay;
    let needed =
        (samples.len() as u64 + u64::from(delay)).div_ceil(u64::from(FRAME_SAMPLES)) as usize;
    let mut out = vec![0u8; (info.maxOutBufBytes as usize).max(8192)];
    let mut frames = Vec::with_capacity(needed);
    let silence = vec![0i16; FRAME_SAMPLES as usize];
    let mut pos = 0;
    // After the real samples, silence flushes the encoder's look-ahead.
    let mut guard = 0;
    while frames.len() < needed {
        let input = if pos < samples.len() {
            &samples[pos..]
        } else {
            guard += 1;
            if guard > 64 {
                return Err("AAC encoder does not drain".into());
            }
            &silence[..]
        };
        let result = encoder
            .encode(input, &mut out)
            .map_err(|e| format!("AAC encoder: {e}"))?;
        if pos < samples.len() {
            pos += result.input_consumed;
        }
        if result.output_size > 0 {
            frames.push(out[..result.output_size].to_vec());
        } else if result.input_consumed == 0 && pos < samples.len() {
            return Err("AAC encoder made no progress".into());
        }
    }
    frames.truncate(needed);
    Ok(AacTrack {
        frames,
        delay,
        bitrate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, channels: u16, bits: u16, tag: u16, data: &[u8]) -> Vec<u8> {
        let mut out = b"RIFF\0\0\0\0WAVE".to_vec();
        out.extend_from_slice(b"fmt \x10\0\0\0");
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * u32::from(channels) * u32::from(bits) / 8).to_le_bytes());
        out.extend_from_slice(&(channels * bits / 8).to_le_bytes());
        out.extend_from_slice(&bits.to_le_bytes());
        out.extend_from_slice(b"LIST\x03\0\0\0abc\0"); // odd chunk, padded
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn wav_stereo_is_averaged_and_odd_chunks_skipped() {
        let data: Vec<u8> = [100i16, 300, -50, -150]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let pcm = decode_wav(&wav(24_000, 2, 16, 1, &data)).unwrap();
        assert_eq!(pcm.sample_rate, 24_000);
        assert_eq!(pcm.samples, [200, -100]);
    }

    #[test]
    fn wav_rejections() {
        assert!(decode_wav(b"not a wav").is_err());
        assert!(
            decode_wav(&wav(16_000, 1, 8, 1, &[1, 2]))
                .unwrap_err()
                .contains("16-bit")
        );
        assert!(decode_wav(&wav(16_000, 1, 32, 3, &[0; 8])).is_err());
        let mut no_data = wav(16_000, 1, 16, 1, &[]);
        no_data.truncate(no_data.len() - 8);
        assert!(decode_wav(&no_data).is_err());
    }

    #[test]
    fn resampling_keeps_length_and_level() {
        let pcm = Pcm {
            sample_rate: 16_000,
            samples: vec![1000; 16_000],
        };
        let out = resample(&pcm, SAMPLE_RATE);
        assert_eq!(out.len(), 48_000);
        assert!(out.iter().all(|&s| s == 1000));
        let pcm = Pcm {
            sample_rate: 44_100,
            samples: (0..44_100).map(|i| (i % 100) as i16).collect(),
        };
        assert_eq!(resample(&pcm, SAMPLE_RATE).len(), 48_000);
    }

    #[test]
    fn aac_covers_delay_and_samples() {
        let samples: Vec<i16> = (0..48_000)
            .map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / 48_000.0).sin() * 8000.0) as i16)
            .collect();
        let track = encode_aac(&samples, 64_000).unwrap();
        let covered = track.frames.len() as u32 * FRAME_SAMPLES;
        assert!(covered >= 48_000 + track.delay && covered < 48_000 + track.delay + FRAME_SAMPLES);
        assert!(track.frames.iter().all(|f| !f.is_empty()));
    }
}
