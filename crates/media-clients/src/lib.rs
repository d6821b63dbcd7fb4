#![doc = include_str!("../README.md")]

pub mod flaky;
pub mod google;
pub mod local;
pub mod openai;
pub mod resilience;
mod wire;

pub use flaky::{Fault, Flaky, Op};
pub use local::LocalProvider;
