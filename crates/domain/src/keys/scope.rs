//! [`Scope`]: what an API key may do; [`Scopes`]: a set of them.

use std::fmt;

use crate::validation::ValidationError;

/// One permission an API key can hold. A session (a JWT from login) holds
/// every scope: it is the user acting themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read videos, batches, artifacts, analytics and the quota.
    VideosRead,
    /// Submit and cancel videos and batches.
    VideosWrite,
    /// Publish finished videos (routes to come).
    Publish,
    /// Manage webhooks (routes to come).
    Webhooks,
    /// The account itself: `GET /v1/auth/me`, API-key management, admin calls.
    Account,
}

impl Scope {
    /// Every scope, in the order lists show them.
    pub const ALL: [Scope; 5] = [
        Scope::VideosRead,
        Scope::VideosWrite,
        Scope::Publish,
        Scope::Webhooks,
        Scope::Account,
    ];

    /// The names of [`Scope::ALL`], as the API spells them.
    pub const NAMES: &'static [&'static str] = &[
        "videos:read",
        "videos:write",
        "publish",
        "webhooks",
        "account",
    ];

    /// The name the API uses, e.g. `"videos:read"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The scope named `name` (exactly as [`Scope::as_str`] spells it).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`Scope`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// No scope.
    pub const NONE: Scopes = Scopes(0);
    /// Every scope (what a session holds).
    pub const ALL: Scopes = Scopes((1 << Scope::ALL.len()) - 1);
    /// The field of a key request that lists them.
    pub const FIELD: &'static str = "scopes";

    /// Whether `scope` is in the set.
    #[must_use]
    pub const fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The set with `scope` added.
    #[must_use]
    pub const fn with(self, scope: Scope) -> Self {
        Scopes(self.0 | scope.bit())
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes in the set, in [`Scope::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Their names, in [`Scope::ALL`] order.
    #[must_use]
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Scope::as_str).collect()
    }

    /// The first scope of this set that `held` lacks: `None` when this set
    /// is a subset of `held`.
    #[must_use]
    pub fn first_missing_from(self, held: Scopes) -> Option<Scope> {
        self.iter().find(|s| !held.contains(*s))
    }

    /// The scopes of a key request: at least one, each a known name
    /// (exact spelling); repeats are ignored.
    ///
    /// # Errors
    /// VAL_007 for an unknown name (field `scopes[i]`, the allowed names) or
    /// an empty list (field `scopes`).
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Self, ValidationError> {
        let mut set = Scopes::NONE;
        for (i, name) in names.iter().enumerate() {
            let name = name.as_ref();
            let scope = Scope::from_name(name).ok_or_else(|| {
                ValidationError::unsupported(format!("{}[{i}]", Self::FIELD), name, Scope::NAMES)
            })?;
            set = set.with(scope);
        }
        if set.is_empty() {
            return Err(ValidationError::malformed(
                Self::FIELD,
                "at least one scope is required",
            ));
        }
        Ok(set)
    }

    /// The stored form: the names separated by single spaces.
    #[must_use]
    pub fn to_stored(self) -> String {
        self.names().join(" ")
    }

    /// Reads [`Scopes::to_stored`]'s form back; `None` when a name is unknown.
    #[must_use]
    pub fn from_stored(text: &str) -> Option<Self> {
        text.split_whitespace().try_fold(Scopes::NONE, |set, name| {
            Some(set.with(Scope::from_name(name)?))
        })
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(Scopes::NONE, Scopes::with)
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use ytvc_error_codes::ErrorCode;

    use super::*;

    #[test]
    fn names_round_trip_and_all_holds_every_scope() {
        for scope in Scope::ALL {
            assert_eq!(Scope::from_name(scope.as_str()), Some(scope));
            assert!(Scopes::ALL.contains(scope));
            assert!(!Scopes::NONE.contains(scope));
        }
        assert_eq!(Scopes::ALL.names(), Scope::NAMES);
        assert_eq!(Scope::from_name("Videos:Read"), None, "exact spelling only");
        let set: Scopes = [Scope::Account, Scope::VideosRead].into_iter().collect();
        assert_eq!(set.to_stored(), "videos:read account");
        assert_eq!(Scopes::from_stored(&set.to_stored()), Some(set));
        assert_eq!(Scopes::from_stored(""), Some(Scopes::NONE));
        assert_eq!(Scopes::from_stored("videos:read root"), None);
    }

    #[test]
    fn a_request_names_at_least_one_known_scope() {
        let set = Scopes::parse_list(&["videos:read", "videos:read", "publish"]).unwrap();
        assert_eq!(set.names(), ["videos:read", "publish"]);
        let err = Scopes::parse_list(&["videos:read", "videos:delete"]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnsupportedValue);
        assert_eq!(err.field(), "scopes[1]");
        assert_eq!(err.details()["allowed"], serde_json::json!(Scope::NAMES));
        let err = Scopes::parse_list::<&str>(&[]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnsupportedValue);
        assert_eq!(err.field(), "scopes");
    }

    #[test]
    fn subsets_and_the_first_missing_scope() {
        let read: Scopes = [Scope::VideosRead].into_iter().collect();
        let read_write = read.with(Scope::VideosWrite);
        assert_eq!(read.first_missing_from(read_write), None);
        assert_eq!(read.first_missing_from(read), None);
        assert_eq!(
            read_write.first_missing_from(read),
            Some(Scope::VideosWrite)
        );
        assert_eq!(Scopes::ALL.first_missing_from(Scopes::ALL), None);
        assert_eq!(
            Scopes::ALL.first_missing_from(read_write),
            Some(Scope::Publish)
        );
    }
}
