//! `GET /v1/videos/{id}/artifacts/{name}`: the files of a completed video,
//! streamed from the artifact store (never held whole), with byte ranges
//! (`Range`, `If-Range`: 206, 416) and revalidation (`ETag`,
//! `If-None-Match`, `If-Modified-Since`: 304), so a browser's video player
//! can seek. With `YTVC_STORAGE_PRESIGN=on` on S3 it redirects (307) to a
//! short-lived presigned URL instead.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use ytvc_domain::media::{ArtifactMeta, ByteRange};
use ytvc_error_codes::ErrorCode;

use super::auth::{ApiUser, blocking};
use super::error::ApiError;
use crate::state::AppState;

/// Downloads one artifact of a completed video (owner only).
#[utoipa::path(get, path = "/v1/videos/{id}/artifacts/{name}", tag = "videos",
    params(
        ("id" = String, Path, description = "Video id"),
        ("name" = String, Path, description = "Artifact file name"),
        ("Range" = Option<String>, Header, description = "One byte range: `bytes=first-last`, `bytes=first-` or `bytes=-suffix` (206); several ranges, or a malformed one, get the whole file"),
        ("If-Range" = Option<String>, Header, description = "Honour `Range` only while the file still has this ETag (or is not newer than this date)"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the caller has: 304 when the file's is one of them (or `*`)"),
        ("If-Modified-Since" = Option<String>, Header, description = "304 when the file is not newer (ignored with `If-None-Match`)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The whole file, streamed; `Accept-Ranges: bytes`, `ETag`, `Last-Modified`, `Content-Length`", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range; `Content-Range: bytes first-last/size`", content_type = "application/octet-stream"),
        (status = 304, description = "Not modified (`If-None-Match` / `If-Modified-Since`)"),
        (status = 307, description = "`YTVC_STORAGE_PRESIGN=on` on S3: `Location` is a presigned URL valid 5 minutes"),
        (status = 404, description = "NOT_FOUND_001 (video) / NOT_FOUND_004 (artifact)", body = ytvc_error_codes::ErrorBody),
        (status = 409, description = "VIDEO_002: not ready", body = ytvc_error_codes::ErrorBody),
        (status = 410, description = "STORAGE_001: the set was deleted by the retention policy", body = ytvc_error_codes::ErrorBody),
        (status = 416, description = "HTTP_003: the range starts past the end; `Content-Range: bytes */size`", body = ytvc_error_codes::ErrorBody),
    ))]
#[get("/v1/videos/{id}/artifacts/{name}")]
pub async fn get_artifact(
    state: web::Data<AppState>,
    who: ApiUser,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let (videos, user) = (state.videos.clone(), who.user.id);
    let artifact = blocking(move || Ok(videos.artifact(user, &id, &name)?)).await?;
    if state.config.storage.presign
        && let Some(url) = state
            .videos
            .presign_artifact(&artifact, crate::storage::PRESIGN_TTL)
            .await?
    {
        return Ok(HttpResponse::TemporaryRedirect()
            .insert_header((header::LOCATION, url))
            .finish());
    }
    let meta = state.videos.artifact_meta(&artifact).await?;
    let etag = format!("\"{}\"", meta.etag);
    let headers = req.headers();
    let mut res = match plan(headers, &meta, &etag) {
        Answer::NotModified => {
            let mut res = HttpResponse::NotModified();
            validators(&mut res, &meta, &etag);
            return Ok(res.finish());
        }
        Answer::Unsatisfiable => {
            return Err(ApiError::new(ErrorCode::RangeNotSatisfiable)
                .message(format!(
                    "The range is outside the file ({} bytes)",
                    meta.size
                ))
                .details(serde_json::json!({ "size": meta.size }))
                .header(
                    header::CONTENT_RANGE,
                    header_value(&format!("bytes */{}", meta.size)),
                ));
        }
        Answer::Whole => (HttpResponse::Ok(), 0..meta.size),
        Answer::Part(range) => {
            let mut res = HttpResponse::build(StatusCode::PARTIAL_CONTENT);
            res.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{}", range.start, range.end - 1, meta.size),
            ));
            (res, range)
        }
    };
    let (ref mut builder, ref range) = res;
    validators(builder, &meta, &etag);
    let len = range.end - range.start;
    let body = state.videos.open_artifact(&artifact, range.clone()).await?;
    let log = state.log.clone();
    let shown = format!("{}/{}", artifact.video, artifact.name);
    let body = body.map(move |chunk| {
        chunk.map_err(|e| {
            // The status is sent: a failure now can only cut the body short.
            slog::warn!(log, "artifact stream failed"; "artifact" => &shown, "error" => e.to_string());
            std::io::Error::other(e.to_string())
        })
    });
    Ok(builder
        .insert_header((header::CONTENT_TYPE, artifact.content_type()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", artifact.name),
        ))
        .no_chunking(len)
        .streaming(body))
}

/// What to answer, from the request's conditional and range headers.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    NotModified,
    Whole,
    Part(std::ops::Range<u64>),
    Unsatisfiable,
}

