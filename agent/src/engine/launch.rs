//! How a release runs: the service's start command in its own process group, dployrd's own
//! static file server, or a container. All are started on a given loopback port, waited on and
//! stopped the same way, so the deploy pipeline and the supervisor do not care which.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::static_site;
use crate::deploy::process::{self, Exit, LogLine, Running, ShellCommand};
use crate::docker::{Container, ContainerLaunch, DockerHost};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Launch {
    /// `PORT` is set to the release's port on every start.
    Command(ShellCommand),
    /// Serve this directory.
    Static(PathBuf),
    /// Run this image.
    Container(ContainerLaunch),
}

/// A started release.
#[derive(Debug)]
pub enum Proc {
    Shell(Box<Running>),
    Static {
        stop: CancellationToken,
        task: JoinHandle<()>,
    },
    Container(Box<Container>),
}

/// How a release's wait ended, for a log line or a reason.
pub fn describe(exit: &io::Result<Exit>) -> String {
    match exit {
        Ok(exit) => exit.to_string(),
        Err(e) => format!("could not wait for it: {e}"),
    }
}

/// What a release leaves running if dployrd dies: stopped by the next dployrd once it has
/// brought the release back (see `restore`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftover {
    pub pgid: Option<u32>,
    pub container: Option<String>,
}

impl Launch {
    pub async fn start(
        &self,
        port: u16,
        logs: mpsc::Sender<LogLine>,
        docker: &DockerHost,
    ) -> io::Result<Proc> {
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
            Launch::Container(c) => Ok(Proc::Container(Box::new(
                c.start(docker, port, logs).await?,
            ))),
        }
    }
}

impl Proc {
    pub fn leftover(&self) -> Leftover {
        match self {
            Proc::Shell(running) => Leftover {
                pgid: Some(running.pgid()),
                container: None,
            },
            Proc::Static { .. } => Leftover::default(),
            Proc::Container(c) => Leftover {
                pgid: None,
                container: Some(c.name().to_string()),
            },
        }
    }

    /// Waits until the release exits on its own. Cancel-safe.
    pub async fn wait(&mut self) -> io::Result<Exit> {
        match self {
            Proc::Shell(running) => running.wait().await,
            Proc::Static { task, .. } => {
                let _ = task.await;
                Ok(Exit::Code(0))
            }
            Proc::Container(c) => c.wait().await,
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
            Proc::Container(c) => {
                if let Err(e) = c.stop(grace).await {
                    tracing::warn!(error = %e, "stopping a release's container");
                }
            }
        }
    }
}
