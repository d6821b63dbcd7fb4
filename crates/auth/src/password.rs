//! argon2id password hashing.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ytvc_domain::auth::{AuthError, PasswordHasher};
use ytvc_domain::validation::Password;

/// Hashes with argon2id (OWASP parameters by default: 19 MiB, 2 passes, 1 lane).
/// Verification is constant-time in the hash comparison, and
/// [`PasswordHasher::verify_dummy`] spends the same work on a fixed hash so
/// unknown emails cost what known ones do.
pub struct Argon2Hasher {
    argon: Argon2<'static>,
    dummy_hash: String,
}

impl Argon2Hasher {
    /// OWASP's recommended argon2id parameters.
    #[must_use]
    pub fn new() -> Self {
        Self::with_params(Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters"))
    }

    /// Custom parameters (memory KiB, passes, lanes).
    #[must_use]
    pub fn with_params(params: Params) -> Self {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = random_salt();
        let dummy_hash = argon
            .hash_password(b"ytvc dummy password for timing", &salt)
            .map(|h| h.to_string())
            .expect("hashing a constant succeeds");
        Self { argon, dummy_hash }
    }
}

/// 16 random bytes from the OS generator, as a PHC salt.
fn random_salt() -> SaltString {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    SaltString::encode_b64(&bytes).expect("16 bytes is a valid salt length")
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let salt = random_salt();
        self.argon
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Internal(format!("password hashing failed: {e}")))
    }

    fn verify(&self, password: &Password, hash: &str) -> bool {
        match PasswordHash::new(hash) {
            Ok(parsed) => self
                .argon
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok(),
            Err(_) => {
                self.verify_dummy(password);
                false
            }
        }
    }

    fn verify_dummy(&self, password: &Password) {
        if let Ok(parsed) = PasswordHash::new(&self.dummy_hash) {
            let _ = self
                .argon
                .verify_password(password.expose_secret().as_bytes(), &parsed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse(s).unwrap()
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let h = Argon2Hasher::new();
        let a = h.hash(&pw("correct horse battery")).unwrap();
        let b = h.hash(&pw("correct horse battery")).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(h.verify(&pw("correct horse battery"), &a));
        assert!(!h.verify(&pw("correct horse batterY"), &a));
        assert!(!h.verify(&pw("correct horse battery"), "not a phc string"));
    }
}
