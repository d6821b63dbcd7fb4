//! Integration tests of ytvc-quota, through its public API only.

mod concurrency;
mod cycles;
mod model;
mod rules;
mod support;
