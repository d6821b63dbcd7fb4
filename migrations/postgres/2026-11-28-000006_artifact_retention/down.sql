DROP INDEX IF EXISTS videos_retention;
ALTER TABLE videos DROP COLUMN artifacts_expired_at;
