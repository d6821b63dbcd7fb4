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
