#![doc = include_str!("../README.md")]

mod catalog;
mod envelope;
mod markdown;

pub use catalog::{Category, ErrorCode, ParseErrorCodeError};
pub use envelope::{ApiResponse, ErrorBody, ErrorDetail, Page, format_timestamp};
pub use markdown::catalog_markdown;
