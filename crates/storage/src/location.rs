//! [`Location`]: where the storage is, parsed from `YTVC_STORAGE_URL`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::StorageError;

/// Where the files are kept: a directory on local disk or a bucket (and an
/// optional key prefix) of S3-compatible object storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `file:///absolute/dir`.
    Local(PathBuf),
    /// `s3://bucket` or `s3://bucket/prefix`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix every file is under (no leading or trailing
        /// `/`; empty for the bucket's root).
        prefix: String,
    },
}

impl Location {
    /// The local directory `dir`, made absolute against the current
    /// directory.
    ///
    /// # Errors
    /// [`StorageError::InvalidUrl`] when the current directory is unknown.
    pub fn local(dir: &Path) -> Result<Self, StorageError> {
        std::path::absolute(dir)
            .map(Location::Local)
            .map_err(|e| StorageError::InvalidUrl(format!("{}: {e}", dir.display())))
    }

    /// Whether this is object storage (which can presign URLs).
    #[must_use]
    pub fn is_s3(&self) -> bool {
        matches!(self, Location::S3 { .. })
    }
}

impl FromStr for Location {
    type Err = StorageError;

    /// Parses `file:///dir` or `s3://bucket[/prefix]`. A URL with a user,
    /// password, query or fragment is refused: credentials come from the
    /// `AWS_*` variables only.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| StorageError::InvalidUrl(why.to_owned());
        let url = url::Url::parse(s.trim())
            .map_err(|e| bad(&format!("expected file:///dir or s3://bucket/prefix ({e})")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "credentials do not belong in the URL: use AWS_* variables",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("no query or fragment is allowed"));
        }
        match url.scheme() {
            "file" => {
                if url
                    .host_str()
                    .is_some_and(|h| !h.is_empty() && h != "localhost")
                {
                    return Err(bad("a file:// URL names a local path (file:///dir)"));
                }
                let path = url
                    .to_file_path()
                    .map_err(|()| bad("a file:// URL needs an absolute path (file:///dir)"))?;
                Ok(Location::Local(path))
            }
            "s3" => {
                let bucket = url
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| bad("an s3:// URL needs a bucket (s3://bucket/prefix)"))?;
                let prefix = url.path().trim_matches('/');
                if prefix.split('/').any(|p| p == "." || p == "..") || prefix.contains("//") {
                    return Err(bad("the prefix must be plain path segments"));
                }
                Ok(Location::S3 {
                    bucket: bucket.to_owned(),
                    prefix: prefix.to_owned(),
                })
            }
            other => Err(bad(&format!(
                "unsupported scheme {other:?}: expected file:// or s3://"
            ))),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(dir) => write!(f, "file://{}", dir.display()),
            Location::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Location::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_locations() {
        assert_eq!(
            "file:///var/lib/ytvc".parse::<Location>().unwrap(),
            Location::Local("/var/lib/ytvc".into())
        );
        assert_eq!(
            "s3://videos/prod/ytvc/".parse::<Location>().unwrap(),
            Location::S3 {
                bucket: "videos".into(),
                prefix: "prod/ytvc".into()
            }
        );
        let bare: Location = "s3://videos".parse().unwrap();
        assert_eq!(bare.to_string(), "s3://videos");
        assert!(bare.is_s3());
        for bad in [
            "",
            "./data",
            "http://x/y",
            "file://host/dir",
            "s3://",
            "s3://key:secret@bucket/p",
            "s3://bucket/p?x=1",
            "s3://bucket/a//b",
        ] {
            assert!(bad.parse::<Location>().is_err(), "{bad}");
        }
        let err = "s3://AKIA:hunter2@b".parse::<Location>().unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
