//! Narration, a WAV per scene.
//!
//! - **Gemini API**: the TTS model's `generateContent` with
//!   `responseModalities: ["AUDIO"]` and the prebuilt voice of
//!   [`TtsVoices`] in `speechConfig.voiceConfig.prebuiltVoiceConfig`,
//!   authenticated with the API key (Cloud Text-to-Speech does not take it).
//!   The answer's `inlineData` is raw 16-bit PCM (`audio/L16;codec=pcm;
//!   rate=24000`, mono), wrapped here in a RIFF header at the answered rate,
//!   or a WAV file (`audio/wav`), used as is. The language is detected from
//!   the text by the model, so none is sent.
//! - **Vertex AI**: Cloud Text-to-Speech `text:synthesize` with `LINEAR16`,
//!   whose `audioContent` is a WAV file, in the Chirp 3: HD voice
//!   `{languageCode}-Chirp3-HD-{voice}` of [`TtsVoices`] when the language
//!   has Chirp 3: HD voices; otherwise only the `languageCode` (and
//!   `ssmlGender` `MALE` / `FEMALE` for the narrator voices, a preference
//!   the service may ignore), so the service picks the language's voice.
//!   `NEUTRAL` is never sent: Cloud TTS documents it as not supported.
//!
//! The WAV is as long as the speech; the assembler fits it to the scene.
//!
//! [`TtsVoices`]: super::TtsVoices

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use ytvc_domain::media::{MediaBlob, MediaError, MediaFormat, Scene, Service};
use ytvc_domain::{Language, Voice};

use super::http::{bad_response, str_at};
use super::llm::inline_data;
use super::{Api, GoogleProvider, TtsVoices};
use crate::resilience::Failure;

/// The sample rate of Gemini TTS PCM when its MIME type names none.
const GEMINI_PCM_RATE: u32 = 24_000;

/// The Cloud TTS locales with Chirp 3: HD voices, among the regions the
/// supported narration languages reach (Cloud TTS "Chirp 3: HD voices",
/// supported languages).
const CHIRP3_HD_LOCALES: &[&str] = &[
    "ar-XA", "bn-IN", "cmn-CN", "de-DE", "en-AU", "en-GB", "en-IN", "en-US", "es-ES", "es-US",
    "fr-CA", "fr-FR", "hi-IN", "id-ID", "it-IT", "ja-JP", "ko-KR", "nl-BE", "nl-NL", "pl-PL",
    "pt-BR", "ru-RU", "sv-SE", "th-TH", "tr-TR", "uk-UA", "vi-VN",
];

/// The Cloud TTS `languageCode` for a domain language tag: a tag with a
/// region is used as is; a bare language gets its most common region
/// (`en` → `en-US`); Chinese is `cmn-*`, Arabic `ar-XA` (Cloud TTS names).
pub(super) fn language_code(language: &Language) -> String {
    let tag = language.as_str();
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("en");
    // Drop a script subtag (`zh-Hant-TW` → region `TW`).
    let region = parts.find(|p| p.len() != 4);
    let primary_tts = match primary {
        "zh" => "cmn",
        other => other,
    };
    if let Some(region) = region {
        return format!("{primary_tts}-{region}");
    }
    let region = match primary {
        "ar" => "XA",
        "bn" | "hi" => "IN",
        "de" => "DE",
        "es" => "ES",
        "fr" => "FR",
        "id" => "ID",
        "it" => "IT",
        "ja" => "JP",
        "ko" => "KR",
        "nl" => "NL",
        "pl" => "PL",
        "pt" => "BR",
        "ru" => "RU",
        "sv" => "SE",
        "th" => "TH",
        "tr" => "TR",
        "uk" => "UA",
        "vi" => "VN",
        "zh" => "CN",
        _ => "US",
    };
    format!("{primary_tts}-{region}")
}

/// The `ssmlGender` preference of a narrator voice; none for `neutral`
/// (Cloud TTS does not support `NEUTRAL`).
fn ssml_gender(voice: Voice) -> Option<&'static str> {
    match voice {
        Voice::NarratorMale => Some("MALE"),
        Voice::NarratorFemale => Some("FEMALE"),
        Voice::Neutral | Voice::None => None,
    }
}

/// The Cloud TTS `voice` of `name` (a prebuilt voice, or a complete Cloud
/// TTS voice name when it contains a `-`) in `language`.
fn cloud_voice(voice: Voice, name: &str, language: &Language) -> Value {
    let code = language_code(language);
    let mut params = json!({ "languageCode": code });
    if name.contains('-') {
        params["name"] = json!(name);
    } else if CHIRP3_HD_LOCALES.contains(&code.as_str()) {
        params["name"] = json!(format!("{code}-Chirp3-HD-{name}"));
    } else if let Some(gender) = ssml_gender(voice) {
        params["ssmlGender"] = json!(gender);
    }
    params
}

