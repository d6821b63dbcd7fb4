//! End-to-end tests of the HTTP API: one test binary, one module per area.

mod auth;
mod conformance;
mod contract;
mod foundation;
mod media;
mod openapi;
mod pipeline;
mod ratelimits;
mod videos;
