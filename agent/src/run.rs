//! `dployrd run`: hold one connection to Base forever. Each (re)connect says `Hello` with the
//! agent's actual state so Base can reconcile; heartbeats flow both ways; commands are answered
//! with an `Ack` carrying their id, once per id ([`commands`]); streams Base opens are served by
//! [`crate::streams`]. Every failure waits an exponential backoff with full jitter (1 s doubling
//! to a 60 s cap) so a fleet does not stampede a restarting Base; a connection that got as far
//! as `Welcome` resets the backoff. Given several gateways (Base replicas), a connection that
//! ends moves to the next at once and only a full round of failures waits ([`gateways`]).
//! `status.json` says what it is doing.

mod commands;
pub mod gateways;
mod listeners;
mod logs;
mod options;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proto::ids::InstanceId;
use proto::wire::{self, AgentMsg, BaseMsg, Command, HostFacts, MuxError, Side, mux};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use self::logs::LogQueue;
pub use self::options::RunOptions;
use crate::dial::{self, DialError};
use crate::engine::{Engine, EngineConfig};
use crate::ingress::{Certificates, Routes};
use crate::join::VERSION;
use crate::state::{DataDir, Enrollment};
use crate::streams;
use crate::tls::{AgentIdentity, client_config};
use crate::tools::Tools;

pub const BACKOFF_BASE: Duration = Duration::from_secs(1);
pub const BACKOFF_CAP: Duration = Duration::from_secs(60);

/// Exponential backoff with full jitter: the n-th wait is uniform in [0, min(cap, base * 2^n)].
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub fn ceiling(&self) -> Duration {
        BACKOFF_BASE
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(BACKOFF_CAP)
    }

    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        rand::thread_rng().gen_range(Duration::ZERO..=ceiling)
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Where the connection to Base stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    Connecting,
    Online,
    Offline,
}

/// What `dployrd status` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub state: Link,
    pub instance_id: InstanceId,
    pub url: String,
    pub since_unix: u64,
    pub last_error: Option<String>,
    /// Whether each service runs as its own user (only when dployrd is root).
    #[serde(default)]
    pub services_isolated: bool,
}

fn write_status(
    data: &DataDir,
    enr: &Enrollment,
    url: &str,
    state: Link,
    last_error: Option<String>,
) {
    let since_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let s = Status {
        state,
        instance_id: enr.instance_id.clone(),
        url: url.to_string(),
        since_unix,
        last_error,
        services_isolated: crate::deploy::service_user::isolating(),
    };
    if let Ok(bytes) = serde_json::to_vec_pretty(&s) {
        let tmp = data.path().join("status.json.tmp");
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(tmp, data.path().join("status.json"));
        }
    }
}

/// How one connection ended: whether it got as far as `Welcome` (then the backoff starts
/// over), and why, unless Base closed it cleanly.
struct Ended {
    welcomed: bool,
    error: Option<DialError>,
}

/// One connection to `url`, from dial to close.
#[allow(clippy::too_many_arguments)] // as `hold`, whose parts it borrows
async fn session(
    url: &str,
    enr: &Enrollment,
    identity: &AgentIdentity,
    data: &DataDir,
    tools: &Tools,
    reports: &mut mpsc::UnboundedReceiver<AgentMsg>,
    logs: &LogQueue,
    commands: &Commands,
) -> Ended {
    let (ws, heartbeat) = match greet(url, enr, identity, &tools.engine, reports).await {
        Ok(greeted) => greeted,
        Err(e) => {
            return Ended {
                welcomed: false,
                error: Some(e),
            };
        }
    };
    tracing::info!(instance.id = %enr.instance_id, %url, "online");
    write_status(data, enr, url, Link::Online, None);
    let served = serve(ws, heartbeat, tools, reports, logs, commands).await;
    Ended {
        welcomed: true,
        error: served.err(),
    }
}

