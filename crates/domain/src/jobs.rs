//! The job queue port: video jobs with priorities, leases, fencing tokens,
//! retries with backoff, cancellation and priority ageing.
//!
//! The queue port ([`JobQueue`]) is what the worker loop calls: claim,
//! heartbeat, and the maintenance (reaping, ageing). A run is started and
//! finished through [`VideoRuns`](crate::videos::VideoRuns), whose writes
//! change the job and its video in one fenced transaction; the rules of a
//! run (what its outcome means, retry or give up) are the
//! [`JobRunner`](crate::videos::JobRunner)'s.
//!
//! # Life of a job
//!
//! ```text
//!            enqueue                claim (lease, token+1, attempts+1)
//!  (new) ──────────► available ────────────────────────────► running
//!                      ▲   │ cancel                             │
//!                      │   ▼                                    ├─ completed ─────────► completed
//!                      │ cancelled ◄── fail/reap when cancel ───┤
//!                      │               was requested            ├─ failed (final, or attempts
//!                      │                                        │  exhausted) ──────────► failed
//!                      └── retry (retryable, attempts < max):   │
//!                          run_at = now + backoff(attempts) ◄───┤
//!                      └── reap (lease expired, attempts < max) ┘
//! ```
//!
//! Jobs are claimed in `(priority, run_at, id)` order, `priority` 1 first.
//! Every claim is a **lease** that ends at `lease_until` unless a heartbeat
//! extends it, and carries a **fencing token** that grows by one on every
//! claim of the job. Every write a worker makes about its job (heartbeat,
//! start and finish of the run) names the token and is refused with
//! [`JobError::LeaseLost`] unless the job is still `running` under that very
//! token — so a worker whose lease expired and whose job was reaped and
//! claimed again can never overwrite the new run.
//!
//! # Ageing (no starvation)
//!
//! [`JobQueue::age_priorities`] (run by the maintenance loop, with the
//! reaper) lowers by one the `priority` number of every `available` job with
//! priority > 1 whose ageing clock (`aged_at`, set at enqueue) is at least
//! `interval` old, and resets that clock. So a job submitted at priority `p`
//! waits at most about `(p - 1) × interval` (plus one maintenance period per
//! step) before it has priority 1, where it competes with enterprise jobs by
//! `run_at` — and its `run_at` is older than that of any job submitted
//! after it. A stream of enterprise work can delay a free job, never starve
//! it.
//!
//! Time is always a parameter (`now`), so leases, backoff and ageing are
//! tested with a manual clock.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use ytvc_error_codes::ErrorCode;

use crate::ids::VideoId;
use crate::repo::RepoError;

/// `last_error` of a job the reaper failed or cancelled (its lease expired).
pub const LEASE_EXPIRED: &str = "lease_expired";

/// A job's id (a time-ordered UUID v7, so ties on priority and `run_at`
/// break in submission order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct JobId(pub uuid::Uuid);

impl JobId {
    /// A new random (time-ordered, v7) id.
    #[must_use]
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for JobId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    /// Waiting to be claimed once `run_at` has passed.
    Available,
    /// Claimed by a worker holding a lease.
    Running,
    /// Done (terminal).
    Completed,
    /// Failed for good: a final error, or attempts exhausted (terminal).
    Failed,
    /// Cancelled before or while running (terminal).
    Cancelled,
}

impl JobState {
    /// Every state, in life order.
    pub const ALL: [JobState; 5] = [
        JobState::Available,
        JobState::Running,
        JobState::Completed,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// The stored name (`"available"`, `"running"`, …).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Available => "available",
            JobState::Running => "running",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether the job can no longer change.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Failed | JobState::Cancelled
        )
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job to enqueue: one per video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Its id.
    pub id: JobId,
    /// The video it produces (a row of `videos`).
    pub video_id: VideoId,
    /// The plan's queue priority at submit time (1 = first; at least 1).
    pub priority: u8,
    /// Earliest time it may run.
    pub run_at: DateTime<Utc>,
    /// How many claims it may have in total (at least 1).
    pub max_attempts: u32,
}

