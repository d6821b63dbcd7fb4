//! Validated values: every field of a video request and the account inputs,
//! as newtypes and enums that can only hold valid values (parse, don't
//! validate), and [`ValidationError`], which maps each refusal to a `VAL_*`
//! catalog code.

mod account;
mod error;
mod fields;
mod prompt;
mod request;

pub use account::{Email, Password};
pub use error::{BATCH_ITEMS_FIELD, ValidationError, ValidationErrorKind};
pub use fields::{AspectRatio, DurationSeconds, Language, Style, Title, Voice};
pub use prompt::Prompt;
pub use request::{RawVideoRequest, VideoSpec};
