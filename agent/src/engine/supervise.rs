//! Keeps a live release running: when its process exits on its own, the crash is recorded and
//! reported, and it is started again on the same port by the service's restart policy, with
//! exponential backoff (1 s doubling to 60 s, reset after a minute of running). A web service's
//! health check keeps running after it went live: [`LIVE_FAILURES`] failed probes in a row mark
//! it unhealthy (reported, so Base records an event) and, by the same policy, it is restarted;
//! the first passing probe after that marks it running again.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use proto::ids::ServiceId;
use proto::service::{RestartPolicy, ServiceKind, ServiceSpec};
use proto::wire::RunState;
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::launch::{Proc, describe};
use super::release::Release;
use crate::deploy::process::{Exit, STOP_GRACE};
use crate::deploy::{HealthCheck, Probe, probe};

const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// Running this long counts as recovered: the next crash starts the backoff over.
const STABLE: Duration = Duration::from_secs(60);
/// Failed probes in a row after which a live release is unhealthy.
pub(super) const LIVE_FAILURES: u32 = 3;
/// The least time between two probes of a live release: the deploy-time interval (1 s by
/// default) is for a release that is starting, not for one that serves.
const LIVE_INTERVAL_MIN: Duration = Duration::from_secs(5);

/// How a release is probed once it is live.
#[derive(Debug, Clone)]
struct LiveCheck {
    probe: Probe,
    interval: Duration,
    timeout: Duration,
}

impl LiveCheck {
    /// A web service's own check; `None` for a worker or a static site (dployrd serves those
    /// files itself), and for a probe that checks nothing.
    fn of(spec: &ServiceSpec) -> Option<LiveCheck> {
        if spec.kind.unwrap_or(ServiceKind::Web) != ServiceKind::Web {
            return None;
        }
        let check = HealthCheck::from(&spec.health_check);
        (check.probe != Probe::None).then(|| LiveCheck {
            probe: check.probe,
            interval: check.interval.max(LIVE_INTERVAL_MIN),
            timeout: check.timeout,
        })
    }
}

/// What woke the supervisor.
enum Woke {
    Exited(std::io::Result<Exit>),
    Probed(Result<(), String>),
}

/// The next probe of `addr`, one interval from now; never, without a check.
async fn next_probe(check: &Option<LiveCheck>, addr: SocketAddr) -> Result<(), String> {
    match check {
        Some(c) => {
            tokio::time::sleep(c.interval).await;
            probe(addr, &c.probe, c.timeout).await
        }
        None => std::future::pending().await,
    }
}

/// Supervises `release` of `service_id`, started as `proc` on `port`, until `stop` fires (then
/// stops it) or its process exits and the restart policy says not to start it again.
pub(super) async fn run(
    engine: Engine,
    service_id: ServiceId,
    release: Release,
    port: u16,
    proc: Proc,
    stop: CancellationToken,
) {
    let Release {
        deployment_id,
        spec,
        launch,
        ..
    } = release;
    let policy = spec.restart;
    let check = LiveCheck::of(&spec);
    // Registered for the metrics sampler while it runs (dropped with the supervisor).
    let mut _meter = engine.metered(&service_id, &proc);
    let mut proc = Some(proc);
    let mut backoff = BACKOFF_START;
    let mut started = Instant::now();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut failures = 0;
    let mut unhealthy = false;
    let set_run = |run, counts: bool, why: Option<String>| {
        engine.set_run(&service_id, &deployment_id, run, counts, why);
    };
    let note = |line: &str| engine.note(&service_id, &format!("[dployrd] {line}"));
    loop {
        if let Some(running) = proc.as_mut() {
            let woke = tokio::select! {
                exit = running.wait() => Woke::Exited(exit),
                r = next_probe(&check, addr) => Woke::Probed(r),
                () = stop.cancelled() => {
                    running.stop(STOP_GRACE).await;
                    return;
                }
            };
            match woke {
                Woke::Probed(Ok(())) => {
                    failures = 0;
                    if unhealthy {
                        unhealthy = false;
                        note("the health check passes again");
                        set_run(RunState::Running, false, None);
                    }
                    continue;
                }
                Woke::Probed(Err(error)) => {
                    failures += 1;
                    if failures < LIVE_FAILURES {
                        continue;
                    }
                    failures = 0;
                    let why =
                        format!("the health check failed {LIVE_FAILURES} times in a row: {error}");
                    note(&format!("unhealthy: {why}"));
                    let again = policy != RestartPolicy::Never;
                    if !unhealthy || again {
                        set_run(RunState::Unhealthy, again, Some(why));
                    }
                    unhealthy = true;
                    if !again {
                        continue;
                    }
                    note("restarting it");
                    running.stop(STOP_GRACE).await;
                }
                Woke::Exited(exit) => {
                    // What its shell left running goes too (and its cgroup with it).
                    if let Proc::Shell(shell) = running
                        && let Err(e) = shell.stop(STOP_GRACE).await
                    {
                        tracing::warn!(error = %e, "stopping what an exited release left");
                    }
                    let (state, again) = after_exit(policy, &exit);
                    let why = match &exit {
                        Ok(oom @ Exit::OutOfMemory(_)) => oom.to_string(),
                        _ => format!("the process exited ({})", describe(&exit)),
                    };
                    note(&why);
                    set_run(state, true, Some(why));
                    if !again {
                        return;
                    }
                }
            }
            if started.elapsed() > STABLE {
                backoff = BACKOFF_START;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.cancelled() => return,
        }
        backoff = (backoff * 2).min(BACKOFF_CAP);
        match launch
            .start(
                port,
                engine.log_sender(&service_id, &deployment_id),
                &engine.inner.config.docker,
            )
            .await
        {
            Ok(p) => {
                _meter = engine.metered(&service_id, &p);
                proc = Some(p);
                started = Instant::now();
                // An unhealthy release counts as running again only once its check passes.
                if !unhealthy {
                    set_run(RunState::Running, false, None);
                }
            }
            Err(e) => {
                _meter = None;
                proc = None;
                note(&format!("could not restart it: {e}"));
            }
        }
    }
}

/// The run state after a process exits, and whether to start it again.
pub(super) fn after_exit(policy: RestartPolicy, exit: &std::io::Result<Exit>) -> (RunState, bool) {
    let clean = matches!(exit, Ok(e) if e.success());
    let restart = match policy {
        RestartPolicy::Always => true,
        RestartPolicy::OnFailure => !clean,
        RestartPolicy::Never => false,
    };
    // Killed for its memory limit is a crash (Base records it as one, with the reason) even
    // when the policy does not restart it.
    let oom = matches!(exit, Ok(Exit::OutOfMemory(_)));
    let state = if restart || oom {
        RunState::Crashed
    } else {
        RunState::Stopped
    };
    (state, restart)
}
