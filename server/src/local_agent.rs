//! `--local-agent`: Base runs a dployrd on its own machine, joined to the oldest cluster, so a
//! newcomer who just signed up sees one online instance and can deploy at once. Base only does
//! what an operator would: it adds an instance, runs `dployrd join` with its one-time token, then
//! keeps `dployrd run` alive (restarting it if it exits) until Base stops. The agent's state
//! lives in `<data dir>/local-agent`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use control::Base;
use tokio::process::Command;
use tokio::sync::watch;

/// How often to look for the first cluster before anyone has signed up.
const WAIT_FOR_SIGNUP: Duration = Duration::from_secs(1);
const RESTART_DELAY: Duration = Duration::from_secs(2);

fn arg_after<'a>(cmd: &'a str, flag: &str) -> Option<&'a str> {
    cmd.split_whitespace().skip_while(|w| *w != flag).nth(1)
}

async fn enroll(base: &Base, bin: &Path, dir: &Path) -> anyhow::Result<bool> {
    let made = base
        .create_local_instance()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(made) = made else {
        return Ok(false);
    };
    let cmd = &made.install_command;
    let (url, pin) = (arg_after(cmd, "--url"), arg_after(cmd, "--pin"));
    let (Some(url), Some(pin)) = (url, pin) else {
        anyhow::bail!("install command without --url/--pin: {cmd}");
    };
    let status = Command::new(bin)
        .arg("--data-dir")
        .arg(dir)
        .args([
            "join",
            "--url",
            url,
            "--token",
            &made.join_token,
            "--pin",
            pin,
        ])
        .status()
        .await?;
    anyhow::ensure!(status.success(), "dployrd join exited with {status}");
    tracing::info!(instance.id = %made.instance.id, "local agent enrolled");
    Ok(true)
}

/// Runs until `stop` turns true.
pub async fn supervise(
    base: Base,
    bin: PathBuf,
    dir: PathBuf,
    ingress: std::net::SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let stopped = |stop: &watch::Receiver<bool>| *stop.borrow();
    while !stopped(&stop) {
        if !dir.join("enrollment.json").exists() {
            let wait = match enroll(&base, &bin, &dir).await {
                Ok(true) => continue,
                Ok(false) => WAIT_FOR_SIGNUP,
                Err(e) => {
                    tracing::warn!(error = %e, "could not enroll the local agent");
                    RESTART_DELAY * 5
                }
            };
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep(wait) => {}
            }
            continue;
        }
        let child = Command::new(&bin)
            .arg("--data-dir")
            .arg(&dir)
            .arg("run")
            .arg("--ingress-listen")
            .arg(ingress.to_string())
            .kill_on_drop(true)
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(bin = %bin.display(), error = %e, "cannot start the local dployrd");
                return;
            }
        };
        tokio::select! {
            _ = stop.changed() => {
                let _ = child.kill().await;
                return;
            }
            status = child.wait() => {
                tracing::warn!(?status, "local dployrd exited; restarting");
                tokio::time::sleep(RESTART_DELAY).await;
            }
        }
    }
}
