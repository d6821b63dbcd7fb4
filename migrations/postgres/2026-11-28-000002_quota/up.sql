-- Quota store (ytvc-persistence::quota_store). Users are identified by the
-- quota crate's opaque key, so there is deliberately no foreign key to users.

-- Per user and per billing cycle: committed + reserved units. Every change to
-- a usage row or to a reservation of that (user, cycle) happens while this
-- row is locked (SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on
-- SQLite).
CREATE TABLE quota_usage (
    user_key    TEXT      NOT NULL,
    cycle_start TIMESTAMP NOT NULL,
    committed   BIGINT    NOT NULL DEFAULT 0 CHECK (committed >= 0),
    reserved    BIGINT    NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (user_key, cycle_start)
);

-- The ledger: one row per reservation, never deleted by the store.
CREATE TABLE quota_reservations (
    id             TEXT      PRIMARY KEY NOT NULL,
    user_key       TEXT      NOT NULL,
    units          BIGINT    NOT NULL CHECK (units >= 1),
    cycle_start    TIMESTAMP NOT NULL,
    reset_at       TIMESTAMP NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    state          TEXT      NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'committed', 'released')),
    settled_at     TIMESTAMP,
    release_reason TEXT      CHECK (release_reason IN ('released', 'expired')),
    CHECK ((state = 'released') = (release_reason IS NOT NULL)),
    CHECK ((state = 'pending') = (settled_at IS NULL))
);

-- The expiry sweep: pending reservations by age (all users).
CREATE INDEX quota_reservations_state_created ON quota_reservations (state, created_at);
-- Lazy expiry on reserve: one user's pending reservations by age.
CREATE INDEX quota_reservations_user_state_created ON quota_reservations (user_key, state, created_at);
-- A user's reservations of one cycle (listing, audits).
CREATE INDEX quota_reservations_user_cycle ON quota_reservations (user_key, cycle_start);
