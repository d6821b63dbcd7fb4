//! Pieces the HTTP adapters share, whatever the provider: the `MediaError`
//! constructors and log excerpts (used by `google` and `openai`), and
//! bounded body reading, transport failures, `Retry-After` and Go-style
//! durations, image sniffing and the parsing of a storyboard answer (used
//! by `openai`; `google` still has its own versions of the last ones, with
//! Google's specifics).

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use ytvc_domain::media::{MediaError, MediaFormat, Scene, Service, Storyboard};

use crate::resilience::Failure;

/// The longest message excerpt kept in an error reason (for logs).
const REASON_CHARS: usize = 200;

/// At most [`REASON_CHARS`] characters of `text`, on one line.
pub(crate) fn excerpt(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(REASON_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(REASON_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// `BadResponse` of `service`.
pub(crate) fn bad_response(service: Service, reason: impl Into<String>) -> MediaError {
    MediaError::BadResponse {
        service,
        reason: reason.into(),
    }
}

/// `Refused` of `service`.
pub(crate) fn refused(service: Service, reason: impl Into<String>) -> MediaError {
    MediaError::Refused {
        service,
        reason: reason.into(),
    }
}

/// `Unavailable` of `service`.
pub(crate) fn unavailable(service: Service, reason: impl Into<String>) -> MediaError {
    MediaError::Unavailable {
        service,
        reason: reason.into(),
    }
}

/// `Rejected` of `service`.
pub(crate) fn rejected(service: Service, reason: impl Into<String>) -> MediaError {
    MediaError::Rejected {
        service,
        reason: reason.into(),
    }
}

/// A failure before any HTTP status: a timeout (connect or total) is
/// `Timeout`, anything else (refused connection, reset, broken body) is
/// `Unavailable`; both may be retried. The URL is left out of the reason.
pub(crate) fn transport_failure(service: Service, error: &reqwest::Error) -> Failure {
    if error.is_timeout() {
        return Failure::transient(MediaError::Timeout { service });
    }
    let what = if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "reading the answer failed"
    } else {
        "request failed"
    };
    // The innermost cause says the most ("Connection refused").
    let mut cause = std::error::Error::source(error);
    let mut detail = None;
    while let Some(c) = cause {
        detail = Some(c.to_string());
        cause = c.source();
    }
    let reason = match detail {
        Some(detail) => format!("{what}: {}", excerpt(&detail)),
        None => what.to_owned(),
    };
    Failure::transient(unavailable(service, reason))
}

/// A body read up to a cap.
pub(crate) struct Body {
    /// The bytes read.
    pub(crate) bytes: Vec<u8>,
    /// Whether the body was longer than the cap (and cut there).
    pub(crate) cut: bool,
}

/// Reads `response`'s body in chunks, stopping at `cap` bytes: an answer is
/// never buffered without bound.
pub(crate) async fn read_capped(
    service: Service,
    response: &mut reqwest::Response,
    cap: usize,
) -> Result<Body, Failure> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_failure(service, &e))?
    {
        if bytes.len() + chunk.len() > cap {
            return Ok(Body { bytes, cut: true });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Body { bytes, cut: false })
}

/// Parses `Retry-After`: delay-seconds (whole or, as some servers send,
/// fractional) or an HTTP date (one in the past is zero).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return seconds(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A non-negative number of seconds as a duration; a huge one is
/// [`Duration::MAX`] ("too long", never waited for), never a panic.
pub(crate) fn seconds(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

/// Parses a Go-style duration as OpenAI's `x-ratelimit-reset-*` headers and
/// rate-limit messages carry it: `1s`, `6m0s`, `20ms`, `1h2m3.5s`, `0.5s`
/// (also `us` / `µs` / `ns`). A bare number is seconds.
pub(crate) fn parse_go_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Ok(secs) = value.parse::<f64>() {
        return seconds(secs);
    }
    let mut total = 0f64;
    let mut rest = value;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" | "μs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    seconds(total)
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_SIGNATURE: &[u8] = b"\xff\xd8\xff";

/// The format of image bytes, by their signature (a declared type is not
/// trusted).
pub(crate) fn image_format(bytes: &[u8]) -> Option<MediaFormat> {
    if bytes.starts_with(PNG_SIGNATURE) {
        Some(MediaFormat::Png)
    } else if bytes.starts_with(JPEG_SIGNATURE) {
        Some(MediaFormat::Jpeg)
    } else {
        None
    }
}

/// What the text of a storyboard answer held.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StoryboardText {
    /// A usable storyboard.
    Storyboard(Storyboard),
    /// `{"refused": true}`: the model declined.
    Refused,
    /// Something unusable, and why (the reason is ours, for the repair turn
    /// and the logs).
    Invalid(&'static str),
}

#[derive(Deserialize)]
struct RawStoryboard {
    #[serde(default)]
    refused: Option<bool>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    scenes: Option<Vec<RawScene>>,
}

#[derive(Deserialize)]
struct RawScene {
    narration: String,
    visual_prompt: String,
    duration_seconds: f64,
}

/// Reads a storyboard from a model's answer text: the JSON object alone,
/// in a Markdown code fence, or after a `<think>…</think>` block (reasoning
/// models served without a reasoning parser).
pub(crate) fn parse_storyboard_text(text: &str) -> StoryboardText {
    let json = strip_code_fence(strip_think(text));
    if json.is_empty() {
        return StoryboardText::Invalid("the answer has no text");
    }
    let Ok(raw) = serde_json::from_str::<RawStoryboard>(json) else {
        return StoryboardText::Invalid("not a JSON object of the schema");
    };
    if raw.refused == Some(true) {
        return StoryboardText::Refused;
    }
    let title = raw.title.unwrap_or_default();
    let raw_scenes = raw.scenes.unwrap_or_default();
    if title.trim().is_empty() {
        return StoryboardText::Invalid("the title is missing");
    }
    if raw_scenes.is_empty() {
        return StoryboardText::Invalid("there are no scenes");
    }
    let mut scenes = Vec::with_capacity(raw_scenes.len());
    for (i, s) in raw_scenes.into_iter().enumerate() {
        if s.narration.trim().is_empty() || s.visual_prompt.trim().is_empty() {
            return StoryboardText::Invalid("a scene has an empty narration or visual_prompt");
        }
        if !s.duration_seconds.is_finite() {
            return StoryboardText::Invalid("a scene duration is not a number");
        }
        scenes.push(Scene {
            index: u32::try_from(i + 1).unwrap_or(u32::MAX),
            narration: s.narration.trim().to_owned(),
            visual_prompt: s.visual_prompt.trim().to_owned(),
            // Whole seconds in 1..=600; the pipeline normalises durations.
            duration_seconds: s.duration_seconds.round().clamp(1.0, 600.0) as u32,
        });
    }
    StoryboardText::Storyboard(Storyboard {
        title: title.trim().to_owned(),
        scenes,
    })
}

/// The text after a leading `<think>…</think>` block, if any.
fn strip_think(text: &str) -> &str {
    let t = text.trim_start();
    match t
        .strip_prefix("<think>")
        .and_then(|r| r.split_once("</think>"))
    {
        Some((_, after)) => after,
        None => t,
    }
}

/// The JSON inside a Markdown code fence, if the model added one.
fn strip_code_fence(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .map_or(t, str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let ms = Duration::from_millis;
        assert_eq!(parse_go_duration("1s"), Some(ms(1000)));
        assert_eq!(parse_go_duration("6m0s"), Some(ms(360_000)));
        assert_eq!(parse_go_duration("20ms"), Some(ms(20)));
        assert_eq!(parse_go_duration("1h2m3.5s"), Some(ms(3_723_500)));
        assert_eq!(parse_go_duration("0.5s"), Some(ms(500)));
        assert_eq!(parse_go_duration("2"), Some(ms(2000)));
        assert_eq!(parse_go_duration("250us"), Some(Duration::from_micros(250)));
        for bad in ["", "6 minutes", "s", "1x", "-1s", "1.2.3s"] {
            assert_eq!(parse_go_duration(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_go_duration("99999999999999999999h"),
            Some(Duration::MAX)
        );
    }

    #[test]
    fn retry_after() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn storyboard_texts() {
        let good = "<think>The user wants tide pools.</think>\n```json\n{\"title\": \"Tide pools\", \
                    \"scenes\": [{\"narration\": \"Crabs.\", \"visual_prompt\": \"crabs\", \
                    \"duration_seconds\": 9.6}]}\n```";
        let StoryboardText::Storyboard(s) = parse_storyboard_text(good) else {
            panic!()
        };
        assert_eq!((s.scenes[0].index, s.scenes[0].duration_seconds), (1, 10));
        assert_eq!(
            parse_storyboard_text(r#"{"refused": true, "title": "", "scenes": []}"#),
            StoryboardText::Refused
        );
        for bad in [
            "",
            "Sure! {\"title\":",
            r#"{"refused": false, "title": "x", "scenes": []}"#,
            r#"{"title": " ", "scenes": [{"narration": "a", "visual_prompt": "b", "duration_seconds": 3}]}"#,
        ] {
            assert!(
                matches!(parse_storyboard_text(bad), StoryboardText::Invalid(_)),
                "{bad}"
            );
        }
    }

    #[test]
    fn excerpts_are_one_bounded_line() {
        assert_eq!(excerpt("a\nb"), "a b");
        let long = "x".repeat(300);
        assert_eq!(excerpt(&long).chars().count(), REASON_CHARS + 1);
    }
}
