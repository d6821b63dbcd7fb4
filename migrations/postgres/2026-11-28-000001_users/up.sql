CREATE TABLE users (
    id                 TEXT PRIMARY KEY NOT NULL,
    email              TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    role               TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    plan               TEXT NOT NULL DEFAULT 'free',
    billing_anchor_day INTEGER NOT NULL DEFAULT 1 CHECK (billing_anchor_day BETWEEN 1 AND 31),
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
