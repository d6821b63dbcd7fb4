//! End-to-end tests of the HTTP API: one test binary, one module per area.

mod api_keys;
mod auth;
mod conformance;
mod contract;
mod foundation;
mod media;
mod openapi;
mod pipeline;
mod providers;
mod ratelimits;
mod storage;
mod videos;
