use std::sync::Arc;

use ytvc_quota::{
    DateTime, InMemoryQuotaStore, ManualClock, Plan, PlanName, Plans, QuotaManager, RateLimitSpec,
    RateLimits, Utc,
};

pub type Manager = QuotaManager<Arc<InMemoryQuotaStore>, ManualClock>;

pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339 instant")
}

pub fn plan(name: &str, quota: Option<u32>, batch: u32) -> Plan {
    let per_hour = RateLimitSpec::per_hour(100);
    Plan {
        name: PlanName::parse(name).unwrap(),
        monthly_quota: quota,
        batch_size_limit: batch,
        priority: 2,
        rate_limits: RateLimits {
            api: per_hour,
            batch_creations: per_hour,
            video_generations: per_hour,
        },
    }
}

/// The default plans plus `tiny` (quota 3, batch 3) and `hundred`
/// (quota 100, batch 10).
pub fn plans() -> Plans {
    Plans::new([
        Plan::free(),
        Plan::pro(),
        Plan::enterprise(),
        plan("tiny", Some(3), 3),
        plan("hundred", Some(100), 10),
    ])
    .unwrap()
}

pub fn manager_at(now: &str) -> (Manager, ManualClock, Arc<InMemoryQuotaStore>) {
    let clock = ManualClock::new(t(now));
    let store = Arc::new(InMemoryQuotaStore::new());
    let manager = QuotaManager::new(plans(), Arc::clone(&store), clock.clone());
    (manager, clock, store)
}

pub fn name(s: &str) -> PlanName {
    PlanName::parse(s).unwrap()
}
