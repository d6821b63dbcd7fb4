//! Rate limits of the API: the plan table turned into limiter policies, the
//! checks the edge runs, and the response headers they produce.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use ytvc_domain::accounts::User;
use ytvc_error_codes::ErrorCode;
use ytvc_quota::{PlanName, Plans};
use ytvc_rate_limit::{Decision, Degrade, Policy, RateLimiter};

use crate::http::error::ApiError;

/// The kinds of limit a request can be checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Every authenticated /v1 request except `GET /v1/quota`.
    Api,
    /// `POST /v1/batches`.
    Batch,
    /// `POST /v1/videos`.
    Video,
    /// register / login / refresh, per client IP.
    AuthIp,
    /// A missing or bad bearer token on a protected route, per client IP
    /// (apart from `AuthIp`: a client polling with an expired token can
    /// still refresh it).
    UnauthIp,
}

impl LimitKind {
    /// The policy name used in keys and headers.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            LimitKind::Api => "api",
            LimitKind::Batch => "batch",
            LimitKind::Video => "video",
            LimitKind::AuthIp => "auth_ip",
            LimitKind::UnauthIp => "unauth_ip",
        }
    }

    /// The code of a rejection.
    #[must_use]
    pub const fn code(self) -> ErrorCode {
        match self {
            LimitKind::Api | LimitKind::AuthIp | LimitKind::UnauthIp => ErrorCode::ApiRateExceeded,
            LimitKind::Batch => ErrorCode::BatchRateExceeded,
            LimitKind::Video => ErrorCode::VideoRateExceeded,
        }
    }
}

/// One decision taken for a request, kept to write the headers.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Which limit.
    pub kind: LimitKind,
    /// Its policy.
    pub policy: Policy,
    /// The decision.
    pub decision: Decision,
}

/// The decisions taken for one request (in its extensions).
#[derive(Debug, Clone, Default)]
pub struct AppliedLimits(pub Vec<Applied>);

/// The limiter and the policies of every plan.
pub struct Limits {
    limiter: Arc<dyn RateLimiter>,
    policies: HashMap<(PlanName, LimitKind), Policy>,
    auth_ip: Policy,
    unauth_ip: Policy,
}

impl Limits {
    /// Builds the policies from the plan catalog. The general API limit fails
    /// open when a shared store is unreachable; the others fall back to a
    /// local limiter.
    ///
    /// # Errors
    /// A plan with an invalid limit or window.
    pub fn new(
        limiter: Arc<dyn RateLimiter>,
        plans: &Plans,
        auth_ip_per_minute: u32,
        unauth_ip_per_minute: u32,
    ) -> anyhow::Result<Self> {
        let mut policies = HashMap::new();
        for plan in plans.iter() {
            let r = &plan.rate_limits;
            for (kind, spec, degrade) in [
                (LimitKind::Api, r.api, Degrade::FailOpen),
                (LimitKind::Batch, r.batch_creations, Degrade::LocalFallback),
                (
                    LimitKind::Video,
                    r.video_generations,
                    Degrade::LocalFallback,
                ),
            ] {
                let policy = Policy::new(spec.limit, Duration::from_secs(spec.window_secs))
                    .map_err(|e| {
                        anyhow::anyhow!("plan {}: {} limit: {e}", plan.name.as_str(), kind.name())
                    })?
                    .with_degrade(degrade);
                policies.insert((plan.name.clone(), kind), policy);
            }
        }
        let auth_ip = Policy::per_minute(auth_ip_per_minute)
            .map_err(|e| anyhow::anyhow!("auth IP limit: {e}"))?
            .with_degrade(Degrade::LocalFallback);
        let unauth_ip = Policy::per_minute(unauth_ip_per_minute)
            .map_err(|e| anyhow::anyhow!("unauthenticated IP limit: {e}"))?
            .with_degrade(Degrade::LocalFallback);
        Ok(Self {
            limiter,
            policies,
            auth_ip,
            unauth_ip,
        })
    }

    fn policy(&self, plan: &PlanName, kind: LimitKind) -> Option<&Policy> {
        self.policies.get(&(plan.clone(), kind))
    }

    /// Counts one request of `user` against `kind`.
    ///
    /// # Errors
    /// RATE_001/002/003 (429) with `Retry-After`, the limit headers and
    /// details when the limit is reached.
    pub async fn check_user(&self, user: &User, kind: LimitKind) -> Result<Applied, ApiError> {
        let Some(policy) = self.policy(&user.plan, kind).copied() else {
            return Err(ApiError::new(ErrorCode::Misconfigured).cause(format!(
                "no {} policy for plan {}",
                kind.name(),
                user.plan.as_str()
            )));
        };
        let key = format!("u:{}:{}", user.id, kind.name());
        self.check(&key, policy, kind).await
    }

