//! The engine: what dployrd does with Base's work. It keeps every service's live release, its
//! kept releases and the deployment in progress, runs deployments one at a time per service
//! (a newer order waits, and supersedes any order already waiting), answers lifecycle commands,
//! and reports every step to Base through `reports` (the connection forwards them when it is up;
//! after a reconnect [`Engine::state`] says where everything stands).
//!
//! - [`pipeline`]: one deployment, fetch to live, and a rollback to a kept release; `build`:
//!   its native build (version check, plan, environment, build and release steps);
//!   `containers`: its docker branch (image pulled or built, release as a container).
//! - [`supervise`]: keeps a live release running (restarts with backoff by policy).
//! - [`launch`]: starting and stopping a release (a shell command or [`static_site`]).
//! - [`logbook`]: each service's recent output; `output`: where each line goes; [`redact`]:
//!   secret values scrubbed from every line first.
//! - `reports`: what the engine tells Base.
//! - `restore`: what survives a dployrd restart, and bringing live releases back.
//! - `workspace`: where a live release is, for the console and the file explorer.

mod build;
mod containers;
pub mod launch;
pub mod logbook;
mod output;
mod pipeline;
pub mod redact;
mod reports;

mod restore;
pub mod static_site;
mod workspace;

pub use workspace::{Container, Workspace};
mod supervise;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proto::deploy::DeployState;
use proto::service::ServiceSpec;
use proto::wire::{
    AgentMsg, Command, CommandFailure, DeployOrder, DeployProgress, Lifecycle, LogRecord, Outcome,
    RunState,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::ingress::Routes;
use logbook::LogBook;

/// Releases kept per service (the live one included), for rollbacks without a build.
pub const KEPT_RELEASES: usize = 5;
/// How long a replaced release keeps serving requests already in flight.
pub const DRAIN_SECS: u32 = 10;
/// Deployments whose last state is remembered for reports after a reconnect.
const REMEMBERED: usize = 500;

/// Where and how this instance runs services.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `<data dir>/services`: one folder per service with its releases.
    pub services_dir: PathBuf,
    /// Bare git mirrors shared by all services.
    pub git_cache: PathBuf,
    /// Default host of a service: `<service name>.<domain>`.
    pub domain: String,
    /// The Docker engine that runs docker services.
    pub docker: crate::docker::DockerHost,
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: EngineConfig,
    routes: Routes,
    reports: mpsc::UnboundedSender<AgentMsg>,
    /// Log lines on their way to Base (see [`Engine::ship`]).
    ship: mpsc::Sender<LogRecord>,
    ship_dropped: std::sync::atomic::AtomicU64,
    /// A connection's shipper is draining `ship` (see `output`).
    shipping: std::sync::atomic::AtomicBool,
    /// Git's ref locks would fail a second fetch of the same mirror.
    fetching: tokio::sync::Mutex<()>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    services: HashMap<String, Slot>,
    deployments: HashMap<String, DeployProgress>,
    /// Deployment ids in the order they arrived, to forget the oldest.
    order: VecDeque<String>,
}

#[derive(Default)]
struct Slot {
    live: Option<Live>,
    /// Releases whose directory is kept, oldest first (the live one included).
    kept: VecDeque<pipeline::Kept>,
    /// The deployment running now and how to cancel it.
    current: Option<(String, CancellationToken)>,
    /// The next one, waiting for `current`.
    pending: Option<DeployOrder>,
    logs: LogBook,
    redactor: redact::Redactor,
    run: Option<RunState>,
    restarts: u32,
    /// Why `run` is crashed or unhealthy.
    run_reason: Option<String>,
}

/// The release serving a service.
struct Live {
    deployment_id: String,
    /// Stops the supervisor, which stops the release.
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Engine {
    pub fn new(
        config: EngineConfig,
        routes: Routes,
        reports: mpsc::UnboundedSender<AgentMsg>,
        ship: mpsc::Sender<LogRecord>,
    ) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                config,
                routes,
                reports,
                ship,
                ship_dropped: Default::default(),
                shipping: Default::default(),
                fetching: tokio::sync::Mutex::new(()),
                state: Mutex::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().expect("engine state lock")
    }

