//! Which scope each protected route needs of an API key.
//!
//! | route | scope |
//! |---|---|
//! | `GET /v1/videos`, `GET /v1/videos/{id}`, `GET /v1/videos/{id}/artifacts/{name}` | `videos:read` |
//! | `GET /v1/batches`, `GET /v1/batches/{id}` | `videos:read` |
//! | `GET /v1/analytics/usage`, `GET /v1/quota` | `videos:read` |
//! | `POST /v1/videos`, `POST /v1/videos/{id}/cancel` | `videos:write` |
//! | `POST /v1/batches`, `POST /v1/batches/{id}/cancel` | `videos:write` |
//! | `GET /v1/auth/me` | `account` |
//! | `POST /v1/api-keys`, `GET /v1/api-keys`, `DELETE /v1/api-keys/{id}` | `account` |
//! | `PATCH /v1/admin/users/{id}` | `account` (and the admin role) |
//! | `POST /v1/auth/logout` | a session only: it ends the session of an access token |
//! | `publish`, `webhooks` | no routes yet |
//!
//! A session (an access token from login) holds every scope: it is the user
//! acting themselves. A key is refused on a route it lacks the scope of
//! with AUTH_005 and `details.scope`, after it was authenticated and counted
//! against its owner's API limit. A protected route missing from the table
//! refuses every key (AUTH_005): a new route is closed to keys until it is
//! listed here (a test checks that every secured operation of the OpenAPI
//! document is listed, and the document shows each one's scope).

use actix_web::HttpRequest;
use ytvc_domain::auth::AuthError;
use ytvc_domain::keys::{Credential, Scope};

use crate::http::error::ApiError;

/// What a route asks of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// This scope.
    Scope(Scope),
    /// A session: keys cannot call it.
    Session,
}

use Needs::{Scope as S, Session};
use Scope::{Account, VideosRead, VideosWrite};

/// `(method, route pattern, what it needs)`, patterns as actix and the
/// OpenAPI document write them.
pub const ROUTE_SCOPES: &[(&str, &str, Needs)] = &[
    ("GET", "/v1/videos", S(VideosRead)),
    ("GET", "/v1/videos/{id}", S(VideosRead)),
    ("GET", "/v1/videos/{id}/artifacts/{name}", S(VideosRead)),
    ("GET", "/v1/batches", S(VideosRead)),
    ("GET", "/v1/batches/{id}", S(VideosRead)),
    ("GET", "/v1/analytics/usage", S(VideosRead)),
    ("GET", "/v1/quota", S(VideosRead)),
    ("POST", "/v1/videos", S(VideosWrite)),
    ("POST", "/v1/videos/{id}/cancel", S(VideosWrite)),
    ("POST", "/v1/batches", S(VideosWrite)),
    ("POST", "/v1/batches/{id}/cancel", S(VideosWrite)),
    ("GET", "/v1/auth/me", S(Account)),
    ("POST", "/v1/api-keys", S(Account)),
    ("GET", "/v1/api-keys", S(Account)),
    ("DELETE", "/v1/api-keys/{id}", S(Account)),
    ("PATCH", "/v1/admin/users/{id}", S(Account)),
    ("POST", "/v1/auth/logout", Session),
];

/// What `method pattern` needs of a key; `None` when it is not listed.
#[must_use]
pub fn needs(method: &str, pattern: &str) -> Option<Needs> {
    ROUTE_SCOPES
        .iter()
        .find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == pattern)
        .map(|(_, _, n)| *n)
}

/// Whether `credential` may call the route `req` matched.
///
/// # Errors
/// AUTH_005: a key without the route's scope (`details.scope`), a key on a
/// session-only or unlisted route.
pub fn authorize(req: &HttpRequest, credential: &Credential) -> Result<(), ApiError> {
    if credential.api_key().is_none() {
        return Ok(());
    }
    let pattern = req.match_pattern();
    match pattern.and_then(|p| needs(req.method().as_str(), &p)) {
        Some(Needs::Scope(scope)) => Ok(credential.require(scope)?),
        Some(Needs::Session) => Err(AuthError::Forbidden(
            "this route needs a session (an access token from login), not an API key",
        )
        .into()),
        None => Err(AuthError::Forbidden("API keys cannot call this route").into()),
    }
}
