//! Storage: where artifacts are kept (local disk or S3-compatible object
//! storage), how downloads are served from it, and how long sets are kept.

use std::path::Path;

use ytvc_storage::Location;

use super::setting::{DefaultValue, Setting};
use super::sources::{Sources, number};

pub(super) const STORAGE_URL: Setting = Setting {
    key: "storage_url",
    var: "YTVC_STORAGE_URL",
    default: DefaultValue::Unset("`file://` + the data dir"),
    meaning: "where artifacts are kept (`<root>/artifacts/<video_id>/`): `file:///dir` or \
              `s3://bucket/prefix` (AWS S3, MinIO, R2, GCS interoperability; credentials and \
              region from the usual `AWS_*` variables), shared by every API instance and worker",
};
pub(super) const S3_ENDPOINT: Setting = Setting {
    key: "s3_endpoint",
    var: "YTVC_S3_ENDPOINT",
    default: DefaultValue::Unset("AWS S3 (or `AWS_ENDPOINT`)"),
    meaning: "an S3-compatible endpoint for `s3://` storage, e.g. `http://127.0.0.1:9000` \
              (path-style requests)",
};
pub(super) const STORAGE_PRESIGN: Setting = Setting {
    key: "storage_presign",
    var: "YTVC_STORAGE_PRESIGN",
    default: DefaultValue::Value("off"),
    meaning: "`on`: artifact downloads from `s3://` storage redirect (307) to a presigned URL \
              valid 5 minutes instead of streaming through the API",
};
pub(super) const ARTIFACT_RETENTION_DAYS: Setting = Setting {
    key: "artifact_retention_days",
    var: "YTVC_ARTIFACT_RETENTION_DAYS",
    default: DefaultValue::Value("30"),
    meaning: "days a completed video's artifacts are kept; the worker's maintenance deletes \
              older sets (0 keeps them forever; 0..=36500)",
};

/// Where artifacts are kept and how they are served (see [`super::Config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    /// The storage root (`file://` or `s3://`).
    pub location: Location,
    /// An S3-compatible endpoint (`None`: AWS).
    pub s3_endpoint: Option<String>,
    /// Whether S3 downloads redirect to presigned URLs.
    pub presign: bool,
    /// Days completed sets are kept (0: forever).
    pub retention_days: u32,
}

impl StorageSettings {
    /// Parses and validates the group; the default root is `data_dir`.
    pub(super) fn load(src: &mut Sources, data_dir: &Path) -> Self {
        let configured = src.optional(&STORAGE_URL, |s| {
            s.parse::<Location>().map_err(|e| e.to_string())
        });
        let location = configured.unwrap_or_else(|| {
            Location::local(data_dir).unwrap_or_else(|_| Location::Local(data_dir.to_path_buf()))
        });
        let s3_endpoint = src.optional(&S3_ENDPOINT, |s| {
            let ok = (s.starts_with("http://") || s.starts_with("https://"))
                && s.len() > "https://".len()
                && !s.contains('@');
            if ok {
                Ok(s.trim_end_matches('/').to_owned())
            } else {
                Err("expected an http:// or https:// URL without credentials".to_owned())
            }
        });
        let presign = src.value(&STORAGE_PRESIGN, |s| match s {
            "on" | "true" | "1" => Ok(true),
            "off" | "false" | "0" => Ok(false),
            _ => Err("expected `on` or `off`".into()),
        });
        let retention_days = src.value(&ARTIFACT_RETENTION_DAYS, number(0..=36_500));
        if presign && !location.is_s3() {
            let origin = src.origin(&STORAGE_PRESIGN);
            src.refuse(format!(
                "{origin}: presigned downloads need `s3://` storage (YTVC_STORAGE_URL)"
            ));
        }
        Self {
            location,
            s3_endpoint,
            presign,
            retention_days,
        }
    }

    /// The S3 options of the store.
    #[must_use]
    pub fn s3_options(&self) -> ytvc_storage::S3Options {
        ytvc_storage::S3Options {
            endpoint: self.s3_endpoint.clone(),
            ..ytvc_storage::S3Options::default()
        }
    }

    /// How long completed sets are kept (`None`: forever).
    #[must_use]
    pub fn retention(&self) -> Option<chrono::TimeDelta> {
        (self.retention_days > 0).then(|| chrono::TimeDelta::days(i64::from(self.retention_days)))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::load;
    use ytvc_storage::Location;

    #[test]
    fn defaults_keep_artifacts_under_the_data_dir_for_30_days() {
        let c = load(&[("YTVC_DATA_DIR", "/var/lib/ytvc")]).unwrap();
        assert_eq!(c.storage.location, Location::Local("/var/lib/ytvc".into()));
        assert_eq!(c.storage.s3_endpoint, None);
        assert!(!c.storage.presign);
        assert_eq!(c.storage.retention_days, 30);
        assert_eq!(c.storage.retention(), Some(chrono::TimeDelta::days(30)));
        let relative = load(&[]).unwrap();
        let Location::Local(dir) = &relative.storage.location else {
            panic!("local by default");
        };
        assert!(dir.is_absolute() && dir.ends_with("data"), "{dir:?}");
    }

    #[test]
    fn s3_with_an_endpoint_and_presigned_downloads() {
        let c = load(&[
            ("YTVC_STORAGE_URL", "s3://videos/prod"),
            ("YTVC_S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("YTVC_STORAGE_PRESIGN", "on"),
            ("YTVC_ARTIFACT_RETENTION_DAYS", "0"),
        ])
        .unwrap();
        assert_eq!(c.storage.location.to_string(), "s3://videos/prod");
        assert_eq!(
            c.storage.s3_endpoint.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert!(c.storage.presign);
        assert_eq!(c.storage.retention(), None);
    }

    #[test]
    fn bad_values_are_named_and_credentials_never_shown() {
        let err = load(&[
            ("YTVC_STORAGE_URL", "s3://AKIAX:hunter2@videos/p"),
            ("YTVC_S3_ENDPOINT", "ftp://x"),
            ("YTVC_ARTIFACT_RETENTION_DAYS", "-1"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("YTVC_STORAGE_URL") && !err.contains("hunter2"),
            "{err}"
        );
        assert!(err.contains("YTVC_S3_ENDPOINT"), "{err}");
        assert!(err.contains("YTVC_ARTIFACT_RETENTION_DAYS"), "{err}");
        let err = load(&[("YTVC_STORAGE_PRESIGN", "on")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("YTVC_STORAGE_PRESIGN") && err.contains("s3://"),
            "{err}"
        );
    }
}