    /// Where the ingress sends a host now (for `dployrd status` and tests).
    pub fn upstream_for(&self, host: &str) -> Option<SocketAddr> {
        self.inner.routes.upstream_for(host)
    }

    /// Carries out one command. Deploys are accepted at once and run in the background; the
    /// other commands are done when this returns.
    pub async fn handle(&self, command: Command) -> Outcome {
        let result = match command {
            Command::Ping => Ok(()),
            Command::Deploy(order) => {
                self.accept(*order);
                Ok(())
            }
            Command::CancelDeploy { deployment_id } => {
                self.cancel(&deployment_id);
                Ok(())
            }
            Command::Rollback {
                service_id,
                deployment_id,
            } => pipeline::rollback(self, &service_id, &deployment_id).await,
            Command::Service { service_id, action } => self.lifecycle(&service_id, action).await,
        };
        result.into()
    }

    /// Values to scrub from `service_id`'s log lines from now on.
    fn learn_secrets(&self, service_id: &str, values: &[String]) {
        let mut st = self.lock();
        let slot = st.services.entry(service_id.to_string()).or_default();
        slot.redactor.learn(values);
    }

    /// A new order: run it now, or after the one in progress (superseding any that waited).
    fn accept(&self, order: DeployOrder) {
        let superseded = {
            let mut st = self.lock();
            if st.deployments.contains_key(&order.deployment_id) {
                return; // a retransmit: already running or done
            }
            let slot = st.services.entry(order.service_id.clone()).or_default();
            slot.redactor.learn(order.secrets.0.values());
            if slot.current.is_some() {
                Some(slot.pending.replace(order.clone()))
            } else {
                None
            }
        };
        self.step(&order.deployment_id, DeployState::Queued);
        match superseded {
            Some(Some(old)) => self.step(&old.deployment_id, DeployState::Superseded),
            Some(None) => {}
            None => self.start(order),
        }
    }

    fn start(&self, order: DeployOrder) {
        let cancel = CancellationToken::new();
        {
            let mut st = self.lock();
            let slot = st.services.entry(order.service_id.clone()).or_default();
            slot.current = Some((order.deployment_id.clone(), cancel.clone()));
        }
        let engine = self.clone();
        tokio::spawn(async move {
            let service_id = order.service_id.clone();
            pipeline::deploy(&engine, order, cancel).await;
            let next = {
                let mut st = engine.lock();
                let slot = st.services.entry(service_id).or_default();
                slot.current = None;
                slot.pending.take()
            };
            if let Some(next) = next {
                engine.start(next);
            }
        });
    }

    fn cancel(&self, deployment_id: &str) {
        let waiting = {
            let mut st = self.lock();
            let mut waiting = None;
            for slot in st.services.values_mut() {
                if let Some((id, token)) = &slot.current
                    && id == deployment_id
                {
                    token.cancel();
                }
                if slot
                    .pending
                    .as_ref()
                    .is_some_and(|p| p.deployment_id == deployment_id)
                {
                    waiting = slot.pending.take();
                }
            }
            waiting
        };
        if let Some(order) = waiting {
            self.progress(DeployProgress {
                deployment_id: order.deployment_id,
                state: DeployState::Cancelled,
                commit: None,
                reason: Some("cancelled before it started".into()),
                log_tail: Vec::new(),
                plan: Vec::new(),
            });
        }
    }

    async fn lifecycle(&self, service_id: &str, action: Lifecycle) -> Result<(), CommandFailure> {
        match action {
            Lifecycle::Stop => {
                self.stop_live(service_id, RunState::Stopped).await;
                Ok(())
            }
            Lifecycle::Start | Lifecycle::Restart => pipeline::restart(self, service_id).await,
            Lifecycle::Remove => {
                self.stop_live(service_id, RunState::Stopped).await;
                self.inner.routes.remove(service_id);
                let slot = self.lock().services.remove(service_id);
                let mut had_containers = false;
                if let Some(slot) = slot {
                    if let Some((_, token)) = slot.current {
                        token.cancel();
                    }
                    had_containers = slot
                        .kept
                        .iter()
                        .any(|k| matches!(k.launch, launch::Launch::Container(_)));
                }
                if had_containers {
                    crate::docker::remove_service(&self.inner.config.docker, service_id).await;
                }
                let dir = self.inner.config.services_dir.join(service_id);
                let _ = tokio::fs::remove_dir_all(dir).await;
                Ok(())
            }
        }
    }

