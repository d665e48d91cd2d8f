//! Secrets at rest: AES-256-GCM (ring) under a master key that never enters the database. The
//! key comes from `DPLOYR_MASTER_KEY` (64 hex digits) or from `master.key` in the data dir, made
//! on first start with mode 0600. Every sealed value carries the id of the key that sealed it,
//! and is bound to where it belongs (service and name) as associated data, so a value copied to
//! another row does not open. Rotation (`dployr-server rotate-key`) seals everything again under
//! a new key; keys it retired stay readable from `master.key.<id>` until then.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

/// The environment variable that, when set, holds the master key instead of the key file.
pub const MASTER_KEY_ENV: &str = "DPLOYR_MASTER_KEY";
pub(super) const KEY_FILE: &str = "master.key";
pub(super) const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{MASTER_KEY_ENV} must be 64 hex digits (32 bytes)")]
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

fn parse_hex_key(text: &str) -> Option<[u8; KEY_LEN]> {
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

    /// `DPLOYR_MASTER_KEY` if set, else `data_dir/master.key` (made now if missing), plus the
    /// retired keys in `data_dir/master.key.<id>` and `DPLOYR_RETIRED_MASTER_KEYS`.
    pub fn load_or_create(data_dir: &Path) -> Result<Keyring, KeyError> {
        let current = match std::env::var(MASTER_KEY_ENV) {
            Ok(text) => parse_hex_key(&text).ok_or(KeyError::BadEnvKey)?,
            Err(_) => read_or_create_key_file(&data_dir.join(KEY_FILE))?,
        };
        let mut retired = retired_keys(data_dir)?;
        retired.extend(super::rotation::retired_from_env()?);
        Ok(Keyring::from_keys(current, &retired))
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

pub(super) fn read_or_create_key_file(path: &Path) -> Result<[u8; KEY_LEN], KeyError> {
    let io = |error| KeyError::Io {
        path: path.to_path_buf(),
        error,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => parse_hex_key(&text).ok_or_else(|| KeyError::BadKeyFile(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = new_key();
            write_key_file(path, &key).map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
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

/// Writes a key file readable by its owner only (created with mode 0600, never widened).
pub fn write_key_file(path: &Path, key: &[u8; KEY_LEN]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(format!("{}\n", hex::encode(key)).as_bytes())?;
    file.sync_all()
}

/// Keys a rotation retired, kept as `master.key.<id>` until nothing is sealed with them.
pub(super) fn retired_keys(data_dir: &Path) -> Result<Vec<[u8; KEY_LEN]>, KeyError> {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return Ok(Vec::new());
    };
    let mut keys = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("master.key.") && !name.ends_with(".tmp") {
            let text = std::fs::read_to_string(entry.path()).map_err(|error| KeyError::Io {
                path: entry.path(),
                error,
            })?;
            keys.push(parse_hex_key(&text).ok_or_else(|| KeyError::BadKeyFile(entry.path()))?);
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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

    #[test]
    fn the_key_file_is_made_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let first = Keyring::load_or_create(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = Keyring::load_or_create(dir.path()).unwrap();
        assert_eq!(first.current_id(), second.current_id());
        assert!(
            !format!("{first:?}").contains(
                &std::fs::read_to_string(dir.path().join(KEY_FILE))
                    .unwrap()
                    .trim()
                    .to_string()
            )
        );
    }
}
