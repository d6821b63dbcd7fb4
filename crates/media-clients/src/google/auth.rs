//! Credentials: a Gemini API key, or OAuth2 access tokens minted from a
//! service-account key (JWT bearer grant, RFC 7523) and cached.
//!
//! The token flow: an RS256 JWT `{iss: client_email, scope:
//! cloud-platform, aud: token_uri, iat, exp: iat + 3600}` signed with the
//! key's `private_key` is posted to `token_uri` as
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>`;
//! the answer's `access_token` is used as `Authorization: Bearer` until
//! [`GoogleConfig::token_refresh_margin`](super::GoogleConfig) before its
//! `expires_in`. One refresh runs at a time: concurrent callers wait for it
//! and share the new token. Should a refresh fail while the old token has
//! not expired yet, the old one is used.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::RequestBuilder;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;
use ytvc_domain::media::{MediaError, Service};

use super::GoogleSetupError;
use super::config::{CallTimeouts, Secret};
use super::http::{excerpt, str_at, transport_failure, unavailable};
use crate::resilience::Failure;

/// The OAuth scope of every Vertex AI / Cloud TTS call.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The lifetime asked for each assertion (and so each token).
const ASSERTION_LIFETIME_SECS: u64 = 3600;

/// The fields of a service-account key file that the token flow uses.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    /// The account's e-mail: the JWT issuer.
    pub client_email: String,
    /// The RSA private key, PEM (PKCS#8 or PKCS#1).
    #[serde(deserialize_with = "secret_string")]
    pub private_key: Secret,
    /// The key id, sent as the JWT `kid`.
    #[serde(default)]
    pub private_key_id: Option<String>,
    /// Where tokens are minted (`https://oauth2.googleapis.com/token`).
    #[serde(default = "default_token_uri")]
    pub token_uri: String,
    /// The project the account belongs to.
    #[serde(default)]
    pub project_id: Option<String>,
}

fn secret_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

fn default_token_uri() -> String {
    "https://oauth2.googleapis.com/token".into()
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key", &self.private_key)
            .field("token_uri", &self.token_uri)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// Reads a key file's JSON.
    ///
    /// # Errors
    ///
    /// [`GoogleSetupError::ServiceAccountKey`] when the JSON lacks
    /// `client_email` or `private_key` (the reason never quotes the file).
    pub fn from_json(json: &str) -> Result<Self, GoogleSetupError> {
        serde_json::from_str(json).map_err(|e| {
            GoogleSetupError::ServiceAccountKey(format!(
                "not a service-account key (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }

    /// Reads a key file.
    ///
    /// # Errors
    ///
    /// [`GoogleSetupError::ServiceAccountKey`] when it cannot be read or
    /// parsed.
    pub fn from_file(path: &Path) -> Result<Self, GoogleSetupError> {
        let json = std::fs::read_to_string(path)
            .map_err(|e| GoogleSetupError::ServiceAccountKey(format!("{}: {e}", path.display())))?;
        Self::from_json(&json)
    }
}

/// How requests are authenticated.
#[derive(Debug)]
pub(crate) enum Auth {
    /// The Gemini Developer API: `x-goog-api-key: <key>`.
    ApiKey(Secret),
    /// Vertex AI: `Authorization: Bearer <token>`.
    ServiceAccount(Box<TokenSource>),
}

impl Auth {
    /// `request` with its credentials, for a call of `service`.
    pub(crate) async fn apply(
        &self,
        request: RequestBuilder,
        service: Service,
    ) -> Result<RequestBuilder, Failure> {
        match self {
            Auth::ApiKey(key) => {
                let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
                    Failure::permanent(unavailable(service, "the API key is not a valid header"))
                })?;
                value.set_sensitive(true);
                Ok(request.header("x-goog-api-key", value))
            }
            Auth::ServiceAccount(source) => {
                let token = source.token(service).await?;
                Ok(request.bearer_auth(token.expose()))
            }
        }
    }
}

#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Debug, Clone)]
struct CachedToken {
    token: Secret,
    /// Refresh from here on.
    refresh_at: Instant,
    /// Unusable from here on.
    expires_at: Instant,
}

/// Mints and caches access tokens for one service account.
pub(crate) struct TokenSource {
    key: ServiceAccountKey,
    signing_key: EncodingKey,
    http: reqwest::Client,
    margin: Duration,
    cache: Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("key", &self.key)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A token source for `key`.
    pub(crate) fn new(
        key: ServiceAccountKey,
        timeouts: CallTimeouts,
        margin: Duration,
    ) -> Result<Self, GoogleSetupError> {
        let signing_key =
            EncodingKey::from_rsa_pem(key.private_key.expose().as_bytes()).map_err(|_| {
                GoogleSetupError::ServiceAccountKey("private_key is not an RSA PEM key".into())
            })?;
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .build()
            .map_err(|e| GoogleSetupError::Http(e.to_string()))?;
        Ok(Self {
            key,
            signing_key,
            http,
            margin,
            cache: Mutex::new(None),
        })
    }

    /// A valid access token: the cached one, or a new one.
    pub(crate) async fn token(&self, service: Service) -> Result<Secret, Failure> {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        if let Some(cached) = cache.as_ref().filter(|c| now < c.refresh_at) {
            return Ok(cached.token.clone());
        }
        match self.fetch(service).await {
            Ok(fresh) => {
                let token = fresh.token.clone();
                *cache = Some(fresh);
                Ok(token)
            }
            Err(failure) => match cache.as_ref().filter(|c| Instant::now() < c.expires_at) {
                Some(still_valid) => Ok(still_valid.token.clone()),
                None => Err(failure),
            },
        }
    }

    async fn fetch(&self, service: Service) -> Result<CachedToken, Failure> {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            iss: &self.key.client_email,
            scope: CLOUD_PLATFORM_SCOPE,
            aud: &self.key.token_uri,
            iat,
            exp: iat + ASSERTION_LIFETIME_SECS,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid.clone_from(&self.key.private_key_id);
        let assertion =
            jsonwebtoken::encode(&header, &claims, &self.signing_key).map_err(|_| {
                Failure::permanent(unavailable(service, "signing the token assertion failed"))
            })?;
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        );
        let started = Instant::now();
        let response = self
            .http
            .post(&self.key.token_uri)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| transport_failure(service, &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_failure(service, &e))?;
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            // `{"error": "invalid_grant", "error_description": "..."}`.
            let reason = format!(
                "token endpoint: HTTP {} {}",
                status.as_u16(),
                excerpt(str_at(&json, "error"))
            );
            let error = unavailable(service, reason);
            return Err(
                if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
                    Failure::transient(error)
                } else {
                    Failure::permanent(error)
                },
            );
        }
        let token = str_at(&json, "access_token");
        if token.is_empty() {
            return Err(Failure::permanent(MediaError::Unavailable {
                service,
                reason: "token endpoint: no access_token in the answer".into(),
            }));
        }
        // Google's tokens live an hour; a larger (or absurd) figure is
        // capped rather than trusted (and cannot overflow the instant).
        let lifetime = Duration::from_secs(
            json.get("expires_in")
                .and_then(Value::as_u64)
                .unwrap_or(ASSERTION_LIFETIME_SECS)
                .min(ASSERTION_LIFETIME_SECS),
        );
        let expires_at = started.checked_add(lifetime).unwrap_or(started);
        Ok(CachedToken {
            token: Secret::new(token),
            refresh_at: expires_at.checked_sub(self.margin).unwrap_or(started),
            expires_at,
        })
    }
}
