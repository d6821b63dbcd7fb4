//! Reading stored files without holding them whole: the [`ArtifactMeta`] a
//! store knows of a file, the [`ByteRange`] a client asks for, and the
//! [`ByteStream`] its bytes arrive in.

use std::fmt;
use std::ops::Range;
use std::pin::Pin;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_core::Stream;

use super::MediaError;

/// The bytes of a stored file, in order, in chunks of the store's choosing.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, MediaError>> + Send>>;

/// A stream of the one chunk `bytes` (what in-memory stores answer).
#[must_use]
pub fn byte_stream_of(bytes: Bytes) -> ByteStream {
    Box::pin(Once(Some(bytes)))
}

struct Once(Option<Bytes>);

impl Stream for Once {
    type Item = Result<Bytes, MediaError>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.take().map(Ok))
    }
}

/// What a store knows of one file, read without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactMeta {
    /// Its size in bytes.
    pub size: u64,
    /// An opaque tag that changes whenever the bytes do (no quotes): the
    /// same on every instance reading the same store.
    pub etag: String,
    /// When it was written, when the store knows.
    pub last_modified: Option<DateTime<Utc>>,
}

impl ArtifactMeta {
    /// The meta of `bytes` held in memory: the tag is a digest of them.
    #[must_use]
    pub fn of_bytes(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(bytes);
        Self {
            size: bytes.len() as u64,
            etag: hex::encode(&digest[..16]),
            last_modified: None,
        }
    }
}

/// A byte range as a client asks for it (one range of an RFC 9110 `Range:
/// bytes=` header), before the file's size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-last`, both inclusive.
    FromTo(u64, u64),
    /// `first-`: from `first` to the end.
    From(u64),
    /// `-n`: the last `n` bytes.
    Last(u64),
}

/// A [`ByteRange`] no byte of the file satisfies (HTTP 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable {
    /// The file's size (`Content-Range: bytes */size`).
    pub size: u64,
}

impl fmt::Display for Unsatisfiable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "range not satisfiable for {} bytes", self.size)
    }
}

impl ByteRange {
    /// Parses one range spec (`0-99`, `100-`, `-20`) of a `bytes=` header;
    /// `None` when it is malformed (`first > last`, no digits, ...).
    #[must_use]
    pub fn parse(spec: &str) -> Option<Self> {
        let (first, last) = spec.trim().split_once('-')?;
        let number = |s: &str| -> Option<u64> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        match (first.trim(), last.trim()) {
            ("", n) => number(n).map(ByteRange::Last),
            (a, "") => number(a).map(ByteRange::From),
            (a, b) => {
                let (a, b) = (number(a)?, number(b)?);
                (a <= b).then_some(ByteRange::FromTo(a, b))
            }
        }
    }

    /// The half-open byte range of a file of `size` bytes this selects (a
    /// `last` past the end is cut to the end, as RFC 9110 says).
    ///
    /// # Errors
    /// [`Unsatisfiable`] when it starts at or past the end, or asks for the
    /// last 0 bytes (an empty file satisfies no range).
    pub fn resolve(self, size: u64) -> Result<Range<u64>, Unsatisfiable> {
        let range = match self {
            ByteRange::FromTo(first, last) => first..last.saturating_add(1).min(size),
            ByteRange::From(first) => first..size,
            ByteRange::Last(n) => size.saturating_sub(n)..size,
        };
        if range.start < range.end {
            Ok(range)
        } else {
            Err(Unsatisfiable { size })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_resolve_like_rfc_9110() {
        use ByteRange as R;
        assert_eq!(R::parse("0-99"), Some(R::FromTo(0, 99)));
        assert_eq!(R::parse(" 5- "), Some(R::From(5)));
        assert_eq!(R::parse("-20"), Some(R::Last(20)));
        for bad in ["", "-", "a-b", "9-1", "1-2-3", "+1-2", "0x1-2"] {
            assert_eq!(R::parse(bad), None, "{bad}");
        }
        assert_eq!(R::FromTo(0, 99).resolve(1000), Ok(0..100));
        assert_eq!(R::FromTo(990, 2000).resolve(1000), Ok(990..1000));
        assert_eq!(R::From(10).resolve(1000), Ok(10..1000));
        assert_eq!(R::Last(20).resolve(1000), Ok(980..1000));
        assert_eq!(R::Last(5000).resolve(1000), Ok(0..1000));
        assert_eq!(
            R::From(1000).resolve(1000),
            Err(Unsatisfiable { size: 1000 })
        );
        assert_eq!(R::FromTo(1000, 1001).resolve(1000).unwrap_err().size, 1000);
        assert!(R::Last(0).resolve(1000).is_err());
        assert!(R::From(0).resolve(0).is_err());
    }

    #[test]
    fn meta_of_bytes_is_stable() {
        let a = ArtifactMeta::of_bytes(b"abc");
        assert_eq!(a, ArtifactMeta::of_bytes(b"abc"));
        assert_ne!(a.etag, ArtifactMeta::of_bytes(b"abd").etag);
        assert_eq!((a.size, a.etag.len()), (3, 32));
    }
}
