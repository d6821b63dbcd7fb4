//! Rate limiting: the shared store, the per-IP limits of the auth routes and
//! of failed authentications, and where the client IP comes from.

use super::secret::Secret;
use super::setting::{DefaultValue, Setting};
use super::sources::{Sources, number};

pub(super) const REDIS_URL: Setting = Setting {
    key: "redis_url",
    var: "REDIS_URL",
    default: DefaultValue::Unset("unset: in-memory"),
    meaning: "shared rate-limit store (`redis://…`)",
};
pub(super) const AUTH_IP_LIMIT_PER_MINUTE: Setting = Setting {
    key: "auth_ip_limit_per_minute",
    var: "YTVC_AUTH_IP_LIMIT_PER_MINUTE",
    default: DefaultValue::Value("30"),
    meaning: "register / login / refresh requests per client IP per minute",
};
pub(super) const UNAUTH_IP_LIMIT_PER_MINUTE: Setting = Setting {
    key: "unauth_ip_limit_per_minute",
    var: "YTVC_UNAUTH_IP_LIMIT_PER_MINUTE",
    default: DefaultValue::Value("60"),
    meaning: "requests with a missing or bad bearer token on a protected route, per client IP per minute (a budget apart from register / login / refresh)",
};
pub(super) const TRUST_FORWARDED_FOR: Setting = Setting {
    key: "trust_forwarded_for",
    var: "YTVC_TRUST_FORWARDED_FOR",
    default: DefaultValue::Value("false"),
    meaning: "take the client IP from `X-Forwarded-For` (only behind a trusted proxy)",
};

/// The rate-limit settings (see [`super::Config`]).
pub(super) struct LimitSettings {
    pub(super) redis_url: Option<Secret<String>>,
    pub(super) auth_ip_limit_per_minute: u32,
    pub(super) unauth_ip_limit_per_minute: u32,
    pub(super) trust_forwarded_for: bool,
}

impl LimitSettings {
    /// Parses and validates the group.
    pub(super) fn load(src: &mut Sources) -> Self {
        Self {
            redis_url: src.optional(&REDIS_URL, |s| {
                if s.starts_with("redis://") || s.starts_with("rediss://") {
                    Ok(Secret::new(s.to_owned()))
                } else {
                    Err("expected redis://HOST:PORT".into())
                }
            }),
            auth_ip_limit_per_minute: src.value(&AUTH_IP_LIMIT_PER_MINUTE, number(1..=100_000)),
            unauth_ip_limit_per_minute: src.value(&UNAUTH_IP_LIMIT_PER_MINUTE, number(1..=100_000)),
            trust_forwarded_for: src.value(&TRUST_FORWARDED_FOR, |s| match s {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err("expected true or false".into()),
            }),
        }
    }
}
