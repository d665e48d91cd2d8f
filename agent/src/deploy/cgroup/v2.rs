//! cgroup v2: one directory per cgroup under `<own>/dployr`, with `memory.max`, `cpu.max`,
//! `cpu.weight`, `memory.events` and `cgroup.kill`.

use std::io;
use std::path::Path;

use super::{CgroupSpec, Layout, PERIOD_US, bytes, own_path, quota, write};

const ROOT: &str = "/sys/fs/cgroup";
/// The weight of a build (services have the default, 100).
const BUILD_WEIGHT: &str = "20";

/// The v2 layout, when the unified hierarchy at `/sys/fs/cgroup` has the memory controller and
/// dployrd can make `dployr/` under its own cgroup with memory (and cpu) delegated to it.
pub(super) fn detect() -> Option<Layout> {
    let root = Path::new(ROOT);
    let available = std::fs::read_to_string(root.join("cgroup.controllers")).ok()?;
    if !available.split_whitespace().any(|c| c == "memory") {
        return None;
    }
    let own = root.join(own_path(|id, _| id == "0")?);
    let base = own.join("dployr");
    if let Err(e) = std::fs::create_dir(&base)
        && e.kind() != io::ErrorKind::AlreadyExists
    {
        return None;
    }
    if delegate(&own).is_err() {
        // The no-internal-processes rule: a cgroup with processes (dployrd itself) cannot
        // hand controllers to its children. dployrd moves itself into a leaf beside `dployr/`.
        let leaf = own.join("dployrd");
        let _ = std::fs::create_dir(&leaf);
        write(&leaf, "cgroup.procs", "0").ok()?;
        delegate(&own).ok()?;
    }
    delegate(&base).ok()?;
    Some(Layout::V2(base))
}

/// Gives the children of `dir` the memory and cpu controllers (memory is needed; cpu where the
/// kernel has it).
fn delegate(dir: &Path) -> io::Result<()> {
    write(dir, "cgroup.subtree_control", "+memory")?;
    let _ = write(dir, "cgroup.subtree_control", "+cpu");
    let _ = write(dir, "cgroup.subtree_control", "+pids");
    Ok(())
}

pub(super) fn controllers(base: &Path) -> Vec<&'static str> {
    let on = std::fs::read_to_string(base.join("cgroup.subtree_control")).unwrap_or_default();
    ["memory", "cpu"]
        .into_iter()
        .filter(|c| on.split_whitespace().any(|o| o == *c))
        .collect()
}

pub(super) fn limit(dir: &Path, spec: &CgroupSpec) -> io::Result<()> {
    if let Some(mb) = spec.memory_mb {
        write(dir, "memory.max", &bytes(mb))?;
        // Over the limit means killed, not swapped out.
        let _ = write(dir, "memory.swap.max", "0");
    }
    // Without the cpu controller (not delegated to dployrd) the files are missing: run without.
    let cpu = |file: &str, value: &str| {
        if let Err(e) = write(dir, file, value) {
            tracing::warn!(cgroup = %spec.name, error = %e, "running without the CPU limit");
        }
    };
    if let Some(millis) = spec.cpu_millis {
        cpu("cpu.max", &format!("{} {PERIOD_US}", quota(millis)));
    }
    if spec.background {
        cpu("cpu.weight", BUILD_WEIGHT);
    }
    Ok(())
}

pub(super) fn kill(dir: &Path) {
    if write(dir, "cgroup.kill", "1").is_err() {
        // Before Linux 5.14: one by one.
        for pid in std::fs::read_to_string(dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
