//! Building a fetched release natively (every runtime but Docker): the version check, the build
//! plan (printed at the top of the build log and sent to Base with the first step after the
//! fetch), the environment (the plan's defaults, the service's env, its secrets and the ones
//! dployrd generates), the build steps and the `release:` step under the build's deadline, and
//! what to start: the [`Release`] that [`super::release::switch_to`] then starts and checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use proto::deploy::DeployState;
use proto::service::{Runtime, ServiceKind, ServiceSpec};
use proto::wire::{DeployOrder, DeployProgress};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::launch::Launch;
use super::output::say;
use super::release::{Checkout, End, Release, build_limit};
use crate::deploy::process::{self, CgroupSpec, Exit, LogLine, ShellCommand};
use crate::deploy::service_user::Identity;
use crate::deploy::{Host, Overrides, check_toolchain, plan, versions};

/// Builds the release of `order` in the app's folder of `checkout` and returns how to start it.
pub(super) async fn build(
    engine: &Engine,
    order: &DeployOrder,
    runtime: Runtime,
    checkout: &Checkout,
    user: Option<Identity>,
    cancel: &CancellationToken,
    logs: &mpsc::Sender<LogLine>,
) -> Result<Release, End> {
    let id = &order.deployment_id;
    let spec = &order.spec;
    let dir = checkout.app.as_path();
    let overrides = Overrides {
        build_command: spec.build_command.clone(),
        start_command: spec.start_command.clone(),
        kind: spec.kind,
    };
    let mut host = Host::new(tools_cache(engine, user.as_ref()), checkout.dir.clone());
    let version = versions::check(
        runtime,
        dir,
        spec.runtime_version.as_deref(),
        &order.instance_name,
        &mut host,
    )
    .await
    .map_err(End::failed)?;
    let plan = plan(runtime, dir, &host).with_overrides(&overrides);
    let mut plan_lines = vec![format!("runtime: {runtime}")];
    plan_lines.extend(version);
    plan_lines.extend(plan.describe());
    say(logs, "build plan:").await;
    for line in &plan_lines {
        say(logs, &format!("  {line}")).await;
    }
    check_toolchain(&plan.toolchain, &order.instance_name)
        .map_err(|e| End::failed(e.to_string()))?;
    let mut env = plan.env.clone();
    env.extend(environment(spec, &plan.bin_dirs, dir));
    let mut secrets = order.secrets.clone();
    for name in &plan.generated_secrets {
        if !env.contains_key(name) && !secrets.0.contains_key(name) {
            let value = generated_secret(engine, &order.service_id, name)
                .await
                .map_err(|e| End::failed(format!("could not keep a generated {name}: {e}")))?;
            engine.learn_secrets(&order.service_id, std::slice::from_ref(&value));
            secrets.0.insert(name.clone(), value);
        }
    }
    env.extend(secrets.0.clone());

    // The plan goes to Base with the first step after the fetch, so the dashboard shows it on
    // the deployment.
    let building = !plan.build.is_empty() || plan.release.is_some();
    engine.progress(DeployProgress {
        deployment_id: id.clone(),
        state: if building {
            DeployState::Building
        } else {
            DeployState::Starting
        },
        commit: Some(checkout.commit.clone()),
        reason: None,
        log_tail: Vec::new(),
        plan: plan_lines,
    });
    let limit = build_limit(order);
    let steps = Steps {
        dir,
        env: &env,
        user: &user,
        cgroup: build_cgroup(order),
        logs,
        deadline: tokio::time::Instant::now() + limit,
        limit,
        cancel,
    };
    for step in &plan.build {
        steps.run("build step", &step.run).await?;
    }
    if let Some(release) = &plan.release {
        say(logs, &format!("[dployr] release: {}", release.run)).await;
        steps
            .run("the release step", &release.run)
            .await
            .map_err(|mut end| {
                end.reason.push_str("; the live release keeps serving");
                end
            })?;
    }
    if cancel.is_cancelled() {
        return Err(End::cancelled());
    }
    if building {
        engine.step(id, DeployState::Starting);
    }
    let launch = if plan.kind == ServiceKind::Static {
        let root = match &plan.static_dir {
            Some(sub) => dir.join(sub),
            None => dir.to_path_buf(),
        };
        Launch::Static(root)
    } else {
        let start = plan.start.clone().ok_or_else(|| {
            End::failed(format!(
                "no start command: the {runtime} runtime has no default for this repository; \
                 set a start command (or add a Procfile with a web: line)"
            ))
        })?;
        let mut script = String::new();
        for (name, value) in &plan.port_env {
            script.push_str(&format!("export {name}=\"{value}\"\n"));
        }
        script.push_str(&start.run);
        let mut cmd = command(&script, dir, &env, &user);
        cmd.cgroup = Some(service_cgroup(&order.service_id, spec));
        Launch::Command(cmd)
    };
    Ok(Release {
        deployment_id: id.clone(),
        spec: ServiceSpec {
            kind: Some(plan.kind),
            ..spec.clone()
        },
        launch,
        secrets,
    })
}

