//! The extractors of protected and IP-limited routes: a request is answered
//! in the order authenticate → rate limit → the rest.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures::future::LocalBoxFuture;
use ytvc_domain::accounts::User;
use ytvc_domain::auth::AuthError;
use ytvc_domain::keys::Credential;

use crate::http::error::ApiError;
use crate::http::middleware::LoggedUser;
use crate::limits::{AppliedLimits, LimitKind};
use crate::state::AppState;

/// The client IP used for per-IP limits.
#[must_use]
pub fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return first.to_owned();
    }
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

/// Records a rate-limit decision on the request, for the response headers.
pub fn record_limit(req: &HttpRequest, applied: crate::limits::Applied) {
    let mut ext = req.extensions_mut();
    match ext.get_mut::<AppliedLimits>() {
        Some(list) => list.0.push(applied),
        None => {
            ext.insert(AppliedLimits(vec![applied]));
        }
    }
}

async fn limit_ip(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let ip = client_ip(req, state.config.trust_forwarded_for);
    let applied = state.limits.check_ip(&ip).await?;
    record_limit(req, applied);
    Ok(())
}

async fn limit_unauthenticated(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let ip = client_ip(req, state.config.trust_forwarded_for);
    let applied = state.limits.check_unauth_ip(&ip).await?;
    record_limit(req, applied);
    Ok(())
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Err(AuthError::MissingCredentials.into());
    };
    let value = value
        .to_str()
        .map_err(|_| AuthError::InvalidToken("non-ASCII header".into()))?;
    let mut parts = value.splitn(2, ' ');
    match (parts.next(), parts.next()) {
        (Some(scheme), Some(token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(AuthError::InvalidToken("not a bearer token".into()).into()),
    }
}

/// An authenticated caller (access token or API key verified, not revoked,
/// account loaded; a key's scope checked for the route, see `scopes`),
/// WITHOUT counting the API rate limit (used by `GET /v1/quota`).
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The account as stored now (a key's owner).
    pub user: User,
    /// The verified access token or API key.
    pub credential: Credential,
}

impl Authenticated {
    async fn extract(req: &HttpRequest) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::internal("application state missing"))?
            .clone();
        let result = async {
            let token = bearer(req)?;
            let (user, credential) = super::credential::authenticate(&state, &token).await?;
            Ok::<_, ApiError>(Self { user, credential })
        }
        .await;
        match result {
            Ok(who) => {
                req.extensions_mut()
                    .insert(LoggedUser(who.user.id.to_string()));
                Ok(who)
            }
            Err(err) => {
                // Failed authentications count against the client IP (token
                // guessing is credential stuffing too) and carry its headers,
                // in a budget of their own: a client polling with an expired
                // token must still be able to refresh it.
                limit_unauthenticated(req, &state).await?;
                Err(err)
            }
        }
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let who = Self::extract(&req).await?;
            super::scopes::authorize(&req, &who.credential)?;
            Ok(who)
        })
    }
}

/// An authenticated caller whose request was counted against the plan's
/// general API limit, then whose key was checked for the route's scope
/// (authenticate → rate limit → scope → handler).
#[derive(Debug, Clone)]
pub struct ApiUser {
    /// The account as stored now (a key's owner).
    pub user: User,
    /// The verified access token or API key.
    pub credential: Credential,
}

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let who = Authenticated::extract(&req).await?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("application state missing"))?
                .clone();
            let applied = state.limits.check_user(&who.user, LimitKind::Api).await?;
            record_limit(&req, applied);
            super::scopes::authorize(&req, &who.credential)?;
            Ok(Self {
                user: who.user,
                credential: who.credential,
            })
        })
    }
}

/// An [`ApiUser`] and `T` (a body or query extractor), with `T` extracted
/// only once the caller is authenticated and counted: a request is answered
/// in the order authenticate → rate limit → the rest, whatever else is wrong
/// with it (a bad body from an unknown caller is AUTH_001, and a bad body
/// from a known one still counts against its API limit).
#[derive(Debug)]
pub struct Authed<T> {
    /// The caller.
    pub who: ApiUser,
    /// What `T` extracted.
    pub data: T,
}

impl<T> FromRequest for Authed<T>
where
    T: FromRequest + 'static,
    T::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let who = ApiUser::from_request(&req, &mut Payload::None).await?;
            let data = T::from_request(&req, &mut payload)
                .await
                .map_err(Into::into)?;
            Ok(Self { who, data })
        })
    }
}

/// `T` (the body) extracted only once the request was counted against its
/// client IP's limit (register, login, refresh): a malformed body counts too,
/// and its answer carries the limit's headers like every /v1 answer.
#[derive(Debug)]
pub struct IpLimited<T>(pub T);

impl<T> FromRequest for IpLimited<T>
where
    T: FromRequest + 'static,
    T::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("application state missing"))?
                .clone();
            limit_ip(&req, &state).await?;
            let data = T::from_request(&req, &mut payload)
                .await
                .map_err(Into::into)?;
            Ok(Self(data))
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{AUTHORIZATION, HeaderValue};
    use actix_web::test::TestRequest;
    use ytvc_error_codes::ErrorCode;

    use super::*;

    fn bearer_of(value: Option<HeaderValue>) -> Result<String, ErrorCode> {
        let req = match value {
            Some(v) => TestRequest::default().insert_header((AUTHORIZATION, v)),
            None => TestRequest::default(),
        };
        bearer(&req.to_http_request()).map_err(|e| e.code())
    }

    #[test]
    fn only_a_bearer_token_is_read() {
        let text = |s: &'static str| Some(HeaderValue::from_static(s));
        assert_eq!(bearer_of(text("Bearer abc.def")), Ok("abc.def".into()));
        assert_eq!(bearer_of(text("bearer  abc ")), Ok("abc".into()));
        assert_eq!(bearer_of(None), Err(ErrorCode::MissingCredentials));
        for bad in ["Basic YWRhOnB3", "Bearer", "Bearer   ", "abc"] {
            assert_eq!(bearer_of(text(bad)), Err(ErrorCode::InvalidToken), "{bad}");
        }
        let latin1 = HeaderValue::from_bytes(b"Bearer caf\xe9").unwrap();
        assert_eq!(bearer_of(Some(latin1)), Err(ErrorCode::InvalidToken));
    }

    #[test]
    fn the_client_ip_is_the_peers_unless_forwarded_for_is_trusted() {
        let peer = "192.0.2.1:4321".parse().unwrap();
        let forwarded = |value: &'static str| {
            TestRequest::default()
                .peer_addr(peer)
                .insert_header(("x-forwarded-for", value))
                .to_http_request()
        };
        let req = forwarded("203.0.113.7, 10.0.0.1");
        assert_eq!(client_ip(&req, false), "192.0.2.1");
        assert_eq!(client_ip(&req, true), "203.0.113.7");
        assert_eq!(client_ip(&forwarded("not-an-ip"), true), "192.0.2.1");
        let unknown = TestRequest::default().to_http_request();
        assert_eq!(client_ip(&unknown, true), "unknown");
    }
}
