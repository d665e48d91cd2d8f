//! How a release runs: the service's start command in its own process group, or dployrd's own
//! static file server. Both are started on a given loopback port, waited on and stopped the same
//! way, so the deploy pipeline and the supervisor do not care which.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::static_site;
use crate::deploy::process::{self, Exit, LogLine, Running, ShellCommand};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Launch {
    /// `PORT` is set to the release's port on every start.
    Command(ShellCommand),
    /// Serve this directory.
    Static(PathBuf),
}

/// A started release.
#[derive(Debug)]
pub enum Proc {
    Shell(Box<Running>),
    Static {
        stop: CancellationToken,
        task: JoinHandle<()>,
    },
}

impl Launch {
    pub async fn start(&self, port: u16, logs: mpsc::Sender<LogLine>) -> io::Result<Proc> {
        match self {
            Launch::Command(cmd) => {
                let cmd = cmd.clone().env("PORT", port.to_string());
                Ok(Proc::Shell(Box::new(process::spawn(&cmd, logs)?)))
            }
            Launch::Static(root) => {
                let listener = TcpListener::bind(("127.0.0.1", port)).await?;
                let stop = CancellationToken::new();
                let task = tokio::spawn(static_site::serve(listener, root.clone(), stop.clone()));
                Ok(Proc::Static { stop, task })
            }
        }
    }
}

impl Proc {
    /// Waits until the release exits on its own. Cancel-safe.
    pub async fn wait(&mut self) -> io::Result<Exit> {
        match self {
            Proc::Shell(running) => running.wait().await,
            Proc::Static { task, .. } => {
                let _ = task.await;
                Ok(Exit::Code(0))
            }
        }
    }

    /// Stops it (the whole process group: SIGTERM, then SIGKILL after `grace`).
    pub async fn stop(&mut self, grace: Duration) {
        match self {
            Proc::Shell(running) => {
                if let Err(e) = running.stop(grace).await {
                    tracing::warn!(error = %e, "stopping a release");
                }
            }
            Proc::Static { stop, task } => {
                stop.cancel();
                let _ = task.await;
            }
        }
    }
}
