-- Refresh tokens: only their SHA-256 is stored. A session (family) is every
-- token rotated from one login; at most one of them is 'active'.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    session_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('active', 'rotated', 'revoked')),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- Revoked access tokens (by jti) and sessions (by sid), kept until the
-- things they revoke would have expired anyway.
CREATE TABLE revocations (
    subject     TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('token', 'session')),
    revoked_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX revocations_expires_idx ON revocations (expires_at);
