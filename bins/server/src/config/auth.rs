//! Authentication: the signing of access tokens, session lifetimes and
//! registration.

use std::path::PathBuf;
use std::time::Duration;

use super::secret::Secret;
use super::server::Environment;
use super::setting::{DefaultValue, Setting};
use super::sources::{Sources, existing_file, number};

/// The signing algorithm of access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with `YTVC_JWT_SECRET`.
    Hs256,
    /// Ed25519 with key files.
    EdDsa,
    /// RSA SHA-256 with key files.
    Rs256,
}

/// Access-token settings.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// The one accepted algorithm.
    pub algorithm: JwtAlgorithm,
    /// Private key file (asymmetric algorithms).
    pub private_key_file: Option<PathBuf>,
    /// Public key file (asymmetric algorithms).
    pub public_key_file: Option<PathBuf>,
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// Skew tolerated.
    pub leeway: Duration,
    /// Access token lifetime.
    pub access_ttl: Duration,
    /// Refresh session lifetime.
    pub refresh_ttl: Duration,
    /// Bound on how stale another instance's revocation view may be.
    pub revocation_cache: Duration,
}

pub(super) const JWT_SECRET: Setting = Setting {
    key: "jwt_secret",
    var: "YTVC_JWT_SECRET",
    default: DefaultValue::Unset("dev: generated key file"),
    meaning: "HS256 signing secret (at least 32 bytes)",
};
pub(super) const JWT_ALGORITHM: Setting = Setting {
    key: "jwt_algorithm",
    var: "YTVC_JWT_ALGORITHM",
    default: DefaultValue::Value("HS256"),
    meaning: "`HS256` (secret), `EdDSA` or `RS256` (PEM key files); the only algorithm accepted",
};
pub(super) const JWT_PRIVATE_KEY_FILE: Setting = Setting {
    key: "jwt_private_key_file",
    var: "YTVC_JWT_PRIVATE_KEY_FILE",
    default: DefaultValue::Unset("none"),
    meaning: "PKCS#8 PEM private key (EdDSA / RS256)",
};
pub(super) const JWT_PUBLIC_KEY_FILE: Setting = Setting {
    key: "jwt_public_key_file",
    var: "YTVC_JWT_PUBLIC_KEY_FILE",
    default: DefaultValue::Unset("none"),
    meaning: "SPKI PEM public key (EdDSA / RS256)",
};
pub(super) const JWT_ISSUER: Setting = Setting {
    key: "jwt_issuer",
    var: "YTVC_JWT_ISSUER",
    default: DefaultValue::Value("ytvc"),
    meaning: "`iss` of access tokens (written and required)",
};
pub(super) const JWT_AUDIENCE: Setting = Setting {
    key: "jwt_audience",
    var: "YTVC_JWT_AUDIENCE",
    default: DefaultValue::Value("ytvc-api"),
    meaning: "`aud` of access tokens (written and required)",
};
pub(super) const JWT_LEEWAY_SECS: Setting = Setting {
    key: "jwt_leeway_secs",
    var: "YTVC_JWT_LEEWAY_SECS",
    default: DefaultValue::Value("30"),
    meaning: "clock skew tolerated on `exp` / `nbf` / `iat` (0..=300)",
};
pub(super) const ACCESS_TOKEN_TTL_SECS: Setting = Setting {
    key: "access_token_ttl_secs",
    var: "YTVC_ACCESS_TOKEN_TTL_SECS",
    default: DefaultValue::Value("900"),
    meaning: "access token lifetime (60..=86400)",
};
pub(super) const REFRESH_TOKEN_TTL_DAYS: Setting = Setting {
    key: "refresh_token_ttl_days",
    var: "YTVC_REFRESH_TOKEN_TTL_DAYS",
    default: DefaultValue::Value("30"),
    meaning: "refresh session lifetime (1..=365)",
};
pub(super) const REVOCATION_CACHE_MS: Setting = Setting {
    key: "revocation_cache_ms",
    var: "YTVC_REVOCATION_CACHE_MS",
    default: DefaultValue::Value("2000"),
    meaning: "how long another instance may take to honour a revocation (0..=5000)",
};
pub(super) const REGISTRATION: Setting = Setting {
    key: "registration",
    var: "YTVC_REGISTRATION",
    default: DefaultValue::Value("open"),
    meaning: "`open` or `closed` (invite-only: accounts made by admins or the CLI)",
};

