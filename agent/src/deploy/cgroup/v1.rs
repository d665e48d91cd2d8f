//! cgroup v1: a directory of the same name in each hierarchy dployrd can write (memory, cpu,
//! pids, freezer), each under dployrd's own cgroup of that hierarchy. Killing freezes the
//! cgroup first when there is a freezer, so nothing forks while it is emptied.

use std::io;
use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, kill as signal};
use nix::unistd::Pid;

use super::{CgroupSpec, Layout, PERIOD_US, bytes, own_path, quota, write};

const ROOT: &str = "/sys/fs/cgroup";
const CONTROLLERS: [&str; 4] = ["memory", "cpu", "pids", "freezer"];
/// The shares of a build (services have the default, 1024).
const BUILD_SHARES: &str = "256";

/// The hierarchies where dployrd could make `dployr/` under its own cgroup; the reason when
/// none.
pub(super) fn detect() -> Result<Layout, String> {
    let mut dirs = Vec::new();
    let mut errors = Vec::new();
    for controller in CONTROLLERS {
        let mount = Path::new(ROOT).join(controller);
        if !mount.join("cgroup.procs").exists() {
            continue;
        }
        let Some(own) = own_path(|_, list| list.split(',').any(|c| c == controller)) else {
            continue;
        };
        let base = mount.join(own).join("dployr");
        match std::fs::create_dir(&base) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                errors.push(format!("{}: {e}", base.display()));
            }
            _ => dirs.push((controller, base)),
        }
    }
    if dirs.is_empty() {
        Err(if errors.is_empty() {
            "no cgroup hierarchy under /sys/fs/cgroup".into()
        } else {
            errors.join("; ")
        })
    } else {
        Ok(Layout::V1(dirs))
    }
}

pub(super) fn limit(dirs: &[(&'static str, PathBuf)], spec: &CgroupSpec) -> io::Result<()> {
    let dir = |want: &str| {
        let found = dirs
            .iter()
            .find(|(c, _)| *c == want)
            .map(|(_, d)| d.as_path());
        if found.is_none() {
            tracing::warn!(cgroup = %spec.name, "no writable {want} cgroup hierarchy: running without the {want} limit");
        }
        found
    };
    if let Some(mb) = spec.memory_mb
        && let Some(memory) = dir("memory")
    {
        write(memory, "memory.limit_in_bytes", &bytes(mb))?;
        // With swap accounting: over the limit means killed, not swapped out.
        let _ = write(memory, "memory.memsw.limit_in_bytes", &bytes(mb));
    }
    if let Some(millis) = spec.cpu_millis
        && let Some(cpu) = dir("cpu")
    {
        write(cpu, "cpu.cfs_period_us", &PERIOD_US.to_string())?;
        write(cpu, "cpu.cfs_quota_us", &quota(millis).to_string())?;
    }
    if spec.background
        && let Some(cpu) = dirs.iter().find(|(c, _)| *c == "cpu").map(|(_, d)| d)
    {
        write(cpu, "cpu.shares", BUILD_SHARES)?;
    }
    Ok(())
}

/// One pass: freeze, SIGKILL every process, thaw (killed processes die once thawed).
pub(super) fn kill(dirs: &[(&'static str, PathBuf)]) {
    let freezer = dirs.iter().find(|(c, _)| *c == "freezer").map(|(_, d)| d);
    if let Some(f) = freezer {
        // Frozen (or freezing) processes cannot fork; the caller's next pass gets any that did.
        let _ = write(f, "freezer.state", "FROZEN");
    }
    for (_, dir) in dirs {
        for pid in std::fs::read_to_string(dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
        {
            let _ = signal(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    if let Some(f) = freezer {
        let _ = write(f, "freezer.state", "THAWED");
    }
}