/// The Cloud TTS `text:synthesize` body.
fn cloud_request(
    text: &str,
    voice: Voice,
    name: &str,
    language: &Language,
    sample_rate: u32,
) -> Value {
    json!({
        "input": {"text": text},
        "voice": cloud_voice(voice, name, language),
        "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": sample_rate}
    })
}

/// The Gemini TTS `generateContent` body.
fn gemini_request(text: &str, name: &str) -> Value {
    json!({
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "generationConfig": {
            "responseModalities": ["AUDIO"],
            "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": name}}}
        }
    })
}

fn is_wav(bytes: &[u8]) -> bool {
    bytes.len() >= 44 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE"
}

/// A WAV file of 16-bit little-endian PCM `samples`.
fn pcm_wav(samples: &[u8], rate: u32, channels: u16) -> Vec<u8> {
    let data_len = u32::try_from(samples.len()).unwrap_or(u32::MAX);
    let block_align = channels * 2;
    let mut wav = Vec::with_capacity(44 + samples.len());
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&channels.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    wav.extend_from_slice(&block_align.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.extend_from_slice(samples);
    wav
}

/// The value of `key=` in a MIME type's parameters.
fn mime_param<'a>(mime: &'a str, key: &str) -> Option<&'a str> {
    mime.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(key).then(|| v.trim())
    })
}

/// The WAV of Gemini TTS audio bytes of MIME type `mime`.
fn gemini_audio_wav(mime: &str, bytes: Vec<u8>) -> Result<MediaBlob, MediaError> {
    if is_wav(&bytes) {
        return Ok(MediaBlob::new(MediaFormat::Wav, bytes));
    }
    let base = mime.split(';').next().unwrap_or_default().trim();
    let base = base.to_ascii_lowercase();
    if !matches!(base.as_str(), "" | "audio/l16" | "audio/pcm") {
        return Err(bad_response(
            Service::Tts,
            format!("the audio is {base}, neither PCM nor a WAV file"),
        ));
    }
    let number = |key, default| match mime_param(mime, key) {
        None => Ok(default),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=384_000).contains(n))
            .ok_or_else(|| bad_response(Service::Tts, format!("the audio {key} is {v:?}"))),
    };
    let rate = number("rate", GEMINI_PCM_RATE)?;
    let channels = u16::try_from(number("channels", 1)?)
        .ok()
        .filter(|c| *c <= 8)
        .ok_or_else(|| bad_response(Service::Tts, "the audio has too many channels"))?;
    // Whole frames only.
    let frame = usize::from(channels) * 2;
    let samples = &bytes[..bytes.len() - bytes.len() % frame];
    if samples.is_empty() {
        return Err(bad_response(Service::Tts, "the audio is empty"));
    }
    Ok(MediaBlob::new(
        MediaFormat::Wav,
        pcm_wav(samples, rate, channels),
    ))
}

/// The WAV of a Gemini TTS `generateContent` answer.
fn gemini_wav(answer: &Value) -> Result<MediaBlob, MediaError> {
    let inline = inline_data(answer, Service::Tts)?;
    let data = inline
        .get("data")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_response(Service::Tts, "the inlineData has no data"))?;
    let bytes = STANDARD
        .decode(data.trim())
        .map_err(|_| bad_response(Service::Tts, "the audio is not valid base64"))?;
    let mime = match str_at(inline, "mimeType") {
        "" => str_at(inline, "mime_type"),
        mime => mime,
    };
    gemini_audio_wav(mime, bytes)
}

/// The WAV of a `text:synthesize` answer.
fn cloud_wav(answer: &Value) -> Result<MediaBlob, MediaError> {
    let data = answer
        .get("audioContent")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_response(Service::Tts, "the answer has no audioContent"))?;
    let bytes = STANDARD
        .decode(data.trim())
        .map_err(|_| bad_response(Service::Tts, "audioContent is not valid base64"))?;
    if !is_wav(&bytes) {
        return Err(bad_response(Service::Tts, "audioContent is not a WAV file"));
    }
    Ok(MediaBlob::new(MediaFormat::Wav, bytes))
}

/// Whether `name` can be a Gemini prebuilt voice name (letters only).
pub(super) fn is_prebuilt_voice_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphabetic())
}

/// The voice name of `voice` (narrated voices only).
fn voice_name(voices: &TtsVoices, voice: Voice) -> Result<&str, MediaError> {
    voices.name(voice).ok_or_else(|| {
        MediaError::GenerationFailed("narration asked for with voice \"none\"".into())
    })
}