    /// Stops every service's live release and cancels deployments in progress.
    pub async fn stop_all(&self) {
        let ids: Vec<String> = {
            let st = self.lock();
            for slot in st.services.values() {
                if let Some((_, token)) = &slot.current {
                    token.cancel();
                }
            }
            st.services.keys().cloned().collect()
        };
        for id in ids {
            self.stop_live(&id, RunState::Stopped).await;
        }
    }

    /// Stops the live release (keeping it as the live one, so `start` brings it back).
    async fn stop_live(&self, service_id: &str, run: RunState) {
        let stopping = {
            let mut st = self.lock();
            st.services.get_mut(service_id).and_then(|slot| {
                slot.run = Some(run);
                slot.live.as_mut().map(|live| {
                    let old = std::mem::replace(&mut live.stop, CancellationToken::new());
                    let task = std::mem::replace(&mut live.task, tokio::spawn(async {}));
                    (old, task)
                })
            })
        };
        if let Some((stop, task)) = stopping {
            stop.cancel();
            let _ = task.await;
        }
        self.service_report(service_id);
    }

    fn drain(secs: u32) -> Duration {
        Duration::from_secs(u64::from(secs))
    }

    /// The service's host names: `<name>.<domain>` and its own domains.
    fn hosts(&self, _service_id: &str, spec: &ServiceSpec) -> Vec<String> {
        let mut hosts = vec![format!("{}.{}", spec.name, self.inner.config.domain)];
        hosts.extend(spec.domains.iter().cloned());
        hosts
    }

    /// Makes `live` the service's live release; returns the one it replaced (to drain) and the
    /// kept releases that fell out of the window (to delete).
    fn make_live(
        &self,
        service_id: &str,
        live: Live,
        kept: pipeline::Kept,
        leftover: launch::Leftover,
        port: u16,
    ) -> (Option<Live>, Vec<pipeline::Kept>) {
        let (old, pruned, saved) = {
            let mut st = self.lock();
            let slot = st.services.entry(service_id.to_string()).or_default();
            let live_id = live.deployment_id.clone();
            let old = slot.live.replace(live);
            slot.run = Some(RunState::Running);
            slot.restarts = 0;
            slot.run_reason = None;
            slot.kept.retain(|k| k.deployment_id != kept.deployment_id);
            slot.kept.push_back(kept);
            let pruned = pipeline::prune(&mut slot.kept, &live_id);
            let saved = restore::Saved {
                service_id: service_id.to_string(),
                live: Some(live_id),
                pgid: leftover.pgid,
                container: leftover.container,
                port: Some(port),
                kept: slot.kept.iter().cloned().collect(),
            };
            (old, pruned, saved)
        };
        restore::save(&self.inner.config.services_dir, &saved);
        (old, pruned)
    }

    /// Releases kept by a previous dployrd (see `restore`).
    fn adopt_kept(&self, service_id: &str, kept: Vec<pipeline::Kept>) {
        let mut st = self.lock();
        let slot = st.services.entry(service_id.to_string()).or_default();
        for k in &kept {
            slot.redactor.learn(k.secrets.0.values());
        }
        slot.kept = kept.into();
    }

    fn kept(&self, service_id: &str, deployment_id: &str) -> Option<pipeline::Kept> {
        self.lock()
            .services
            .get(service_id)?
            .kept
            .iter()
            .find(|k| k.deployment_id == deployment_id)
            .cloned()
    }

    fn live_id(&self, service_id: &str) -> Option<String> {
        self.lock()
            .services
            .get(service_id)?
            .live
            .as_ref()
            .map(|l| l.deployment_id.clone())
    }
}
