#![doc = include_str!("../README.md")]

mod connection;
mod error;
mod migrations;
mod pool;
pub mod testing;

pub use connection::{AnyConnection, Backend};
pub use error::DbError;
pub use pool::{Database, DbConfig, PooledConn};
