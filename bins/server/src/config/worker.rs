//! The worker: how many jobs it runs at once, its lease and its polling.

use std::time::Duration;

use super::setting::{DefaultValue, Setting};
use super::sources::{Sources, number};

pub(super) const CONCURRENCY: Setting = Setting {
    key: "worker_concurrency",
    var: "YTVC_WORKER_CONCURRENCY",
    default: DefaultValue::Value("2"),
    meaning: "jobs one worker runs at once (1..=64)",
};
pub(super) const JOB_LEASE_SECS: Setting = Setting {
    key: "job_lease_secs",
    var: "YTVC_JOB_LEASE_SECS",
    default: DefaultValue::Value("30"),
    meaning: "job lease length; a silent worker's job is rescued after it (2..=3600)",
};
pub(super) const POLL_MS: Setting = Setting {
    key: "worker_poll_ms",
    var: "YTVC_WORKER_POLL_MS",
    default: DefaultValue::Value("250"),
    meaning: "pause between claims when the queue is empty (10..=60000)",
};

/// The worker settings (see [`super::Config`]).
pub(super) struct WorkerSettings {
    pub(super) concurrency: usize,
    pub(super) job_lease: Duration,
    pub(super) poll: Duration,
}

impl WorkerSettings {
    /// Parses and validates the group.
    pub(super) fn load(src: &mut Sources) -> Self {
        Self {
            concurrency: src.value(&CONCURRENCY, number(1..=64)),
            job_lease: Duration::from_secs(src.value(&JOB_LEASE_SECS, number(2..=3600))),
            poll: Duration::from_millis(src.value(&POLL_MS, number(10..=60_000))),
        }
    }
}
