//! The storage side of the server: the artifact store of the configured
//! storage (`YTVC_STORAGE_URL`), which the pipeline writes and downloads
//! read, the same for every API instance and worker pointed at it.

use std::sync::Arc;

use anyhow::Context as _;
use ytvc_domain::media::ArtifactStore;
use ytvc_media_clients::Flaky;
use ytvc_storage::Storage;

use crate::config::Config;

/// How long a presigned download URL is valid (`YTVC_STORAGE_PRESIGN=on`).
pub const PRESIGN_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// The artifact store of the configured storage. No request is made: an
/// unreachable S3 shows in the first write or download.
///
/// # Errors
/// A local directory that cannot be made, an S3 client that cannot be built.
pub fn artifact_store(config: &Config) -> anyhow::Result<Arc<dyn ArtifactStore>> {
    let storage = &config.storage;
    let opened = Storage::open(&storage.location, &storage.s3_options())
        .with_context(|| format!("YTVC_STORAGE_URL={}", storage.location))?;
    Ok(Arc::new(opened.artifacts()))
}

/// The store the pipeline writes through: `artifacts`, with the injected
/// `put` faults of `YTVC_MEDIA_FAULTS` when faults are configured (they
/// apply to every local part: services, title cards and storage).
///
/// # Errors
/// A bad fault specification.
pub fn pipeline_store(
    artifacts: &Arc<dyn ArtifactStore>,
    config: &Config,
) -> anyhow::Result<Arc<dyn ArtifactStore>> {
    match &config.media_faults {
        Some(spec) => {
            let faults = Flaky::<()>::parse_faults(spec).map_err(anyhow::Error::msg)?;
            Ok(Arc::new(Flaky::new(artifacts.clone()).with_faults(faults)))
        }
        None => Ok(artifacts.clone()),
    }
}
