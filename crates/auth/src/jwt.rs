//! JWT access tokens with a pinned algorithm, and opaque refresh tokens.

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ytvc_domain::accounts::{Role, User};
use ytvc_domain::auth::{AccessClaims, AuthError, IssuedAccess, TokenService};
use ytvc_domain::ids::{SessionId, TokenId, UserId};
use ytvc_quota::PlanName;

/// The one algorithm tokens are signed and accepted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// HMAC-SHA256 with a shared secret (the default).
    Hs256,
    /// Ed25519 with a PEM key pair.
    EdDsa,
    /// RSA PKCS#1 v1.5 SHA-256 with a PEM key pair.
    Rs256,
}

impl SigningAlgorithm {
    fn jwt(self) -> Algorithm {
        match self {
            SigningAlgorithm::Hs256 => Algorithm::HS256,
            SigningAlgorithm::EdDsa => Algorithm::EdDSA,
            SigningAlgorithm::Rs256 => Algorithm::RS256,
        }
    }
}

/// Where the keys come from.
#[derive(Clone)]
pub enum KeySource {
    /// A shared secret (HS256), at least 32 bytes.
    Secret(Vec<u8>),
    /// PEM-encoded private and public keys (EdDSA, RS256).
    Pem {
        /// The private key (PKCS#8 PEM).
        private: Vec<u8>,
        /// The public key (SPKI PEM).
        public: Vec<u8>,
    },
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeySource::Secret(_) => "Secret([redacted])",
            KeySource::Pem { .. } => "Pem([redacted])",
        })
    }
}

/// Everything the token service needs.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The pinned algorithm.
    pub algorithm: SigningAlgorithm,
    /// The keys.
    pub keys: KeySource,
    /// `iss` written and required.
    pub issuer: String,
    /// `aud` written and required.
    pub audience: String,
    /// Access token lifetime (default 15 min).
    pub access_ttl: Duration,
    /// Refresh session lifetime (default 30 days).
    pub refresh_ttl: Duration,
    /// Clock skew tolerated on `exp`/`nbf`/`iat` (default 30 s).
    pub leeway: Duration,
}

