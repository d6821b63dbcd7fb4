//! Access-token keys: the configured secret or key files, or in development
//! a random key generated once and kept in the data directory.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use ytvc_auth::{JwtConfig, KeySource, SigningAlgorithm};

use crate::config::{Config, Environment, JwtAlgorithm};

/// The file holding the generated development key.
pub const DEV_KEY_FILE: &str = "jwt-dev-secret.key";

/// Builds the token configuration.
///
/// # Errors
/// Unreadable key files, or a development key that cannot be created.
pub fn jwt_config(config: &Config, log: &slog::Logger) -> anyhow::Result<JwtConfig> {
    let (algorithm, keys) = match config.jwt.algorithm {
        JwtAlgorithm::Hs256 => (
            SigningAlgorithm::Hs256,
            KeySource::Secret(hs256_secret(config, log)?),
        ),
        alg @ (JwtAlgorithm::EdDsa | JwtAlgorithm::Rs256) => {
            let read = |p: &Option<std::path::PathBuf>, what: &str| -> anyhow::Result<Vec<u8>> {
                let p = p
                    .as_ref()
                    .with_context(|| format!("{what} key file required"))?;
                std::fs::read(p)
                    .with_context(|| format!("cannot read {what} key file {}", p.display()))
            };
            let keys = KeySource::Pem {
                private: read(&config.jwt.private_key_file, "private")?,
                public: read(&config.jwt.public_key_file, "public")?,
            };
            let alg = if alg == JwtAlgorithm::EdDsa {
                SigningAlgorithm::EdDsa
            } else {
                SigningAlgorithm::Rs256
            };
            (alg, keys)
        }
    };
    Ok(JwtConfig {
        algorithm,
        keys,
        issuer: config.jwt.issuer.clone(),
        audience: config.jwt.audience.clone(),
        access_ttl: config.jwt.access_ttl,
        refresh_ttl: config.jwt.refresh_ttl,
        leeway: config.jwt.leeway,
    })
}

fn hs256_secret(config: &Config, log: &slog::Logger) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.expose().as_bytes().to_vec());
    }
    anyhow::ensure!(
        config.env == Environment::Development,
        "YTVC_JWT_SECRET is required in production"
    );
    let path = config.data_dir.join(DEV_KEY_FILE);
    let secret = load_or_create_dev_key(&path)?;
    slog::warn!(log, "using a generated development signing key; set YTVC_JWT_SECRET in production";
        "key_file" => path.display().to_string());
    Ok(secret)
}

/// Reads the development key, or creates it (64 random bytes, hex, mode 0600).
///
/// # Errors
/// I/O failures, or an existing file that is too short.
pub fn load_or_create_dev_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let key = existing.trim().as_bytes().to_vec();
        anyhow::ensure!(
            key.len() >= 32,
            "{} holds a key shorter than 32 bytes",
            path.display()
        );
        return Ok(key);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut bytes = [0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let hex = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(hex.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(hex.into_bytes())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_dev_key(path),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_key_is_created_once_with_0600() {
        let dir = std::env::temp_dir().join(format!("ytvc-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join(DEV_KEY_FILE);
        let a = load_or_create_dev_key(&path).unwrap();
        let b = load_or_create_dev_key(&path).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 128);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
