//! `--local-agent`: Base runs a dployrd on its own machine, joined to the oldest cluster, so a
//! newcomer who just signed up sees one online instance and can deploy at once. Base only does
//! what an operator would: it adds an instance, runs `dployrd join` with its one-time token, then
//! keeps `dployrd run` alive (restarting it if it exits) until Base stops.
//!
//! The agent must not reach Base's secrets (audit H2): its state lives beside Base's data dir
//! (`<data dir>-agent`), never inside it; it starts with an empty environment plus
//! [`PASSED_ENV`], so `DPLOYR_MASTER_KEY`, `DATABASE_URL` or `DPLOYR_SMTP_URL` never reach it
//! or its services; and its instance console is off unless the operator passes
//! `--local-agent-console` (the console is a shell with dployrd's uid on Base's machine).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use control::Base;
use tokio::process::Command;
use tokio::sync::watch;

/// How often to look for the first cluster before anyone has signed up.
const WAIT_FOR_SIGNUP: Duration = Duration::from_secs(1);
const RESTART_DELAY: Duration = Duration::from_secs(2);

/// The only variables the local dployrd gets from Base's environment: what finding programs,
/// logging, locale, Docker and proxies need. Nothing of Base's own configuration.
pub const PASSED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "RUST_LOG",
    "RUST_BACKTRACE",
    "DOCKER_HOST",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// The local agent's data dir: the configured one, else `<data dir>-agent` beside Base's.
/// Refused when it is Base's data dir or inside it.
pub fn agent_dir(data_dir: &Path, configured: Option<&Path>) -> anyhow::Result<PathBuf> {
    let base = std::path::absolute(data_dir)?;
    let dir = match configured {
        Some(d) => std::path::absolute(d)?,
        None => {
            let name = base
                .file_name()
                .ok_or_else(|| anyhow::anyhow!("the data dir {} has no name", base.display()))?;
            let mut sibling = OsString::from(name);
            sibling.push("-agent");
            base.with_file_name(sibling)
        }
    };
    let inside = |d: &Path| {
        let d = d.canonicalize().unwrap_or_else(|_| d.to_path_buf());
        let b = base.canonicalize().unwrap_or_else(|_| base.clone());
        d.starts_with(b)
    };
    anyhow::ensure!(
        !inside(&dir),
        "the local agent's data dir {} is inside Base's data dir {}: choose another \
         (--local-agent-dir)",
        dir.display(),
        base.display()
    );
    Ok(dir)
}

/// Makes the agent's data dir, readable by its owner only.
fn make_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    crate::config::seal_dir(dir);
    Ok(())
}

/// `dployrd --data-dir <dir>` with an empty environment plus [`PASSED_ENV`].
pub fn agent_command(bin: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear().current_dir(dir);
    for key in PASSED_ENV {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    cmd.arg("--data-dir").arg(dir);
    cmd
}

fn arg_after<'a>(cmd: &'a str, flag: &str) -> Option<&'a str> {
    cmd.split_whitespace().skip_while(|w| *w != flag).nth(1)
}

async fn enroll(base: &Base, bin: &Path, dir: &Path, console: bool) -> anyhow::Result<bool> {
    let made = base
        .create_local_instance(console)
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
    make_dir(dir)?;
    let status = agent_command(bin, dir)
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

/// What [`supervise`] runs: the binary, its data dir, its ingress and whether its console is on.
#[derive(Debug, Clone)]
pub struct LocalAgent {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub ingress: std::net::SocketAddr,
    pub console: bool,
}

/// Runs until `stop` turns true.
pub async fn supervise(base: Base, agent: LocalAgent, mut stop: watch::Receiver<bool>) {
    let LocalAgent {
        bin,
        dir,
        ingress,
        console,
    } = agent;
    let stopped = |stop: &watch::Receiver<bool>| *stop.borrow();
    while !stopped(&stop) {
        if !dir.join("enrollment.json").exists() {
            let wait = match enroll(&base, &bin, &dir, console).await {
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
        let mut cmd = agent_command(&bin, &dir);
        cmd.arg("run")
            .arg("--ingress-listen")
            .arg(ingress.to_string());
        if !console {
            cmd.arg("--no-console");
        }
        let child = cmd.kill_on_drop(true).spawn();
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
