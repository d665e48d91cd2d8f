//! Shell commands for builds and services, each in its own process group so that stopping one
//! stops everything it started: `npm` runs `node` runs `esbuild`, and a timed-out build that
//! only lost its `sh` would leave the rest running and holding the release's files. Output is
//! streamed line by line as it comes, for the deploy log.
//!
//! Two shapes: [`run`] for a build step (a hard timeout and a cancel handle; returns when the
//! step and everything it left behind are gone) and [`spawn`] for the service itself (a
//! [`Running`] handle the supervisor waits on and stops).

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use tokio::process::Child;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
pub use tokio_util::sync::CancellationToken;

use super::service_user::Identity;

mod contained;
mod output;
pub use super::cgroup::{Cgroup, CgroupSpec};
pub use output::{LogLine, MAX_LINE_BYTES, Stream};
pub(crate) use output::{drain_readers, pump};

/// How long [`run`] gives a timed-out or cancelled step, or what a finished step left running,
/// between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long output may keep arriving after the process group is gone. Only a process that left
/// the group (`setsid`) can hold the pipes open longer; its output is then abandoned.
const DRAIN: Duration = Duration::from_secs(2);
/// How long a stop waits for the group after SIGKILL before giving up on members it cannot
/// kill, once the shell itself is gone.
const KILL_WAIT: Duration = Duration::from_secs(5);
/// How often a stop looks whether the group is gone.
const POLL: Duration = Duration::from_millis(20);

/// A `sh -c` script, the directory it runs in and its environment. The environment is exactly
/// `env` plus the agent's own `PATH` and `HOME` (which `env` may override): nothing else of
/// dployrd's environment leaks into users' builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellCommand {
    pub script: String,
    pub dir: PathBuf,
    pub env: BTreeMap<String, String>,
    /// The service's own user, whose `HOME` it gets (see [`super::service_user`]); `None`
    /// runs as dployrd. Never saved: whoever starts a kept command sets it again.
    #[serde(skip)]
    pub user: Option<Identity>,
    /// The cgroup to run it in (a fresh one per start, removed when it is stopped); `None`, or
    /// no cgroups on this machine: its process group only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<CgroupSpec>,
}

impl ShellCommand {
    pub fn new(script: impl Into<String>, dir: impl Into<PathBuf>) -> ShellCommand {
        ShellCommand {
            script: script.into(),
            dir: dir.into(),
            env: BTreeMap::new(),
            user: None,
            cgroup: None,
        }
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> ShellCommand {
        self.env.insert(key.into(), value.into());
        self
    }
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// The shell exited with this code.
    Code(i32),
    /// The shell was killed by this signal number.
    Signal(i32),
    /// [`run`]'s timeout passed; the group was stopped.
    TimedOut,
    /// [`run`]'s cancel token fired; the group was stopped.
    Cancelled,
    /// The kernel killed it (or a process of it) for going over the memory limit of its
    /// cgroup, this many MB.
    OutOfMemory(u32),
}

impl Exit {
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }

    fn from_status(status: ExitStatus) -> Exit {
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            // The OS reports one or the other for a process that ended.
            (None, None) => Exit::Code(-1),
        }
    }
}

impl fmt::Display for Exit {
    /// For a log line or a reason: "exit code 1", "killed by signal 9".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exit code {code}"),
            Exit::Signal(signal) => write!(f, "killed by signal {signal}"),
            Exit::TimedOut => f.write_str("timed out"),
            Exit::Cancelled => f.write_str("cancelled"),
            Exit::OutOfMemory(mb) => write!(f, "killed: out of memory (limit {mb} MB)"),
        }
    }
}

