//! The catalog itself: one enum, one table.

use std::fmt;
use std::str::FromStr;

/// The family a code belongs to; the prefix of its string form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Category {
    /// Authentication and authorisation.
    Auth,
    /// Input validation.
    Val,
    /// Request rate limits.
    Rate,
    /// Monthly video quotas.
    Quota,
    /// Missing resources and routes.
    NotFound,
    /// The scripting language model.
    Llm,
    /// Video generation and assembly.
    Video,
    /// External media services (Veo, Imagen, TTS).
    Media,
    /// The database.
    Db,
    /// Batch processing.
    Batch,
    /// Everything else on the server side.
    Internal,
    /// The HTTP exchange itself: the method, the pace of the body.
    Http,
}

impl Category {
    /// Every category, in catalog order.
    pub const ALL: [Category; 12] = [
        Category::Auth,
        Category::Val,
        Category::Rate,
        Category::Quota,
        Category::NotFound,
        Category::Llm,
        Category::Video,
        Category::Media,
        Category::Db,
        Category::Batch,
        Category::Internal,
        Category::Http,
    ];

    /// The code prefix, e.g. `"NOT_FOUND"`.
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            Category::Auth => "AUTH",
            Category::Val => "VAL",
            Category::Rate => "RATE",
            Category::Quota => "QUOTA",
            Category::NotFound => "NOT_FOUND",
            Category::Llm => "LLM",
            Category::Video => "VIDEO",
            Category::Media => "MEDIA",
            Category::Db => "DB",
            Category::Batch => "BATCH",
            Category::Internal => "INTERNAL",
            Category::Http => "HTTP",
        }
    }
}

/// Declares the enum and its table in one place so they cannot disagree.
macro_rules! catalog {
    ($( $(#[$doc:meta])* $variant:ident = ($code:literal, $cat:ident, $status:literal, $retry:literal, $msg:literal), )*) => {
        /// One client-facing error code of the ytvc API.
        ///
        /// The string form (`"VAL_002"`) is stable: clients match on it. The
        /// variant names are for Rust callers. Each code has a category, an
        /// HTTP status, a default message and a retry hint.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in catalog order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The stable string form, e.g. `"AUTH_002"`.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// The family of the code.
            #[must_use]
            pub const fn category(self) -> Category {
                match self { $( ErrorCode::$variant => Category::$cat, )* }
            }

            /// The HTTP status code the API answers with.
            #[must_use]
            pub const fn http_status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
            }

            /// Whether the same request may succeed if the client retries it
            /// later unchanged (after `Retry-After` where one is given).
            #[must_use]
            pub const fn retryable(self) -> bool {
                match self { $( ErrorCode::$variant => $retry, )* }
            }

            /// The default, client-safe message.
            #[must_use]
            pub const fn default_message(self) -> &'static str {
                match self { $( ErrorCode::$variant => $msg, )* }
            }
        }
    };
}

