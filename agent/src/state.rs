//! dployrd's data dir: `agent-key.der` (0600) and `agent-cert.der`, made on first use, and
//! `enrollment.json` (Base's gateway URL, the pin of its certificate, our instance id) written
//! by `join` and read by `run` and `status`.

use std::path::{Path, PathBuf};

use proto::ids::InstanceId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub url: String,
    /// SHA-256 of Base's gateway certificate, lowercase hex.
    pub pin: String,
    pub instance_id: InstanceId,
}

#[derive(Debug, Clone)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn path(&self) -> &Path {
        &self.0
    }

    fn enrollment_path(&self) -> PathBuf {
        self.0.join("enrollment.json")
    }

    pub fn enrollment(&self) -> std::io::Result<Option<Enrollment>> {
        match std::fs::read(self.enrollment_path()) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn save_enrollment(&self, e: &Enrollment) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.0)?;
        let tmp = self.0.join("enrollment.json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(e).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(tmp, self.enrollment_path())
    }
}

/// `sha256:ab12…` or `ab12…` -> `ab12…` (lowercase), or `None` if it is not 64 hex digits.
pub fn parse_pin(raw: &str) -> Option<String> {
    let hex = raw.strip_prefix("sha256:").unwrap_or(raw).to_lowercase();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_parsed_with_or_without_prefix() {
        let h = "AB".repeat(32);
        assert_eq!(parse_pin(&format!("sha256:{h}")), Some("ab".repeat(32)));
        assert_eq!(parse_pin(&h), Some("ab".repeat(32)));
        assert_eq!(parse_pin("sha256:xyz"), None);
    }

    #[test]
    fn enrollment_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let d = DataDir(dir.path().join("sub"));
        assert_eq!(d.enrollment().unwrap(), None);
        let e = Enrollment {
            url: "wss://x:1".into(),
            pin: "ab".repeat(32),
            instance_id: "ins_1".into(),
        };
        d.save_enrollment(&e).unwrap();
        assert_eq!(d.enrollment().unwrap(), Some(e));
    }
}
