//! The API keys' randomness: the operating system's generator.

use rand::RngCore as _;
use ytvc_domain::keys::Entropy;

/// Random bytes from `rand`'s thread generator (ChaCha, seeded and
/// periodically reseeded from the operating system), like refresh tokens.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) {
        rand::rng().fill_bytes(buf);
    }
}

#[cfg(test)]
mod tests {
    use ytvc_domain::keys::KeySecret;

    use super::*;

    #[test]
    fn keys_from_the_os_are_well_formed_and_distinct() {
        let keys: Vec<KeySecret> = (0..64).map(|_| KeySecret::generate(&OsEntropy)).collect();
        for k in &keys {
            assert_eq!(KeySecret::parse(k.expose()).as_ref().ok(), Some(k));
        }
        let distinct: std::collections::HashSet<&str> =
            keys.iter().map(KeySecret::expose).collect();
        assert_eq!(distinct.len(), keys.len());
    }
}
