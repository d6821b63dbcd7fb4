//! Accounts over HTTP: register, login, refresh, logout, me, the admin's user
//! update (`handlers`); the `Authenticated` / `ApiUser` extractors every
//! protected route uses (`extractors`), which let `credential` decide
//! whether the bearer token is an access token or an API key and `scopes`
//! whether a key may call the route; and the revocation cache that keeps
//! revocation checks cheap for both (`revocation`). `blocking` here serves
//! every handler of the edge.

mod credential;
mod extractors;
mod handlers;
mod revocation;
mod scopes;

use actix_web::web;

use super::error::ApiError;
pub use extractors::{ApiUser, Authed, Authenticated, IpLimited, client_ip, record_limit};
// Everything public of the handlers: the routes and `configure`, their
// bodies, and the `#[utoipa::path]` items `ApiDoc` names (`auth::register`).
pub use credential::authenticate;
pub use handlers::*;
pub use revocation::RevocationCache;
pub use scopes::{Needs, ROUTE_SCOPES, needs};

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
