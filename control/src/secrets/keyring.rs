//! Sealing secrets: AES-256-GCM (ring) under a master key that never enters the database. Every
//! sealed value carries the id of the key that sealed it, and is bound to where it belongs
//! (service and name) as associated data, so a value copied to another row does not open.
//! Pure: where the keys live (files, environment) is [`super::keyfiles`]'s business.

use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine as _;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

/// A master key's length in bytes (64 hex digits written out).
pub const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("DPLOYR_MASTER_KEY must be 64 hex digits (32 bytes)")]
    BadEnvKey,
    #[error("DPLOYR_RETIRED_MASTER_KEYS must be keys of 64 hex digits, separated by commas")]
    BadRetiredEnvKey,
    #[error("the master key file {0} is not 64 hex digits")]
    BadKeyFile(PathBuf),
    #[error("the master key file {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("a secret sealed with key {0}, which this Base does not have")]
    UnknownKey(String),
    #[error("a secret could not be opened: it was altered or belongs elsewhere")]
    Corrupt,
}

/// A secret as stored: the key's id and `base64(nonce || ciphertext || tag)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub data: String,
}

/// The master key (and keys retired by a rotation, to open what they sealed).
pub struct Keyring {
    current_id: String,
    keys: HashMap<String, LessSafeKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys themselves.
        f.debug_struct("Keyring")
            .field("current_id", &self.current_id)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// A key's id: the first 16 hex digits of its SHA-256 (names it without revealing it).
pub(super) fn key_id(key: &[u8]) -> String {
    hex::encode(&Sha256::digest(key)[..8])
}

/// A key written as 64 hex digits (surrounding whitespace ignored).
pub(super) fn parse_hex_key(text: &str) -> Option<[u8; KEY_LEN]> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

impl Keyring {
    /// From raw keys: the first is current, the others only open.
    pub fn from_keys(current: [u8; KEY_LEN], retired: &[[u8; KEY_LEN]]) -> Keyring {
        let mut keys = HashMap::new();
        for k in std::iter::once(&current).chain(retired) {
            let unbound = UnboundKey::new(&AES_256_GCM, k).expect("32 bytes is an AES-256 key");
            keys.insert(key_id(k), LessSafeKey::new(unbound));
        }
        Keyring {
            current_id: key_id(&current),
            keys,
        }
    }

    pub fn current_id(&self) -> &str {
        &self.current_id
    }

    /// Seals `plaintext` for `context` (e.g. `svc_…/DATABASE_URL`) under the current key.
    pub fn seal(&self, context: &str, plaintext: &str) -> Sealed {
        let key = &self.keys[&self.current_id];
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system's random source");
        let mut buf = plaintext.as_bytes().to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context.as_bytes()),
            &mut buf,
        )
        .expect("sealing cannot fail for inputs under 64 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Sealed {
            key_id: self.current_id.clone(),
            data: base64::engine::general_purpose::STANDARD.encode(out),
        }
    }

    /// Opens what [`Keyring::seal`] sealed for the same `context`.
    pub fn open(&self, context: &str, sealed: &Sealed) -> Result<String, KeyError> {
        let key = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| KeyError::UnknownKey(sealed.key_id.clone()))?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&sealed.data)
            .map_err(|_| KeyError::Corrupt)?;
        if raw.len() < NONCE_LEN {
            return Err(KeyError::Corrupt);
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::Corrupt)?;
        let mut body = body.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .map_err(|_| KeyError::Corrupt)?;
        String::from_utf8(plain.to_vec()).map_err(|_| KeyError::Corrupt)
    }
}

/// A fresh random key.
pub fn new_key() -> [u8; KEY_LEN] {
    let mut key = [0u8; KEY_LEN];
    SystemRandom::new()
        .fill(&mut key)
        .expect("the system's random source");
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_own_context_and_hide_the_plaintext() {
        let ring = Keyring::from_keys(new_key(), &[]);
        let sealed = ring.seal("svc_1/DB_PASSWORD", "hunter2-distinctive");
        assert!(!sealed.data.contains("hunter2"));
        assert_eq!(sealed.key_id, ring.current_id());
        assert_eq!(
            ring.open("svc_1/DB_PASSWORD", &sealed).unwrap(),
            "hunter2-distinctive"
        );
        assert!(matches!(
            ring.open("svc_2/DB_PASSWORD", &sealed),
            Err(KeyError::Corrupt)
        ));
        let again = ring.seal("svc_1/DB_PASSWORD", "hunter2-distinctive");
        assert_ne!(again.data, sealed.data, "a fresh nonce every time");
        let mut tampered = sealed.clone();
        tampered.data.replace_range(
            20..21,
            if &tampered.data[20..21] == "A" {
                "B"
            } else {
                "A"
            },
        );
        assert!(ring.open("svc_1/DB_PASSWORD", &tampered).is_err());
    }

    #[test]
    fn a_retired_key_still_opens_what_it_sealed_and_an_unknown_one_is_named() {
        let (old, new) = (new_key(), new_key());
        let sealed = Keyring::from_keys(old, &[]).seal("c", "v");
        assert_eq!(
            Keyring::from_keys(new, &[old]).open("c", &sealed).unwrap(),
            "v"
        );
        let err = Keyring::from_keys(new, &[]).open("c", &sealed).unwrap_err();
        assert!(matches!(err, KeyError::UnknownKey(ref id) if *id == sealed.key_id));
    }
}