/// What every build and release step of one build shares.
struct Steps<'a> {
    dir: &'a Path,
    env: &'a BTreeMap<String, String>,
    user: &'a Option<Identity>,
    /// Every step runs in a fresh cgroup of this build.
    cgroup: CgroupSpec,
    logs: &'a mpsc::Sender<LogLine>,
    /// The build's deadline, `limit` after it started.
    deadline: tokio::time::Instant,
    limit: Duration,
    cancel: &'a CancellationToken,
}

impl Steps<'_> {
    /// Runs one step to its end, within the build's deadline.
    async fn run(&self, what: &str, script: &str) -> Result<(), End> {
        let left = self
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        let mut cmd = command(script, self.dir, self.env, self.user);
        cmd.cgroup = Some(self.cgroup.clone());
        let exit = process::run(&cmd, self.logs.clone(), left, self.cancel)
            .await
            .map_err(|e| End::failed(format!("could not run {what} `{script}`: {e}")))?;
        match exit {
            Exit::Code(0) => Ok(()),
            Exit::TimedOut => Err(End::timed_out(format!(
                "the build did not finish within {:?}",
                self.limit
            ))),
            Exit::Cancelled => Err(End::cancelled()),
            Exit::OutOfMemory(mb) => Err(End::failed(format!(
                "build exceeded its memory limit ({mb} MB): {what} `{script}` was killed"
            ))),
            Exit::Code(code) => Err(End::failed(format!(
                "{what} `{script}` exited with code {code}"
            ))),
            Exit::Signal(signal) => Err(End::failed(format!(
                "{what} `{script}` was killed by signal {signal}"
            ))),
        }
    }
}

/// The value of a variable dployrd generates once for a service (Rails's `SECRET_KEY_BASE`):
/// 64 random bytes as hex, kept 0600 in the service's folder on the instance so every release
/// and restart gets the same one.
async fn generated_secret(
    engine: &Engine,
    service_id: &str,
    name: &str,
) -> std::io::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let dir = engine
        .inner
        .config
        .services_dir
        .join(service_id)
        .join("generated");
    let file = dir.join(name);
    match tokio::fs::read_to_string(&file).await {
        Ok(value) if !value.trim().is_empty() => return Ok(value.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    tokio::fs::create_dir_all(&dir).await?;
    let value: String = (0..64)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&file)?;
    out.write_all(value.as_bytes())?;
    Ok(value)
}

/// Where package managers that dployrd provides (corepack's yarn and pnpm) and their
/// downloads live: `<data dir>/cache`, beside the services; in the service's own home when it
/// has its own user (a cache shared by services would let one plant tools another runs).
fn tools_cache(engine: &Engine, user: Option<&Identity>) -> PathBuf {
    match user {
        Some(user) => user.home.join(".cache").join("dployr"),
        None => engine.inner.config.services_dir.with_file_name("cache"),
    }
}

/// The cgroup of a build of `order`: the service's build limits, and a lower CPU weight than
/// services.
fn build_cgroup(order: &DeployOrder) -> CgroupSpec {
    CgroupSpec {
        name: format!("build-{}", order.deployment_id),
        memory_mb: order.spec.resources.build_memory_mb,
        cpu_millis: order.spec.resources.build_cpu_millis,
        background: true,
    }
}

/// The cgroup of the service's process: its memory and CPU limits.
pub(super) fn service_cgroup(service_id: &str, spec: &ServiceSpec) -> CgroupSpec {
    CgroupSpec {
        name: format!("svc-{service_id}"),
        memory_mb: spec.resources.memory_mb,
        cpu_millis: spec.resources.cpu_millis,
        background: false,
    }
}

fn command(
    script: &str,
    dir: &Path,
    env: &BTreeMap<String, String>,
    user: &Option<Identity>,
) -> ShellCommand {
    let mut cmd = ShellCommand::new(script, dir);
    cmd.env = env.clone();
    cmd.user = user.clone();
    cmd
}

/// The service's env, plus `PATH` with the release's tool folders (`.venv/bin`, …) first.
fn environment(spec: &ServiceSpec, bin_dirs: &[String], dir: &Path) -> BTreeMap<String, String> {
    let mut env = spec.env.clone();
    let mut path: Vec<String> = bin_dirs
        .iter()
        .map(|d| dir.join(d).display().to_string())
        .collect();
    if let Ok(system) = std::env::var("PATH") {
        path.push(system);
    }
    env.insert("PATH".into(), path.join(":"));
    env
}
