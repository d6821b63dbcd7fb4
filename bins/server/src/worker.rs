//! The worker loop: claims jobs (leases with fencing tokens), heartbeats
//! them while they run, and hands each to the domain's
//! [`JobRunner`](ytvc_domain::videos::JobRunner), which starts the run,
//! produces the video and decides what its outcome means. The loop also
//! runs the maintenance (reaper, ageing, orphaned videos). Runs inside
//! `serve` by default and alone as `ytvc-server worker`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use chrono::TimeDelta;
use tokio::sync::{Semaphore, watch};
use ytvc_domain::jobs::{ClaimedJob, JobError, JobQueue};
use ytvc_domain::pipeline::{Progress, Stage};
use ytvc_domain::videos::{ArtifactRetention, Expiry, JobRunner, RunEnd, RunOutcome, Video};
use ytvc_quota::Clock as _;

use crate::clock::AppClock;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Jobs run at once.
    pub concurrency: usize,
    /// Lease length; heartbeats every third of it.
    pub lease: Duration,
    /// Pause between claims when the queue is empty.
    pub poll: Duration,
    /// How often expired leases are reaped and priorities aged.
    pub maintenance: Duration,
    /// A waiting job gains one priority level per interval (ageing).
    pub ageing: Duration,
    /// How long a graceful stop waits for running jobs.
    pub drain: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 2,
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(250),
            maintenance: Duration::from_secs(5),
            ageing: Duration::from_secs(60),
            drain: Duration::from_secs(30),
        }
    }
}

/// What the rest of the process can see of the worker.
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// Pipeline runs started.
    pub runs: AtomicU64,
    /// Runs completed.
    pub completed: AtomicU64,
    /// Runs that failed (retried or final).
    pub failed: AtomicU64,
    /// Unix millis of the last loop iteration (the readiness heartbeat).
    pub heartbeat_ms: AtomicI64,
}

/// A worker and its ports.
#[derive(Clone)]
pub struct Worker {
    id: String,
    queue: Arc<dyn JobQueue>,
    runner: JobRunner,
    clock: AppClock,
    settings: WorkerSettings,
    log: slog::Logger,
    stats: Arc<WorkerStats>,
    retention: Option<ArtifactRetention>,
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::seconds(30))
}

struct RunProgress {
    cancel: Arc<AtomicBool>,
    lost: Arc<AtomicBool>,
}

