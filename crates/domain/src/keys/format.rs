//! The shape of an API key: `ytvc_`, 51 random base62 characters, and a
//! 6-character checksum.
//!
//! ```text
//! ytvc_ 7Fq2LzXa0bNcR4tYwE9uKpM3sVd1hJg6oQiB8nCx5yTfW2rZeUk 2FEBAI
//! └───┘ └───────────────── 51 characters ─────────────────┘ └────┘
//! prefix          random, uniform over [0-9A-Za-z]          CRC-32
//! ```
//! (shown with spaces; a real key is one 62-character word).
//!
//! - The prefix lets secret scanners (and people) recognise a leaked key,
//!   and lets the server tell a key from a JWT by its first characters.
//! - 51 characters × log2(62) ≈ 303.6 bits of randomness. Listings show the
//!   first 8 random characters (≈ 47.6 bits, [`KeySecret::display_prefix`]),
//!   so ≥ 256 bits stay secret even from someone who reads the list.
//! - The checksum is CRC-32 (IEEE) of everything before it, in base62,
//!   zero-padded to 6 characters (like GitHub's tokens). A scanner can check
//!   a match offline, and the server refuses a mistyped key (AUTH_002)
//!   without touching storage: [`KeySecret::parse`] checks prefix, length,
//!   alphabet and checksum first.
//!
//! Storage keeps only [`KeyDigest`], SHA-256 of the whole key. A fast hash
//! is right here: argon2 and the like protect low-entropy passwords by making
//! each guess expensive, but guessing a 256-bit random secret is hopeless at
//! any speed, and a slow hash would cost every API request tens of
//! milliseconds.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::auth::AuthError;

/// What every key starts with.
pub const KEY_PREFIX: &str = "ytvc_";
/// Random characters after the prefix.
pub const RANDOM_CHARS: usize = 51;
/// Checksum characters at the end.
pub const CHECKSUM_CHARS: usize = 6;
/// The length of a key.
pub const KEY_LEN: usize = KEY_PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS;
/// Random characters that listings show after the prefix.
pub const DISPLAYED_CHARS: usize = 8;

/// The base62 alphabet: digits, upper case, lower case.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A source of cryptographically secure random bytes (an adapter: the
/// operating system's generator in production, a fixed one in tests).
pub trait Entropy: Send + Sync {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// SHA-256 of a key: what storage keeps and looks keys up by.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest(pub [u8; 32]);

impl KeyDigest {
    /// Lower-case hex, as stored.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyDigest({}…)", &self.to_hex()[..12])
    }
}

/// A well-formed API key (prefix, length, alphabet and checksum checked).
/// `Debug` shows only its displayed prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySecret(String);

const fn crc32_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static CRC32: [u32; 256] = crc32_table();

