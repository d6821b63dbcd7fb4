-- Batches: many videos submitted at once, transactionally. The dispatch
-- lease (lease_owner, lease_until, fencing_token) lets one instance at a
-- time dispatch a batch; every write is guarded by the token.
CREATE TABLE batches (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'partially_failed', 'failed', 'cancelled')),
    total           INTEGER NOT NULL CHECK (total >= 1),
    reservation_id  TEXT,
    lease_owner     TEXT,
    lease_until     TIMESTAMP,
    fencing_token   BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    completed_at    TIMESTAMP
);
CREATE INDEX batches_user_created_idx ON batches (user_id, created_at, id);

-- Videos: one requested video and its progress.
CREATE TABLE videos (
    id               TEXT PRIMARY KEY NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    batch_id         TEXT REFERENCES batches (id) ON DELETE CASCADE,
    batch_index      INTEGER,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
    prompt           TEXT NOT NULL,
    title            TEXT,
    duration_seconds INTEGER NOT NULL,
    style            TEXT NOT NULL,
    aspect_ratio     TEXT NOT NULL,
    voice            TEXT NOT NULL,
    language         TEXT NOT NULL,
    priority         INTEGER NOT NULL,
    reservation_id   TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    error_code       TEXT,
    error_message    TEXT,
    artifacts        TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    started_at       TIMESTAMP,
    completed_at     TIMESTAMP
);
CREATE INDEX videos_user_created_idx ON videos (user_id, created_at, id);
CREATE INDEX videos_batch_idx ON videos (batch_id);
CREATE INDEX videos_user_status_idx ON videos (user_id, status);

-- Idempotency-Key: a retried POST with the same key and body gets the
-- original response; the same key with another body is refused.
CREATE TABLE idempotency_keys (
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idem_key         TEXT NOT NULL,
    method_path      TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    response_status  INTEGER NOT NULL,
    response_body    TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
