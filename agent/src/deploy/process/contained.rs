//! Starting a command inside its cgroup: the shell is moved in before it runs a line of the
//! script, so nothing the script starts (a `setsid` daemon included) is ever outside it. Without
//! `unsafe` (no `pre_exec`), and whatever user the child runs as: the shell first waits for a
//! line on stdin, dployrd (root) writes its pid into the cgroup, then sends the line, and the
//! shell `exec`s the real `sh -c <script>` with stdin from `/dev/null`.

use std::io;
use std::process::Stdio;

use tokio::process::{Child, Command};

use super::{Cgroup, ShellCommand};

/// A fresh cgroup for `cmd`, when it asks for one and this machine has cgroups.
pub(super) fn create(cmd: &ShellCommand) -> io::Result<Option<Cgroup>> {
    match &cmd.cgroup {
        Some(spec) => Cgroup::create(spec),
        None => Ok(None),
    }
}

/// The arguments of `sh` for `script`: `-c <script>`, or, to start in a cgroup, the waiting
/// shell that then runs it.
pub(super) fn args(script: &str, contained: bool) -> Vec<&str> {
    if contained {
        vec![
            "-c",
            r#"read -r _ && exec sh -c "$1" </dev/null"#,
            "sh",
            script,
        ]
    } else {
        vec!["-c", script]
    }
}

/// Spawns `command` (built with [`args`]) and, with a cgroup, moves it in and lets it go. The
/// cgroup is removed if that fails.
pub(super) fn spawn(command: &mut Command, cgroup: Option<&Cgroup>) -> io::Result<Child> {
    let Some(cgroup) = cgroup else {
        return command.spawn();
    };
    let mut child = match command.stdin(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => {
            cgroup.remove();
            return Err(e);
        }
    };
    let mut go = child.stdin.take().expect("stdin is piped");
    let entered = match child.id() {
        Some(pid) => cgroup.enter(pid),
        None => Err(io::Error::other("the shell is gone")),
    };
    if let Err(e) = entered {
        // Without its line the shell ends before it ran anything.
        drop(go);
        let _ = child.start_kill();
        cgroup.remove();
        return Err(io::Error::new(
            e.kind(),
            format!("entering its cgroup: {e}"),
        ));
    }
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let _ = go.write_all(b"go\n").await;
    });
    Ok(child)
}
