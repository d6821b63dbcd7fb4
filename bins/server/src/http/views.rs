//! How videos and batches look in the API (the `data` of their answers).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use ytvc_domain::videos::{Accepted, Batch, Video};
use ytvc_error_codes::{ApiResponse, format_timestamp};

/// A failure of a video.
#[derive(Debug, Serialize, ToSchema)]
pub struct VideoErrorView {
    /// The catalog code.
    #[schema(example = "VIDEO_001")]
    pub code: String,
    /// A client-safe message.
    pub message: String,
}

/// One downloadable artifact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactView {
    /// File name.
    #[schema(example = "manifest.json")]
    pub name: String,
    /// Where to download it.
    #[schema(example = "/v1/videos/0193…/artifacts/manifest.json")]
    pub url: String,
}

/// A scene that did not get its first-choice visual.
#[derive(Debug, Serialize, ToSchema)]
pub struct FallbackView {
    /// 1-based scene number.
    #[schema(example = 2)]
    pub scene: u32,
    /// What the scene shows instead of a clip: `still` or `title_card`.
    #[schema(example = "still")]
    pub visual_source: String,
    /// The catalog codes of the generators that failed, in order.
    #[schema(example = json!(["MEDIA_001"]))]
    pub failed: Vec<String>,
}

/// A video as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a1b2-…", "status": "queued", "prompt": "A two-minute documentary about coral reefs",
    "title": null, "duration_seconds": 60, "style": "documentary", "aspect_ratio": "16:9", "voice": "neutral",
    "language": "en", "batch_id": null, "batch_index": null, "priority": 3, "attempts": 0, "error": null,
    "artifacts": null, "video_url": null, "artifacts_expire_at": null, "degraded": false, "fallbacks": [], "created_at": "2026-01-28T14:00:00.000Z", "updated_at": "2026-01-28T14:00:00.000Z",
    "started_at": null, "completed_at": null}))]
pub struct VideoView {
    /// Id.
    pub id: String,
    /// `queued`, `processing`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// The screened prompt.
    pub prompt: String,
    /// Title, if given.
    pub title: Option<String>,
    /// Target length.
    pub duration_seconds: u32,
    /// Style.
    pub style: String,
    /// Aspect ratio.
    pub aspect_ratio: String,
    /// Voice.
    pub voice: String,
    /// Language.
    pub language: String,
    /// Its batch, if any.
    pub batch_id: Option<String>,
    /// Its position in the batch.
    pub batch_index: Option<u32>,
    /// Queue priority (1 = first).
    pub priority: u8,
    /// Runs so far.
    pub attempts: u32,
    /// Why it failed.
    pub error: Option<VideoErrorView>,
    /// The artifacts, once completed.
    pub artifacts: Option<Vec<ArtifactView>>,
    /// Where to download the assembled MP4, once completed.
    pub video_url: Option<String>,
    /// RFC 3339: when the artifact set of the completed video is deleted
    /// by the retention policy (`YTVC_ARTIFACT_RETENTION_DAYS`), or was;
    /// from then on `artifacts` and `video_url` are null and downloads
    /// answer STORAGE_001. Null while not completed, or when sets are kept
    /// forever.
    pub artifacts_expire_at: Option<String>,
    /// Whether any scene fell back from a clip to a still or a title card
    /// (a service failed or its circuit was open).
    pub degraded: bool,
    /// The scenes that fell back, and why (empty unless `degraded`).
    pub fallbacks: Vec<FallbackView>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// RFC 3339.
    pub started_at: Option<String>,
    /// RFC 3339.
    pub completed_at: Option<String>,
}

impl From<&Video> for VideoView {
    fn from(v: &Video) -> Self {
        let spec = &v.spec;
        let artifact_url = |name: &str| format!("/v1/videos/{}/artifacts/{name}", v.id);
        Self {
            id: v.id.to_string(),
            status: v.status.as_str().to_owned(),
            prompt: spec.prompt.as_str().to_owned(),
            title: spec.title.as_ref().map(|t| t.as_str().to_owned()),
            duration_seconds: spec.duration_seconds.get(),
            style: spec.style.as_str().to_owned(),
            aspect_ratio: spec.aspect_ratio.as_str().to_owned(),
            voice: spec.voice.as_str().to_owned(),
            language: spec.language.as_str().to_owned(),
            batch_id: v.batch.map(|(b, _)| b.to_string()),
            batch_index: v.batch.map(|(_, i)| i),
            priority: v.priority,
            attempts: v.attempts,
            error: v.error_code.as_ref().map(|code| VideoErrorView {
                code: code.clone(),
                message: v.error_message.clone().unwrap_or_default(),
            }),
            artifacts: v
                .completed_manifest()
                .filter(|_| v.artifacts_expired_at.is_none())
                .map(|_| {
                    v.artifact_names()
                        .into_iter()
                        .map(|name| ArtifactView {
                            url: artifact_url(&name),
                            name,
                        })
                        .collect()
                }),
            video_url: v.video_file().map(artifact_url),
            artifacts_expire_at: v.artifacts_expire_at.map(format_timestamp),
            degraded: v.degraded(),
            fallbacks: v
                .fallbacks()
                .map(|s| FallbackView {
                    scene: s.index,
                    visual_source: s.visual_source.as_str().to_owned(),
                    failed: s.fallback_codes.clone(),
                })
                .collect(),
            created_at: format_timestamp(v.created_at),
            updated_at: format_timestamp(v.updated_at),
            started_at: v.started_at.map(format_timestamp),
            completed_at: v.completed_at.map(format_timestamp),
        }
    }
}

/// Items of a batch per status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressView {
    /// Waiting.
    pub queued: u32,
    /// Running.
    pub processing: u32,
    /// Done.
    pub completed: u32,
    /// Failed.
    pub failed: u32,
    /// Cancelled.
    pub cancelled: u32,
}

/// A batch as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// Id.
    pub id: String,
    /// Optional name.
    pub name: Option<String>,
    /// `queued`, `processing`, `completed`, `partially_failed`, `failed` or `cancelled`.
    pub status: String,
    /// Number of videos.
    pub total: u32,
    /// Videos per status.
    pub progress: ProgressView,
    /// The videos (on create and get).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub videos: Option<Vec<VideoView>>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl BatchView {
    /// The view of `batch`, with its videos when given (create and get).
    #[must_use]
    pub fn new(b: &Batch, videos: Option<&[Video]>) -> Self {
        Self {
            id: b.id.to_string(),
            name: b.name.clone(),
            status: b.status.as_str().to_owned(),
            total: b.total,
            progress: ProgressView {
                queued: b.counts.queued,
                processing: b.counts.processing,
                completed: b.counts.completed,
                failed: b.counts.failed,
                cancelled: b.counts.cancelled,
            },
            videos: videos.map(|vs| vs.iter().map(VideoView::from).collect()),
            created_at: format_timestamp(b.created_at),
            updated_at: format_timestamp(b.updated_at),
        }
    }
}

/// The 202 body of an accepted submission, at `now`: the batch view for a
/// batch, else the one video's view.
#[must_use]
pub fn accepted_body(accepted: &Accepted, now: DateTime<Utc>) -> String {
    let rendered = match &accepted.batch {
        Some(b) => serde_json::to_string(&ApiResponse::at(
            BatchView::new(b, Some(&accepted.videos)),
            now,
        )),
        None => match accepted.videos.first() {
            Some(v) => serde_json::to_string(&ApiResponse::at(VideoView::from(v), now)),
            None => Ok(String::new()),
        },
    };
    // Serializing these views cannot fail (strings, numbers, options).
    rendered.unwrap_or_default()
}
