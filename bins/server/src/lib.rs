#![doc = include_str!("../README.md")]

pub mod cli;
pub mod clock;
pub mod config;
pub mod http;
pub mod limits;
pub mod media;
pub mod providers;
pub mod security;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod worker;
