//! Accounts over HTTP: register, login, refresh, logout, me, the admin's user
//! update (`handlers`); the `Authenticated` / `ApiUser` extractors every
//! protected route uses (`extractors`); and the revocation cache that keeps
//! revocation checks cheap (`revocation`). `blocking` here serves every
//! handler of the edge.

mod extractors;
mod handlers;
mod revocation;

use actix_web::web;

use super::error::ApiError;
pub use extractors::{ApiUser, Authed, Authenticated, IpLimited, client_ip, record_limit};
// Everything public of the handlers: the routes and `configure`, their
// bodies, and the `#[utoipa::path]` items `ApiDoc` names (`auth::register`).
pub use handlers::*;
pub use revocation::RevocationCache;

/// Runs blocking use-case code on the blocking pool.
///
/// # Errors
/// The closure's error, or INTERNAL_001 when the pool fails.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    web::block(f).await.map_err(ApiError::internal)?
}