impl NewJob {
    /// A job for `video_id` at the plan's `priority`, runnable at `now`,
    /// with the policy's number of attempts.
    #[must_use]
    pub fn new(video_id: VideoId, priority: u8, now: DateTime<Utc>, policy: &RetryPolicy) -> Self {
        Self {
            id: JobId::new(),
            video_id,
            priority: priority.max(1),
            run_at: now,
            max_attempts: policy.max_attempts.max(1),
        }
    }
}

/// A job a worker has claimed: what it needs to run it and to write back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// The job.
    pub id: JobId,
    /// Its video.
    pub video_id: VideoId,
    /// Its priority when claimed (after ageing).
    pub priority: u8,
    /// Claims so far, this one included (1 on the first run).
    pub attempts: u32,
    /// Claims it may have in total.
    pub max_attempts: u32,
    /// The fencing token of this claim: pass it to every write.
    pub fencing_token: i64,
    /// The lease ends then unless a heartbeat extends it.
    pub lease_until: DateTime<Utc>,
}

/// Everything stored about a job (for tests, admin views and the video's
/// status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// The job.
    pub id: JobId,
    /// Its video.
    pub video_id: VideoId,
    /// Where it is.
    pub state: JobState,
    /// Current priority (ageing lowers the number).
    pub priority: u8,
    /// Priority at submit time.
    pub base_priority: u8,
    /// Earliest time of the next claim.
    pub run_at: DateTime<Utc>,
    /// The ageing clock: enqueue time, reset at each ageing step.
    pub aged_at: DateTime<Utc>,
    /// Claims so far.
    pub attempts: u32,
    /// Claims allowed.
    pub max_attempts: u32,
    /// Token of the latest claim (0 before the first).
    pub fencing_token: i64,
    /// The worker holding the lease (while running).
    pub lease_owner: Option<String>,
    /// End of the lease (while running).
    pub lease_until: Option<DateTime<Utc>>,
    /// Whether a cancel arrived while it was running.
    pub cancel_requested: bool,
    /// The error code of the latest failure (`lease_expired` when reaped).
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it reached a terminal state.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Jobs per state, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Waiting (including those whose `run_at` is in the future).
    pub available: u64,
    /// Leased to a worker.
    pub running: u64,
    /// Done.
    pub completed: u64,
    /// Failed for good.
    pub failed: u64,
    /// Cancelled.
    pub cancelled: u64,
}

impl JobCounts {
    /// The count of one state.
    #[must_use]
    pub fn get(&self, state: JobState) -> u64 {
        match state {
            JobState::Available => self.available,
            JobState::Running => self.running,
            JobState::Completed => self.completed,
            JobState::Failed => self.failed,
            JobState::Cancelled => self.cancelled,
        }
    }

    /// Adds `n` to the count of `state`.
    pub fn add(&mut self, state: JobState, n: u64) {
        let slot = match state {
            JobState::Available => &mut self.available,
            JobState::Running => &mut self.running,
            JobState::Completed => &mut self.completed,
            JobState::Failed => &mut self.failed,
            JobState::Cancelled => &mut self.cancelled,
        };
        *slot += n;
    }

    /// All jobs.
    #[must_use]
    pub fn total(&self) -> u64 {
        JobState::ALL.into_iter().map(|s| self.get(s)).sum()
    }
}

/// What a heartbeat found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// The new end of the lease.
    pub lease_until: DateTime<Utc>,
    /// A cancel was requested: stop at this step and finish the run as
    /// cancelled.
    pub cancel_requested: bool,
}

/// What recording a failed attempt did with the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Back to `available`, claimable from `run_at`.
    Retry {
        /// When the next attempt may start.
        run_at: DateTime<Utc>,
    },
    /// `failed` for good (final error, or attempts exhausted).
    Failed,
    /// `cancelled`: a cancel had been requested while it ran.
    Cancelled,
}

/// What one [`JobQueue::reap_expired`] pass did with expired leases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReapOutcome {
    /// Returned to `available` (attempts left).
    pub requeued: u64,
    /// Failed (`lease_expired`, attempts exhausted).
    pub failed: u64,
    /// Cancelled (a cancel had been requested).
    pub cancelled: u64,
}

/// Retries: how many claims a job may have and how long to wait between
/// them (exponential backoff with jitter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Claims allowed in total (the first run included); at least 1.
    pub max_attempts: u32,
    /// Delay after the first failed attempt (before jitter).
    pub base_backoff: TimeDelta,
    /// Upper bound of any delay.
    pub max_backoff: TimeDelta,
}

