#![doc = include_str!("../README.md")]

mod jwt;
mod password;

pub use jwt::{JwtConfig, JwtKeyError, JwtTokenService, KeySource, SigningAlgorithm};
pub use password::Argon2Hasher;