/// The authentication settings (see [`super::Config`]).
pub(super) struct AuthSettings {
    pub(super) jwt_secret: Option<Secret<String>>,
    pub(super) jwt: JwtSettings,
    pub(super) registration_open: bool,
}

impl AuthSettings {
    /// Parses and validates the group: an asymmetric algorithm needs both key
    /// files, and `env` production needs a secret.
    pub(super) fn load(src: &mut Sources, env: Environment) -> Self {
        let jwt_secret = src.optional(&JWT_SECRET, |s| {
            if s.len() >= 32 {
                Ok(Secret::new(s.to_owned()))
            } else {
                Err("must be at least 32 bytes".into())
            }
        });
        let jwt = JwtSettings::load(src);
        let registration_open = src.value(&REGISTRATION, |s| match s {
            "open" => Ok(true),
            "closed" => Ok(false),
            _ => Err("expected `open` or `closed`".into()),
        });
        let algorithm = jwt.algorithm;
        if algorithm != JwtAlgorithm::Hs256
            && (jwt.private_key_file.is_none() || jwt.public_key_file.is_none())
        {
            let origin = src.origin(&JWT_ALGORITHM);
            src.refuse(format!(
                "{origin}: {algorithm:?} needs YTVC_JWT_PRIVATE_KEY_FILE and YTVC_JWT_PUBLIC_KEY_FILE"
            ));
        }
        if env == Environment::Production && jwt_secret.is_none() && !src.is_set(&JWT_SECRET) {
            let origin = src.origin(&JWT_SECRET);
            src.refuse(format!(
                "{origin}: required in production (at least 32 bytes)"
            ));
        }
        Self {
            jwt_secret,
            jwt,
            registration_open,
        }
    }
}

impl JwtSettings {
    fn load(src: &mut Sources) -> Self {
        let text = |what: &'static str| {
            move |s: &str| {
                if s.is_empty() || s.len() > 200 {
                    Err(format!("expected a non-empty {what}"))
                } else {
                    Ok(s.to_owned())
                }
            }
        };
        Self {
            algorithm: src.value(&JWT_ALGORITHM, |s| match s.to_ascii_uppercase().as_str() {
                "HS256" => Ok(JwtAlgorithm::Hs256),
                "EDDSA" => Ok(JwtAlgorithm::EdDsa),
                "RS256" => Ok(JwtAlgorithm::Rs256),
                _ => Err("expected HS256, EdDSA or RS256".into()),
            }),
            private_key_file: src.optional(&JWT_PRIVATE_KEY_FILE, existing_file),
            public_key_file: src.optional(&JWT_PUBLIC_KEY_FILE, existing_file),
            issuer: src.value(&JWT_ISSUER, text("issuer")),
            audience: src.value(&JWT_AUDIENCE, text("audience")),
            leeway: Duration::from_secs(src.value(&JWT_LEEWAY_SECS, number(0..=300))),
            access_ttl: Duration::from_secs(src.value(&ACCESS_TOKEN_TTL_SECS, number(60..=86_400))),
            refresh_ttl: Duration::from_secs(
                86_400 * src.value(&REFRESH_TOKEN_TTL_DAYS, number(1..=365)),
            ),
            revocation_cache: Duration::from_millis(
                src.value(&REVOCATION_CACHE_MS, number(0..=5000)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::load;

    #[test]
    fn production_requires_a_secret() {
        let err = load(&[("YTVC_ENV", "production")]).unwrap_err().to_string();
        assert!(
            err.contains("YTVC_JWT_SECRET") && err.contains("production"),
            "{err}"
        );
        load(&[
            ("YTVC_ENV", "production"),
            ("YTVC_JWT_SECRET", &"x".repeat(32)),
        ])
        .unwrap();
    }
}
