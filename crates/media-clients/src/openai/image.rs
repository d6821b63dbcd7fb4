//! Stills: `images/generations` answering `b64_json`.

use std::sync::atomic::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use ytvc_domain::AspectRatio;
use ytvc_domain::media::{MediaBlob, MediaError, Scene, Service};

use super::OpenAiProvider;
use crate::resilience::Failure;
use crate::wire::{bad_response, image_format};

/// Whether `response_format: "b64_json"` is sent for `model`: not to
/// OpenAI's GPT image models, which always answer base64 and refuse the
/// parameter ("Unknown parameter: 'response_format'").
fn asks_b64_json(model: &str) -> bool {
    !model.to_ascii_lowercase().contains("gpt-image")
}

/// The `images/generations` body.
fn request_body(model: &str, prompt: &str, size: &str, b64_json: bool) -> Value {
    let mut body = json!({"model": model, "prompt": prompt, "n": 1, "size": size});
    if b64_json {
        body["response_format"] = json!("b64_json");
    }
    body
}

/// The image of an answer: `data[0].b64_json` (a `data:` URL prefix is
/// dropped), PNG or JPEG by its signature.
fn image_of(answer: &Value) -> Result<MediaBlob, MediaError> {
    let unusable = |reason: &str| bad_response(Service::Imagen, reason);
    let first = answer
        .pointer("/data/0")
        .ok_or_else(|| unusable("the answer has no image"))?;
    let Some(data) = first.get("b64_json").and_then(Value::as_str) else {
        return Err(if first.get("url").is_some() {
            unusable("the answer is a URL, not b64_json")
        } else {
            unusable("the image has no b64_json")
        });
    };
    let data = match data.split_once(";base64,") {
        Some((prefix, rest)) if prefix.starts_with("data:") => rest,
        _ => data,
    };
    let bytes = STANDARD
        .decode(data.trim())
        .map_err(|_| unusable("b64_json is not valid base64"))?;
    let format =
        image_format(&bytes).ok_or_else(|| unusable("the image is neither PNG nor JPEG"))?;
    Ok(MediaBlob::new(format, bytes))
}

/// What one request came back with.
enum Reply {
    Image(MediaBlob),
    /// The server refuses `response_format` (it answers base64 anyway).
    FormatRefused,
}

/// [`VisualGenerator::still`](ytvc_domain::media::VisualGenerator::still).
pub(super) async fn still(
    p: &OpenAiProvider,
    scene: &Scene,
    aspect: AspectRatio,
) -> Result<MediaBlob, MediaError> {
    let model = &p.config.image.model;
    let size = p.config.image_sizes.of(aspect);
    let url = p.url(Service::Imagen, "images/generations");
    let http = &p.clients.image;
    let mut b64_json = asks_b64_json(model) && !p.response_format_refused.load(Ordering::Relaxed);
    loop {
        let body = request_body(model, &scene.visual_prompt, size, b64_json);
        let reply = p
            .guards
            .imagen
            .run(|_| async {
                match http.post_json(&url, &body).await {
                    // An unusable answer is final.
                    Ok(answer) => image_of(&answer)
                        .map(Reply::Image)
                        .map_err(Failure::permanent),
                    Err(e)
                        if b64_json
                            && e.status == Some(400)
                            && e.api.param == "response_format" =>
                    {
                        Ok(Reply::FormatRefused)
                    }
                    Err(e) => Err(e.into()),
                }
            })
            .await?;
        match reply {
            Reply::Image(blob) => return Ok(blob),
            Reply::FormatRefused => {
                // Once, and remembered: the server answers base64 anyway.
                p.response_format_refused.store(true, Ordering::Relaxed);
                b64_json = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_answers() {
        assert!(!asks_b64_json("gpt-image-1") && asks_b64_json("dall-e-3"));
        let body = request_body("dall-e-3", "a crab", "1792x1024", true);
        assert_eq!(body["response_format"], "b64_json");
        assert!(
            request_body("gpt-image-1", "a crab", "1024x1024", false)
                .get("response_format")
                .is_none()
        );
        let png = b"\x89PNG\r\n\x1a\n rest";
        let b64 = STANDARD.encode(png);
        let blob =
            image_of(&json!({"data": [{"b64_json": format!("data:image/png;base64,{b64}")}]}))
                .unwrap();
        assert_eq!(blob.bytes, png);
        for bad in [
            json!({"data": []}),
            json!({"data": [{"url": "http://127.0.0.1/x.png"}]}),
            json!({"data": [{"b64_json": "%%%"}]}),
            json!({"data": [{"b64_json": STANDARD.encode(b"RIFF....WEBP")}]}),
        ] {
            assert!(
                matches!(image_of(&bad), Err(MediaError::BadResponse { .. })),
                "{bad}"
            );
        }
    }
}
