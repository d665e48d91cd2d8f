//! A cgroup per service process and per build, so that limits hold and a stop reaches every
//! process a command started: a `setsid nohup miner &` leaves the process group but never its
//! cgroup (L11). Memory and CPU limits come from the service's `resources`; a build gets a lower
//! CPU weight than services even without a limit, so it cannot starve the live ones.
//!
//! dployrd makes its cgroups under its OWN cgroup of each hierarchy (from `/proc/self/cgroup`),
//! in a `dployr/` folder: cgroup v2 when the unified hierarchy has the memory controller
//! ([`v2`]), otherwise the v1 hierarchies it can write ([`v1`]). Where it can write none (not
//! root, a read-only `/sys/fs/cgroup`), it says so once and commands run without limits, stopped
//! by their process group only.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

mod usage;
mod v1;
mod v2;

/// The CPU period the quota of `cpu_millis` is a share of, in microseconds.
const PERIOD_US: u64 = 100_000;

/// What cgroup a command runs in: a name (`svc-<service id>`, `build-<deployment id>`; made
/// unique per start) and its limits. Kept with the release, so a restart gets the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_millis: Option<u32>,
    /// A build: a lower CPU weight than services.
    #[serde(default)]
    pub background: bool,
}

/// Where dployrd can make cgroups.
#[derive(Debug)]
pub(crate) enum Layout {
    /// `dployr/` under dployrd's own cgroup of the unified hierarchy.
    V2(PathBuf),
    /// `dployr/` under dployrd's own cgroup of each v1 hierarchy it can write, by controller.
    V1(Vec<(&'static str, PathBuf)>),
    /// None writable.
    Off(String),
}

static LAYOUT: OnceLock<Layout> = OnceLock::new();

/// The layout, found on first use; says once (a warning) when there is none.
pub(crate) fn layout() -> &'static Layout {
    LAYOUT.get_or_init(|| {
        let layout = v2::detect().unwrap_or_else(|| v1::detect().unwrap_or_else(Layout::Off));
        match &layout {
            Layout::V2(base) => tracing::info!(dir = %base.display(), "cgroups: v2"),
            Layout::V1(dirs) => {
                let controllers: Vec<_> = dirs.iter().map(|(c, _)| *c).collect();
                tracing::info!(?controllers, "cgroups: v1");
            }
            Layout::Off(why) => tracing::warn!(
                "cgroups are not available ({why}): services and builds run WITHOUT memory and \
                 CPU limits, and a stop reaches only their process group"
            ),
        }
        layout
    })
}

/// Whether dployrd can put commands in cgroups, and which controllers it has ("memory", "cpu"),
/// for tests and the start-up message.
pub fn controllers() -> Vec<&'static str> {
    match layout() {
        Layout::V2(base) => v2::controllers(base),
        Layout::V1(dirs) => dirs.iter().map(|(c, _)| *c).collect(),
        Layout::Off(_) => Vec::new(),
    }
}

/// Finds the layout now, so its warning comes at start, and removes the empty cgroups a
/// previous dployrd left: only those whose maker (the pid in the name, see [`Cgroup::create`])
/// is gone, so another dployrd on this machine (tests run many) keeps the one it just made and
/// has not entered yet.
pub fn init() {
    let bases: Vec<PathBuf> = match layout() {
        Layout::V2(base) => vec![base.clone()],
        Layout::V1(dirs) => dirs.iter().map(|(_, d)| d.clone()).collect(),
        Layout::Off(_) => Vec::new(),
    };
    for base in bases {
        for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
            let maker_alive = entry
                .file_name()
                .to_str()
                .and_then(|name| name.rsplit('-').nth(1))
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if entry.path().is_dir() && !maker_alive {
                // Fails for one that still has processes, which is what we want.
                let _ = std::fs::remove_dir(entry.path());
            }
        }
    }
}

