#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod api_keys;
mod connection;
mod error;
pub mod jobs;
mod migrations;
mod pool;
pub mod quota_store;
pub mod schema;
pub mod testing;
pub mod tx;
pub mod videos;

pub use accounts::SqlAccounts;
pub use connection::{AnyConnection, Backend};
pub use error::DbError;
pub use migrations::Revert;
pub use pool::{Database, DbConfig, PooledConn};
pub use quota_store::SqlQuotaStore;
pub use videos::SqlVideos;
