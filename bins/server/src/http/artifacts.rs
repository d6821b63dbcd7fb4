//! `GET /v1/videos/{id}/artifacts/{name}`: the files of a completed video,
//! read through the artifact store.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, get, web};

use super::auth::{ApiUser, blocking};
use super::error::ApiError;
use crate::state::AppState;

/// Downloads one artifact of a completed video (owner only).
#[utoipa::path(get, path = "/v1/videos/{id}/artifacts/{name}", tag = "videos",
    params(("id" = String, Path, description = "Video id"), ("name" = String, Path, description = "Artifact file name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, description = "NOT_FOUND_001 (video) / NOT_FOUND_004 (artifact)", body = ytvc_error_codes::ErrorBody),
        (status = 409, description = "VIDEO_002: not ready", body = ytvc_error_codes::ErrorBody),
    ))]
#[get("/v1/videos/{id}/artifacts/{name}")]
pub async fn get_artifact(
    state: web::Data<AppState>,
    who: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let (videos, user) = (state.videos.clone(), who.user.id);
    let artifact = blocking(move || Ok(videos.artifact(user, &id, &name)?)).await?;
    let bytes = state.videos.read_artifact(&artifact).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, artifact.content_type()))
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{}\"", artifact.name),
        ))
        .body(bytes))
}