/// RFC 9110 §13.2.2 in the order that applies to a `GET` of a file that
/// exists: `If-None-Match` (else `If-Modified-Since`), then `If-Range`, then
/// `Range`.
fn plan(headers: &HeaderMap, meta: &ArtifactMeta, etag: &str) -> Answer {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(tags) = text(header::IF_NONE_MATCH) {
        if none_match_hits(tags, etag) {
            return Answer::NotModified;
        }
    } else if let (Some(since), Some(modified)) = (
        text(header::IF_MODIFIED_SINCE).and_then(http_date),
        meta.last_modified,
    ) && modified.timestamp() <= since.timestamp()
    {
        return Answer::NotModified;
    }
    let Some(range) = text(header::RANGE) else {
        return Answer::Whole;
    };
    if let Some(condition) = text(header::IF_RANGE) {
        let current = if condition.trim_start().starts_with('"') {
            // A strong comparison: a weak tag never matches.
            condition.trim() == etag
        } else {
            match (http_date(condition), meta.last_modified) {
                (Some(date), Some(modified)) => modified.timestamp() <= date.timestamp(),
                _ => false,
            }
        };
        if !current {
            return Answer::Whole;
        }
    }
    // One range of bytes; several, another unit or a malformed header are
    // ignored (the whole file), as RFC 9110 allows.
    let Some(spec) = range.trim().strip_prefix("bytes=") else {
        return Answer::Whole;
    };
    if spec.contains(',') {
        return Answer::Whole;
    }
    match ByteRange::parse(spec).map(|r| r.resolve(meta.size)) {
        None => Answer::Whole,
        Some(Ok(range)) => Answer::Part(range),
        Some(Err(_)) => Answer::Unsatisfiable,
    }
}

/// Whether an `If-None-Match` list names `etag` (a weak comparison: `W/`
/// is ignored), or is `*`.
fn none_match_hits(tags: &str, etag: &str) -> bool {
    tags.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

fn http_date(text: &str) -> Option<DateTime<Utc>> {
    // IMF-fixdate ("Wed, 28 Jan 2026 14:00:00 GMT") is RFC 2822 syntax.
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("bytes */0"))
}

fn validators(res: &mut actix_web::HttpResponseBuilder, meta: &ArtifactMeta, etag: &str) {
    res.insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::ETAG, etag.to_owned()));
    if let Some(modified) = meta.last_modified {
        res.insert_header((
            header::LAST_MODIFIED,
            modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn meta() -> ArtifactMeta {
        ArtifactMeta {
            size: 1000,
            etag: "abc".into(),
            last_modified: Some(Utc.with_ymd_and_hms(2026, 1, 28, 14, 0, 0).unwrap()),
        }
    }

    fn answer(pairs: &[(&'static str, &str)]) -> Answer {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                header::HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        plan(&headers, &meta(), "\"abc\"")
    }

    #[test]
    fn ranges_and_conditions_follow_rfc_9110() {
        assert_eq!(answer(&[]), Answer::Whole);
        assert_eq!(answer(&[("range", "bytes=0-99")]), Answer::Part(0..100));
        assert_eq!(answer(&[("range", "bytes=900-")]), Answer::Part(900..1000));
        assert_eq!(answer(&[("range", "bytes=-10")]), Answer::Part(990..1000));
        assert_eq!(
            answer(&[("range", "bytes=990-5000")]),
            Answer::Part(990..1000)
        );
        assert_eq!(answer(&[("range", "bytes=1000-")]), Answer::Unsatisfiable);
        for ignored in ["bytes=5-1", "bytes=0-1,5-9", "items=0-1", "bytes=x"] {
            assert_eq!(answer(&[("range", ignored)]), Answer::Whole, "{ignored}");
        }
        assert_eq!(answer(&[("if-none-match", "\"abc\"")]), Answer::NotModified);
        assert_eq!(
            answer(&[("if-none-match", "\"x\", W/\"abc\"")]),
            Answer::NotModified
        );
        assert_eq!(answer(&[("if-none-match", "*")]), Answer::NotModified);
        assert_eq!(
            answer(&[("if-none-match", "\"x\""), ("range", "bytes=0-0")]),
            Answer::Part(0..1)
        );
        let date = "Wed, 28 Jan 2026 14:00:00 GMT";
        assert_eq!(answer(&[("if-modified-since", date)]), Answer::NotModified);
        assert_eq!(
            answer(&[("if-modified-since", "Tue, 27 Jan 2026 14:00:00 GMT")]),
            Answer::Whole
        );
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            answer(&[("if-none-match", "\"x\""), ("if-modified-since", date)]),
            Answer::Whole
        );
        let range = ("range", "bytes=0-9");
        assert_eq!(
            answer(&[range, ("if-range", "\"abc\"")]),
            Answer::Part(0..10)
        );
        assert_eq!(answer(&[range, ("if-range", "\"old\"")]), Answer::Whole);
        assert_eq!(answer(&[range, ("if-range", "W/\"abc\"")]), Answer::Whole);
        assert_eq!(answer(&[range, ("if-range", date)]), Answer::Part(0..10));
        assert_eq!(
            answer(&[range, ("if-range", "Tue, 27 Jan 2026 14:00:00 GMT")]),
            Answer::Whole
        );
    }
}
