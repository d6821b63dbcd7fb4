-- The job queue: one job per video. Claimed in (priority, run_at, id)
-- order; each claim is a lease (lease_owner, lease_until) with a fencing
-- token that grows on every claim; every worker write is guarded by
-- `id = ? AND fencing_token = ? AND state = 'running'`.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY NOT NULL,
    video_id         TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    state            TEXT NOT NULL DEFAULT 'available' CHECK (state IN ('available', 'running', 'completed', 'failed', 'cancelled')),
    -- Current priority (1 = first); ageing lowers it towards 1.
    priority         INTEGER NOT NULL CHECK (priority >= 1),
    -- The plan's priority at submit time.
    base_priority    INTEGER NOT NULL CHECK (base_priority >= 1),
    run_at           TIMESTAMP NOT NULL,
    -- The ageing clock: enqueue time, reset at every ageing step.
    aged_at          TIMESTAMP NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
    fencing_token    BIGINT NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_until      TIMESTAMP,
    heartbeat_at     TIMESTAMP,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    started_at       TIMESTAMP,
    finished_at      TIMESTAMP
);
-- One job per video: a second enqueue for the same video is refused.
CREATE UNIQUE INDEX jobs_video_key ON jobs (video_id);
-- The claim order, over the claimable rows only (partial index).
CREATE INDEX jobs_claim_idx ON jobs (priority, run_at, id) WHERE state = 'available';
-- The reaper's scan of leases.
CREATE INDEX jobs_lease_idx ON jobs (lease_until) WHERE state = 'running';
-- Counts per state (metrics).
CREATE INDEX jobs_state_idx ON jobs (state);
