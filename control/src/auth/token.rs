//! Bearer secrets (session, API, join and invite tokens): 256 random bits,
//! base64url for the person, SHA-256 hex for the database. A leaked database therefore holds no
//! usable token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh token and its stored form.
pub fn new_token() -> (String, String) {
    let t = random_token();
    let h = hash_token(&t);
    (t, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_hash_deterministically() {
        let (t, h) = new_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 32);
        assert_eq!(h, hash_token(&t));
        assert_eq!(h.len(), 64);
        assert_ne!(new_token().0, t);
    }
}
