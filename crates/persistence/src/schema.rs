//! The diesel schema of the tables this crate's repositories use (the same
//! on both backends; see `migrations/`).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        plan -> Text,
        billing_anchor_day -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        user_id -> Text,
        status -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    revocations (subject) {
        subject -> Text,
        kind -> Text,
        revoked_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    batches (id) {
        id -> Text,
        user_id -> Text,
        name -> Nullable<Text>,
        status -> Text,
        total -> Integer,
        reservation_id -> Nullable<Text>,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        fencing_token -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    videos (id) {
        id -> Text,
        user_id -> Text,
        batch_id -> Nullable<Text>,
        batch_index -> Nullable<Integer>,
        status -> Text,
        prompt -> Text,
        title -> Nullable<Text>,
        duration_seconds -> Integer,
        style -> Text,
        aspect_ratio -> Text,
        voice -> Text,
        language -> Text,
        priority -> Integer,
        reservation_id -> Nullable<Text>,
        attempts -> Integer,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
        artifacts -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (user_id, idem_key) {
        user_id -> Text,
        idem_key -> Text,
        method_path -> Text,
        request_hash -> Text,
        response_status -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// The columns of the job queue the video store touches in its own
    /// transactions (cancelling a queued video with its job).
    jobs (id) {
        id -> Text,
        video_id -> Text,
        state -> Text,
        cancel_requested -> Bool,
        last_error -> Nullable<Text>,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(batches, videos, jobs);