impl Default for RetryPolicy {
    /// 3 attempts, 10 s doubling, at most 10 minutes.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_backoff: TimeDelta::seconds(10),
            max_backoff: TimeDelta::minutes(10),
        }
    }
}

impl RetryPolicy {
    /// The delay before the next attempt after attempt number `attempt`
    /// (1-based) failed: `min(max_backoff, base_backoff × 2^(attempt-1))`,
    /// with "equal jitter": half of it fixed, the other half scaled by
    /// `jitter`, a sample of a uniform source in `[0, 1)` (clamped). So
    /// the delay lies in `[d/2, d]`, never zero, and concurrent failures
    /// spread out. Pure: the caller supplies the randomness.
    #[must_use]
    pub fn backoff(&self, attempt: u32, jitter: f64) -> TimeDelta {
        let base = self.base_backoff.max(TimeDelta::zero());
        let cap = self.max_backoff.max(TimeDelta::zero());
        let shift = attempt.saturating_sub(1).min(62);
        let full = base
            .num_milliseconds()
            .checked_mul(1_i64 << shift)
            .map_or(cap, TimeDelta::milliseconds)
            .min(cap);
        let ms = full.num_milliseconds();
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let half = ms / 2;
        // `ms - half` is at most 2^62-ish; the product fits an f64 closely
        // enough for a delay.
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let extra = ((ms - half) as f64 * jitter) as i64;
        TimeDelta::milliseconds((half + extra).min(ms))
    }

    /// Whether a job that failed its `attempts`-th claim with a retryable
    /// error gets another one.
    #[must_use]
    pub fn should_retry(attempts: u32, max_attempts: u32, retryable: bool) -> bool {
        retryable && attempts < max_attempts
    }
}

/// What a job queue operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The caller's lease is gone: the job is no longer running under its
    /// fencing token (expired and reaped, claimed again, or finished).
    /// Nothing was written; the worker must drop its result.
    #[error("lease lost: the job is no longer held under this fencing token")]
    LeaseLost,
    /// No such job (or batch).
    #[error("not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl JobError {
    /// The catalog code a client sees.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            JobError::LeaseLost => ErrorCode::WriteConflict,
            JobError::NotFound => ErrorCode::ResourceNotFound,
            JobError::Repo(e) => e.code(),
        }
    }
}

