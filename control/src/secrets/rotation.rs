//! Master key rotation on disk (`dployr-server rotate-key`), in an order where a crash at any
//! point loses no key: the new key is written first as `master.key.<id>`, every secret is sealed
//! again under it (one transaction, by the caller), and only then do the files swap places: the
//! old key becomes `master.key.<old id>` (kept, still readable) and the new one `master.key`.
//! Since every `master.key.*` file is loaded as a retired key, Base can open every secret
//! whichever step a crash interrupted.
//!
//! With `DPLOYR_MASTER_KEY` the operator holds the key: they set the new one there, list the
//! old one in `DPLOYR_RETIRED_MASTER_KEYS`, and rotation only seals everything again.

use std::path::{Path, PathBuf};

use super::keyfiles::{self, KEY_FILE, KeySettings, io, read_or_create_key_file, write_key_file};
use super::keyring::{KeyError, Keyring, key_id, new_key};

/// A rotation whose new key is written but not yet made current on disk.
#[derive(Debug)]
pub struct Rotation {
    data_dir: PathBuf,
    old_id: String,
    new_id: String,
}

/// Starts a rotation: a new key is written beside the current one, and the keyring returned
/// seals with it while still opening with every older key. With `DPLOYR_MASTER_KEY` set there
/// is nothing to write: the keyring is the environment's key (current) and the retired ones.
pub fn begin(
    data_dir: &Path,
    settings: &KeySettings,
) -> Result<(Keyring, Option<Rotation>), KeyError> {
    if settings.master.is_some() {
        return Ok((keyfiles::load(data_dir, settings)?, None));
    }
    let mut retired = keyfiles::retired(data_dir, settings)?;
    let old = read_or_create_key_file(&data_dir.join(KEY_FILE))?;
    let new = new_key();
    let new_id = key_id(&new);
    let staged = data_dir.join(format!("{KEY_FILE}.{new_id}"));
    write_key_file(&staged, &new).map_err(io(&staged))?;
    retired.push(old);
    Ok((
        Keyring::from_keys(new, &retired),
        Some(Rotation {
            data_dir: data_dir.to_path_buf(),
            old_id: key_id(&old),
            new_id,
        }),
    ))
}

impl Rotation {
    /// After every secret was sealed again: the new key becomes `master.key`, the old one is
    /// kept as `master.key.<old id>`. Returns the old key file's path (the operator may delete
    /// it once no Base that could still seal with it is running).
    pub fn finish(self) -> Result<PathBuf, KeyError> {
        let current = self.data_dir.join(KEY_FILE);
        let kept = self.data_dir.join(format!("{KEY_FILE}.{}", self.old_id));
        let staged = self.data_dir.join(format!("{KEY_FILE}.{}", self.new_id));
        std::fs::rename(&current, &kept).map_err(io(&current))?;
        std::fs::rename(&staged, &current).map_err(io(&staged))?;
        Ok(kept)
    }

    pub fn new_key_id(&self) -> &str {
        &self.new_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(dir: &Path) -> Keyring {
        keyfiles::load(dir, &KeySettings::default()).unwrap()
    }

    #[test]
    fn a_rotation_keeps_every_older_secret_readable_at_every_step() {
        let dir = tempfile::tempdir().unwrap();
        let before = load(dir.path());
        let sealed = before.seal("svc/A", "value-a");
        let (during, rotation) = begin(dir.path(), &KeySettings::default()).unwrap();
        let rotation = rotation.unwrap();
        assert_ne!(during.current_id(), before.current_id());
        assert_eq!(during.current_id(), rotation.new_key_id());
        assert_eq!(during.open("svc/A", &sealed).unwrap(), "value-a");
        let resealed = during.seal("svc/A", "value-a");
        // A crash before `finish`: a restarted Base opens both the old and the new sealing.
        let crashed = load(dir.path());
        assert_eq!(crashed.current_id(), before.current_id());
        assert_eq!(crashed.open("svc/A", &resealed).unwrap(), "value-a");
        let kept = rotation.finish().unwrap();
        assert!(kept.exists());
        let after = load(dir.path());
        assert_eq!(after.current_id(), during.current_id());
        assert_eq!(after.open("svc/A", &resealed).unwrap(), "value-a");
        assert_eq!(after.open("svc/A", &sealed).unwrap(), "value-a");
    }
}
