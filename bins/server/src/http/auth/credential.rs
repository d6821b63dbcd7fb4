//! The one place that decides what a bearer token is: an API key when it
//! has the `ytvc_` prefix (then its shape and checksum are checked before any
//! lookup), a JWT access token otherwise. Both resolve through the
//! revocation cache, so a key costs what a token costs: a hash and a map
//! lookup on a hit.

use ytvc_domain::accounts::User;
use ytvc_domain::keys::{ApiKey, Credential, KeySecret};

use crate::http::error::ApiError;
use crate::state::AppState;

/// Authenticates a bearer token: the caller's current account and how it
/// authenticated.
///
/// # Errors
/// AUTH_002 for a malformed, mistyped (no storage read), unknown or expired
/// key or a bad JWT; AUTH_003 when revoked; storage errors.
pub async fn authenticate(state: &AppState, token: &str) -> Result<(User, Credential), ApiError> {
    if KeySecret::is_key_shaped(token) {
        let secret = KeySecret::parse(token)?;
        let (key, user) = state.revocations.resolve_key(&state.keys, &secret).await?;
        note_use(state, &key);
        Ok((user, Credential::Key(key)))
    } else {
        let claims = state.auth.verify(token)?;
        let user = state.revocations.resolve(&state.auth, &claims).await?;
        Ok((user, Credential::Session(claims)))
    }
}

/// Records the key's use when a write is due (at most once a minute per
/// key), on the blocking pool and off the request: a failure is logged,
/// never the request's.
fn note_use(state: &AppState, key: &ApiKey) {
    let Some(at) = state.keys.touch_due(key) else {
        return;
    };
    let (keys, id, log) = (state.keys.clone(), key.id, state.log.clone());
    drop(tokio::task::spawn_blocking(move || {
        if let Err(e) = keys.touch(id, at) {
            slog::warn!(log, "cannot record an API key's last use";
                "key_id" => id.to_string(), "cause" => e.to_string());
        }
    }));
}