/// The job queue (port) as the worker loop uses it: claims, heartbeats and
/// maintenance. Implementations: the SQL queue of `ytvc-persistence`
/// (SQLite and PostgreSQL); jobs are enqueued inside the submission's
/// transaction and runs are finished through
/// [`VideoRuns`](crate::videos::VideoRuns).
///
/// All methods take the current time as `now` (from the `Clock` port);
/// none sleeps.
pub trait JobQueue: Send + Sync {
    /// Claims up to `limit` available jobs whose `run_at <= now`, in
    /// `(priority, run_at, id)` order, for `worker`: each becomes `running`
    /// with `attempts + 1`, `fencing_token + 1` and a lease until
    /// `now + lease`. The claim is committed before this returns; the job
    /// runs outside any transaction. Several workers (threads or processes)
    /// never get the same claim.
    ///
    /// # Errors
    /// Store failures as [`JobError::Repo`] (nothing was claimed).
    fn claim(
        &self,
        worker: &str,
        limit: u32,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Vec<ClaimedJob>, JobError>;

    /// Extends the lease to `now + lease` and reports whether a cancel was
    /// requested.
    ///
    /// # Errors
    /// [`JobError::LeaseLost`] when the job is not `running` under `token`;
    /// store failures as [`JobError::Repo`].
    fn heartbeat(
        &self,
        job: JobId,
        token: i64,
        lease: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Heartbeat, JobError>;

    /// Returns jobs whose lease ended before `now` to the queue (`run_at =
    /// now`), fails those without attempts left (`last_error =
    /// "lease_expired"`), cancels those with a cancel requested. Their
    /// fencing token is already stale for new writes once the state left
    /// `running`.
    ///
    /// # Errors
    /// Store failures as [`JobError::Repo`].
    fn reap_expired(&self, now: DateTime<Utc>) -> Result<ReapOutcome, JobError>;

    /// One ageing step (see the module docs): every `available` job with
    /// priority > 1 whose ageing clock is at least `interval` old gets
    /// `priority - 1` and its clock reset to `now`. Returns how many aged.
    ///
    /// # Errors
    /// Store failures as [`JobError::Repo`].
    fn age_priorities(&self, now: DateTime<Utc>, interval: TimeDelta) -> Result<u64, JobError>;

    /// Jobs per state (for metrics).
    ///
    /// # Errors
    /// Store failures as [`JobError::Repo`].
    fn counts(&self) -> Result<JobCounts, JobError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_backoff: TimeDelta::seconds(2),
            max_backoff: TimeDelta::seconds(30),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = policy();
        // A jitter sample of 1 gives the full delay, 0 gives half.
        let full: Vec<i64> = (1..=6)
            .map(|a| p.backoff(a, 1.0).num_milliseconds())
            .collect();
        assert_eq!(full, [2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
        let half: Vec<i64> = (1..=6)
            .map(|a| p.backoff(a, 0.0).num_milliseconds())
            .collect();
        assert_eq!(half, [1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
        assert_eq!(p.backoff(2, 0.5).num_milliseconds(), 3_000);
    }

    #[test]
    fn backoff_is_bounded_for_any_input() {
        let p = policy();
        for attempt in [0, 1, 2, 40, 63, 64, 1_000, u32::MAX] {
            for jitter in [-1.0, 0.0, 0.25, 0.999, 1.0, 7.0, f64::NAN, f64::INFINITY] {
                let d = p.backoff(attempt, jitter);
                assert!(d >= TimeDelta::seconds(1), "{attempt} {jitter}: {d}");
                assert!(d <= TimeDelta::seconds(30), "{attempt} {jitter}: {d}");
            }
        }
        // Attempt 0 is treated like the first.
        assert_eq!(p.backoff(0, 1.0), TimeDelta::seconds(2));
        let zero = RetryPolicy {
            base_backoff: TimeDelta::zero(),
            ..p
        };
        assert_eq!(zero.backoff(3, 0.5), TimeDelta::zero());
        let huge = RetryPolicy {
            base_backoff: TimeDelta::days(365),
            max_backoff: TimeDelta::days(3650),
            ..p
        };
        assert_eq!(huge.backoff(60, 1.0), TimeDelta::days(3650));
    }

    #[test]
    fn jitter_is_monotonic_in_the_sample() {
        let p = policy();
        let mut last = TimeDelta::zero();
        for i in 0..=100 {
            let d = p.backoff(3, f64::from(i) / 100.0);
            assert!(d >= last);
            last = d;
        }
    }

    #[test]
    fn retry_rule() {
        assert!(RetryPolicy::should_retry(1, 3, true));
        assert!(RetryPolicy::should_retry(2, 3, true));
        assert!(!RetryPolicy::should_retry(3, 3, true));
        assert!(!RetryPolicy::should_retry(1, 3, false));
    }

    #[test]
    fn states_round_trip() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobState::parse("queued"), None);
        assert!(JobState::Cancelled.is_terminal());
        assert!(!JobState::Running.is_terminal());
    }

    #[test]
    fn counts_add_up() {
        let mut c = JobCounts::default();
        c.add(JobState::Running, 2);
        c.add(JobState::Completed, 5);
        assert_eq!(c.get(JobState::Running), 2);
        assert_eq!(c.total(), 7);
    }

    #[test]
    fn new_job_clamps_priority_and_attempts() {
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        let policy = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        let video = VideoId::new();
        let job = NewJob::new(video, 0, now, &policy);
        assert_eq!((job.priority, job.max_attempts, job.run_at), (1, 1, now));
        assert_eq!(NewJob::new(video, 1, now, &policy).video_id, video);
        assert!(JobId::new() != JobId::new());
        let id = JobId::new();
        assert_eq!(id.to_string().parse::<JobId>().unwrap(), id);
    }

    #[test]
    fn lease_lost_is_a_write_conflict() {
        assert_eq!(JobError::LeaseLost.code(), ErrorCode::WriteConflict);
        assert_eq!(JobError::NotFound.code(), ErrorCode::ResourceNotFound);
    }
}
