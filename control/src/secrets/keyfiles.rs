//! Where the master keys live: `master.key` in the data dir (made on first start with mode 0600)
//! or the operator's `DPLOYR_MASTER_KEY`, plus the keys a rotation retired (`master.key.<id>`
//! files and `DPLOYR_RETIRED_MASTER_KEYS`). The environment's values reach this module as
//! [`KeySettings`] from Base's configuration; nothing here reads the environment itself.

use std::io::Write;
use std::path::Path;

use super::keyring::{KEY_LEN, KeyError, Keyring, new_key, parse_hex_key};

/// The key file in the data dir; retired keys sit beside it as `master.key.<id>`.
pub const KEY_FILE: &str = "master.key";

/// Keys the operator holds outside the data dir (from `DPLOYR_MASTER_KEY` and
/// `DPLOYR_RETIRED_MASTER_KEYS`).
#[derive(Clone, Default)]
pub struct KeySettings {
    /// The current key, 64 hex digits; when set, no key file is read or made.
    pub master: Option<String>,
    /// Older keys still needed to open what they sealed: comma-separated, 64 hex digits each.
    pub retired: Option<String>,
}

impl std::fmt::Debug for KeySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Whether keys are set, never the keys.
        f.debug_struct("KeySettings")
            .field("master", &self.master.is_some())
            .field("retired", &self.retired.is_some())
            .finish()
    }
}

impl KeySettings {
    /// The operator's current key, if they hold it.
    pub(super) fn master_key(&self) -> Result<Option<[u8; KEY_LEN]>, KeyError> {
        self.master
            .as_deref()
            .map(|text| parse_hex_key(text).ok_or(KeyError::BadEnvKey))
            .transpose()
    }

    /// The operator's retired keys.
    fn retired_keys(&self) -> Result<Vec<[u8; KEY_LEN]>, KeyError> {
        let Some(text) = &self.retired else {
            return Ok(Vec::new());
        };
        text.split(',')
            .filter(|k| !k.trim().is_empty())
            .map(|k| parse_hex_key(k).ok_or(KeyError::BadRetiredEnvKey))
            .collect()
    }
}

/// The operator's key if set, else `data_dir/master.key` (made now if missing), plus every
/// retired key (files and settings).
pub fn load(data_dir: &Path, settings: &KeySettings) -> Result<Keyring, KeyError> {
    let current = match settings.master_key()? {
        Some(key) => key,
        None => read_or_create_key_file(&data_dir.join(KEY_FILE))?,
    };
    Ok(Keyring::from_keys(current, &retired(data_dir, settings)?))
}

/// Every retired key: `master.key.<id>` files and the settings' list.
pub(super) fn retired(
    data_dir: &Path,
    settings: &KeySettings,
) -> Result<Vec<[u8; KEY_LEN]>, KeyError> {
    let mut keys = retired_key_files(data_dir)?;
    keys.extend(settings.retired_keys()?);
    Ok(keys)
}

pub(super) fn read_or_create_key_file(path: &Path) -> Result<[u8; KEY_LEN], KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_hex_key(&text).ok_or_else(|| KeyError::BadKeyFile(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = new_key();
            write_key_file(path, &key).map_err(io(path))?;
            Ok(key)
        }
        Err(e) => Err(io(path)(e)),
    }
}

/// Names the file an I/O error happened on.
pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |error| KeyError::Io {
        path: path.to_path_buf(),
        error,
    }
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
fn retired_key_files(data_dir: &Path) -> Result<Vec<[u8; KEY_LEN]>, KeyError> {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return Ok(Vec::new());
    };
    let mut keys = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("master.key.") && !name.ends_with(".tmp") {
            let path = entry.path();
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            keys.push(parse_hex_key(&text).ok_or(KeyError::BadKeyFile(path))?);
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_file_is_made_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let first = load(dir.path(), &KeySettings::default()).unwrap();
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = load(dir.path(), &KeySettings::default()).unwrap();
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

    #[test]
    fn the_operators_keys_come_first_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (key, old) = (new_key(), new_key());
        let sealed = Keyring::from_keys(old, &[]).seal("c", "v");
        let settings = KeySettings {
            master: Some(hex::encode(key)),
            retired: Some(format!(" {} ,", hex::encode(old))),
        };
        let ring = load(dir.path(), &settings).unwrap();
        assert_eq!(ring.current_id(), Keyring::from_keys(key, &[]).current_id());
        assert_eq!(ring.open("c", &sealed).unwrap(), "v");
        assert!(!dir.path().join(KEY_FILE).exists(), "no key file is made");
        assert!(!format!("{settings:?}").contains(&hex::encode(key)));
        let bad = KeySettings {
            master: Some("abc".into()),
            retired: None,
        };
        assert!(matches!(load(dir.path(), &bad), Err(KeyError::BadEnvKey)));
        let bad = KeySettings {
            master: None,
            retired: Some("abc".into()),
        };
        assert!(matches!(
            load(dir.path(), &bad),
            Err(KeyError::BadRetiredEnvKey)
        ));
    }
}
