//! The ytvc server: the composition root. It reads the configuration, wires
//! the adapters (database, limiter, media providers) into the domain's use
//! cases and serves them over HTTP with actix-web. No business rule lives here.
//!
//! `docs/ARCHITECTURE.md` walks through the crates and the flow of a request.

pub mod cli;
pub mod clock;
pub mod config;
pub mod http;
pub mod limits;
pub mod security;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker;
