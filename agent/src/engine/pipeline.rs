//! One deployment from fetch to live (DESIGN.md §4): fetch the exact commit into a fresh
//! release directory, build it in its own process group under a hard timeout, start it on a
//! free port, health-check it, switch the ingress route, then drain and stop the old release.
//! Any failure stops only the new release, so the old one keeps serving. Docker services get
//! their image instead of a build (pulled, or built from the repository's `Dockerfile`). Also the two ways back
//! to a kept release without a build: a rollback, and a restart of the live one.
//!
//! The native build between the fetch and the switch is [`super::build`]'s.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use proto::deploy::DeployState;
use proto::service::{self, Runtime, ServiceKind, ServiceSpec, Source};
use proto::wire::{CommandErrorKind, CommandFailure, DeployOrder, DeployProgress, Secrets};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::launch::Launch;
use super::logbook::TAIL_LINES;
use super::supervise::LiveCheck;
use super::{Engine, KEPT_RELEASES, Live, build, containers, supervise};
use crate::deploy::process::{self, Exit, LogLine, STOP_GRACE};
use crate::deploy::{
    FetchError, HealthCheck, Probe, Unhealthy, app_dir, detect, fetch, free_port, probe,
    repo_config, wait_healthy,
};
use crate::docker;

/// How long a worker must stay up after its start to count as started.
const WORKER_SETTLE: Duration = Duration::from_secs(2);

/// How a deployment ended short of `live`.
pub(super) struct End {
    pub(super) state: DeployState,
    pub(super) reason: String,
}

