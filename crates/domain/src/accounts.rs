//! Accounts: users, roles and plans.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ytvc_quota::{AnchorDay, PlanName};

use crate::ids::UserId;
use crate::validation::{Email, ValidationError};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A regular user.
    User,
    /// May manage other users (plan, role).
    Admin,
}

impl Role {
    /// `"user"` or `"admin"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    /// Parses `"user"` / `"admin"`.
    ///
    /// # Errors
    /// VAL_007 naming `field` and the allowed values.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "user" => Ok(Role::User),
            "admin" => Ok(Role::Admin),
            _ => Err(ValidationError::unsupported(field, raw, &["user", "admin"])),
        }
    }
}

/// A stored account (never holds the password itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The id.
    pub id: UserId,
    /// Normalised email (trimmed, lower-cased); unique.
    pub email: Email,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Plan (a name in the configured plan catalog).
    pub plan: PlanName,
    /// Day of the month the billing cycle starts (clamped to month ends).
    pub billing_anchor_day: AnchorDay,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A change an admin makes to an account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    /// New plan, if any.
    pub plan: Option<PlanName>,
    /// New role, if any.
    pub role: Option<Role>,
}
