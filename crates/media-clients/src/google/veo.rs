//! Clips: Veo `:predictLongRunning`, the operation polled until done (see
//! the module docs of [`google`](super) for what is counted and retried).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::time::{Instant, timeout_at};
use ytvc_domain::AspectRatio;
use ytvc_domain::media::{MediaBlob, MediaError, MediaFormat, Scene, Service};

use super::http::{RpcStatus, bad_response, classify_operation_error, refused, str_at};
use super::{Api, GoogleProvider};
use crate::resilience::{Failure, Outcome, ServiceGuard};

const TIMEOUT: MediaError = MediaError::Timeout {
    service: Service::Veo,
};

/// The Veo `aspectRatio` of a video's frame: Veo makes 16:9 and 9:16 only,
/// so a square video gets 16:9 clips.
pub(super) fn veo_aspect(aspect: AspectRatio) -> &'static str {
    match aspect {
        AspectRatio::Portrait => "9:16",
        AspectRatio::Landscape | AspectRatio::Square => "16:9",
    }
}

/// The operation's `name`, checked before it goes into a URL.
fn operation_name(op: &Value) -> Result<String, MediaError> {
    let name = str_at(op, "name");
    let ok = !name.is_empty()
        && name.len() <= 512
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(bad_response(
            Service::Veo,
            "the operation has no usable name",
        ))
    }
}

fn is_done(op: &Value) -> bool {
    op.get("done").and_then(Value::as_bool) == Some(true)
}

/// Records the final result of a generation on the breaker (when it lets
/// the call through: an open circuit has nothing to learn).
fn record_final(guard: &ServiceGuard, outcome: Outcome) {
    if let Ok(permit) = guard.breaker().acquire() {
        permit.record(outcome);
    }
}

/// Whether `bytes` look like an MP4 (an ISO BMFF `ftyp` box first).
fn is_mp4(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && &bytes[4..8] == b"ftyp"
}

fn mp4_blob(bytes: Vec<u8>) -> Result<MediaBlob, MediaError> {
    if is_mp4(&bytes) {
        Ok(MediaBlob::new(MediaFormat::Mp4, bytes))
    } else {
        Err(bad_response(Service::Veo, "the video is not an MP4"))
    }
}

