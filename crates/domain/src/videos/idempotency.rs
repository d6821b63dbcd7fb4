//! `Idempotency-Key`: the header's rule, the fingerprint of a request body,
//! and what an earlier request under the same key decides.

use sha2::{Digest, Sha256};

use super::error::VideoError;
use super::submission::IdempotencyRecord;

/// A validated `Idempotency-Key`: 1..=255 visible ASCII characters after
/// trimming surrounding spaces and tabs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The longest key, in bytes.
    pub const MAX_LEN: usize = 255;

    /// Parses the raw header value.
    ///
    /// # Errors
    /// [`VideoError::BadIdempotencyKey`] for a value that is not visible
    /// ASCII, is empty or longer than [`MAX_LEN`](Self::MAX_LEN).
    pub fn parse(raw: &[u8]) -> Result<Self, VideoError> {
        // A header value is visible ASCII, spaces and tabs.
        let text = std::str::from_utf8(raw)
            .ok()
            .filter(|t| t.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)))
            .ok_or(VideoError::BadIdempotencyKey)?;
        let key = text.trim_matches([' ', '\t']);
        if (1..=Self::MAX_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(key.to_owned()))
        } else {
            Err(VideoError::BadIdempotencyKey)
        }
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request made under an `Idempotency-Key`: the key, the operation it
/// was sent to and the fingerprint of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentRequest {
    /// The client's key.
    pub key: IdempotencyKey,
    /// The operation, e.g. `POST /v1/videos`.
    pub scope: String,
    /// [`request_hash`] of the body.
    pub hash: String,
}

impl IdempotentRequest {
    /// A request to `scope` with `body` under `key`.
    #[must_use]
    pub fn new(key: IdempotencyKey, scope: &str, body: &serde_json::Value) -> Self {
        Self {
            key,
            scope: scope.to_owned(),
            hash: request_hash(body),
        }
    }

    /// What an earlier answer under the same key means for this request:
    /// `Ok(())` when it is the same request (replay it).
    ///
    /// # Errors
    /// [`VideoError::IdempotencyConflict`] when the key was used for another
    /// operation or body.
    pub fn matches(&self, earlier: &IdempotencyRecord) -> Result<(), VideoError> {
        if earlier.scope == self.scope && earlier.request_hash == self.hash {
            Ok(())
        } else {
            Err(VideoError::IdempotencyConflict)
        }
    }
}

/// SHA-256 (hex) of the canonical form of a JSON body: key order and spacing
/// do not matter.
#[must_use]
pub fn request_hash(body: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(serde_json::to_vec(body).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn request_hash_ignores_key_order() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":[1,2]}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{ "b": [1,2], "a": 1 }"#).unwrap();
        assert_eq!(request_hash(&a), request_hash(&b));
        assert_ne!(
            request_hash(&a),
            request_hash(&json!({"a": 2, "b": [1, 2]}))
        );
    }

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert_eq!(IdempotencyKey::parse(b"  k-1\t").unwrap().as_str(), "k-1");
        let long = "k".repeat(255);
        assert!(IdempotencyKey::parse(long.as_bytes()).is_ok());
        for bad in [
            &b""[..],
            b"   ",
            b"a b",
            b"\x0bkey",
            "é".as_bytes(),
            "k".repeat(256).as_bytes(),
        ] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
