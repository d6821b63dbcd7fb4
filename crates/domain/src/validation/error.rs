//! [`ValidationError`]: why an input value was refused, mapped to a catalog code.

use std::fmt;

use serde_json::{Map, Value, json};
use ytvc_error_codes::ErrorCode;

use crate::screen::ScreenRule;

/// The name of the list field of a batch body (`{"videos": [...]}`), used by
/// [`ValidationError::with_index`].
pub const BATCH_ITEMS_FIELD: &str = "videos";

/// The longest part of a refused value that is echoed back in an error.
const MAX_ECHOED_CHARS: usize = 32;

/// Why a value was refused. Each kind maps to one catalog code (see
/// [`ValidationError::code`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidationErrorKind {
    /// The prompt has fewer characters than allowed (`VAL_002`).
    PromptTooShort {
        /// Characters after cleaning.
        length: usize,
        /// The minimum.
        min: usize,
    },
    /// The prompt has more characters than allowed (`VAL_003`).
    PromptTooLong {
        /// Characters after cleaning.
        length: usize,
        /// The maximum.
        max: usize,
    },
    /// The text was refused by the prompt-injection screen (`VAL_004`).
    Rejected {
        /// The screen rule that matched.
        rule: ScreenRule,
    },
    /// A text field (title, password) is too short or too long (`VAL_005`).
    LengthOutOfRange {
        /// Characters after cleaning; `None` when it must not be disclosed
        /// (passwords).
        length: Option<usize>,
        /// The minimum.
        min: usize,
        /// The maximum.
        max: usize,
    },
    /// A number is outside its range (`VAL_005`).
    OutOfRange {
        /// The value given.
        value: i64,
        /// The minimum.
        min: i64,
        /// The maximum.
        max: i64,
    },
    /// A required field is absent (`VAL_006`).
    Missing,
    /// The value is not one of the allowed ones (`VAL_007`).
    Unsupported {
        /// The value given (cleaned of control characters, cut to 32 chars).
        value: String,
        /// Every allowed value.
        allowed: &'static [&'static str],
    },
    /// The value does not have the required shape, e.g. an email address
    /// without `@` (`VAL_007`). The value itself is not echoed.
    Malformed {
        /// A short, client-safe explanation.
        reason: &'static str,
    },
}

/// A refused input value: which field, why, and the catalog code to answer
/// with.
///
/// `Display` is a client-safe, specific message (e.g. `"Prompt too short (min
/// 10 chars)"`); [`details`](Self::details) is the `details` object of the
/// error envelope. Neither ever contains a password or a whole prompt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ValidationError {
    field: String,
    index: Option<usize>,
    kind: ValidationErrorKind,
}

impl ValidationError {
    /// An error of `kind` for `field` (a JSON field name such as `"prompt"`).
    #[must_use]
    pub fn new(field: impl Into<String>, kind: ValidationErrorKind) -> Self {
        Self {
            field: field.into(),
            index: None,
            kind,
        }
    }

    /// A required field is missing (`VAL_006`).
    #[must_use]
    pub fn missing(field: impl Into<String>) -> Self {
        Self::new(field, ValidationErrorKind::Missing)
    }

