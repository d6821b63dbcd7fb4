-- When the retention sweep deleted a completed video's artifact set
-- (YTVC_ARTIFACT_RETENTION_DAYS); NULL while the set is kept.
ALTER TABLE videos ADD COLUMN artifacts_expired_at TIMESTAMP;
-- The sweep's scan: completed videos not yet expired, oldest first.
CREATE INDEX videos_retention ON videos (completed_at) WHERE status = 'completed' AND artifacts_expired_at IS NULL;
