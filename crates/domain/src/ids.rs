//! Identifier newtypes: a `UserId` can never be passed where a `VideoId` is expected.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new random (time-ordered, v7) id.
            #[must_use]
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A refresh-token family: one login session and its rotations.
    SessionId
);
id_type!(
    /// One issued access token (the JWT `jti`).
    TokenId
);
id_type!(
    /// A requested video.
    VideoId
);
id_type!(
    /// A batch of videos.
    BatchId
);
id_type!(
    /// An API key (its public id; the secret is never stored).
    ApiKeyId
);
