//! Narration: `audio/speech` with `response_format: "wav"`. The answer is
//! the WAV file itself; servers that stream it (OpenAI, Kokoro-FastAPI)
//! write `0xFFFFFFFF` as the RIFF and `data` sizes, which are set to the
//! real ones here so the stored narration is a valid file for any player.
//! Its length is the speech's own: like every narrator's, the assembler
//! pads it with silence to the scene's length or cuts it there.

use serde_json::{Value, json};
use ytvc_domain::media::{MediaBlob, MediaError, MediaFormat, Scene, Service};
use ytvc_domain::{Language, Voice};

use super::OpenAiProvider;
use crate::resilience::Failure;
use crate::wire::bad_response;

/// The `audio/speech` body. OpenAI infers the language from the text, so
/// none is sent (a parameter it does not know would be refused).
fn request_body(model: &str, text: &str, voice: &str) -> Value {
    json!({"model": model, "input": text, "voice": voice, "response_format": "wav"})
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn put_u32(bytes: &mut [u8], at: usize, value: usize) {
    let value = u32::try_from(value).unwrap_or(u32::MAX);
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Checks that `bytes` is a WAV of 16-bit integer PCM (what the assembler
/// decodes) and sets its RIFF and `data` sizes to the bytes there are when
/// they are placeholders (`0xFFFFFFFF`, or 0 with audio after it) or too
/// large; the audio is cut to whole sample frames.
pub(super) fn repair_wav(mut bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("the answer is not a WAV file".into());
    }
    let mut block_align = None;
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id: [u8; 4] = [bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]];
        let size = u32_at(&bytes, pos + 4) as usize;
        let start = pos + 8;
        match &id {
            b"fmt " => {
                if size < 16 || start + 16 > bytes.len() {
                    return Err("the WAV fmt chunk is too short".into());
                }
                let tag = u16_at(&bytes, start);
                let channels = u16_at(&bytes, start + 2);
                let bits = u16_at(&bytes, start + 14);
                // 1 = PCM; 0xFFFE = WAVE_FORMAT_EXTENSIBLE, whose sub-format
                // GUID starts with the format tag.
                let extensible_pcm = tag == 0xFFFE
                    && size >= 26
                    && start + 26 <= bytes.len()
                    && u16_at(&bytes, start + 24) == 1;
                if !(tag == 1 || extensible_pcm) || bits != 16 || channels == 0 {
                    return Err(format!(
                        "the WAV is not 16-bit PCM (format {tag:#x}, {bits} bits, {channels} channels)"
                    ));
                }
                block_align = Some(2 * usize::from(channels));
            }
            b"data" => {
                let align = block_align.ok_or("the WAV has data before its fmt chunk")?;
                let available = bytes.len() - start;
                let declared = if size == 0 || size > available {
                    available
                } else {
                    size
                };
                let len = declared - declared % align;
                if len == 0 {
                    return Err("the WAV holds no audio".into());
                }
                if len != size {
                    // A placeholder or a torn frame: the audio ends the file.
                    bytes.truncate(start + len);
                    put_u32(&mut bytes, pos + 4, len);
                }
                let riff = bytes.len() - 8;
                put_u32(&mut bytes, 4, riff);
                return Ok(bytes);
            }
            _ => {}
        }
        pos = start.saturating_add(size).saturating_add(size & 1);
    }
    Err("the WAV has no data chunk".into())
}

/// [`Narrator::narrate`](ytvc_domain::media::Narrator::narrate).
pub(super) async fn narrate(
    p: &OpenAiProvider,
    scene: &Scene,
    voice: Voice,
    _language: &Language,
) -> Result<MediaBlob, MediaError> {
    if !voice.is_narrated() {
        return Err(MediaError::GenerationFailed(
            "narration asked for with voice \"none\"".into(),
        ));
    }
    let url = p.url(Service::Tts, "audio/speech");
    let body = request_body(
        &p.config.tts.model,
        &scene.narration,
        p.config.tts_voice_for(voice),
    );
    let http = &p.clients.tts;
    p.guards
        .tts
        .run(|_| async {
            let bytes = http.post(&url, &body).await?;
            // An unusable answer is final.
            repair_wav(bytes)
                .map(|wav| MediaBlob::new(MediaFormat::Wav, wav))
                .map_err(|reason| Failure::permanent(bad_response(Service::Tts, reason)))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit WAV with `extra` chunk(s) before `data`, sizes as given.
    fn wav(channels: u16, riff: u32, data_size: u32, extra: &[u8], data: &[u8]) -> Vec<u8> {
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&riff.to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&24_000u32.to_le_bytes());
        b.extend_from_slice(&(48_000 * u32::from(channels)).to_le_bytes());
        b.extend_from_slice(&(2 * channels).to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(extra);
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_size.to_le_bytes());
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn streamed_sizes_are_repaired() {
        let data = [1u8; 100];
        let list = b"LIST\x04\0\0\0INFO";
        let fixed = repair_wav(wav(1, u32::MAX, u32::MAX, list, &data)).unwrap();
        let good = wav(1, 36 + 12 + 100, 100, list, &data);
        assert_eq!(fixed, good);
        // A valid file is left as it is.
        assert_eq!(repair_wav(good.clone()).unwrap(), good);
        // libsndfile-style zero sizes, and a torn last stereo frame.
        let fixed = repair_wav(wav(2, 0, 0, b"", &[0u8; 103])).unwrap();
        assert_eq!(u32_at(&fixed, 40), 100);
        assert_eq!((fixed.len(), u32_at(&fixed, 4) as usize), (144, 136));
    }

    #[test]
    fn unusable_wavs() {
        assert!(repair_wav(b"ID3\x04mp3 bytes".to_vec()).is_err());
        assert!(repair_wav(wav(1, 36, 0, b"", &[])).is_err(), "no audio");
        let mut float = wav(1, 40, 4, b"", &[0; 4]);
        float[20] = 3; // IEEE float
        float[34] = 32;
        assert!(repair_wav(float).unwrap_err().contains("not 16-bit PCM"));
        let mut no_data = wav(1, 40, 4, b"", &[0; 4]);
        no_data[36..40].copy_from_slice(b"junk");
        assert!(repair_wav(no_data).is_err());
    }
}
