//! A release: what one deployment made (a command, a static folder or an image, with its
//! settings and secrets), kept for rollbacks and restarts. This is the one place that starts a
//! release and switches a service's traffic to it (DESIGN.md §4): a free port, the health
//! check, the ingress route, the supervisor, then the drain and stop of the release it replaced.
//! Any failure stops only the new release, so the old one keeps serving.
//!
//! A deployment (`pipeline`) comes here with a fresh release; a rollback, a restart
//! and a restore (`restore`) with a kept one.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use proto::deploy::DeployState;
use proto::ids::DeploymentId;
use proto::service::{ServiceKind, ServiceSpec};
use proto::wire::{CommandErrorKind, CommandFailure, DeployOrder, DeployProgress, Secrets};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::launch::{Launch, describe};
use super::{Engine, KEPT_RELEASES};
use crate::deploy::process::{LogLine, STOP_GRACE};
use crate::deploy::service_user;
use crate::deploy::{HealthCheck, Probe, Unhealthy, free_port, probe, wait_healthy};
use crate::docker;

/// How long a worker must stay up after its start to count as started.
const WORKER_SETTLE: Duration = Duration::from_secs(2);

/// A release: what is needed to start it (again).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Release {
    pub deployment_id: DeploymentId,
    pub spec: ServiceSpec,
    pub launch: Launch,
    /// The secrets in `launch`'s environment, to scrub them from its output after a restore.
    #[serde(default)]
    pub secrets: Secrets,
}

/// A release's files: the checkout of its commit (its release directory) and the app's folder
/// in it (the service's root directory).
pub(super) struct Checkout {
    pub dir: PathBuf,
    pub app: PathBuf,
    pub commit: String,
}

/// How a deployment (or a switch to a kept release) ended short of `live`.
#[derive(Debug)]
pub(super) struct End {
    pub state: DeployState,
    pub reason: String,
}

impl End {
    pub(super) fn failed(reason: impl Into<String>) -> End {
        End {
            state: DeployState::Failed,
            reason: reason.into(),
        }
    }

    pub(super) fn timed_out(reason: impl Into<String>) -> End {
        End {
            state: DeployState::TimedOut,
            reason: reason.into(),
        }
    }

    pub(super) fn cancelled() -> End {
        End {
            state: DeployState::Cancelled,
            reason: "cancelled".into(),
        }
    }
}

/// Where the release `deployment_id` of a service has its files.
pub(super) fn release_dir(engine: &Engine, service_id: &str, deployment_id: &str) -> PathBuf {
    engine
        .inner
        .config
        .services_dir
        .join(service_id)
        .join("releases")
        .join(deployment_id)
}

/// The hard limit of an order's build (or image pull, or docker build).
pub(super) fn build_limit(order: &DeployOrder) -> Duration {
    Duration::from_secs(u64::from(order.build_timeout_secs.max(1)))
}

/// How long the release an order replaces keeps serving requests already in flight.
pub(super) fn drain_of(order: &DeployOrder) -> Duration {
    Duration::from_secs(u64::from(order.drain_secs))
}