/// CRC-32 (IEEE 802.3, the one of zip and PNG).
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |c, &b| {
        CRC32[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// The checksum of `head` (prefix and random part): its CRC-32 in base62,
/// most significant digit first, zero-padded.
fn checksum(head: &str) -> [u8; CHECKSUM_CHARS] {
    let mut n = crc32(head.as_bytes());
    let mut out = [ALPHABET[0]; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out
}

fn malformed(why: &str) -> AuthError {
    AuthError::InvalidToken(format!("malformed API key: {why}"))
}

impl KeySecret {
    /// A new key from `entropy`: each random character is drawn uniformly
    /// from the alphabet (bytes ≥ 248 are skipped, so `byte % 62` is unbiased).
    #[must_use]
    pub fn generate(entropy: &dyn Entropy) -> Self {
        let mut key = String::with_capacity(KEY_LEN);
        key.push_str(KEY_PREFIX);
        let mut buf = [0u8; 64];
        while key.len() < KEY_PREFIX.len() + RANDOM_CHARS {
            entropy.fill(&mut buf);
            for &b in buf.iter().filter(|&&b| b < 248) {
                if key.len() == KEY_PREFIX.len() + RANDOM_CHARS {
                    break;
                }
                key.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
        let sum = checksum(&key);
        key.extend(sum.iter().map(|&b| char::from(b)));
        Self(key)
    }

    /// Checks the shape of a presented key, with no storage involved.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] (AUTH_002) for a wrong prefix, length,
    /// character or checksum.
    pub fn parse(presented: &str) -> Result<Self, AuthError> {
        let Some(rest) = presented.strip_prefix(KEY_PREFIX) else {
            return Err(malformed("no ytvc_ prefix"));
        };
        if presented.len() != KEY_LEN {
            return Err(malformed("wrong length"));
        }
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(malformed("a character outside [0-9A-Za-z]"));
        }
        let (head, sum) = presented.split_at(KEY_LEN - CHECKSUM_CHARS);
        if checksum(head) != sum.as_bytes() {
            return Err(malformed("checksum mismatch"));
        }
        Ok(Self(presented.to_owned()))
    }

    /// Whether `token` looks like an API key rather than a JWT (its prefix):
    /// the one test that decides which kind of credential a bearer token is.
    #[must_use]
    pub fn is_key_shaped(token: &str) -> bool {
        token.starts_with(KEY_PREFIX)
    }

    /// The key itself (shown to its owner once, at creation).
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What storage keeps.
    #[must_use]
    pub fn digest(&self) -> KeyDigest {
        KeyDigest(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The prefix and the first [`DISPLAYED_CHARS`] random characters, for
    /// listings (`ytvc_7Fq2LzXa`).
    #[must_use]
    pub fn display_prefix(&self) -> &str {
        &self.0[..KEY_PREFIX.len() + DISPLAYED_CHARS]
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeySecret({}…)", self.display_prefix())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU8, Ordering};

    use ytvc_error_codes::ErrorCode;

    use super::*;

    /// Bytes 0, 1, 2, … (wrapping), so every value, ≥ 248 included, comes by.
    struct Counting(AtomicU8);

    impl Entropy for Counting {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                *b = self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn key() -> KeySecret {
        KeySecret::generate(&Counting(AtomicU8::new(200)))
    }

    fn code(presented: &str) -> ErrorCode {
        KeySecret::parse(presented).unwrap_err().code()
    }

    #[test]
    fn crc32_is_the_ieee_one() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn a_generated_key_has_the_documented_shape_and_parses() {
        let k = key();
        let text = k.expose();
        assert_eq!(text.len(), KEY_LEN);
        assert_eq!(KEY_LEN, 62);
        assert!(text.starts_with("ytvc_"));
        assert!(text[5..].bytes().all(|b| b.is_ascii_alphanumeric()));
        // Bytes 248..=255 were skipped: 200..=247, then 0, 1, 2.
        let random = &text[5..5 + RANDOM_CHARS];
        let expected: String = (200u8..248)
            .chain(0..3)
            .map(|b| char::from(ALPHABET[usize::from(b % 62)]))
            .collect();
        assert_eq!(random, expected);
        assert_eq!(KeySecret::parse(text).unwrap(), k);
        assert_eq!(k.display_prefix(), &text[..13]);
        assert!(
            !format!("{k:?}").contains(&text[13..]),
            "Debug hides the secret"
        );
        assert_eq!(k.digest(), KeySecret::parse(text).unwrap().digest());
        assert_eq!(k.digest().to_hex().len(), 64);
    }

    #[test]
    fn every_typo_is_refused_before_any_lookup() {
        let k = key();
        let text = k.expose().to_owned();
        // Each single-character change anywhere after the prefix.
        for i in KEY_PREFIX.len()..KEY_LEN {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(bytes).unwrap();
            assert_eq!(code(&typo), ErrorCode::InvalidToken, "position {i}");
        }
        // Two neighbours swapped.
        let mut bytes = text.clone().into_bytes();
        let i = (5..KEY_LEN - 1)
            .find(|&i| bytes[i] != bytes[i + 1])
            .unwrap();
        bytes.swap(i, i + 1);
        assert_eq!(
            code(&String::from_utf8(bytes).unwrap()),
            ErrorCode::InvalidToken
        );
        assert_eq!(code(&text[..KEY_LEN - 1]), ErrorCode::InvalidToken);
        assert_eq!(code(&format!("{text}0")), ErrorCode::InvalidToken);
        assert_eq!(
            code(&text.replacen("ytvc_", "ytvx_", 1)),
            ErrorCode::InvalidToken
        );
        assert_eq!(
            code(&text.replacen("ytvc_", "YTVC_", 1)),
            ErrorCode::InvalidToken
        );
        let mut bytes = text.into_bytes();
        bytes[20] = b'-';
        assert_eq!(
            code(&String::from_utf8(bytes).unwrap()),
            ErrorCode::InvalidToken
        );
        assert_eq!(code("ytvc_é"), ErrorCode::InvalidToken);
    }

    #[test]
    fn the_documented_example_is_a_valid_key() {
        let example = "ytvc_7Fq2LzXa0bNcR4tYwE9uKpM3sVd1hJg6oQiB8nCx5yTfW2rZeUk2FEBAI";
        assert_eq!(
            KeySecret::parse(example).unwrap().display_prefix(),
            "ytvc_7Fq2LzXa"
        );
    }

    #[test]
    fn keys_and_jwts_are_told_apart_by_the_prefix() {
        assert!(KeySecret::is_key_shaped(key().expose()));
        assert!(!KeySecret::is_key_shaped("eyJhbGciOiJIUzI1NiJ9.e30.sig"));
        let other = KeySecret::generate(&Counting(AtomicU8::new(7)));
        assert_ne!(other, key());
        assert_ne!(other.digest(), key().digest());
    }
}