/// Percent-encodes a Cloud Storage object name for a JSON API path.
fn encode_object(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Where the finished video is.
enum Video {
    Bytes(Vec<u8>),
    /// A Gemini file URI (downloaded with the API key when it is on the API's
    /// own host).
    Uri(String),
    /// A Vertex `gs://bucket/object`.
    Gcs {
        bucket: String,
        object: String,
    },
}

/// Reads a finished operation's result (not its `error`).
fn video_of(op: &Value) -> Result<Video, MediaError> {
    let response = op
        .get("response")
        .ok_or_else(|| bad_response(Service::Veo, "the finished operation has no response"))?;
    // Gemini nests it under generateVideoResponse; Vertex does not.
    let result = response.get("generateVideoResponse").unwrap_or(response);
    let filtered = result
        .get("raiMediaFilteredCount")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        > 0
        || result
            .get("raiMediaFilteredReasons")
            .and_then(Value::as_array)
            .is_some_and(|r| !r.is_empty());
    let video = result
        .pointer("/generatedSamples/0/video")
        .or_else(|| result.pointer("/videos/0"));
    let Some(video) = video else {
        return Err(if filtered {
            refused(
                Service::Veo,
                "the video was filtered by the safety filters (raiMediaFilteredCount)",
            )
        } else {
            bad_response(Service::Veo, "the finished operation has no video")
        });
    };
    for key in ["bytesBase64Encoded", "encodedVideo", "videoBytes"] {
        if let Some(data) = video.get(key).and_then(Value::as_str) {
            let bytes = STANDARD
                .decode(data.trim())
                .map_err(|_| bad_response(Service::Veo, "the video is not valid base64"))?;
            return Ok(Video::Bytes(bytes));
        }
    }
    let uri = str_at(video, "uri");
    if uri.starts_with("https://") || uri.starts_with("http://") {
        return Ok(Video::Uri(uri.to_owned()));
    }
    let gcs = if uri.is_empty() {
        str_at(video, "gcsUri")
    } else {
        uri
    };
    if let Some((bucket, object)) = gcs.strip_prefix("gs://").and_then(|r| r.split_once('/'))
        && !bucket.is_empty()
        && !object.is_empty()
    {
        return Ok(Video::Gcs {
            bucket: bucket.to_owned(),
            object: object.to_owned(),
        });
    }
    Err(bad_response(
        Service::Veo,
        "the video has neither bytes nor a usable URI",
    ))
}

impl GoogleProvider {
    /// One poll of operation `name`.
    async fn poll_operation(&self, name: &str) -> Result<Value, Failure> {
        let client = self.clients.veo.client();
        let request = match &self.api {
            Api::Gemini { base } => client.get(format!("{base}/v1beta/{name}")),
            Api::Vertex { .. } => client
                .post(self.model_url(&self.config.veo_model, "fetchPredictOperation"))
                .json(&json!({"operationName": name})),
        };
        self.send_json(Service::Veo, request).await
    }

    /// Downloads a finished video.
    async fn download(&self, video: &Video) -> Result<Vec<u8>, Failure> {
        let http = &self.clients.veo;
        let authorize = |request| self.auth.apply(request, Service::Veo);
        match (video, &self.api) {
            (Video::Bytes(bytes), _) => Ok(bytes.clone()),
            // The API key goes only to the API's own host, also across
            // redirects.
            (Video::Uri(uri), Api::Gemini { base }) => {
                let trusted = format!("{base}/");
                http.get_following(uri, Some(&trusted), authorize).await
            }
            (Video::Uri(uri), Api::Vertex { .. }) => http.get_following(uri, None, authorize).await,
            (Video::Gcs { bucket, object }, _) => {
                let url = format!(
                    "{}/storage/v1/b/{}/o/{}?alt=media",
                    self.config.storage_base_url,
                    encode_object(bucket),
                    encode_object(object)
                );
                let trusted = format!("{}/", self.config.storage_base_url);
                http.get_following(&url, Some(&trusted), authorize).await
            }
        }
    }
}

/// [`VisualGenerator::clip`](ytvc_domain::media::VisualGenerator::clip).
pub(super) async fn clip(
    p: &GoogleProvider,
    scene: &Scene,
    aspect: AspectRatio,
) -> Result<MediaBlob, MediaError> {
    let deadline = Instant::now() + p.config.veo_max_wait;
    let guard = &p.guards.veo;
    let url = p.model_url(&p.config.veo_model, "predictLongRunning");
    let mut parameters = json!({"aspectRatio": veo_aspect(aspect)});
    if let Some(seconds) = p.config.veo_duration_seconds {
        parameters["durationSeconds"] = json!(seconds);
    }
    // Vertex only: the Gemini API refuses both.
    if matches!(p.api, Api::Vertex { .. }) {
        parameters["sampleCount"] = json!(1);
        parameters["generateAudio"] = json!(p.config.veo_generate_audio);
    }
    let body = json!({
        "instances": [{"prompt": scene.visual_prompt}],
        "parameters": parameters
    });
    let submit = guard.run(|_| async {
        let op = p
            .post_json(Service::Veo, &url, &body)
            .await
            .map_err(|failure| match failure.error {
                // The submit is not idempotent: a timed-out one may have
                // started a (billed) generation, so it is not sent again;
                // the scene falls back instead.
                MediaError::Timeout { .. } => Failure::permanent(failure.error),
                _ => failure,
            })?;
        let name = operation_name(&op).map_err(Failure::permanent)?;
        Ok((name, op))
    });
    let (name, mut op) = timeout_at(deadline, submit).await.map_err(|_| TIMEOUT)??;

    let mut poll_failures = 0;
    while !is_done(&op) {
        let now = Instant::now();
        if now >= deadline {
            // Accepted but never finished: the service is unwell.
            record_final(guard, Outcome::Failed);
            return Err(TIMEOUT);
        }
        tokio::time::sleep(p.config.veo_poll_interval.min(deadline - now)).await;
        if Instant::now() >= deadline {
            record_final(guard, Outcome::Failed);
            return Err(TIMEOUT);
        }
        match timeout_at(deadline, p.poll_operation(&name)).await {
            Err(_) => {
                record_final(guard, Outcome::Failed);
                return Err(TIMEOUT);
            }
            Ok(Ok(next)) => {
                poll_failures = 0;
                op = next;
            }
            Ok(Err(failure)) => {
                poll_failures += 1;
                if !failure.may_retry() || poll_failures >= p.config.veo_max_poll_failures.max(1) {
                    return Err(failure.error);
                }
            }
        }
    }

    if let Some(error) = op.get("error") {
        let (error, counts) = classify_operation_error(Service::Veo, &RpcStatus::from_value(error));
        if counts {
            record_final(guard, Outcome::Failed);
        }
        return Err(error);
    }
    let video = video_of(&op)?;
    if let Video::Bytes(bytes) = video {
        record_final(guard, Outcome::Good);
        return mp4_blob(bytes);
    }
    let download = guard.run(|_| async {
        let bytes = p.download(&video).await?;
        mp4_blob(bytes).map_err(Failure::permanent)
    });
    // The download gets at least one full call timeout, even near the
    // deadline: the video exists by now.
    let until = deadline.max(Instant::now() + p.config.timeouts.veo.total + Duration::from_secs(1));
    timeout_at(until, download).await.map_err(|_| TIMEOUT)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_operations() {
        let gemini = json!({"name": "models/veo/operations/x", "done": true, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"generatedSamples": [{"video": {"uri": "https://generativelanguage.googleapis.com/v1beta/files/abc:download?alt=media"}}]}}});
        assert!(matches!(video_of(&gemini), Ok(Video::Uri(_))));
        let vertex = json!({"done": true, "response": {"raiMediaFilteredCount": 0,
            "videos": [{"gcsUri": "gs://bucket/dir/sample_0.mp4", "mimeType": "video/mp4"}]}});
        let Ok(Video::Gcs { bucket, object }) = video_of(&vertex) else {
            panic!()
        };
        assert_eq!(
            (bucket.as_str(), encode_object(&object).as_str()),
            ("bucket", "dir%2Fsample_0.mp4")
        );
        let filtered = json!({"done": true, "response": {"generateVideoResponse": {
            "raiMediaFilteredCount": 1,
            "raiMediaFilteredReasons": ["Unable to generate videos because they violate the usage guidelines."]}}});
        assert!(matches!(
            video_of(&filtered),
            Err(MediaError::Refused { .. })
        ));
        assert!(matches!(
            video_of(&json!({"done": true})),
            Err(MediaError::BadResponse { .. })
        ));
        assert!(operation_name(&json!({"name": "../../x"})).is_err());
        assert!(operation_name(&json!({"name": "projects/p/locations/us-central1/publishers/google/models/veo-3.0-generate-001/operations/a1b2"})).is_ok());
    }
}