impl End {
    pub(super) fn failed(reason: impl Into<String>) -> End {
        End {
            state: DeployState::Failed,
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

/// A kept release: what is needed to start it again.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Kept {
    pub deployment_id: String,
    pub spec: ServiceSpec,
    pub launch: Launch,
    /// The secrets in `launch`'s environment, to scrub them from its output after a restore.
    #[serde(default)]
    pub secrets: Secrets,
}

/// Runs `order` to its end and reports every step.
pub(super) async fn deploy(engine: &Engine, order: DeployOrder, cancel: CancellationToken) {
    let logs = engine.log_sender(&order.service_id, &order.deployment_id);
    if let Err(end) = run(engine, &order, &cancel, &logs).await {
        engine.progress(DeployProgress {
            deployment_id: order.deployment_id.clone(),
            state: end.state,
            commit: None,
            reason: Some(end.reason),
            log_tail: engine.log_tail(&order.service_id, TAIL_LINES),
            plan: Vec::new(),
        });
    }
}

pub(super) fn release_dir(engine: &Engine, service_id: &str, deployment_id: &str) -> PathBuf {
    engine
        .inner
        .config
        .services_dir
        .join(service_id)
        .join("releases")
        .join(deployment_id)
}

async fn run(
    engine: &Engine,
    order: &DeployOrder,
    cancel: &CancellationToken,
    logs: &mpsc::Sender<LogLine>,
) -> Result<(), End> {
    let id = &order.deployment_id;
    let spec = &order.spec;
    engine.step(id, DeployState::Fetching);
    let dir = release_dir(engine, &order.service_id, id);
    let _ = tokio::fs::remove_dir_all(&dir).await;
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| End::failed(format!("creating {}: {e}", dir.display())))?;
    let commit = match &spec.source {
        Source::Git(git) => {
            let git_ref = order.git_ref.clone().unwrap_or_else(|| git.branch.clone());
            let _one_at_a_time = engine.inner.fetching.lock().await;
            fetch(
                &git.url,
                &git_ref,
                &engine.inner.config.git_cache,
                &dir,
                logs,
                cancel,
            )
            .await
            .map_err(|e| match e {
                FetchError::Cancelled => End::cancelled(),
                FetchError::TimedOut(limit) => End {
                    state: DeployState::TimedOut,
                    reason: format!("fetching the source took longer than {limit:?}"),
                },
                other => End::failed(other.to_string()),
            })?
        }
        Source::Image(image) => {
            return containers::run_image(engine, order, image, cancel, logs).await;
        }
    };
    // The app's folder (the service's root directory) and the repository's dployr.toml files
    // over the dashboard's settings (for this release, and for its restarts and rollbacks, which
    // keep this spec).
    let settled = app_dir::settle(&dir, &order.spec).map_err(End::failed)?;
    if !settled.changed.is_empty() {
        let note = format!(
            "[dployr] {} sets: {}",
            repo_config::FILE,
            settled.changed.join(", ")
        );
        let _ = logs.send(LogLine::now(process::Stream::Stdout, note)).await;
    }
    let order = &DeployOrder {
        spec: settled.spec,
        ..order.clone()
    };
    let checkout = dir;
    let dir = settled.dir;
    let spec = &order.spec;
    let runtime = spec.runtime.or_else(|| detect(&dir)).ok_or_else(|| {
        End::failed(
            "could not tell the runtime: no package.json, requirements.txt, go.mod, \
             composer.json, Gemfile, *.csproj, pom.xml, Dockerfile or index.html in the app's \
             folder (the top of the repository, or its root directory); choose a runtime in the \
             service settings",
        )
    })?;
    if runtime == Runtime::Docker {
        return containers::run_dockerfile(engine, order, &dir, &commit, cancel, logs).await;
    }
    let kept = build::build(
        engine, order, runtime, &checkout, &dir, &commit, cancel, logs,
    )
    .await?;
    switch_to(engine, &order.service_id, kept, logs, cancel, Some(&commit)).await?;
    Ok(())
}

/// Starts a release, health-checks it and switches the service's traffic to it, then drains
/// and stops the release it replaced. On any failure the new release is stopped and nothing
/// else changes. Reports `live` for `kept.deployment_id`.
pub(super) async fn switch_to(
    engine: &Engine,
    service_id: &str,
    kept: Kept,
    logs: &mpsc::Sender<LogLine>,
    cancel: &CancellationToken,
    commit: Option<&str>,
) -> Result<(), End> {
    let port = free_port().map_err(|e| End::failed(format!("no free port: {e}")))?;
    let mut proc = kept
        .launch
        .start(port, logs.clone(), &engine.inner.config.docker)
        .await
        .map_err(|e| End::failed(format!("could not start the release: {e}")))?;
    if commit.is_some() {
        engine.step(&kept.deployment_id, DeployState::HealthChecking);
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let kind = kept.spec.kind.unwrap_or(ServiceKind::Web);
    let check = match kind {
        // A worker has no port: it is ready when it stays up.
        ServiceKind::Worker => HealthCheck {
            probe: Probe::None,
            start_grace: health_check(&kept.spec.health_check)
                .start_grace
                .max(WORKER_SETTLE),
            ..HealthCheck::default()
        },
        _ => health_check(&kept.spec.health_check),
    };
    let healthy = tokio::select! {
        r = wait_healthy(addr, &check, cancel) => r.map_err(|e| match e {
            Unhealthy::Cancelled => End::cancelled(),
            other => End::failed(format!("health check failed: {other}")),
        }),
        exit = proc.wait() => Err(End::failed(format!(
            "the start command exited ({}) before the release was healthy",
            describe(exit)
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
        let hosts = engine.hosts(service_id, &kept.spec);
        if let Err(e) = engine.inner.routes.set(service_id, hosts.clone(), addr) {
            proc.stop(STOP_GRACE).await;
            return Err(End::failed(format!("cannot route this service: {e}")));
        }
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
    let live_check = match kind {
        ServiceKind::Web => LiveCheck::new(check.probe.clone(), check.interval, check.timeout),
        ServiceKind::Worker | ServiceKind::Static => None,
    };
    let leftover = proc.leftover();
    let stop = CancellationToken::new();
    let task = tokio::spawn(supervise::run(
        engine.clone(),
        service_id.to_string(),
        kept.deployment_id.clone(),
        kept.launch.clone(),
        port,
        kept.spec.restart,
        live_check,
        proc,
        stop.clone(),
    ));
    let live = Live {
        deployment_id: kept.deployment_id.clone(),
        stop,
        task,
    };
    let (old, pruned) = engine.make_live(service_id, live, kept.clone(), leftover, port);
    engine.progress(DeployProgress {
        deployment_id: kept.deployment_id.clone(),
        state: DeployState::Live,
        commit: commit.map(str::to_string),
        reason: None,
        log_tail: Vec::new(),
        plan: Vec::new(),
    });
    engine.service_report(service_id);
    if let Some(old) = old {
        let drain = super::Engine::drain(super::DRAIN_SECS);
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
) -> Result<(), CommandFailure> {
    relaunch(engine, service_id, deployment_id, &CancellationToken::new()).await
}

/// Starts a kept release as a new process and switches the service to it.
pub(super) async fn relaunch(
    engine: &Engine,
    service_id: &str,
    deployment_id: &str,
    cancel: &CancellationToken,
) -> Result<(), CommandFailure> {
    let kept = engine.kept(service_id, deployment_id).ok_or_else(|| {
        let message =
            format!("release {deployment_id} is no longer kept on this instance: deploy it again");
        CommandFailure::new(CommandErrorKind::NotFound, message)
    })?;
    let logs = engine.log_sender(service_id, deployment_id);
    switch_to(engine, service_id, kept, &logs, cancel, None)
        .await
        .map_err(|e| CommandFailure::new(CommandErrorKind::Failed, e.reason))
}

/// Starts the live release again as a new process and switches to it (zero downtime), or starts
/// it if it was stopped.
pub(super) async fn restart(engine: &Engine, service_id: &str) -> Result<(), CommandFailure> {
    let live = engine.live_id(service_id).ok_or_else(|| {
        let message = "this service has no live release to start: deploy it first";
        CommandFailure::new(CommandErrorKind::Conflict, message)
    })?;
    rollback(engine, service_id, &live).await
}

/// A line of dployrd's own in the deployment's log.
pub(super) async fn say(logs: &mpsc::Sender<LogLine>, line: &str) {
    let _ = logs
        .send(LogLine::now(process::Stream::Stdout, line.to_owned()))
        .await;
}

pub(super) fn build_limit(order: &DeployOrder) -> Duration {
    Duration::from_secs(u64::from(order.build_timeout_secs.max(1)))
}

fn health_check(hc: &service::HealthCheck) -> HealthCheck {
    let secs = |s: u32| Duration::from_secs(u64::from(s));
    HealthCheck {
        probe: match &hc.probe {
            service::Probe::Http { path } => Probe::Http { path: path.clone() },
            service::Probe::Tcp {} => Probe::Tcp,
            service::Probe::None {} => Probe::None,
        },
        interval: secs(hc.interval_secs),
        timeout: secs(hc.timeout_secs),
        retries: hc.retries,
        start_grace: secs(hc.start_grace_secs),
    }
}

pub(super) fn describe(exit: std::io::Result<Exit>) -> String {
    match exit {
        Ok(Exit::Code(c)) => format!("exit code {c}"),
        Ok(Exit::Signal(s)) => format!("killed by signal {s}"),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("could not wait for it: {e}"),
    }
}

/// Kept releases beyond [`KEPT_RELEASES`], oldest first, never the live one.
pub(super) fn prune(kept: &mut std::collections::VecDeque<Kept>, live: &str) -> Vec<Kept> {
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
