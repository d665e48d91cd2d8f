//! What survives a dployrd restart: each service's kept releases and which one is live, in
//! `services/<id>/releases.json`, written whenever that changes. On start dployrd brings every
//! live release back: a new process on a fresh port, health-checked, routed, and only then the
//! process (or container) the previous dployrd left running is stopped (its output pipes died
//! with that dployrd, so it cannot be supervised any more).

use std::path::Path;

use proto::ids::{DeploymentId, ServiceId};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::release::{self, Release};
use super::{COMMAND_DRAIN, Engine};

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Saved {
    pub service_id: ServiceId,
    pub live: Option<DeploymentId>,
    /// Process group of the live release's process, to stop it after a restart.
    pub pgid: Option<u32>,
    /// Name of the live release's container, to remove it after a restart.
    #[serde(default)]
    pub container: Option<String>,
    /// Where that process listens.
    pub port: Option<u16>,
    pub kept: Vec<Release>,
}

const FILE: &str = "releases.json";

/// Writes the service's releases file (atomically: temp file, then rename).
pub(super) fn save(services_dir: &Path, saved: &Saved) {
    let dir = services_dir.join(saved.service_id.as_str());
    let result = std::fs::create_dir_all(&dir).and_then(|()| {
        // Owner-only: a release's environment holds the service's secrets.
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = dir.join(format!("{FILE}.tmp"));
        let _ = std::fs::remove_file(&tmp);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(saved)?)?;
        std::fs::rename(tmp, dir.join(FILE))
    });
    if let Err(e) = result {
        tracing::warn!(service = %saved.service_id, error = %e, "saving the service's releases");
    }
}

fn load(services_dir: &Path) -> Vec<Saved> {
    let Ok(entries) = std::fs::read_dir(services_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join(FILE)).ok())
        .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
        .collect()
}

impl Engine {
    /// Brings back every service that had a live release before dployrd stopped.
    pub async fn restore(&self) {
        for saved in load(&self.inner.config.services_dir) {
            let Some(live) = saved.live.clone() else {
                continue;
            };
            self.adopt_kept(&saved.service_id, saved.kept.clone());
            let cancel = CancellationToken::new();
            match release::relaunch(self, &saved.service_id, &live, COMMAND_DRAIN, &cancel).await {
                Ok(()) => {
                    tracing::info!(service = %saved.service_id, deployment = %live, "service restored")
                }
                Err(failure) => {
                    tracing::warn!(service = %saved.service_id, error = %failure.message, "could not restore the service")
                }
            }
            if let Some(pgid) = saved.pgid {
                stop_group(pgid);
            }
            if let Some(name) = &saved.container {
                crate::docker::container::remove_by_name(&self.inner.config.docker, name).await;
            }
        }
    }
}

/// SIGTERM to a process group a previous dployrd started (if it still exists).
fn stop_group(pgid: u32) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    let _ = killpg(Pid::from_raw(pgid), Signal::SIGTERM);
}
