//! Where the CLI keeps its login: `~/.config/dployr/config.toml` (or `$XDG_CONFIG_HOME`, or
//! `DPLOYR_CONFIG`), readable by its owner only because it holds an API token. CI passes
//! `DPLOYR_URL` and `DPLOYR_TOKEN` instead; those (and the flags) win over the file.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{CliError, Kind, Result};

/// The file's contents. Every field is optional: a half-written file still loads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    pub url: Option<String>,
    pub token: Option<String>,
    /// The saved token's id, so `dployr logout` can revoke it.
    pub token_id: Option<String>,
    /// The cluster the token acts in (tokens belong to one cluster).
    pub cluster: Option<String>,
}

pub fn default_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("DPLOYR_CONFIG") {
        return Ok(PathBuf::from(p));
    }
    let dir = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => {
            let home = std::env::var_os("HOME")
                .ok_or_else(|| CliError::other("HOME is not set: set DPLOYR_CONFIG"))?;
            PathBuf::from(home).join(".config")
        }
    };
    Ok(dir.join("dployr").join("config.toml"))
}

impl ConfigFile {
    /// The file at `path`, or an empty config when there is none yet.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                CliError::new(
                    Kind::Usage,
                    format!("{} is not valid: {}", path.display(), e.message()),
                )
                .hint("fix it, or delete it and run `dployr login` again")
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(CliError::other(format!("reading {}: {e}", path.display()))),
        }
    }

    /// Writes the file with mode 0600 (its folder 0700) through a temporary file, so a crash
    /// never leaves half a token behind and no other user can read it even for a moment.
    pub fn save(&self, path: &Path) -> Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        if dir.ends_with("dployr") {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let text = toml::to_string(self).map_err(|e| CliError::other(e.to_string()))?;
        let tmp = path.with_extension("toml.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_config_is_private_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dployr").join("config.toml");
        assert_eq!(ConfigFile::load(&path).unwrap(), ConfigFile::default());
        let cfg = ConfigFile {
            url: Some("https://base.example.com".into()),
            token: Some("dp_secret".into()),
            token_id: Some("tok_1".into()),
            cluster: Some("cl_1".into()),
        };
        cfg.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        assert_eq!(ConfigFile::load(&path).unwrap(), cfg);
    }

    #[test]
    fn a_broken_config_is_a_usage_error_that_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "url = [").unwrap();
        let e = ConfigFile::load(&path).unwrap_err();
        assert_eq!(e.kind, Kind::Usage);
        assert!(e.message.contains("config.toml"), "{}", e.message);
    }
}
