//! Still images: Imagen `:predict` or a Gemini image model's
//! `generateContent`, chosen by [`GoogleConfig::image_backend`](super::GoogleConfig::image_backend).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use ytvc_domain::AspectRatio;
use ytvc_domain::media::{MediaBlob, MediaError, MediaFormat, Scene, Service};

use super::http::{bad_response, refused, str_at};
use super::llm::inline_data;
use super::{GoogleProvider, ImageBackend};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_SIGNATURE: &[u8] = b"\xff\xd8\xff";

/// The format of image bytes, by their signature (the declared MIME type is
/// not trusted).
pub(super) fn image_format(bytes: &[u8]) -> Option<MediaFormat> {
    if bytes.starts_with(PNG_SIGNATURE) {
        Some(MediaFormat::Png)
    } else if bytes.starts_with(JPEG_SIGNATURE) {
        Some(MediaFormat::Jpeg)
    } else {
        None
    }
}

/// Decodes base64 image bytes into a PNG / JPEG blob.
fn image_blob(data: &str) -> Result<MediaBlob, MediaError> {
    let bytes = STANDARD
        .decode(data.trim())
        .map_err(|_| bad_response(Service::Imagen, "the image is not valid base64"))?;
    let format = image_format(&bytes)
        .ok_or_else(|| bad_response(Service::Imagen, "the image is neither PNG nor JPEG"))?;
    Ok(MediaBlob::new(format, bytes))
}

/// The Imagen `:predict` body.
fn imagen_body(prompt: &str, aspect: AspectRatio) -> Value {
    json!({
        "instances": [{"prompt": prompt}],
        "parameters": {"sampleCount": 1, "aspectRatio": aspect.as_str()}
    })
}

/// The Gemini image `generateContent` body.
fn gemini_body(prompt: &str, aspect: AspectRatio) -> Value {
    json!({
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
        "generationConfig": {
            "responseModalities": ["IMAGE"],
            "imageConfig": {"aspectRatio": aspect.as_str()}
        }
    })
}

/// The image of an Imagen answer. No prediction at all means every image
/// was filtered (Imagen answers `{}`): a refusal.
fn imagen_image(answer: &Value) -> Result<MediaBlob, MediaError> {
    let first = answer
        .get("predictions")
        .and_then(Value::as_array)
        .and_then(|p| p.first());
    let Some(prediction) = first else {
        return Err(refused(
            Service::Imagen,
            "no image returned (filtered by the safety filters)",
        ));
    };
    let filtered = str_at(prediction, "raiFilteredReason");
    if !filtered.is_empty() {
        return Err(refused(
            Service::Imagen,
            "image filtered (raiFilteredReason)",
        ));
    }
    match prediction.get("bytesBase64Encoded").and_then(Value::as_str) {
        Some(data) => image_blob(data),
        None => Err(bad_response(
            Service::Imagen,
            "the prediction has no bytesBase64Encoded",
        )),
    }
}

/// The image of a Gemini `generateContent` answer (`inlineData`).
fn gemini_image(answer: &Value) -> Result<MediaBlob, MediaError> {
    let data = inline_data(answer, Service::Imagen)?
        .get("data")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_response(Service::Imagen, "the inlineData has no image"))?;
    image_blob(data)
}

/// [`VisualGenerator::still`](ytvc_domain::media::VisualGenerator::still).
pub(super) async fn still(
    p: &GoogleProvider,
    scene: &Scene,
    aspect: AspectRatio,
) -> Result<MediaBlob, MediaError> {
    let model = &p.config.image_model;
    let backend = p.config.image_backend();
    let (url, body) = match backend {
        ImageBackend::Imagen => (
            p.model_url(model, "predict"),
            imagen_body(&scene.visual_prompt, aspect),
        ),
        ImageBackend::Gemini => (
            p.model_url(model, "generateContent"),
            gemini_body(&scene.visual_prompt, aspect),
        ),
    };
    p.guards
        .imagen
        .run(|_| async {
            let answer = p.post_json(Service::Imagen, &url, &body).await?;
            // An unusable answer or a refusal is final.
            match backend {
                ImageBackend::Imagen => imagen_image(&answer),
                ImageBackend::Gemini => gemini_image(&answer),
            }
            .map_err(crate::resilience::Failure::permanent)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thought_images_are_skipped() {
        let png = STANDARD.encode(b"\x89PNG\r\n\x1a\nfinal");
        let draft = STANDARD.encode(b"\x89PNG\r\n\x1a\ndraft");
        let answer = json!({"candidates": [{"content": {"role": "model", "parts": [
            {"inlineData": {"mimeType": "image/png", "data": draft}, "thought": true},
            {"inlineData": {"mimeType": "image/png", "data": png}}
        ]}, "finishReason": "STOP"}]});
        let blob = gemini_image(&answer).unwrap();
        assert!(blob.bytes.ends_with(b"final"));
    }
}