/// Dials Base and says `Hello` with where everything stands, up to its `Welcome`.
async fn greet(
    url: &str,
    enr: &Enrollment,
    identity: &AgentIdentity,
    engine: &Engine,
    reports: &mut mpsc::UnboundedReceiver<AgentMsg>,
) -> Result<(dial::Ws, Duration), DialError> {
    let tls = client_config(&enr.pin, Some(identity))?;
    // Reports queued while offline are stale: the `Hello` below says where everything stands.
    while reports.try_recv().is_ok() {}
    let hello = AgentMsg::Hello {
        protocol: wire::PROTOCOL_VERSION,
        version: VERSION.to_string(),
        host: HostFacts {
            ingress_domain: Some(engine.ingress_domain().to_string()),
            ..HostFacts::detect()
        },
        state: engine.state(),
    };
    dial::greet(url, tls, &hello).await
}

/// The welcomed connection until it ends: `Ok` when Base closed it cleanly.
async fn serve(
    ws: dial::Ws,
    heartbeat: Duration,
    tools: &Tools,
    reports: &mut mpsc::UnboundedReceiver<AgentMsg>,
    logs: &LogQueue,
    commands: &Commands,
) -> Result<(), DialError> {
    let engine = &tools.engine;
    // Past `Welcome` the connection is multiplexed: control on stream 0, and the byte streams
    // Base opens for logs, consoles and files, each served by its own task.
    let (mux, mut control, mut incoming) = mux::over_websocket(ws, Side::Agent);
    let _shipper = logs::start(mux.clone(), logs.clone(), engine.clone());
    let lost = DialError::Stream;
    let mut silent_after = tokio::time::Instant::now() + heartbeat * 3;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(silent_after) => {
                return Err(DialError::Silent);
            }
            Some(stream) = incoming.accept() => {
                tokio::spawn(streams::serve(stream, tools.clone()));
            }
            Some(report) = reports.recv() => {
                mux.send_control(&report).map_err(lost)?;
            }
            msg = control.recv::<BaseMsg>() => {
                silent_after = tokio::time::Instant::now() + heartbeat * 3;
                match msg {
                    None => {
                        return match mux.closed().await {
                            MuxError::TransportEnded | MuxError::Closed => Ok(()),
                            other => Err(DialError::Tunnel(other)),
                        };
                    }
                    Some(Err(e)) => return Err(DialError::Control(e)),
                    Some(Ok(BaseMsg::Heartbeat { seq })) => {
                        mux.send_control(&AgentMsg::Heartbeat { seq }).map_err(lost)?;
                    }
                    Some(Ok(BaseMsg::Command { id, command })) => {
                        carry_out(id, command, engine, &mux, commands);
                    }
                    Some(Ok(BaseMsg::Refused { reason })) => {
                        return Err(DialError::Refused(reason));
                    }
                    Some(Ok(other)) => tracing::debug!(?other, "ignored message from Base"),
                }
            }
        }
    }
}

/// Every command id this agent was given lately, across reconnects.
type Commands = Arc<Mutex<commands::CommandLog>>;

/// Does a command in its own task (a rollback's health check must not hold up heartbeats) and
/// acks it when done; a repeated id is acked with the first one's outcome instead.
fn carry_out(id: u64, command: Command, engine: &Engine, mux: &wire::Mux, commands: &Commands) {
    let admitted = commands.lock().expect("command log lock").admit(id);
    let (engine, mux) = (engine.clone(), mux.clone());
    tokio::spawn(async move {
        let outcome = match admitted {
            commands::Admitted::New(done) => {
                let outcome = engine.handle(command).await;
                done.send_replace(Some(outcome.clone()));
                outcome
            }
            commands::Admitted::Repeat(first) => {
                tracing::info!(id, "command sent again: answering with its first outcome");
                match commands::outcome_of(first).await {
                    Some(outcome) => outcome,
                    None => return,
                }
            }
        };
        let _ = mux.send_control(&AgentMsg::Ack { id, outcome });
    });
}

