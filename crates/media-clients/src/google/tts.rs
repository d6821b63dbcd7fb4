//! Narration: Cloud Text-to-Speech `text:synthesize` with `LINEAR16`, whose
//! `audioContent` is a WAV file (RIFF header included).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use ytvc_domain::media::{MediaBlob, MediaError, MediaFormat, Scene, Service};
use ytvc_domain::{Language, Voice};

use super::GoogleProvider;
use super::http::bad_response;
use crate::resilience::Failure;

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

/// The `ssmlGender` for a voice (a preference: the service substitutes
/// another gender rather than failing).
pub(super) fn ssml_gender(voice: Voice) -> &'static str {
    match voice {
        Voice::NarratorMale => "MALE",
        Voice::NarratorFemale => "FEMALE",
        Voice::Neutral | Voice::None => "NEUTRAL",
    }
}

/// The `text:synthesize` body.
fn request_body(
    text: &str,
    voice: Voice,
    language: &Language,
    name: Option<&str>,
    sample_rate: u32,
) -> Value {
    let mut voice_params = json!({
        "languageCode": language_code(language),
        "ssmlGender": ssml_gender(voice),
    });
    if let Some(name) = name {
        voice_params["name"] = json!(name);
    }
    json!({
        "input": {"text": text},
        "voice": voice_params,
        "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": sample_rate}
    })
}

/// The WAV of a `text:synthesize` answer.
fn wav(answer: &Value) -> Result<MediaBlob, MediaError> {
    let data = answer
        .get("audioContent")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_response(Service::Tts, "the answer has no audioContent"))?;
    let bytes = STANDARD
        .decode(data.trim())
        .map_err(|_| bad_response(Service::Tts, "audioContent is not valid base64"))?;
    if bytes.len() < 44 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad_response(Service::Tts, "audioContent is not a WAV file"));
    }
    Ok(MediaBlob::new(MediaFormat::Wav, bytes))
}

/// [`Narrator::narrate`](ytvc_domain::media::Narrator::narrate).
pub(super) async fn narrate(
    p: &GoogleProvider,
    scene: &Scene,
    voice: Voice,
    language: &Language,
) -> Result<MediaBlob, MediaError> {
    if !voice.is_narrated() {
        return Err(MediaError::GenerationFailed(
            "narration asked for with voice \"none\"".into(),
        ));
    }
    let url = format!("{}/v1/text:synthesize", p.config.tts_base_url);
    let body = request_body(
        &scene.narration,
        voice,
        language,
        p.config.tts_voices.name(voice),
        p.config.tts_sample_rate_hertz,
    );
    p.guards
        .tts
        .run(|_| async {
            let answer = p.post_json(Service::Tts, &url, &body).await?;
            wav(&answer).map_err(Failure::permanent)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes() {
        let code = |tag: &str| language_code(&Language::parse(tag).unwrap());
        assert_eq!(code("en"), "en-US");
        assert_eq!(code("pt-BR"), "pt-BR");
        assert_eq!(code("pt"), "pt-BR");
        assert_eq!(code("zh"), "cmn-CN");
        assert_eq!(code("zh-Hant-TW"), "cmn-TW");
        assert_eq!(code("en-GB"), "en-GB");
        assert_eq!(code("ar"), "ar-XA");
    }
}