/// [`Narrator::narrate`](ytvc_domain::media::Narrator::narrate).
pub(super) async fn narrate(
    p: &GoogleProvider,
    scene: &Scene,
    voice: Voice,
    language: &Language,
) -> Result<MediaBlob, MediaError> {
    let name = voice_name(&p.config.tts_voices, voice)?;
    let (url, body) = match &p.api {
        Api::Gemini { .. } => (
            p.model_url(&p.config.tts_model, "generateContent"),
            gemini_request(&scene.narration, name),
        ),
        Api::Vertex { .. } => (
            format!("{}/v1/text:synthesize", p.config.tts_base_url),
            cloud_request(
                &scene.narration,
                voice,
                name,
                language,
                p.config.tts_sample_rate_hertz,
            ),
        ),
    };
    let gemini = matches!(p.api, Api::Gemini { .. });
    p.guards
        .tts
        .run(|_| async {
            let answer = p.post_json(Service::Tts, &url, &body).await?;
            // An unusable answer or a refusal is final.
            if gemini {
                gemini_wav(&answer)
            } else {
                cloud_wav(&answer)
            }
            .map_err(Failure::permanent)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(tag: &str) -> Language {
        Language::parse(tag).unwrap()
    }

    #[test]
    fn language_codes() {
        let code = |tag: &str| language_code(&lang(tag));
        assert_eq!(code("en"), "en-US");
        assert_eq!(code("pt-BR"), "pt-BR");
        assert_eq!(code("pt"), "pt-BR");
        assert_eq!(code("zh"), "cmn-CN");
        assert_eq!(code("zh-Hant-TW"), "cmn-TW");
        assert_eq!(code("en-GB"), "en-GB");
        assert_eq!(code("ar"), "ar-XA");
    }

    #[test]
    fn every_default_locale_has_chirp3_hd_voices() {
        for primary in Language::SUPPORTED {
            let code = language_code(&lang(primary));
            assert!(CHIRP3_HD_LOCALES.contains(&code.as_str()), "{code}");
        }
    }

    #[test]
    fn cloud_voices_are_named_and_never_neutral() {
        let v = cloud_voice(Voice::Neutral, "Schedar", &lang("de"));
        assert_eq!(
            v,
            json!({"languageCode": "de-DE", "name": "de-DE-Chirp3-HD-Schedar"})
        );
        // A locale without Chirp 3: HD voices: the service picks one.
        let v = cloud_voice(Voice::NarratorFemale, "Kore", &lang("es-419"));
        assert_eq!(v, json!({"languageCode": "es-419", "ssmlGender": "FEMALE"}));
        let v = cloud_voice(Voice::Neutral, "Schedar", &lang("es-419"));
        assert_eq!(v, json!({"languageCode": "es-419"}));
        // A complete Cloud TTS voice name is used as configured.
        let v = cloud_voice(Voice::NarratorMale, "en-GB-Neural2-B", &lang("en-GB"));
        assert_eq!(
            v,
            json!({"languageCode": "en-GB", "name": "en-GB-Neural2-B"})
        );
    }

    #[test]
    fn gemini_pcm_becomes_a_wav_at_the_answered_rate() {
        let pcm = [1u8, 0, 2, 0, 3, 0, 9];
        let blob = gemini_audio_wav("audio/L16;codec=pcm;rate=16000", pcm.to_vec()).unwrap();
        assert_eq!(blob.format, MediaFormat::Wav);
        let wav = &blob.bytes;
        assert!(is_wav(wav));
        assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 1, "mono");
        assert_eq!(
            u32::from_le_bytes([wav[24], wav[25], wav[26], wav[27]]),
            16_000
        );
        assert_eq!(u32::from_le_bytes([wav[40], wav[41], wav[42], wav[43]]), 6);
        assert_eq!(&wav[44..], &pcm[..6], "the odd byte is dropped");
        // No rate: 24 kHz. A WAV answer is used as is.
        let blob = gemini_audio_wav("audio/pcm", vec![0; 4]).unwrap();
        assert_eq!(
            u32::from_le_bytes(blob.bytes[24..28].try_into().unwrap()),
            24_000
        );
        let wav = pcm_wav(&[0; 8], 24_000, 1);
        assert_eq!(
            gemini_audio_wav("audio/wav", wav.clone()).unwrap().bytes,
            wav
        );
        assert!(gemini_audio_wav("audio/mpeg", vec![0xff, 0xfb, 0, 0]).is_err());
        assert!(gemini_audio_wav("audio/L16;rate=zero", vec![0; 4]).is_err());
        assert!(gemini_audio_wav("audio/L16;rate=24000", vec![7]).is_err());
    }

    #[test]
    fn prebuilt_voice_names() {
        assert!(is_prebuilt_voice_name("Kore"));
        assert!(!is_prebuilt_voice_name("en-US-Chirp3-HD-Kore"));
        assert!(!is_prebuilt_voice_name(""));
    }
}
