#![doc = include_str!("../README.md")]

mod location;
pub mod testing;

use std::ops::Range;
use std::sync::{Arc, Once};
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::signer::{Method, Signer};
use object_store::{
    ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt as _, PutPayload, RetryConfig,
};
use sha2::Digest as _;
use ytvc_domain::media::{
    ArtifactMeta, ArtifactStore, BoxFuture, ByteStream, MediaBlob, MediaError, StoredArtifact,
    is_artifact_name, is_artifact_set_id,
};

pub use location::Location;

/// The key prefix of each kind of file under the storage root. Artifacts
/// are `<root>/artifacts/<video_id>/<name>` (on local disk with the default
/// root, the data dir, that is `<data_dir>/artifacts/<video_id>/<name>`, the
/// layout of earlier versions).
pub mod kind {
    /// The artifact sets of videos.
    pub const ARTIFACTS: &str = "artifacts";
}

/// Why the storage cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// `YTVC_STORAGE_URL` is not a usable storage URL.
    #[error("invalid storage URL: {0}")]
    InvalidUrl(String),
    /// The store could not be set up (a directory that cannot be made, an
    /// S3 client that cannot be built).
    #[error("cannot open the storage: {0}")]
    Unavailable(String),
}

/// How S3 is reached beyond what the `AWS_*` variables say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Options {
    /// An S3-compatible endpoint (MinIO, R2, GCS interoperability, moto:
    /// `http://127.0.0.1:5555`); `None` is AWS itself (or `AWS_ENDPOINT`).
    /// Requests use path-style URLs (`endpoint/bucket/key`); plain `http`
    /// is allowed for an `http://` endpoint.
    pub endpoint: Option<String>,
    /// Attempts after a failed request (503, timeouts); default 3.
    pub max_retries: Option<usize>,
    /// How long one operation may keep retrying; default 15 s.
    pub retry_timeout: Option<Duration>,
}

/// Opened storage: one object store under one root, holding each kind of
/// file under its [`kind`] prefix.
#[derive(Debug, Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    signer: Option<Arc<dyn Signer>>,
    root: Path,
    location: Location,
}

impl Storage {
    /// Opens the storage at `url` (`file:///dir` or `s3://bucket/prefix`).
    ///
    /// # Errors
    /// See [`Storage::open`]; [`StorageError::InvalidUrl`].
    pub fn from_url(url: &str, s3: &S3Options) -> Result<Self, StorageError> {
        Self::open(&url.parse()?, s3)
    }

    /// Opens the storage at `location`. A local directory is created if
    /// missing. S3 credentials and the region come from the usual `AWS_*`
    /// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, `AWS_REGION` / `AWS_DEFAULT_REGION`, ...); no
    /// request is made here.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] when the directory cannot be made or
    /// the S3 client cannot be built.
    pub fn open(location: &Location, s3: &S3Options) -> Result<Self, StorageError> {
        let unavailable = |e: &dyn std::fmt::Display| StorageError::Unavailable(e.to_string());
        match location {
            Location::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| unavailable(&format!("{}: {e}", dir.display())))?;
                let fs = LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| unavailable(&e))?
                    .with_automatic_cleanup(true);
                Ok(Self {
                    store: Arc::new(fs),
                    signer: None,
                    root: Path::default(),
                    location: location.clone(),
                })
            }
            Location::S3 { bucket, prefix } => {
                install_crypto_provider();
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_virtual_hosted_style_request(false)
                    .with_retry(RetryConfig {
                        max_retries: s3.max_retries.unwrap_or(3),
                        retry_timeout: s3.retry_timeout.unwrap_or(Duration::from_secs(15)),
                        ..RetryConfig::default()
                    })
                    .with_client_options(
                        ClientOptions::new()
                            .with_connect_timeout(Duration::from_secs(5))
                            .with_timeout(Duration::from_secs(60)),
                    );
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                let s3 = Arc::new(builder.build().map_err(|e| unavailable(&e))?);
                Ok(Self {
                    store: s3.clone(),
                    signer: Some(s3),
                    root: Path::from(prefix.as_str()),
                    location: location.clone(),
                })
            }
        }
    }

    /// Where it is.
    #[must_use]
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The artifact store: the sets under `<root>/artifacts/`.
    #[must_use]
    pub fn artifacts(&self) -> ObjectArtifactStore {
        ObjectArtifactStore {
            store: self.store.clone(),
            signer: self.signer.clone(),
            prefix: self.root.clone().join(kind::ARTIFACTS),
        }
    }
}

/// reqwest 0.13 is built without a bundled TLS provider (see Cargo.toml):
/// ring is installed once, unless the process installed one already.
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    });
}

/// The domain's [`ArtifactStore`] over an object store: each file is one
/// object `<prefix>/<video_id>/<name>`, written whole by one atomic put
/// (never seen half written), read as a stream, by ranges.
#[derive(Debug, Clone)]
pub struct ObjectArtifactStore {
    store: Arc<dyn ObjectStore>,
    signer: Option<Arc<dyn Signer>>,
    prefix: Path,
}

impl ObjectArtifactStore {
    /// The artifact store of the storage at `url` (see [`Storage::from_url`]).
    ///
    /// # Errors
    /// As [`Storage::from_url`].
    pub fn from_url(url: &str, s3: &S3Options) -> Result<Self, StorageError> {
        Ok(Storage::from_url(url, s3)?.artifacts())
    }