/// One cgroup, in one directory (v2) or one per hierarchy (v1).
#[derive(Debug, Clone)]
pub struct Cgroup {
    dirs: Vec<(&'static str, PathBuf)>,
    v2: bool,
    memory_mb: Option<u32>,
    /// The OOM kill count when it was made (0 unless it was already there).
    oom_before: u64,
}

impl Cgroup {
    /// Makes a fresh cgroup for `spec` and sets its limits; `None` where there are no cgroups.
    pub fn create(spec: &CgroupSpec) -> io::Result<Option<Cgroup>> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let safe: String = spec
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(100)
            .collect();
        let name = format!(
            "{safe}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let (dirs, v2) = match layout() {
            Layout::V2(base) => (vec![("unified", base.join(&name))], true),
            Layout::V1(bases) => (
                bases.iter().map(|(c, b)| (*c, b.join(&name))).collect(),
                false,
            ),
            Layout::Off(_) => return Ok(None),
        };
        for (_, dir) in &dirs {
            match std::fs::create_dir(dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
        }
        let mut cgroup = Cgroup {
            dirs,
            v2,
            memory_mb: spec.memory_mb,
            oom_before: 0,
        };
        let limits = if v2 {
            v2::limit(&cgroup.dirs[0].1, spec)
        } else {
            v1::limit(&cgroup.dirs, spec)
        };
        if let Err(e) = limits {
            cgroup.remove();
            return Err(io::Error::new(
                e.kind(),
                format!("setting the limits of cgroup {name}: {e}"),
            ));
        }
        cgroup.oom_before = cgroup.oom_kills();
        Ok(Some(cgroup))
    }

    /// Moves the process `pid` (all its threads) into it.
    pub fn enter(&self, pid: u32) -> io::Result<()> {
        for (_, dir) in &self.dirs {
            write(dir, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// The memory limit, in MB.
    pub fn memory_mb(&self) -> Option<u32> {
        self.memory_mb
    }

    /// Every process in it.
    pub fn pids(&self) -> Vec<i32> {
        let mut pids: Vec<i32> = self
            .dirs
            .iter()
            .filter_map(|(_, d)| std::fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|s| {
                s.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Whether a process is left in it (zombies included: they leave once reaped).
    pub fn is_empty(&self) -> bool {
        self.pids().is_empty()
    }

    /// Sends `signal` to every process in it.
    pub fn signal(&self, signal: Signal) {
        for pid in self.pids() {
            let _ = kill(Pid::from_raw(pid), signal);
        }
    }

    /// SIGKILLs every process in it, also those forking meanwhile (v2 `cgroup.kill`, v1 the
    /// freezer when there is one). One pass: the caller waits for [`Cgroup::is_empty`].
    pub fn kill(&self) {
        if self.v2 {
            v2::kill(&self.dirs[0].1);
        } else {
            v1::kill(&self.dirs);
        }
    }

    /// Whether the kernel killed a process in it for going over its memory limit.
    pub fn oom_killed(&self) -> bool {
        self.oom_kills() > self.oom_before
    }

    fn oom_kills(&self) -> u64 {
        let read = |dir: &Path, file: &str| {
            let text = std::fs::read_to_string(dir.join(file)).ok()?;
            text.lines()
                .find_map(|l| l.strip_prefix("oom_kill "))
                .and_then(|n| n.trim().parse().ok())
        };
        self.dirs
            .iter()
            .find_map(|(c, d)| match (self.v2, *c) {
                (true, _) => read(d, "memory.events"),
                (false, "memory") => read(d, "memory.oom_control"),
                _ => None,
            })
            .unwrap_or(0)
    }

    /// Removes it; fails quietly while a process is left (the next dployrd start removes it).
    pub fn remove(&self) {
        for (_, dir) in &self.dirs {
            if let Err(e) = std::fs::remove_dir(dir)
                && e.kind() != io::ErrorKind::NotFound
            {
                tracing::warn!(dir = %dir.display(), error = %e, "removing a cgroup");
            }
        }
    }
}

/// Writes `value` to the control file `file` of `dir`.
fn write(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    std::fs::write(dir.join(file), value)
        .map_err(|e| io::Error::new(e.kind(), format!("{file}: {e}")))
}

/// The bytes of `mb` megabytes.
fn bytes(mb: u32) -> String {
    (u64::from(mb) * 1024 * 1024).to_string()
}

/// The quota per [`PERIOD_US`] of `millis` thousandths of a CPU.
fn quota(millis: u32) -> u64 {
    u64::from(millis) * PERIOD_US / 1000
}

/// dployrd's own cgroup path in the hierarchy whose `/proc/self/cgroup` line matches `which`.
fn own_path(which: impl Fn(&str, &str) -> bool) -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        which(id, controllers).then(|| PathBuf::from(path.trim_start_matches('/')))
    })
}

#[cfg(test)]
mod tests;
