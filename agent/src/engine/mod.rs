//! The engine: what dployrd does with Base's work. It keeps every service's live release, its
//! kept releases and the deployment in progress, runs deployments one at a time per service
//! (a newer order waits, and supersedes any order already waiting), answers lifecycle commands,
//! and reports every step to Base through `reports` (the connection forwards them when it is up;
//! after a reconnect [`Engine::state`] says where everything stands).
//!
//! Read in this order:
//! - `pipeline`: one deployment, from its order to a release: the fetch and the repository's
//!   `dployr.toml`, then `build` (the native build: version check, plan, environment, build
//!   and release steps) or `containers` (the docker branch: an image pulled or built).
//! - `release`: the one place that starts a release and switches traffic to it (health check,
//!   route, drain of the old one), for a deployment and for a rollback, restart or restore.
//! - [`launch`]: how a release runs (a shell command, [`static_site`] or a container).
//! - `supervise`: keeps a live release running (restarts by policy with backoff, live checks).
//! - `lifecycle`: rollback, stop, start, restart and remove of a service; stopping them all.
//! - [`logbook`]: each service's recent output; `output`: where each line goes; [`redact`]:
//!   secret values scrubbed from every line first.
//! - `reports`: what the engine tells Base.
//! - `restore`: what survives a dployrd restart, and bringing live releases back.
//! - `domains`: a service's own domains (Base's `Domains` command), kept across restarts, and
//!   the certificates for them (uploads, the keeper that orders them).
//! - `workspace`: where a live release is, for the console and the file explorer.
//! - [`meters`]: each service's running processes, for the metrics sampler.

mod build;
mod containers;
mod domains;
pub mod launch;
mod lifecycle;
pub mod logbook;
pub mod meters;
mod output;
mod pipeline;
pub mod redact;
mod release;
mod reports;
mod restore;
pub mod static_site;
mod supervise;
mod workspace;

pub use workspace::{Container, Workspace};

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use proto::deploy::DeployState;
use proto::ids::{DeploymentId, ServiceId};
use proto::wire::{
    AgentMsg, Command, DeployOrder, DeployProgress, LogRecord, Outcome, RunState, ServiceDomains,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::ingress::{CertKeeper, Certificates, Routes};
use launch::Proc;
use logbook::LogBook;
use release::Release;

/// Releases kept per service (the live one included), for rollbacks without a build.
pub const KEPT_RELEASES: usize = 5;
/// How long a release replaced by a rollback or a restart keeps serving requests already in
/// flight. A deploy order says its own (`DeployOrder::drain_secs`); these commands carry none,
/// so they get what Base orders by default. (A restore replaces nothing in this dployrd: what
/// the previous one left running is stopped once the release is back, see `restore`.)
const COMMAND_DRAIN: Duration = Duration::from_secs(10);
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
    /// Held while a service's hosts are computed and routed, so a deploy's switch and a
    /// `Domains` command cannot interleave and leave stale hosts routed.
    routing: Mutex<()>,
    /// The ingress's certificate store (see `domains`).
    certs: OnceLock<Certificates>,
    /// Who orders certificates for the services' domains, when ACME is configured.
    keeper: OnceLock<Arc<dyn CertKeeper>>,
}

#[derive(Default)]
struct State {
    services: HashMap<ServiceId, Slot>,
    deployments: HashMap<DeploymentId, DeployProgress>,
    /// Deployment ids in the order they arrived, to forget the oldest.
    order: VecDeque<DeploymentId>,
    /// Each service's own domains, from Base's last `Domains` command.
    domains: HashMap<ServiceId, ServiceDomains>,
    /// Each service's running processes, for the metrics sampler (see `meters`).
    meters: HashMap<ServiceId, Vec<(u64, meters::Meter)>>,
}

#[derive(Default)]
struct Slot {
    live: Option<Live>,
    /// Releases whose directory is kept, oldest first (the live one included).
    kept: VecDeque<Release>,
    /// The deployment running now and how to cancel it.
    current: Option<(DeploymentId, CancellationToken)>,
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
    deployment_id: DeploymentId,
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
        let engine = Engine {
            inner: Arc::new(Inner {
                config,
                routes,
                reports,
                ship,
                ship_dropped: Default::default(),
                shipping: Default::default(),
                fetching: tokio::sync::Mutex::new(()),
                state: Mutex::default(),
                routing: Mutex::default(),
                certs: OnceLock::new(),
                keeper: OnceLock::new(),
            }),
        };
        engine.load_domains();
        engine
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
            } => self.rollback(&service_id, &deployment_id).await,
            Command::Service { service_id, action } => self.lifecycle(&service_id, action).await,
            Command::Domains(domains) => self.apply_domains(domains),
            Command::InstallCertificate(cert) => self.install_certificate(cert),
        };
        result.into()
    }

    /// Values to scrub from `service_id`'s log lines from now on.
    fn learn_secrets(&self, service_id: &str, values: &[String]) {
        let mut st = self.lock();
        let slot = st.services.entry(service_id.into()).or_default();
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

    /// Makes `release`, started as `proc` on `port` and healthy, the service's live release
    /// under a new supervisor; returns the one it replaced (to drain) and the kept releases that
    /// fell out of the window (to delete).
    fn make_live(
        &self,
        service_id: &str,
        release: Release,
        proc: Proc,
        port: u16,
    ) -> (Option<Live>, Vec<Release>) {
        let leftover = proc.leftover();
        let stop = CancellationToken::new();
        let live = Live {
            deployment_id: release.deployment_id.clone(),
            stop: stop.clone(),
            task: tokio::spawn(supervise::run(
                self.clone(),
                service_id.into(),
                release.clone(),
                port,
                proc,
                stop,
            )),
        };
        let (old, pruned, saved) = {
            let mut st = self.lock();
            let slot = st.services.entry(service_id.into()).or_default();
            let live_id = live.deployment_id.clone();
            let old = slot.live.replace(live);
            slot.run = Some(RunState::Running);
            slot.restarts = 0;
            slot.run_reason = None;
            slot.kept
                .retain(|k| k.deployment_id != release.deployment_id);
            slot.kept.push_back(release);
            let pruned = release::prune(&mut slot.kept, &live_id);
            let saved = restore::Saved {
                service_id: service_id.into(),
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
    fn adopt_kept(&self, service_id: &str, kept: Vec<Release>) {
        let mut st = self.lock();
        let slot = st.services.entry(service_id.into()).or_default();
        for k in &kept {
            slot.redactor.learn(k.secrets.0.values());
        }
        slot.kept = kept.into();
    }

    fn kept(&self, service_id: &str, deployment_id: &str) -> Option<Release> {
        self.lock()
            .services
            .get(service_id)?
            .kept
            .iter()
            .find(|k| k.deployment_id == deployment_id)
            .cloned()
    }

    fn live_id(&self, service_id: &str) -> Option<DeploymentId> {
        self.lock()
            .services
            .get(service_id)?
            .live
            .as_ref()
            .map(|l| l.deployment_id.clone())
    }
}