    /// `value` is not one of `allowed` (`VAL_007`). The echoed value is cut
    /// to 32 characters and cleaned of control characters.
    #[must_use]
    pub fn unsupported(
        field: impl Into<String>,
        value: &str,
        allowed: &'static [&'static str],
    ) -> Self {
        let value = value
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_ECHOED_CHARS)
            .collect();
        Self::new(field, ValidationErrorKind::Unsupported { value, allowed })
    }

    /// The value has the wrong shape (`VAL_007`); `reason` is client-safe.
    #[must_use]
    pub fn malformed(field: impl Into<String>, reason: &'static str) -> Self {
        Self::new(field, ValidationErrorKind::Malformed { reason })
    }

    /// Marks the error as belonging to item `index` of a batch: the field
    /// becomes `videos[index].<field>` and the details gain `"index"`.
    #[must_use]
    pub fn with_index(self, index: usize) -> Self {
        self.with_list_index(BATCH_ITEMS_FIELD, index)
    }

    /// Like [`with_index`](Self::with_index) for a list field other than
    /// `videos`: the field becomes `<list>[index].<field>`.
    #[must_use]
    pub fn with_list_index(mut self, list: &str, index: usize) -> Self {
        self.field = format!("{list}[{index}].{}", self.field);
        self.index = Some(index);
        self
    }

    /// The catalog code the API answers with.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self.kind {
            ValidationErrorKind::PromptTooShort { .. } => ErrorCode::PromptTooShort,
            ValidationErrorKind::PromptTooLong { .. } => ErrorCode::PromptTooLong,
            ValidationErrorKind::Rejected { .. } => ErrorCode::PromptRejected,
            ValidationErrorKind::LengthOutOfRange { .. }
            | ValidationErrorKind::OutOfRange { .. } => ErrorCode::OutOfRange,
            ValidationErrorKind::Missing => ErrorCode::MissingField,
            ValidationErrorKind::Unsupported { .. } | ValidationErrorKind::Malformed { .. } => {
                ErrorCode::UnsupportedValue
            }
        }
    }

    /// The field path, e.g. `"prompt"` or, in a batch, `"videos[3].prompt"`.
    #[must_use]
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The batch item index, when set with [`with_index`](Self::with_index).
    #[must_use]
    pub fn index(&self) -> Option<usize> {
        self.index
    }

    /// Why the value was refused.
    #[must_use]
    pub fn kind(&self) -> &ValidationErrorKind {
        &self.kind
    }

    /// The `details` object of the error envelope, e.g.
    /// `{"field":"prompt","length":5,"min":10}`.
    #[must_use]
    pub fn details(&self) -> Value {
        let mut map = Map::new();
        map.insert("field".into(), json!(self.field));
        if let Some(index) = self.index {
            map.insert("index".into(), json!(index));
        }
        match &self.kind {
            ValidationErrorKind::PromptTooShort { length, min } => {
                map.insert("length".into(), json!(length));
                map.insert("min".into(), json!(min));
            }
            ValidationErrorKind::PromptTooLong { length, max } => {
                map.insert("length".into(), json!(length));
                map.insert("max".into(), json!(max));
            }
            ValidationErrorKind::Rejected { rule } => {
                map.insert("rule".into(), json!(rule.as_str()));
            }
            ValidationErrorKind::LengthOutOfRange { length, min, max } => {
                if let Some(length) = length {
                    map.insert("length".into(), json!(length));
                }
                map.insert("min".into(), json!(min));
                map.insert("max".into(), json!(max));
            }
            ValidationErrorKind::OutOfRange { value, min, max } => {
                map.insert("value".into(), json!(value));
                map.insert("min".into(), json!(min));
                map.insert("max".into(), json!(max));
            }
            ValidationErrorKind::Missing => {}
            ValidationErrorKind::Unsupported { value, allowed } => {
                map.insert("value".into(), json!(value));
                map.insert("allowed".into(), json!(allowed));
            }
            ValidationErrorKind::Malformed { reason } => {
                map.insert("reason".into(), json!(reason));
            }
        }
        Value::Object(map)
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        match &self.kind {
            ValidationErrorKind::PromptTooShort { min, .. } => {
                write!(f, "Prompt too short (min {min} chars)")
            }
            ValidationErrorKind::PromptTooLong { max, .. } => {
                write!(f, "Prompt too long (max {max} chars)")
            }
            ValidationErrorKind::Rejected { rule } => write!(
                f,
                "Field '{field}' rejected by the content screen ({})",
                rule.description()
            ),
            ValidationErrorKind::LengthOutOfRange { min, max, .. } => {
                write!(f, "Field '{field}' must be {min} to {max} characters long")
            }
            ValidationErrorKind::OutOfRange { value, min, max } => write!(
                f,
                "Field '{field}' must be between {min} and {max} (got {value})"
            ),
            ValidationErrorKind::Missing => write!(f, "Required field '{field}' is missing"),
            ValidationErrorKind::Unsupported { value, allowed } => write!(
                f,
                "Unsupported value '{value}' for field '{field}' (allowed: {})",
                allowed.join(", ")
            ),
            ValidationErrorKind::Malformed { reason } => {
                write!(f, "Invalid value for field '{field}': {reason}")
            }
        }
    }
}