/// Runs a build step to its end: the step's exit, or [`Exit::TimedOut`] after `timeout`, or
/// [`Exit::Cancelled`] when `cancel` fires. Either way it returns only once the whole process
/// group is gone (processes a finished step left in the background are stopped too: a build
/// step has no business leaving daemons) and its output has been sent to `logs`. Dropping the
/// future SIGKILLs the group. The error is only for failing to start `sh`.
pub async fn run(
    cmd: &ShellCommand,
    logs: mpsc::Sender<LogLine>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> io::Result<Exit> {
    let mut running = spawn(cmd, logs)?;
    let guard = KillOnDrop(running.pgid, running.cgroup.clone());
    let ended = tokio::select! {
        status = running.child.wait() => Some(running.judge(Exit::from_status(status?))),
        () = tokio::time::sleep(timeout) => None,
        () = cancel.cancelled() => None,
    };
    running.stop(STOP_GRACE).await?;
    std::mem::forget(guard);
    Ok(match ended {
        Some(exit) => exit,
        None if cancel.is_cancelled() => Exit::Cancelled,
        None => Exit::TimedOut,
    })
}

/// Starts a long-running command (the service) in its own process group. Output goes to `logs`
/// until the pipes close; a slow receiver slows the service's writes rather than growing memory.
/// Dropping the [`Running`] leaves the process running.
/// What a command gets of dployrd's own environment: the search path and home, and the
/// operator's network settings (proxies, and the CA bundle of a TLS-inspecting network), which
/// builds need to reach the package registries exactly as dployrd does. Nothing else: dployrd's
/// own variables are not the service's.
pub(crate) const INHERITED: &[&str] = &[
    "PATH",
    "HOME",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
];

pub fn spawn(cmd: &ShellCommand, logs: mpsc::Sender<LogLine>) -> io::Result<Running> {
    let cgroup = contained::create(cmd)?;
    let mut command = tokio::process::Command::new("sh");
    command
        .args(contained::args(&cmd.script, cgroup.is_some()))
        .current_dir(&cmd.dir)
        .env_clear();
    for key in INHERITED {
        if let Some(value) = std::env::var_os(key) {
            command.env(key, value);
        }
    }
    if let Some(user) = &cmd.user {
        // Also drops dployrd's supplementary groups (std calls setgroups when root).
        command.uid(user.uid).gid(user.gid);
        command.env("HOME", &user.home).env("USER", &user.name);
    }
    command
        .envs(&cmd.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = contained::spawn(&mut command, cgroup.as_ref())?;
    let pid = child
        .id()
        .expect("a child that was just spawned has not been reaped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let readers = vec![
        tokio::spawn(pump(stdout, Stream::Stdout, logs.clone())),
        tokio::spawn(pump(stderr, Stream::Stderr, logs)),
    ];
    Ok(Running {
        child,
        pid,
        pgid: pid as i32,
        readers,
        cgroup,
    })
}

/// A command started by [`spawn`]; its process group id equals its pid.
#[derive(Debug)]
pub struct Running {
    child: Child,
    pid: u32,
    pgid: i32,
    readers: Vec<JoinHandle<()>>,
    cgroup: Option<Cgroup>,
}

impl Running {
    /// Its cgroup, when it has one.
    pub fn cgroup(&self) -> Option<&Cgroup> {
        self.cgroup.as_ref()
    }

    /// `exit`, or [`Exit::OutOfMemory`] when it failed and the kernel killed a process of it
    /// for its memory limit.
    fn judge(&self, exit: Exit) -> Exit {
        match &self.cgroup {
            Some(cgroup) if !exit.success() && cgroup.oom_killed() => {
                Exit::OutOfMemory(cgroup.memory_mb().unwrap_or(0))
            }
            _ => exit,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn pgid(&self) -> u32 {
        self.pid
    }

    /// Waits for the shell to exit, then up to 2 s for its last output. Other members of the
    /// group may outlive it, and output they write after that is dropped; [`Running::stop`]
    /// ends them. Cancel-safe.
    pub async fn wait(&mut self) -> io::Result<Exit> {
        let status = self.child.wait().await?;
        self.drain().await;
        Ok(self.judge(Exit::from_status(status)))
    }

    /// Stops the whole group and cgroup: SIGTERM to every member, SIGKILL to all if any member
    /// is still alive after `grace`. Returns the shell's exit once the group and the cgroup are
    /// empty (the cgroup is then removed) and the output drained; a group that is already gone
    /// gets no signal at all, so a reused group id is never signalled.
    pub async fn stop(&mut self, grace: Duration) -> io::Result<Exit> {
        let deadline = tokio::time::Instant::now() + grace;
        let mut signalled = false;
        loop {
            let leader_done = self.child.try_wait()?.is_some();
            let cgroup_empty = self.cgroup.as_ref().is_none_or(Cgroup::is_empty);
            if leader_done && !group_alive(self.pgid) && cgroup_empty {
                break;
            }
            let now = tokio::time::Instant::now();
            if !signalled {
                signal_group(self.pgid, Signal::SIGTERM);
                if let Some(cgroup) = &self.cgroup {
                    cgroup.signal(Signal::SIGTERM);
                }
                signalled = true;
            } else if leader_done && now >= deadline + KILL_WAIT {
                // A member we may not signal (a setuid program) or stuck in the kernel.
                tracing::warn!(
                    pgid = self.pgid,
                    "process group survived SIGKILL; leaving it"
                );
                break;
            } else if now >= deadline {
                signal_group(self.pgid, Signal::SIGKILL);
                if let Some(cgroup) = &self.cgroup {
                    cgroup.kill();
                }
            }
            tokio::time::sleep(POLL).await;
        }
        if let Some(cgroup) = &self.cgroup {
            cgroup.remove();
        }
        let status = self.child.wait().await?;
        self.drain().await;
        Ok(Exit::from_status(status))
    }

    async fn drain(&mut self) {
        // Taken, not borrowed: a finished JoinHandle must not be polled again by a later stop.
        drain_readers(std::mem::take(&mut self.readers), DRAIN).await;
    }
}

/// Quotes `s` as one `sh` word, leaving plainly safe words as they are for readable logs.
pub fn quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./@%+=:,".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// SIGKILLs the group and cgroup of a [`run`] whose future was dropped mid-way.
struct KillOnDrop(i32, Option<Cgroup>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        signal_group(self.0, Signal::SIGKILL);
        if let Some(cgroup) = &self.1 {
            cgroup.kill();
        }
    }
}

fn signal_group(pgid: i32, signal: Signal) {
    // ESRCH: the group is already gone, which is what we wanted.
    let _ = killpg(Pid::from_raw(pgid), signal);
}

/// Whether any process of the group is still running. Zombies do not count: members orphaned
/// by the shell are reaped by PID 1, which in a container may never happen.
fn group_alive(pgid: i32) -> bool {
    if killpg(Pid::from_raw(pgid), None).is_err() {
        return false;
    }
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return true;
    };
    procs.flatten().any(|entry| {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            return false;
        };
        proc_stat(pid).is_some_and(|(state, pgrp)| pgrp == pgid && !matches!(state, 'Z' | 'X'))
    })
}

/// Whether `pid` is a process that is not a zombie.
pub fn process_alive(pid: i32) -> bool {
    proc_stat(pid).is_some_and(|(state, _)| !matches!(state, 'Z' | 'X'))
}

/// State and process group of `pid` from `/proc/<pid>/stat` (`pid (comm) state ppid pgrp ...`;
/// `comm` may contain spaces and parentheses, so fields are counted from the last `)`).
fn proc_stat(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

#[cfg(test)]
mod tests;
