#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod auth;
pub mod ids;
pub mod jobs;
pub mod keys;
pub mod media;
pub mod pipeline;
pub mod repo;
pub mod screen;
pub mod validation;
pub mod videos;

pub use screen::ScreenRule;
pub use validation::{
    AspectRatio, DurationSeconds, Email, Language, Password, Prompt, RawVideoRequest, Style, Title,
    ValidationError, ValidationErrorKind, VideoSpec, Voice,
};