/// Runs until `shutdown` resolves, reconnecting after every failure. The ingress and the
/// services keep running while Base is unreachable.
pub async fn run(
    data: DataDir,
    options: RunOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let enr = data.enrollment()?.ok_or_else(|| {
        anyhow::anyhow!("not enrolled: run `dployrd join --url … --token … --pin …` first")
    })?;
    let identity = AgentIdentity::load_or_create(data.path())?;
    crate::deploy::service_user::prepare_data_dir(data.path());
    let certs = Certificates::open(data.path().join("certs"))
        .map_err(|e| anyhow::anyhow!("opening the certificate store: {e}"))?;
    let routes = Routes::new();
    let ingress = listeners::Listening::start(&options, &routes, &certs).await?;
    tracing::info!(
        http = %ingress.http_addr,
        https = ?ingress.https_addr,
        domain = %options.ingress_domain,
        "ingress listening"
    );
    // Says now (a warning) when services and builds will run without cgroups, and removes the
    // empty ones a previous dployrd left.
    crate::deploy::cgroup::init();
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let (ship_tx, ship_rx) = mpsc::channel(logs::LOG_QUEUE);
    let logs: LogQueue = Arc::new(tokio::sync::Mutex::new(ship_rx));
    let engine = Engine::new(
        EngineConfig {
            services_dir: data.path().join("services"),
            git_cache: data.path().join("git-cache"),
            domain: options.ingress_domain.clone(),
            docker: options.docker.clone(),
        },
        routes,
        reports_tx.clone(),
        ship_tx,
    );
    engine.set_certificates(certs.clone());
    let _acme = crate::acme::keep_for(&engine, &certs, options.acme.clone());
    ingress.write_addrs(&data);
    // Services come back before Base is reachable: they never depended on it.
    engine.restore().await;
    let _sampler = crate::metrics::start(
        engine.clone(),
        data.path().to_path_buf(),
        options.metrics_interval,
        reports_tx,
    );
    let tools = Tools {
        engine: engine.clone(),
        consoles: Default::default(),
        data_dir: data.path().to_path_buf(),
        console_enabled: options.console_enabled,
    };
    let gateways = gateways::Gateways::new(&enr.url, &options.gateways);
    let result = hold(
        &data,
        &enr,
        gateways,
        &identity,
        &tools,
        &mut reports,
        &logs,
        shutdown,
    )
    .await;
    if options.stop_services_on_exit {
        engine.stop_all().await;
    }
    ingress.stop().await;
    result
}

#[allow(clippy::too_many_arguments)] // each is one part of the agent the loop lends out
async fn hold(
    data: &DataDir,
    enr: &Enrollment,
    mut gateways: gateways::Gateways,
    identity: &AgentIdentity,
    tools: &Tools,
    reports: &mut mpsc::UnboundedReceiver<AgentMsg>,
    logs: &LogQueue,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut backoff = Backoff::default();
    let commands = Commands::default();
    tokio::pin!(shutdown);
    loop {
        let url = gateways.current().to_string();
        write_status(data, enr, &url, Link::Connecting, None);
        let ended = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            ended = session(&url, enr, identity, data, tools, reports, logs, &commands) => ended,
        };
        if ended.welcomed {
            backoff.reset();
        }
        let error = match ended.error {
            None => {
                tracing::info!("Base closed the connection; reconnecting");
                None
            }
            Some(e) => {
                tracing::warn!(error = %e, "disconnected");
                Some(e.to_string())
            }
        };
        write_status(data, enr, &url, Link::Offline, error);
        if gateways.ended(ended.welcomed) {
            tracing::info!(next = %gateways.current(), "trying the next gateway at once");
            continue;
        }
        let wait = backoff.next_delay();
        tracing::info!(
            wait_ms = wait.as_millis() as u64,
            "reconnecting after backoff"
        );
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_with_jitter_below_the_ceiling() {
        let mut b = Backoff::default();
        let mut ceilings = Vec::new();
        for _ in 0..9 {
            let c = b.ceiling();
            let d = b.next_delay();
            assert!(d <= c, "{d:?} > {c:?}");
            ceilings.push(c.as_secs());
        }
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        b.reset();
        assert_eq!(b.ceiling(), BACKOFF_BASE);
    }
}