catalog! {
    /// No credentials were presented.
    MissingCredentials = ("AUTH_001", Auth, 401, false, "Authentication required"),
    /// The access token is malformed, badly signed or expired.
    InvalidToken = ("AUTH_002", Auth, 401, false, "Token invalid or expired"),
    /// The access token was revoked (logout).
    RevokedToken = ("AUTH_003", Auth, 401, false, "Token has been revoked"),
    /// Login failed.
    InvalidCredentials = ("AUTH_004", Auth, 401, false, "Wrong email or password"),
    /// Authenticated, but the role does not allow this.
    Forbidden = ("AUTH_005", Auth, 403, false, "Not allowed for this account"),
    /// The refresh token is unknown, expired, revoked or was already used.
    InvalidRefreshToken = ("AUTH_006", Auth, 401, false, "Refresh token invalid or reused"),

    /// The body is not valid JSON, or the content type is wrong.
    MalformedRequest = ("VAL_001", Val, 400, false, "Request body is not valid JSON"),
    /// The prompt is shorter than the minimum.
    PromptTooShort = ("VAL_002", Val, 422, false, "Prompt too short (min 10 chars)"),
    /// The prompt is longer than the maximum.
    PromptTooLong = ("VAL_003", Val, 422, false, "Prompt too long (max 2000 chars)"),
    /// The prompt was rejected by the injection / content screen.
    PromptRejected = ("VAL_004", Val, 422, false, "Prompt rejected by the content screen"),
    /// A field is outside its allowed range.
    OutOfRange = ("VAL_005", Val, 422, false, "Field out of range"),
    /// A required field is missing.
    MissingField = ("VAL_006", Val, 422, false, "Required field missing"),
    /// A field has a value the API does not support.
    UnsupportedValue = ("VAL_007", Val, 422, false, "Unsupported value"),
    /// The body is larger than the configured limit.
    PayloadTooLarge = ("VAL_008", Val, 413, false, "Payload too large"),
    /// A query parameter or pagination cursor is invalid.
    InvalidQuery = ("VAL_009", Val, 400, false, "Invalid query parameter"),
    /// The resource already exists, or an idempotency key was reused with another body.
    AlreadyExists = ("VAL_010", Val, 409, false, "Resource already exists"),

    /// Too many API requests in the window.
    ApiRateExceeded = ("RATE_001", Rate, 429, true, "API rate limit exceeded"),
    /// Too many batch creations in the window.
    BatchRateExceeded = ("RATE_002", Rate, 429, true, "Batch creation rate limit exceeded"),
    /// Too many video generations in the window.
    VideoRateExceeded = ("RATE_003", Rate, 429, true, "Video generation rate limit exceeded"),

    /// The monthly video quota is used up.
    QuotaExhausted = ("QUOTA_001", Quota, 429, false, "Monthly video quota exhausted"),
    /// The batch is larger than the plan allows.
    BatchTooLarge = ("QUOTA_002", Quota, 422, false, "Batch larger than the plan allows"),
    /// The remaining quota is smaller than the batch.
    QuotaInsufficient = ("QUOTA_003", Quota, 429, false, "Remaining quota smaller than the batch"),

    /// No such video (or not yours).
    VideoNotFound = ("NOT_FOUND_001", NotFound, 404, false, "Video not found"),
    /// No such batch (or not yours).
    BatchNotFound = ("NOT_FOUND_002", NotFound, 404, false, "Batch not found"),
    /// No such user.
    UserNotFound = ("NOT_FOUND_003", NotFound, 404, false, "User not found"),
    /// No such route or artifact.
    ResourceNotFound = ("NOT_FOUND_004", NotFound, 404, false, "Resource not found"),

    /// The language model did not answer in time.
    LlmTimeout = ("LLM_001", Llm, 504, true, "Language model timed out"),
    /// The language model is unavailable (circuit open).
    LlmUnavailable = ("LLM_002", Llm, 503, true, "Language model unavailable"),
    /// The language model answered something unusable.
    LlmBadResponse = ("LLM_003", Llm, 502, true, "Language model answer unusable"),
    /// The language model refused the prompt (safety).
    LlmRefused = ("LLM_004", Llm, 422, false, "Language model refused the prompt"),

    /// Generating the video failed.
    VideoGenerationFailed = ("VIDEO_001", Video, 502, true, "Video generation failed"),
    /// The video is not ready yet.
    VideoNotReady = ("VIDEO_002", Video, 409, true, "Video not ready"),
    /// The video cannot be cancelled in its current state.
    VideoNotCancellable = ("VIDEO_003", Video, 409, false, "Video cannot be cancelled now"),
    /// Assembling the final video failed.
    AssemblyFailed = ("VIDEO_004", Video, 500, false, "Video assembly failed"),

    /// Veo is unavailable.
    VeoUnavailable = ("MEDIA_001", Media, 503, true, "Veo unavailable"),
    /// Imagen is unavailable.
    ImagenUnavailable = ("MEDIA_002", Media, 503, true, "Imagen unavailable"),
    /// Text-to-speech is unavailable.
    TtsUnavailable = ("MEDIA_003", Media, 503, true, "Text-to-speech unavailable"),
    /// An upstream media quota is exhausted.
    MediaQuotaExhausted = ("MEDIA_004", Media, 503, true, "Upstream media quota exhausted"),

    /// The database cannot be reached.
    DatabaseUnavailable = ("DB_001", Db, 503, true, "Database unavailable"),
    /// No database connection became free in time.
    PoolExhausted = ("DB_002", Db, 503, true, "Database busy, try again"),
    /// A concurrent write won; retry.
    WriteConflict = ("DB_003", Db, 409, true, "Write conflict, try again"),
    /// A database constraint was violated.
    ConstraintViolation = ("DB_004", Db, 409, false, "Constraint violated"),

    /// The batch has no items.
    BatchEmpty = ("BATCH_001", Batch, 422, false, "Batch is empty"),
    /// The batch is being dispatched by another worker.
    BatchLocked = ("BATCH_002", Batch, 409, true, "Batch already running"),
    /// The batch cannot be cancelled in its current state.
    BatchNotCancellable = ("BATCH_003", Batch, 409, false, "Batch cannot be cancelled now"),
    /// The batch's state forbids this operation.
    BatchInvalidState = ("BATCH_004", Batch, 409, false, "Batch state forbids this operation"),

    /// Something unexpected went wrong.
    Unexpected = ("INTERNAL_001", Internal, 500, false, "Internal server error"),
    /// The server is shutting down or overloaded.
    ServiceUnavailable = ("INTERNAL_002", Internal, 503, true, "Service unavailable, try again"),
    /// The server is misconfigured.
    Misconfigured = ("INTERNAL_003", Internal, 500, false, "Server misconfiguration"),

    // Appended after the seed's 49 codes, which never change.
    /// The route exists, but not with this method (`Allow` lists the methods).
    MethodNotAllowed = ("HTTP_001", Http, 405, false, "Method not allowed on this route"),
    /// The request body did not arrive within the body timeout; the
    /// connection is closed.
    BodyTimeout = ("HTTP_002", Http, 408, true, "Request body too slow"),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string is not a catalog code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseErrorCodeError(pub String);

impl fmt::Display for ParseErrorCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown error code {:?}", self.0)
    }
}

