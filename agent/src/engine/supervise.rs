//! Keeps a live release running: when its process exits on its own, the crash is recorded and
//! reported, and it is started again on the same port by the service's restart policy, with
//! exponential backoff (1 s doubling to 60 s, reset after a minute of running).

use std::time::{Duration, Instant};

use proto::service::RestartPolicy;
use proto::wire::RunState;
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::launch::{Launch, Proc};
use super::pipeline::describe;
use crate::deploy::process::{Exit, STOP_GRACE};

const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// Running this long counts as recovered: the next crash starts the backoff over.
const STABLE: Duration = Duration::from_secs(60);

#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    engine: Engine,
    service_id: String,
    deployment_id: String,
    launch: Launch,
    port: u16,
    policy: RestartPolicy,
    proc: Proc,
    stop: CancellationToken,
) {
    let mut proc = Some(proc);
    let mut backoff = BACKOFF_START;
    let mut started = Instant::now();
    loop {
        if let Some(running) = proc.as_mut() {
            let exit = tokio::select! {
                exit = running.wait() => exit,
                () = stop.cancelled() => {
                    running.stop(STOP_GRACE).await;
                    return;
                }
            };
            let (state, again) = after_exit(policy, &exit);
            let why = format!("the process exited ({})", describe(exit));
            engine.note(&service_id, &format!("[dployrd] {why}"));
            engine.set_run(&service_id, &deployment_id, state, true, Some(why));
            if !again {
                return;
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
                proc = Some(p);
                started = Instant::now();
                engine.set_run(&service_id, &deployment_id, RunState::Running, false, None);
            }
            Err(e) => {
                proc = None;
                engine.note(&service_id, &format!("[dployrd] could not restart it: {e}"));
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
    let state = if restart {
        RunState::Crashed
    } else {
        RunState::Stopped
    };
    (state, restart)
}
