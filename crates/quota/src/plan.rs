//! Plans as data: names, limits, and the catalog loaded from configuration.

use std::borrow::{Borrow, Cow};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

/// The longest accepted plan name, in bytes.
pub const MAX_PLAN_NAME_LEN: usize = 32;

/// The name (id) of a plan, e.g. `free`, `pro`, `enterprise`.
///
/// Operators may configure other plans, so this is an open set. A valid name
/// is 1 to [`MAX_PLAN_NAME_LEN`] characters of `a-z`, `0-9`, `_` and `-`.
/// Parsing trims surrounding whitespace and lower-cases ASCII letters, so
/// `" Pro "` parses to `pro`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlanName(Cow<'static, str>);

impl PlanName {
    /// The default `free` plan.
    pub const FREE: PlanName = PlanName(Cow::Borrowed("free"));
    /// The default `pro` plan.
    pub const PRO: PlanName = PlanName(Cow::Borrowed("pro"));
    /// The default `enterprise` plan.
    pub const ENTERPRISE: PlanName = PlanName(Cow::Borrowed("enterprise"));

    /// Parses and normalises a plan name.
    ///
    /// # Errors
    ///
    /// [`InvalidPlanName`] when the trimmed name is empty, longer than
    /// [`MAX_PLAN_NAME_LEN`], or contains a character other than ASCII
    /// letters, digits, `_` and `-`.
    pub fn parse(raw: &str) -> Result<Self, InvalidPlanName> {
        let name = raw.trim().to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= MAX_PLAN_NAME_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if valid {
            Ok(Self(Cow::Owned(name)))
        } else {
            Err(InvalidPlanName(raw.to_owned()))
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlanName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PlanName {
    type Err = InvalidPlanName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PlanName {
    type Error = InvalidPlanName;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PlanName> for String {
    fn from(value: PlanName) -> Self {
        value.0.into_owned()
    }
}

impl AsRef<str> for PlanName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for PlanName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A string that is not a valid [`PlanName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid plan name {0:?}: expected 1 to 32 characters of a-z, 0-9, '_' or '-'")]
pub struct InvalidPlanName(pub String);

/// One sliding-window rate limit as plain data: at most `limit` events in any
/// trailing window of `window_secs` seconds.
///
/// This crate does not enforce rate limits; it only carries the figures so a
/// single plan catalog can configure both quotas and the rate limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Events admitted per window (at least 1).
    pub limit: u32,
    /// Window length in seconds (at least 1).
    pub window_secs: u64,
}

impl RateLimitSpec {
    /// `limit` events per hour.
    pub const fn per_hour(limit: u32) -> Self {
        Self {
            limit,
            window_secs: 3600,
        }
    }

    /// The window as a [`Duration`].
    pub const fn window(&self) -> Duration {
        Duration::from_secs(self.window_secs)
    }
}

/// The three rate limits attached to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Any `/v1` API call.
    pub api: RateLimitSpec,
    /// Batch creations (`POST /v1/batches`).
    pub batch_creations: RateLimitSpec,
    /// Video generations (`POST /v1/videos`).
    pub video_generations: RateLimitSpec,
}

/// A plan: monthly quota, batch size limit, queue priority and rate limits.
///
/// Deserialized from configuration. `monthly_quota` must be present:
/// `null` (or `"unlimited"`, for TOML) means unlimited, a missing field is an
/// error (so a typo can never silently grant an unlimited quota).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The plan's name (id).
    pub name: PlanName,
    /// Videos per billing cycle; `None` means unlimited.
    #[serde(deserialize_with = "required_option")]
    pub monthly_quota: Option<u32>,
    /// Most videos a single reservation (batch) may hold; at least 1.
    pub batch_size_limit: u32,
    /// Queue priority, 1 = served first; at least 1.
    pub priority: u8,
    /// Rate limits (plain data, enforced elsewhere).
    pub rate_limits: RateLimits,
}

/// `monthly_quota`: a number, or `null` / `"unlimited"` (TOML has no null).
fn required_option<'de, D>(deserializer: D) -> Result<Option<u32>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Quota {
        Limited(u32),
        Word(String),
    }
    match Option::<Quota>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Quota::Limited(n)) => Ok(Some(n)),
        Some(Quota::Word(w)) if w == "unlimited" => Ok(None),
        Some(Quota::Word(w)) => Err(serde::de::Error::custom(format!(
            "monthly_quota must be a number, null or \"unlimited\", not {w:?}"
        ))),
    }
}

impl Plan {
    /// The default `free` plan: 10 videos a month, batches of 5, priority 3,
    /// 100 API calls, 5 batch creations and 20 video generations per hour.
    pub fn free() -> Self {
        Self {
            name: PlanName::FREE,
            monthly_quota: Some(10),
            batch_size_limit: 5,
            priority: 3,
            rate_limits: RateLimits {
                api: RateLimitSpec::per_hour(100),
                batch_creations: RateLimitSpec::per_hour(5),
                video_generations: RateLimitSpec::per_hour(20),
            },
        }
    }

    /// The default `pro` plan: 100 videos a month, batches of 20,
    /// priority 2, 300 API calls, 15 batch creations and 60 video generations
    /// per hour.
    pub fn pro() -> Self {
        Self {
            name: PlanName::PRO,
            monthly_quota: Some(100),
            batch_size_limit: 20,
            priority: 2,
            rate_limits: RateLimits {
                api: RateLimitSpec::per_hour(300),
                batch_creations: RateLimitSpec::per_hour(15),
                video_generations: RateLimitSpec::per_hour(60),
            },
        }
    }

    /// The default `enterprise` plan: unlimited videos, batches of 100,
    /// priority 1, 1000 API calls, 50 batch creations and 200 video
    /// generations per hour.
    pub fn enterprise() -> Self {
        Self {
            name: PlanName::ENTERPRISE,
            monthly_quota: None,
            batch_size_limit: 100,
            priority: 1,
            rate_limits: RateLimits {
                api: RateLimitSpec::per_hour(1000),
                batch_creations: RateLimitSpec::per_hour(50),
                video_generations: RateLimitSpec::per_hour(200),
            },
        }
    }

    /// Whether the monthly quota is unlimited.
    pub const fn is_unlimited(&self) -> bool {
        self.monthly_quota.is_none()
    }

    fn validate(&self) -> Result<(), PlanConfigError> {
        let invalid = |reason: &'static str| PlanConfigError::Invalid {
            plan: self.name.clone(),
            reason,
        };
        if self.batch_size_limit == 0 {
            return Err(invalid("batch_size_limit must be at least 1"));
        }
        if self.priority == 0 {
            return Err(invalid("priority must be at least 1"));
        }
        let limits = [
            self.rate_limits.api,
            self.rate_limits.batch_creations,
            self.rate_limits.video_generations,
        ];
        if limits.iter().any(|l| l.limit == 0 || l.window_secs == 0) {
            return Err(invalid("rate limits need limit >= 1 and window_secs >= 1"));
        }
        Ok(())
    }
}

/// A configuration of plans that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanConfigError {
    /// The catalog holds no plan.
    #[error("the plan catalog is empty")]
    Empty,
    /// Two plans share a name.
    #[error("plan `{0}` is defined twice")]
    Duplicate(PlanName),
    /// A plan has an impossible value.
    #[error("plan `{plan}`: {reason}")]
    Invalid {
        /// The offending plan.
        plan: PlanName,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// The plan catalog: every configured plan, looked up by name.
///
/// Serialized as a list of [`Plan`]s; deserializing validates it (non-empty,
/// unique names, limits at least 1). [`Plans::default`] is the product's
/// `free` / `pro` / `enterprise` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Plan>", into = "Vec<Plan>")]
pub struct Plans {
    by_name: BTreeMap<PlanName, Plan>,
}

impl Plans {
    /// Builds a validated catalog.
    ///
    /// # Errors
    ///
    /// [`PlanConfigError`] when the list is empty, names repeat, or a plan
    /// has a zero batch size limit, priority or rate limit.
    pub fn new(plans: impl IntoIterator<Item = Plan>) -> Result<Self, PlanConfigError> {
        let mut by_name = BTreeMap::new();
        for plan in plans {
            plan.validate()?;
            if by_name.contains_key(&plan.name) {
                return Err(PlanConfigError::Duplicate(plan.name));
            }
            by_name.insert(plan.name.clone(), plan);
        }
        if by_name.is_empty() {
            return Err(PlanConfigError::Empty);
        }
        Ok(Self { by_name })
    }

    /// The plan with this name, if configured.
    pub fn get(&self, name: &str) -> Option<&Plan> {
        self.by_name.get(name)
    }

    /// Whether a plan with this name is configured.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// All plans, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = &Plan> {
        self.by_name.values()
    }

    /// The number of plans (never zero).
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Always `false`: a catalog holds at least one plan.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl Default for Plans {
    fn default() -> Self {
        let by_name = [Plan::free(), Plan::pro(), Plan::enterprise()]
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect();
        Self { by_name }
    }
}

impl TryFrom<Vec<Plan>> for Plans {
    type Error = PlanConfigError;

    fn try_from(value: Vec<Plan>) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Plans> for Vec<Plan> {
    fn from(value: Plans) -> Self {
        value.by_name.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_names_parse_and_normalise() {
        assert_eq!(PlanName::parse("free").unwrap(), PlanName::FREE);
        assert_eq!(" Pro ".parse::<PlanName>().unwrap(), PlanName::PRO);
        assert_eq!(PlanName::parse("team-2_x").unwrap().as_str(), "team-2_x");
        for bad in ["", "  ", "pro plan", "é", "a/b", &"x".repeat(33)] {
            assert!(PlanName::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(PlanName::parse(&"x".repeat(32)).unwrap().as_str().len(), 32);
    }

    #[test]
    fn defaults_match_the_product_table() {
        let plans = Plans::default();
        assert_eq!(plans.len(), 3);
        let free = plans.get("free").unwrap();
        assert_eq!(
            (free.monthly_quota, free.batch_size_limit, free.priority),
            (Some(10), 5, 3)
        );
        assert_eq!(free.rate_limits.api, RateLimitSpec::per_hour(100));
        assert_eq!(free.rate_limits.batch_creations.limit, 5);
        assert_eq!(free.rate_limits.video_generations.limit, 20);
        let pro = plans.get("pro").unwrap();
        assert_eq!(
            (pro.monthly_quota, pro.batch_size_limit, pro.priority),
            (Some(100), 20, 2)
        );
        assert_eq!(
            (
                pro.rate_limits.api.limit,
                pro.rate_limits.batch_creations.limit,
                pro.rate_limits.video_generations.limit
            ),
            (300, 15, 60)
        );
        let ent = plans.get("enterprise").unwrap();
        assert!(ent.is_unlimited());
        assert_eq!((ent.batch_size_limit, ent.priority), (100, 1));
        assert_eq!(
            (
                ent.rate_limits.api.limit,
                ent.rate_limits.batch_creations.limit,
                ent.rate_limits.video_generations.limit
            ),
            (1000, 50, 200)
        );
        assert_eq!(ent.rate_limits.api.window(), Duration::from_secs(3600));
        assert!(plans.get("gold").is_none());
        for plan in plans.iter() {
            plan.validate().unwrap();
        }
    }

    #[test]
    fn catalog_round_trips_through_json() {
        let plans = Plans::default();
        let json = serde_json::to_string(&plans).unwrap();
        let back: Plans = serde_json::from_str(&json).unwrap();
        assert_eq!(back, plans);
        let value = serde_json::to_value(&plans).unwrap();
        let ent = value
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "enterprise")
            .unwrap();
        assert!(ent["monthly_quota"].is_null(), "unlimited is null");
    }

    fn plan_json(quota: &str) -> String {
        format!(
            r#"{{"name":"Team",{quota}"batch_size_limit":50,"priority":2,
               "rate_limits":{{"api":{{"limit":500,"window_secs":3600}},
               "batch_creations":{{"limit":20,"window_secs":3600}},
               "video_generations":{{"limit":80,"window_secs":60}}}}}}"#
        )
    }

    #[test]
    fn operators_can_configure_other_plans() {
        let json = format!("[{}]", plan_json(r#""monthly_quota":250,"#));
        let plans: Plans = serde_json::from_str(&json).unwrap();
        let team = plans.get("team").unwrap();
        assert_eq!(team.monthly_quota, Some(250));
        assert_eq!(team.rate_limits.video_generations.window_secs, 60);

        let json = format!("[{}]", plan_json(r#""monthly_quota":null,"#));
        let plans: Plans = serde_json::from_str(&json).unwrap();
        assert!(plans.get("team").unwrap().is_unlimited());
    }

    #[test]
    fn a_missing_quota_is_an_error_not_unlimited() {
        let json = format!("[{}]", plan_json(""));
        let err = serde_json::from_str::<Plans>(&json).unwrap_err();
        assert!(err.to_string().contains("monthly_quota"), "{err}");
    }

    #[test]
    fn invalid_catalogs_are_rejected() {
        assert_eq!(Plans::new([]), Err(PlanConfigError::Empty));
        assert_eq!(
            Plans::new([Plan::free(), Plan::free()]),
            Err(PlanConfigError::Duplicate(PlanName::FREE))
        );
        let mut zero_batch = Plan::pro();
        zero_batch.batch_size_limit = 0;
        assert!(matches!(
            Plans::new([zero_batch]),
            Err(PlanConfigError::Invalid { .. })
        ));
        let mut zero_priority = Plan::pro();
        zero_priority.priority = 0;
        assert!(Plans::new([zero_priority]).is_err());
        let mut zero_rate = Plan::pro();
        zero_rate.rate_limits.api.window_secs = 0;
        assert!(Plans::new([zero_rate]).is_err());
        assert!(serde_json::from_str::<Plans>("[]").is_err());
    }
}
