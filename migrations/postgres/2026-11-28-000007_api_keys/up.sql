-- API keys: only the SHA-256 of each key is stored (key_hash, hex); the key
-- itself is shown once, when it is created. `prefix` (ytvc_ and the first
-- 8 random characters) is how listings show it; `scopes` is the scope names
-- separated by spaces. A revoked key stays (revoked_at set) so that a
-- presented revoked key is told apart from an unknown one.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP,
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);
