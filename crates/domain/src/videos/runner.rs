//! [`JobRunner`]: running a claimed video job — start the run, produce the
//! video through the [`Pipeline`], and decide what the outcome means (done,
//! retry with backoff, give up, cancelled) — and settling the videos of
//! jobs the reaper ended.
//!
//! The worker loop claims jobs, heartbeats their leases and calls these
//! steps; [`start`](JobRunner::start), [`finish`](JobRunner::finish) and
//! [`settle_orphans`](JobRunner::settle_orphans) block on storage (call them
//! off the async executor), [`produce`](JobRunner::produce) is async.

use std::sync::Arc;

use ytvc_error_codes::ErrorCode;
use ytvc_quota::Clock;

use super::model::Video;
use super::ports::{OrphanEnding, RunEnd, RunEnding, VideoRuns};
use crate::jobs::{ClaimedJob, JobState, LEASE_EXPIRED, RetryPolicy};
use crate::media::{BoxFuture, Manifest};
use crate::pipeline::{Pipeline, PipelineOutcome, Progress};
use crate::repo::RepoError;

/// The message of a video whose job was reaped with no attempts left.
pub const WORKER_LOST_MESSAGE: &str =
    "Video generation failed: the worker stopped responding on every attempt";

/// How many orphans one maintenance pass settles at most.
const ORPHANS_PER_PASS: u32 = 500;

/// How producing a video ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The artifact set is complete.
    Completed {
        /// Its manifest.
        manifest: Box<Manifest>,
    },
    /// The owner cancelled it; the partial artifacts are gone.
    Cancelled,
    /// The run failed.
    Failed {
        /// The catalog code (e.g. `LLM_001`).
        code: ErrorCode,
        /// A client-safe message.
        message: String,
        /// Whether another attempt may succeed.
        retryable: bool,
        /// What went wrong, for the log (never shown to clients).
        cause: String,
    },
}

/// A uniform sample in `[0, 1)` for the backoff jitter.
pub type Jitter = Arc<dyn Fn() -> f64 + Send + Sync>;

/// Runs claimed video jobs (see the module docs).
#[derive(Clone)]
pub struct JobRunner {
    runs: Arc<dyn VideoRuns>,
    pipeline: Pipeline,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    jitter: Jitter,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner")
            .field("pipeline", &self.pipeline)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl JobRunner {
    /// A runner writing through `runs`, producing with `pipeline`, retrying
    /// by `retry` with backoff jittered by `jitter`.
    #[must_use]
    pub fn new(
        runs: Arc<dyn VideoRuns>,
        pipeline: Pipeline,
        clock: Arc<dyn Clock>,
        retry: RetryPolicy,
        jitter: Jitter,
    ) -> Self {
        Self {
            runs,
            pipeline,
            clock,
            retry,
            jitter,
        }
    }

    /// Starts the run of `job`: the video turns processing. `None` when the
    /// lease is lost or the video was cancelled before it started (finish
    /// the job as [`RunOutcome::Cancelled`] then).
    ///
    /// # Errors
    /// Storage errors.
    pub fn start(&self, job: &ClaimedJob) -> Result<Option<Video>, RepoError> {
        self.runs.start_run(job, self.clock.now())
    }

    /// Produces `video` through the pipeline, reporting to `progress` (which
    /// also says when to stop), and maps how it ended.
    pub fn produce<'a>(
        &'a self,
        video: &'a Video,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, RunOutcome> {
        Box::pin(async move {
            let id = video.id.to_string();
            match self.pipeline.run(&id, &video.spec, progress).await {
                Ok(PipelineOutcome::Completed(out)) => RunOutcome::Completed {
                    manifest: Box::new(out.manifest),
                },
                Ok(PipelineOutcome::Cancelled { .. }) => RunOutcome::Cancelled,
                Err(e) => RunOutcome::Failed {
                    code: e.code(),
                    message: e.code().default_message().to_owned(),
                    retryable: e.retryable(),
                    cause: e.to_string(),
                },
            }
        })
    }

    /// What `outcome` of the attempt `job` means: a retryable failure with
    /// attempts left runs again after the policy's backoff; any other
    /// failure is final.
    #[must_use]
    pub fn ending(&self, job: &ClaimedJob, outcome: RunOutcome) -> RunEnding {
        match outcome {
            RunOutcome::Completed { manifest } => RunEnding::Completed { manifest },
            RunOutcome::Cancelled => RunEnding::Cancelled,
            RunOutcome::Failed {
                code,
                message,
                retryable,
                ..
            } => {
                let code = code.as_str().to_owned();
                if RetryPolicy::should_retry(job.attempts, job.max_attempts, retryable) {
                    let delay = self.retry.backoff(job.attempts, (self.jitter)());
                    RunEnding::Retry {
                        code,
                        message,
                        run_at: self.clock.now() + delay,
                    }
                } else {
                    RunEnding::Failed { code, message }
                }
            }
        }
    }

    /// Records how the run of `job` ended (see [`ending`](Self::ending)) in
    /// one fenced transaction; `None` when the lease was lost (the result is
    /// dropped: another worker owns the job).
    ///
    /// # Errors
    /// Storage errors.
    pub fn finish(
        &self,
        job: &ClaimedJob,
        outcome: RunOutcome,
    ) -> Result<Option<RunEnd>, RepoError> {
        let ending = self.ending(job, outcome);
        self.runs.finish_run(job, &ending, self.clock.now())
    }

    /// Settles the videos of jobs the reaper ended: cancelled when a cancel
    /// had been requested, else failed with the job's last error
    /// (`VIDEO_001` when its worker stopped responding). Returns how many.
    ///
    /// # Errors
    /// Storage errors.
    pub fn settle_orphans(&self) -> Result<usize, RepoError> {
        let mut settled = 0;
        for orphan in self.runs.orphans(ORPHANS_PER_PASS)? {
            let ending = if orphan.job_state == JobState::Cancelled {
                OrphanEnding::Cancelled
            } else {
                let code = match orphan.last_error.as_deref() {
                    None | Some(LEASE_EXPIRED) => ErrorCode::VideoGenerationFailed.as_str(),
                    Some(code) => code,
                };
                OrphanEnding::Failed {
                    code: code.to_owned(),
                    message: WORKER_LOST_MESSAGE.to_owned(),
                }
            };
            if self
                .runs
                .end_orphan(orphan.video, &ending, self.clock.now())?
            {
                settled += 1;
            }
        }
        Ok(settled)
    }
}