/// Starts `release`, health-checks it and switches the service's traffic to it, then lets the
/// release it replaced drain for `drain` and stops it. On any failure the new release is stopped
/// and nothing else changes. Reports `live` for the release; `commit` is the deployment's
/// version (a new release reports `health_checking` first), `None` for a kept one.
pub(super) async fn switch_to(
    engine: &Engine,
    service_id: &str,
    mut release: Release,
    commit: Option<&str>,
    drain: Duration,
    logs: &mpsc::Sender<LogLine>,
    cancel: &CancellationToken,
) -> Result<(), End> {
    let port = free_port().map_err(|e| End::failed(format!("no free port: {e}")))?;
    if let Launch::Command(cmd) = &mut release.launch {
        // Kept releases do not save their user: a restore (or one kept before services had
        // users) gets it here, and so do the supervisor's restarts of this release.
        cmd.user = service_user::prepare(&engine.inner.config.services_dir, service_id)
            .await
            .map_err(|e| End::failed(format!("preparing the service's system user: {e}")))?;
    }
    let mut proc = release
        .launch
        .start(port, logs.clone(), &engine.inner.config.docker)
        .await
        .map_err(|e| End::failed(format!("could not start the release: {e}")))?;
    if commit.is_some() {
        engine.step(&release.deployment_id, DeployState::HealthChecking);
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let kind = release.spec.kind.unwrap_or(ServiceKind::Web);
    let mut check = HealthCheck::from(&release.spec.health_check);
    if kind == ServiceKind::Worker {
        // A worker has no port: it is ready when it stays up.
        check.probe = Probe::None;
        check.start_grace = check.start_grace.max(WORKER_SETTLE);
    }
    let healthy = tokio::select! {
        r = wait_healthy(addr, &check, cancel) => r.map_err(|e| match e {
            Unhealthy::Cancelled => End::cancelled(),
            other => End::failed(format!("health check failed: {other}")),
        }),
        exit = proc.wait() => Err(End::failed(format!(
            "the start command exited ({}) before the release was healthy",
            describe(&exit)
        ))),
    };
    if let Err(end) = healthy {
        proc.stop(STOP_GRACE).await;
        return Err(end);
    }
    if kind == ServiceKind::Worker {
        // A service that was a web app before has no route any more.
        engine.inner.routes.remove(service_id);
    } else {
        let before = engine.inner.routes.upstream_of(service_id);
        let routed = {
            let _routing = engine.inner.routing.lock().expect("routing lock");
            let hosts = engine.hosts(service_id, &release.spec);
            let routed = engine.inner.routes.set(service_id, hosts.clone(), addr);
            routed.map(|()| hosts)
        };
        let hosts = match routed {
            Ok(hosts) => hosts,
            Err(e) => {
                proc.stop(STOP_GRACE).await;
                return Err(End::failed(format!("cannot route this service: {e}")));
            }
        };
        // The first answer after the switch counts too: an app that passed its check once and
        // broke at once never goes live.
        if let Err(e) = probe(addr, &check.probe, check.timeout).await {
            match before {
                Some(old) => {
                    let _ = engine.inner.routes.set(service_id, hosts, old);
                }
                None => {
                    engine.inner.routes.remove(service_id);
                }
            }
            proc.stop(STOP_GRACE).await;
            return Err(End::failed(format!(
                "health check failed right after the switch: {e}"
            )));
        }
    }
    let deployment_id = release.deployment_id.clone();
    let (old, pruned) = engine.make_live(service_id, release, proc, port);
    engine.progress(DeployProgress {
        deployment_id,
        state: DeployState::Live,
        commit: commit.map(str::to_string),
        reason: None,
        log_tail: Vec::new(),
        plan: Vec::new(),
    });
    engine.service_report(service_id);
    if let Some(old) = old {
        tokio::spawn(async move {
            tokio::time::sleep(drain).await;
            old.stop.cancel();
            let _ = old.task.await;
        });
    }
    for gone in pruned {
        let dir = release_dir(engine, service_id, &gone.deployment_id);
        let _ = tokio::fs::remove_dir_all(dir).await;
        if let Launch::Container(c) = &gone.launch
            && c.image.starts_with("dployr/")
        {
            docker::image::remove(&engine.inner.config.docker, &c.image).await;
        }
    }
    Ok(())
}

/// Switches back to a kept release, without a build.
pub(super) async fn rollback(
    engine: &Engine,
    service_id: &str,
    deployment_id: &str,
    drain: Duration,
) -> Result<(), CommandFailure> {
    relaunch(
        engine,
        service_id,
        deployment_id,
        drain,
        &CancellationToken::new(),
    )
    .await
}

/// Starts a kept release as a new process and switches the service to it.
pub(super) async fn relaunch(
    engine: &Engine,
    service_id: &str,
    deployment_id: &str,
    drain: Duration,
    cancel: &CancellationToken,
) -> Result<(), CommandFailure> {
    let release = engine.kept(service_id, deployment_id).ok_or_else(|| {
        let message =
            format!("release {deployment_id} is no longer kept on this instance: deploy it again");
        CommandFailure::new(CommandErrorKind::NotFound, message)
    })?;
    let logs = engine.log_sender(service_id, deployment_id);
    switch_to(engine, service_id, release, None, drain, &logs, cancel)
        .await
        .map_err(|end| CommandFailure::new(CommandErrorKind::Failed, end.reason))
}

/// Starts the live release again as a new process and switches to it (zero downtime), or starts
/// it if it was stopped.
pub(super) async fn restart(
    engine: &Engine,
    service_id: &str,
    drain: Duration,
) -> Result<(), CommandFailure> {
    let live = engine.live_id(service_id).ok_or_else(|| {
        let message = "this service has no live release to start: deploy it first";
        CommandFailure::new(CommandErrorKind::Conflict, message)
    })?;
    rollback(engine, service_id, &live, drain).await
}

/// Kept releases beyond [`KEPT_RELEASES`], oldest first, never the live one.
pub(super) fn prune(kept: &mut VecDeque<Release>, live: &str) -> Vec<Release> {
    let mut gone = Vec::new();
    while kept.len() > KEPT_RELEASES {
        match kept.iter().position(|k| k.deployment_id != live) {
            Some(i) => {
                if let Some(k) = kept.remove(i) {
                    gone.push(k);
                }
            }
            None => break,
        }
    }
    gone
}