    /// Whether it can make presigned URLs (object storage).
    #[must_use]
    pub fn can_presign(&self) -> bool {
        self.signer.is_some()
    }

    fn set(&self, video_id: &str) -> Option<Path> {
        is_artifact_set_id(video_id).then(|| self.prefix.clone().join(video_id))
    }

    fn file(&self, video_id: &str, name: &str) -> Option<Path> {
        self.set(video_id)
            .filter(|_| is_artifact_name(name))
            .map(|set| set.join(name))
    }
}

fn failed(what: &str, path: &Path, e: &object_store::Error) -> MediaError {
    MediaError::AssemblyFailed(format!("storage {what} {path}: {e}"))
}

fn meta(m: &object_store::ObjectMeta) -> ArtifactMeta {
    // S3 answers a quoted tag, local disk a bare one: keep the token only.
    let etag = m
        .e_tag
        .as_deref()
        .map(|t| t.trim_start_matches("W/").trim_matches('"').to_owned())
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic() && b != b'"'))
        .unwrap_or_else(|| {
            // No usable tag: one from what identifies this version.
            let seed = format!(
                "{}:{}:{}",
                m.location,
                m.size,
                m.last_modified.timestamp_micros()
            );
            hex::encode(&sha2::Sha256::digest(seed.as_bytes())[..16])
        });
    ArtifactMeta {
        size: m.size,
        etag,
        last_modified: Some(m.last_modified),
    }
}

impl ArtifactStore for ObjectArtifactStore {
    fn put<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        blob: &'a MediaBlob,
    ) -> BoxFuture<'a, Result<StoredArtifact, MediaError>> {
        Box::pin(async move {
            let Some(path) = self.file(video_id, name) else {
                return Err(MediaError::AssemblyFailed(format!(
                    "invalid artifact name {video_id:?}/{name:?}"
                )));
            };
            let stored = StoredArtifact {
                name: name.to_owned(),
                media_type: blob.format.media_type().to_owned(),
                size: blob.bytes.len() as u64,
                sha256: hex::encode(sha2::Sha256::digest(&blob.bytes)),
            };
            let payload = PutPayload::from(Bytes::from(blob.bytes.clone()));
            self.store
                .put(&path, payload)
                .await
                .map_err(|e| failed("write", &path, &e))?;
            Ok(stored)
        })
    }

    fn discard<'a>(&'a self, video_id: &'a str) -> BoxFuture<'a, Result<(), MediaError>> {
        Box::pin(async move {
            let Some(set) = self.set(video_id) else {
                return Ok(());
            };
            let listed = self.store.list(Some(&set)).map_ok(|m| m.location).boxed();
            let mut deleted = self.store.delete_stream(listed);
            while let Some(result) = deleted.next().await {
                match result {
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(failed("delete", &set, &e)),
                }
            }
            Ok(())
        })
    }

    fn read<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, MediaError>> {
        Box::pin(async move {
            let Some(path) = self.file(video_id, name) else {
                return Ok(None);
            };
            let got = match self.store.get(&path).await {
                Ok(got) => got,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(failed("read", &path, &e)),
            };
            let bytes = got.bytes().await.map_err(|e| failed("read", &path, &e))?;
            Ok(Some(bytes.to_vec()))
        })
    }

    fn stat<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<ArtifactMeta>, MediaError>> {
        Box::pin(async move {
            let Some(path) = self.file(video_id, name) else {
                return Ok(None);
            };
            match self.store.head(&path).await {
                Ok(m) => Ok(Some(meta(&m))),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(failed("stat", &path, &e)),
            }
        })
    }

    fn open<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        range: Range<u64>,
    ) -> BoxFuture<'a, Result<Option<ByteStream>, MediaError>> {
        Box::pin(async move {
            let Some(path) = self.file(video_id, name) else {
                return Ok(None);
            };
            if range.is_empty() {
                // No byte to read (an empty file): only whether it exists.
                return match self.store.head(&path).await {
                    Ok(_) => Ok(Some(futures::stream::empty().boxed())),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(failed("stat", &path, &e)),
                };
            }
            let options = GetOptions::new().with_range(Some(GetRange::Bounded(range)));
            let got = match self.store.get_opts(&path, options).await {
                Ok(got) => got,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(failed("read", &path, &e)),
            };
            let shown = path.to_string();
            let body = got.into_stream().map(move |chunk| {
                chunk.map_err(|e| MediaError::AssemblyFailed(format!("storage read {shown}: {e}")))
            });
            Ok(Some(body.boxed()))
        })
    }

    fn presign<'a>(
        &'a self,
        video_id: &'a str,
        name: &'a str,
        expires_in: Duration,
    ) -> BoxFuture<'a, Result<Option<String>, MediaError>> {
        Box::pin(async move {
            let (Some(signer), Some(path)) = (&self.signer, self.file(video_id, name)) else {
                return Ok(None);
            };
            let url = signer
                .signed_url(Method::GET, &path, expires_in)
                .await
                .map_err(|e| failed("presign", &path, &e))?;
            Ok(Some(url.to_string()))
        })
    }
}