    /// Counts one request of client `ip` against the auth-endpoint limit.
    ///
    /// # Errors
    /// RATE_001 (429) when the limit is reached.
    pub async fn check_ip(&self, ip: &str) -> Result<Applied, ApiError> {
        let key = format!("ip:{ip}:auth");
        self.check(&key, self.auth_ip, LimitKind::AuthIp).await
    }

    /// Counts one request of client `ip` with missing or bad credentials on
    /// a protected route (its own budget: never the auth endpoints').
    ///
    /// # Errors
    /// RATE_001 (429) when the limit is reached.
    pub async fn check_unauth_ip(&self, ip: &str) -> Result<Applied, ApiError> {
        let key = format!("ip:{ip}:unauth");
        self.check(&key, self.unauth_ip, LimitKind::UnauthIp).await
    }

    /// The state of client `ip`'s auth-endpoint limit, without counting anything.
    pub async fn peek_ip(&self, ip: &str) -> Applied {
        let key = format!("ip:{ip}:auth");
        let decision = self.limiter.peek(&key, &self.auth_ip, 1).await;
        Applied {
            kind: LimitKind::AuthIp,
            policy: self.auth_ip,
            decision,
        }
    }

    /// The state of `user`'s `kind` limit, without counting anything.
    pub async fn peek_user(&self, user: &User, kind: LimitKind) -> Option<Applied> {
        let policy = *self.policy(&user.plan, kind)?;
        let key = format!("u:{}:{}", user.id, kind.name());
        let decision = self.limiter.peek(&key, &policy, 1).await;
        Some(Applied {
            kind,
            policy,
            decision,
        })
    }

    async fn check(&self, key: &str, policy: Policy, kind: LimitKind) -> Result<Applied, ApiError> {
        let decision = self.limiter.check(key, &policy, 1).await;
        let applied = Applied {
            kind,
            policy,
            decision,
        };
        if applied.decision.allowed() {
            Ok(applied)
        } else {
            Err(rejection(&applied))
        }
    }
}

/// The 429 of a refused request.
fn rejection(a: &Applied) -> ApiError {
    let retry = a.decision.retry_after_secs().unwrap_or(1).max(1);
    let window = a.policy.window().as_secs();
    let mut err = ApiError::new(a.kind.code())
        .message(format!(
            "Rate limit exceeded: {} {} requests per {window} s; retry in {retry} s",
            a.policy.limit(),
            a.kind.name()
        ))
        .details(json!({
            "policy": a.kind.name(),
            "limit": a.policy.limit(),
            "window_seconds": window,
            "retry_after": retry,
            "reset_at": a.decision.reset_at_rfc3339(),
        }))
        .header(
            actix_web::http::header::RETRY_AFTER,
            HeaderValue::from(retry),
        );
    for (name, value) in header_values(a) {
        err = err.header(name, value);
    }
    err
}

/// The most constraining of several decisions: the fewest remaining, then the latest reset.
#[must_use]
pub fn most_constraining(applied: &[Applied]) -> Option<&Applied> {
    applied.iter().min_by(|a, b| {
        a.decision.remaining().cmp(&b.decision.remaining()).then(
            b.decision
                .reset_at_millis()
                .cmp(&a.decision.reset_at_millis()),
        )
    })
}

fn header_values(a: &Applied) -> Vec<(HeaderName, HeaderValue)> {
    let d = &a.decision;
    let reset_secs = d
        .reset_at_millis()
        .saturating_sub(d.now_millis())
        .div_ceil(1000);
    let name = a.kind.name();
    let pairs = [
        ("x-ratelimit-limit", d.limit().to_string()),
        ("x-ratelimit-remaining", d.remaining().to_string()),
        ("x-ratelimit-reset", d.reset_at_rfc3339()),
        (
            "ratelimit-policy",
            format!(
                "\"{name}\";q={};w={}",
                a.policy.limit(),
                a.policy.window().as_secs()
            ),
        ),
        (
            "ratelimit",
            format!("\"{name}\";r={};t={reset_secs}", d.remaining()),
        ),
    ];
    pairs
        .into_iter()
        .filter_map(|(n, v)| Some((HeaderName::from_static(n), HeaderValue::from_str(&v).ok()?)))
        .collect()
}

/// Writes the headers of the most constraining decision.
pub fn write_headers(applied: &[Applied], headers: &mut HeaderMap) {
    if let Some(a) = most_constraining(applied) {
        for (name, value) in header_values(a) {
            headers.insert(name, value);
        }
    }
}