impl JwtConfig {
    /// HS256 with `secret` and the defaults.
    #[must_use]
    pub fn hs256(secret: Vec<u8>) -> Self {
        Self {
            algorithm: SigningAlgorithm::Hs256,
            keys: KeySource::Secret(secret),
            issuer: "ytvc".into(),
            audience: "ytvc-api".into(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            leeway: Duration::from_secs(30),
        }
    }
}

/// Why the keys could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtKeyError {
    /// The secret is shorter than 32 bytes.
    #[error("the signing secret must be at least 32 bytes")]
    SecretTooShort,
    /// The algorithm needs the other kind of key.
    #[error("{0:?} needs {1}")]
    WrongKeyKind(SigningAlgorithm, &'static str),
    /// The PEM could not be parsed.
    #[error("invalid {0} key: {1}")]
    InvalidKey(&'static str, String),
}

/// The claims as serialised.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    jti: String,
    sid: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    iss: String,
    aud: String,
    role: Role,
    plan: String,
}

/// Signs and verifies access tokens with one pinned algorithm.
pub struct JwtTokenService {
    config: JwtConfig,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtTokenService {
    /// Loads the keys and fixes the validation rules.
    ///
    /// # Errors
    /// A short secret, a key of the wrong kind, or an unparsable PEM.
    pub fn new(config: JwtConfig) -> Result<Self, JwtKeyError> {
        let (encoding, decoding) = match (&config.algorithm, &config.keys) {
            (SigningAlgorithm::Hs256, KeySource::Secret(s)) => {
                if s.len() < 32 {
                    return Err(JwtKeyError::SecretTooShort);
                }
                (
                    EncodingKey::from_secret(s)
                        .map_err(|e| JwtKeyError::InvalidKey("secret", e.to_string()))?,
                    DecodingKey::from_secret(s)
                        .map_err(|e| JwtKeyError::InvalidKey("secret", e.to_string()))?,
                )
            }
            (SigningAlgorithm::EdDsa, KeySource::Pem { private, public }) => (
                EncodingKey::from_ed_pem(private)
                    .map_err(|e| JwtKeyError::InvalidKey("private", e.to_string()))?,
                DecodingKey::from_ed_pem(public)
                    .map_err(|e| JwtKeyError::InvalidKey("public", e.to_string()))?,
            ),
            (SigningAlgorithm::Rs256, KeySource::Pem { private, public }) => (
                EncodingKey::from_rsa_pem(private)
                    .map_err(|e| JwtKeyError::InvalidKey("private", e.to_string()))?,
                DecodingKey::from_rsa_pem(public)
                    .map_err(|e| JwtKeyError::InvalidKey("public", e.to_string()))?,
            ),
            (alg @ SigningAlgorithm::Hs256, _) => {
                return Err(JwtKeyError::WrongKeyKind(*alg, "a secret"));
            }
            (alg, _) => return Err(JwtKeyError::WrongKeyKind(*alg, "a PEM key pair")),
        };
        let mut validation = Validation::new(config.algorithm.jwt());
        validation.algorithms = vec![config.algorithm.jwt()];
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        // Time claims are checked against the injected clock in `verify`.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = config.leeway.as_secs();
        Ok(Self {
            config,
            encoding,
            decoding,
            validation,
        })
    }
}

fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn from_ts(s: i64) -> Result<DateTime<Utc>, AuthError> {
    Utc.timestamp_opt(s, 0)
        .single()
        .ok_or_else(|| AuthError::InvalidToken("timestamp out of range".into()))
}

impl TokenService for JwtTokenService {
    fn issue(
        &self,
        user: &User,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> Result<IssuedAccess, AuthError> {
        let ttl = chrono::TimeDelta::from_std(self.config.access_ttl)
            .unwrap_or(chrono::TimeDelta::minutes(15));
        let issued_at = from_ts(ts(now))?;
        let expires_at = issued_at + ttl;
        let token_id = TokenId::new();
        let claims = Claims {
            sub: user.id.to_string(),
            jti: token_id.to_string(),
            sid: session.to_string(),
            iat: ts(issued_at),
            nbf: ts(issued_at),
            exp: ts(expires_at),
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            role: user.role,
            plan: user.plan.as_str().to_owned(),
        };
        let header = Header::new(self.config.algorithm.jwt());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| AuthError::Internal(format!("token signing failed: {e}")))?;
        Ok(IssuedAccess {
            token,
            claims: AccessClaims {
                user: user.id,
                token: token_id,
                session,
                role: user.role,
                plan: user.plan.clone(),
                issued_at,
                expires_at,
            },
        })
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, AuthError> {
        if token.len() > 4096 {
            return Err(AuthError::InvalidToken("token too long".into()));
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        let c = data.claims;
        let now = now.timestamp();
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(0);
        if c.exp <= now - leeway {
            return Err(AuthError::InvalidToken("expired".into()));
        }
        if c.nbf > now + leeway {
            return Err(AuthError::InvalidToken("not yet valid".into()));
        }
        if c.iat > now + leeway {
            return Err(AuthError::InvalidToken("issued in the future".into()));
        }
        let bad = |what: &str| AuthError::InvalidToken(format!("malformed {what}"));
        Ok(AccessClaims {
            user: c.sub.parse::<UserId>().map_err(|_| bad("sub"))?,
            token: c.jti.parse::<TokenId>().map_err(|_| bad("jti"))?,
            session: c.sid.parse::<SessionId>().map_err(|_| bad("sid"))?,
            role: c.role,
            plan: PlanName::parse(&c.plan).map_err(|_| bad("plan"))?,
            issued_at: from_ts(c.iat)?,
            expires_at: from_ts(c.exp)?,
        })
    }

    fn new_refresh_token(&self) -> (String, String) {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let plain = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let hash = self.hash_refresh_token(&plain);
        (plain, hash)
    }

    fn hash_refresh_token(&self, plain: &str) -> String {
        hex::encode(Sha256::digest(plain.as_bytes()))
    }

    fn access_ttl(&self) -> Duration {
        self.config.access_ttl
    }

    fn refresh_ttl(&self) -> Duration {
        self.config.refresh_ttl
    }
}
