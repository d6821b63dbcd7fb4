#![doc = include_str!("../README.md")]

mod entropy;
mod jwt;
mod password;

pub use entropy::OsEntropy;
pub use jwt::{JwtConfig, JwtKeyError, JwtTokenService, KeySource, SigningAlgorithm};
pub use password::Argon2Hasher;