impl Progress for RunProgress {
    fn step(&self, _stage: Stage, _done: u32, _total: u32) {}

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    fn lease_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Worker {
    /// A worker named `id` (unique per process) claiming from `queue` and
    /// running jobs with `runner`.
    #[must_use]
    pub fn new(
        id: String,
        queue: Arc<dyn JobQueue>,
        runner: JobRunner,
        clock: AppClock,
        settings: WorkerSettings,
        log: slog::Logger,
    ) -> Self {
        Self {
            id,
            queue,
            runner,
            clock,
            settings,
            log,
            stats: Arc::new(WorkerStats::default()),
            retention: None,
        }
    }

    /// Also expires artifact sets in the maintenance, by `retention`.
    #[must_use]
    pub fn with_retention(mut self, retention: ArtifactRetention) -> Self {
        self.retention = Some(retention);
        self
    }

    /// Its counters.
    #[must_use]
    pub fn stats(&self) -> Arc<WorkerStats> {
        self.stats.clone()
    }

    /// Runs until `shutdown` turns true: then stops claiming, lets running
    /// jobs finish for up to the drain time, and returns. Jobs still running
    /// after that are handed back by lease expiry (the reaper re-queues them).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let permits = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let mut last_maintenance = tokio::time::Instant::now() - self.settings.maintenance;
        slog::info!(self.log, "worker started"; "worker" => &self.id, "concurrency" => self.settings.concurrency);
        loop {
            if *shutdown.borrow() {
                break;
            }
            self.stats
                .heartbeat_ms
                .store(crate::clock::liveness_millis(), Ordering::Relaxed);
            if last_maintenance.elapsed() >= self.settings.maintenance {
                last_maintenance = tokio::time::Instant::now();
                self.maintain().await;
            }
            let free = permits.available_permits();
            let claimed = if free == 0 {
                Vec::new()
            } else {
                self.claim(free).await
            };
            if claimed.is_empty() {
                tokio::select! {
                    () = tokio::time::sleep(self.settings.poll) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            for job in claimed {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let worker = self.clone();
                tokio::spawn(async move {
                    worker.run_job(job).await;
                    drop(permit);
                });
            }
        }
        slog::info!(self.log, "worker stopping: waiting for running jobs"; "worker" => &self.id);
        let all = u32::try_from(self.settings.concurrency.max(1)).unwrap_or(1);
        let drained = tokio::time::timeout(self.settings.drain, permits.acquire_many(all))
            .await
            .is_ok();
        slog::info!(self.log, "worker stopped"; "worker" => &self.id, "drained" => drained);
    }

    async fn claim(&self, free: usize) -> Vec<ClaimedJob> {
        let queue = self.queue.clone();
        let id = self.id.clone();
        let lease = delta(self.settings.lease);
        let now = self.clock.now();
        let limit = u32::try_from(free).unwrap_or(1);
        match tokio::task::spawn_blocking(move || queue.claim(&id, limit, lease, now)).await {
            Ok(Ok(jobs)) => jobs,
            Ok(Err(e)) => {
                slog::warn!(self.log, "claim failed"; "error" => e.to_string());
                Vec::new()
            }
            Err(e) => {
                slog::error!(self.log, "claim task failed"; "error" => e.to_string());
                Vec::new()
            }
        }
    }

    async fn maintain(&self) {
        let queue = self.queue.clone();
        let runner = self.runner.clone();
        let now = self.clock.now();
        let ageing = delta(self.settings.ageing);
        let log = self.log.clone();
        let _ = tokio::task::spawn_blocking(move || {
            match queue.reap_expired(now) {
                Ok(r) => {
                    let total = r.requeued + r.failed + r.cancelled;
                    if total > 0 {
                        slog::warn!(log, "reaped expired leases"; "requeued" => r.requeued, "failed" => r.failed, "cancelled" => r.cancelled);
                    }
                }
                Err(e) => slog::warn!(log, "reaper failed"; "error" => e.to_string()),
            }
            if let Err(e) = queue.age_priorities(now, ageing) {
                slog::warn!(log, "ageing failed"; "error" => e.to_string());
            }
            match runner.settle_orphans() {
                Ok(0) => {}
                Ok(n) => slog::warn!(log, "settled videos of reaped jobs"; "videos" => n),
                Err(e) => slog::warn!(log, "orphan sync failed"; "error" => e.to_string()),
            }
        })
        .await;
        if let Some(retention) = &self.retention {
            self.expire_artifacts(retention).await;
        }
    }

    /// The retention sweep: deletes each due set, then marks its video
    /// expired; a set that cannot be deleted stays unmarked for the next
    /// pass.
    async fn expire_artifacts(&self, retention: &ArtifactRetention) {
        let r = retention.clone();
        let Some(due) = self.blocking(move || r.due()).await else {
            return;
        };
        let mut expired = 0;
        for video in due {
            if let Err(e) = retention.delete(&video).await {
                slog::warn!(self.log, "artifact set not deleted: retried next pass";
                    "video" => video.to_string(), "error" => e.to_string());
                continue;
            }
            let r = retention.clone();
            if let Some(Expiry::Expired) = self.blocking(move || r.mark(video)).await {
                expired += 1;
            }
        }
        if expired > 0 {
            slog::info!(self.log, "artifact sets expired"; "videos" => expired,
                "retention_days" => retention.keep().num_days());
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, ytvc_domain::repo::RepoError> + Send + 'static,
    ) -> Option<T> {
        match tokio::task::spawn_blocking(f).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                slog::error!(self.log, "job store write failed"; "error" => e.to_string());
                None
            }
            Err(e) => {
                slog::error!(self.log, "job store task failed"; "error" => e.to_string());
                None
            }
        }
    }

    /// Runs one claimed job to its end.
    pub async fn run_job(&self, job: ClaimedJob) {
        let log = self.log.new(slog::o!("job" => job.id.to_string(), "video" => job.video_id.to_string(), "attempt" => job.attempts));
        let (runner, j) = (self.runner.clone(), job.clone());
        let Some(started) = self.blocking(move || runner.start(&j)).await else {
            return;
        };
        let Some(video) = started else {
            // Lease lost, or the video was cancelled before it started.
            self.finish(&job, RunOutcome::Cancelled, &log).await;
            return;
        };
        self.stats.runs.fetch_add(1, Ordering::Relaxed);
        let outcome = self.produce(&job, &video, &log).await;
        match &outcome {
            RunOutcome::Completed { .. } => self.stats.completed.fetch_add(1, Ordering::Relaxed),
            RunOutcome::Failed { code, cause, .. } => {
                slog::warn!(log, "pipeline failed"; "code" => code.as_str(), "error" => cause);
                self.stats.failed.fetch_add(1, Ordering::Relaxed)
            }
            RunOutcome::Cancelled => 0,
        };
        self.finish(&job, outcome, &log).await;
    }

    /// Produces the video while a heartbeat keeps the lease (and relays a
    /// cancel, or a lost lease, to the pipeline as a stop).
    async fn produce(&self, job: &ClaimedJob, video: &Video, log: &slog::Logger) -> RunOutcome {
        let cancel = Arc::new(AtomicBool::new(false));
        let lost = Arc::new(AtomicBool::new(false));
        let beat = {
            let (queue, cancel, lost, clock) = (
                self.queue.clone(),
                cancel.clone(),
                lost.clone(),
                self.clock.clone(),
            );
            let (id, token, lease) = (job.id, job.fencing_token, delta(self.settings.lease));
            let every = self.settings.lease / 3;
            let log = log.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let q = queue.clone();
                    let now = clock.now();
                    match tokio::task::spawn_blocking(move || q.heartbeat(id, token, lease, now))
                        .await
                    {
                        Ok(Ok(hb)) if hb.cancel_requested => cancel.store(true, Ordering::SeqCst),
                        Ok(Ok(_)) => {}
                        Ok(Err(JobError::LeaseLost)) | Ok(Err(JobError::NotFound)) => {
                            slog::warn!(log, "lease lost: stopping");
                            // Set before the stop, so the stopped run sees
                            // it and leaves the new owner's files alone.
                            lost.store(true, Ordering::SeqCst);
                            cancel.store(true, Ordering::SeqCst);
                            return;
                        }
                        Ok(Err(e)) => {
                            slog::warn!(log, "heartbeat failed"; "error" => e.to_string())
                        }
                        Err(_) => return,
                    }
                }
            })
        };
        let progress = RunProgress { cancel, lost };
        let outcome = self.runner.produce(video, &progress).await;
        beat.abort();
        outcome
    }

    async fn finish(&self, job: &ClaimedJob, outcome: RunOutcome, log: &slog::Logger) {
        let (runner, j) = (self.runner.clone(), job.clone());
        match self.blocking(move || runner.finish(&j, outcome)).await {
            Some(Some(end)) => {
                let end = match end {
                    RunEnd::Completed => "completed",
                    RunEnd::Retrying => "retrying",
                    RunEnd::Failed => "failed",
                    RunEnd::Cancelled => "cancelled",
                };
                slog::info!(log, "job finished"; "outcome" => end);
            }
            Some(None) => slog::warn!(
                log,
                "lease lost: result discarded (another worker owns the job)"
            ),
            None => {}
        }
    }
}