impl std::error::Error for ParseErrorCodeError {}

impl FromStr for ErrorCode {
    type Err = ParseErrorCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseErrorCodeError(s.to_owned()))
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .description(Some(
                "A stable catalog code; GET /v1/errors lists them with their meaning.",
            ))
            .examples([serde_json::json!("VAL_002")])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ErrorCode {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_seeds_49_codes_then_the_appended_ones_all_unique() {
        assert_eq!(ErrorCode::ALL.len(), 51);
        let strings: HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(strings.len(), 51);
        // The seed's 49 come first and are all of the eleven seed families.
        assert!(
            ErrorCode::ALL[..49]
                .iter()
                .all(|c| c.category() != Category::Http)
        );
        assert_eq!(ErrorCode::ALL[48], ErrorCode::Misconfigured);
        assert_eq!(ErrorCode::MethodNotAllowed.as_str(), "HTTP_001");
        assert_eq!(ErrorCode::MethodNotAllowed.http_status(), 405);
        assert_eq!(ErrorCode::BodyTimeout.as_str(), "HTTP_002");
        assert_eq!(ErrorCode::BodyTimeout.http_status(), 408);
    }

    #[test]
    fn per_category_counts() {
        let count = |cat| {
            ErrorCode::ALL
                .iter()
                .filter(|c| c.category() == cat)
                .count()
        };
        let expected = [
            (Category::Auth, 6),
            (Category::Val, 10),
            (Category::Rate, 3),
            (Category::Quota, 3),
            (Category::NotFound, 4),
            (Category::Llm, 4),
            (Category::Video, 4),
            (Category::Media, 4),
            (Category::Db, 4),
            (Category::Batch, 4),
            (Category::Internal, 3),
            (Category::Http, 2),
        ];
        for (cat, n) in expected {
            assert_eq!(count(cat), n, "{cat:?}");
        }
    }

    #[test]
    fn code_prefix_matches_category_and_numbers_run_from_one() {
        for cat in Category::ALL {
            let codes: Vec<_> = ErrorCode::ALL
                .iter()
                .filter(|c| c.category() == cat)
                .collect();
            for (i, code) in codes.iter().enumerate() {
                assert_eq!(code.as_str(), format!("{}_{:03}", cat.prefix(), i + 1));
            }
        }
    }

    #[test]
    fn seed_fixed_points() {
        assert_eq!(ErrorCode::InvalidToken.as_str(), "AUTH_002");
        assert_eq!(ErrorCode::InvalidToken.http_status(), 401);
        assert_eq!(ErrorCode::PromptTooShort.as_str(), "VAL_002");
        assert_eq!(ErrorCode::PromptTooShort.http_status(), 422);
        assert_eq!(ErrorCode::ApiRateExceeded.as_str(), "RATE_001");
        assert_eq!(ErrorCode::ApiRateExceeded.http_status(), 429);
        assert_eq!(ErrorCode::QuotaExhausted.as_str(), "QUOTA_001");
        assert_eq!(ErrorCode::QuotaExhausted.http_status(), 429);
        assert_eq!(ErrorCode::LlmTimeout.as_str(), "LLM_001");
        assert_eq!(ErrorCode::LlmTimeout.http_status(), 504);
    }

    #[test]
    fn statuses_are_client_or_server_errors() {
        for code in ErrorCode::ALL {
            assert!((400..600).contains(&code.http_status()), "{code}");
            assert!(!code.default_message().is_empty());
        }
    }

    #[test]
    fn round_trips_through_strings_and_json() {
        for &code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
        assert!("VAL_011".parse::<ErrorCode>().is_err());
    }
}
