//! The diesel schema: every table of the migrations (`migrations/sqlite` and
//! `migrations/postgres` at the workspace root, the same columns on both
//! backends), with its real columns. It is the only one: the query builder
//! takes its column lists from here, and so do the rows of the few raw SQL
//! statements (`QueryableByName` with `table_name`).
//!
//! Not declared: the batch dispatch-lease columns of `batches`
//! (`lease_owner`, `lease_until`, `fencing_token`), which nothing uses any
//! more (they stay in the database, with their defaults).

diesel::table! {
    /// Accounts (migration `000001_users`).
    users (id) {
        /// User id (hyphenated UUID).
        id -> Text,
        /// Unique.
        email -> Text,
        /// The password hash.
        password_hash -> Text,
        /// `user` or `admin`.
        role -> Text,
        /// The plan's name.
        plan -> Text,
        /// Day of the month the billing cycle starts (1..=31).
        billing_anchor_day -> Integer,
        /// Created at.
        created_at -> Timestamp,
        /// Last change.
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// The quota used per user and billing cycle (migration `000002_quota`).
    quota_usage (user_key, cycle_start) {
        /// The quota crate's opaque user key.
        user_key -> Text,
        /// Start of the billing cycle (UTC).
        cycle_start -> Timestamp,
        /// Units of committed reservations.
        committed -> BigInt,
        /// Units of pending reservations.
        reserved -> BigInt,
    }
}

diesel::table! {
    /// The reservation ledger (migration `000002_quota`).
    quota_reservations (id) {
        /// Reservation id (hyphenated UUID).
        id -> Text,
        /// The quota crate's opaque user key.
        user_key -> Text,
        /// Units reserved (at least 1).
        units -> BigInt,
        /// Start of the cycle the reservation belongs to (UTC).
        cycle_start -> Timestamp,
        /// End of that cycle (UTC).
        reset_at -> Timestamp,
        /// When it was made (UTC).
        created_at -> Timestamp,
        /// `pending`, `committed` or `released`.
        state -> Text,
        /// When it was committed or released (UTC).
        settled_at -> Nullable<Timestamp>,
        /// `released` or `expired` when `state = 'released'`.
        release_reason -> Nullable<Text>,
    }
}

diesel::table! {
    /// Refresh tokens, by their SHA-256 (migration `000003_auth`).
    refresh_tokens (token_hash) {
        /// SHA-256 of the token.
        token_hash -> Text,
        /// The session (token family) it belongs to.
        session_id -> Text,
        /// Its user.
        user_id -> Text,
        /// `active`, `rotated` or `revoked`.
        status -> Text,
        /// Issued at.
        created_at -> Timestamp,
        /// Expires at.
        expires_at -> Timestamp,
        /// Rotated at.
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Revoked access tokens and sessions (migration `000003_auth`).
    revocations (subject) {
        /// The token's `jti` or the session id.
        subject -> Text,
        /// `token` or `session`.
        kind -> Text,
        /// Revoked at.
        revoked_at -> Timestamp,
        /// Kept until then.
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// Batches of videos (migration `000004_videos`).
    batches (id) {
        /// Batch id (hyphenated UUID).
        id -> Text,
        /// Owner.
        user_id -> Text,
        /// Optional name.
        name -> Nullable<Text>,
        /// The status the items imply (`BatchStatus`).
        status -> Text,
        /// Number of items.
        total -> Integer,
        /// Not written by the video store (each video holds its own
        /// reservation).
        reservation_id -> Nullable<Text>,
        /// Accepted at.
        created_at -> Timestamp,
        /// Last change.
        updated_at -> Timestamp,
        /// Finished at.
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Videos: one requested video and its progress (migration
    /// `000004_videos`).
    videos (id) {
        /// Video id (hyphenated UUID).
        id -> Text,
        /// Owner.
        user_id -> Text,
        /// Its batch, if any.
        batch_id -> Nullable<Text>,
        /// Its position in the batch.
        batch_index -> Nullable<Integer>,
        /// `VideoStatus`.
        status -> Text,
        /// The spec (`VideoSpec`): the cleaned prompt.
        prompt -> Text,
        /// The spec: the title.
        title -> Nullable<Text>,
        /// The spec: the target length.
        duration_seconds -> Integer,
        /// The spec: the style.
        style -> Text,
        /// The spec: the aspect ratio.
        aspect_ratio -> Text,
        /// The spec: the voice.
        voice -> Text,
        /// The spec: the language.
        language -> Text,
        /// Queue priority at submit time (1 first).
        priority -> Integer,
        /// Its quota reservation.
        reservation_id -> Nullable<Text>,
        /// Runs so far.
        attempts -> Integer,
        /// Catalog code of the latest failure.
        error_code -> Nullable<Text>,
        /// Client-safe message of the latest failure.
        error_message -> Nullable<Text>,
        /// The artifact manifest (JSON), once completed.
        artifacts -> Nullable<Text>,
        /// Accepted at.
        created_at -> Timestamp,
        /// Last change.
        updated_at -> Timestamp,
        /// First started at.
        started_at -> Nullable<Timestamp>,
        /// Finished at.
        completed_at -> Nullable<Timestamp>,
        /// When the retention sweep deleted the artifact set (migration
        /// `000006_artifact_retention`).
        artifacts_expired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Stored answers to `Idempotency-Key` (migration `000004_videos`).
    idempotency_keys (user_id, idem_key) {
        /// Owner.
        user_id -> Text,
        /// The client's key.
        idem_key -> Text,
        /// The scope (`POST /v1/videos`, `POST /v1/batches`).
        method_path -> Text,
        /// SHA-256 of the canonical request body.
        request_hash -> Text,
        /// The original status.
        response_status -> Integer,
        /// The original body.
        response_body -> Text,
        /// Answered at.
        created_at -> Timestamp,
        /// Forgotten after.
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// The job queue: one job per video (migration `000005_jobs`).
    jobs (id) {
        /// Job id (hyphenated UUID).
        id -> Text,
        /// The video (`videos.id`); unique.
        video_id -> Text,
        /// `available`, `running`, `completed`, `failed`, `cancelled`.
        state -> Text,
        /// Current priority (1 first); ageing lowers it.
        priority -> Integer,
        /// The plan's priority at submit time.
        base_priority -> Integer,
        /// Earliest next claim.
        run_at -> Timestamp,
        /// The ageing clock.
        aged_at -> Timestamp,
        /// Claims so far.
        attempts -> Integer,
        /// Claims allowed.
        max_attempts -> Integer,
        /// Grows on every claim.
        fencing_token -> BigInt,
        /// Worker holding the lease.
        lease_owner -> Nullable<Text>,
        /// End of the lease.
        lease_until -> Nullable<Timestamp>,
        /// Latest heartbeat.
        heartbeat_at -> Nullable<Timestamp>,
        /// A cancel arrived while running.
        cancel_requested -> Bool,
        /// Error code of the latest failure.
        last_error -> Nullable<Text>,
        /// Enqueued at (its `run_at` then).
        created_at -> Timestamp,
        /// Last change.
        updated_at -> Timestamp,
        /// First claimed at.
        started_at -> Nullable<Timestamp>,
        /// Terminal state reached.
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// API keys, by the SHA-256 of the key (migration `000007_api_keys`).
    api_keys (id) {
        /// Key id (hyphenated UUID).
        id -> Text,
        /// Owner.
        user_id -> Text,
        /// The owner's name for it.
        name -> Text,
        /// SHA-256 of the key (hex); unique.
        key_hash -> Text,
        /// `ytvc_` and the first random characters, for listings.
        prefix -> Text,
        /// Scope names separated by spaces.
        scopes -> Text,
        /// Created at.
        created_at -> Timestamp,
        /// Refused from then on.
        expires_at -> Nullable<Timestamp>,
        /// Last authenticated a request (written at most once a minute).
        last_used_at -> Nullable<Timestamp>,
        /// Revoked at.
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    quota_usage,
    quota_reservations,
    refresh_tokens,
    revocations,
    batches,
    videos,
    idempotency_keys,
    jobs,
    api_keys,
);
