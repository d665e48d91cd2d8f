//! How to build, release and start a service of a given [`Runtime`]: the defaults dployrd picks
//! from the files in the app's folder (each with the reason it was chosen, printed at the top of
//! the build log), which the user's own build and start commands replace. A plan is data only;
//! running it is the orchestrator's job (with [`super::process`]). One module per runtime family
//! holds its conventions; this one holds what they share: the plan's shape, the `Procfile`, and
//! the service's kind.

mod dotnet;
mod go;
mod java;
mod node;
mod node_pm;
#[cfg(test)]
mod node_pm_tests;
#[cfg(test)]
mod node_tests;
mod php;
mod python;
mod python_frameworks;
#[cfg(test)]
mod python_tests;
mod ruby;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use proto::service::ServiceKind;
use serde::{Deserialize, Serialize};

use super::runtime::Runtime;

/// One command of a plan and why it was chosen (`pnpm-lock.yaml`, `Procfile web:`, …). Every
/// command is a `sh -c` script run in the app's folder with `PORT` and the service's env set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub run: String,
    pub why: String,
}

impl Step {
    pub fn new(run: impl Into<String>, why: impl Into<String>) -> Step {
        Step {
            run: run.into(),
            why: why.into(),
        }
    }
}

/// Lets tests compare a plan's steps with the commands alone.
impl PartialEq<&str> for Step {
    fn eq(&self, other: &&str) -> bool {
        self.run == *other
    }
}

/// What the instance offers a plan: its `PATH` (to tell which tools are installed) and a cache
/// folder under dployrd's data dir (for the package managers corepack provides, and their
/// downloads), and the top of the checkout (a monorepo's lockfile sits above the app's folder).
#[derive(Debug, Clone)]
pub struct Host {
    pub path: OsString,
    pub cache_dir: PathBuf,
    pub checkout: PathBuf,
    /// The Python interpreter to build with (`python3`, or `python3.12` when the app asks for
    /// 3.12 and the instance has it).
    pub python: String,
}

impl Host {
    /// This process's `PATH`, with `cache_dir` and `checkout` as given.
    pub fn new(cache_dir: PathBuf, checkout: PathBuf) -> Host {
        Host {
            path: std::env::var_os("PATH").unwrap_or_default(),
            cache_dir,
            checkout,
            python: "python3".into(),
        }
    }

    /// Whether `tool` is an executable on this host's `PATH`.
    pub fn has(&self, tool: &str) -> bool {
        super::toolchain::on_path(tool, &self.path)
    }
}

/// The commands for one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub kind: ServiceKind,
    /// The package manager and why (`pnpm 9.12.0 via corepack (packageManager in package.json)`).
    pub package_manager: Option<String>,
    /// Build steps, in order; the build fails at the first step that exits non-zero.
    pub build: Vec<Step>,
    /// Run once per deploy after the build and before the switch (a `Procfile` `release:`
    /// line: migrations); when it fails the deploy fails and the old release keeps serving.
    pub release: Option<Step>,
    /// The service's command. `None` means either nothing to start ([`Runtime::Static`], served
    /// by dployrd) or that no default exists and the user must give a start command.
    pub start: Option<Step>,
    /// Executables the default commands need on the instance's `PATH`; see
    /// [`super::check_toolchain`].
    pub toolchain: Vec<String>,
    /// Directories that go before `PATH` for the build and the service: relative ones are in
    /// the app's folder (`.venv/bin`, so a Procfile's `gunicorn` finds the one in `.venv`),
    /// absolute ones are dployrd's (corepack's shims).
    pub bin_dirs: Vec<String>,
    /// Variables the plan sets for the build and the service; the service's own env wins.
    pub env: BTreeMap<String, String>,
    /// Variables set to the release's port (as `PORT` is) for frameworks that read their own
    /// name (`SERVER_PORT` for Spring Boot), or to a value built from it (`ASPNETCORE_URLS`):
    /// `(name, value)` where the shell expands `$PORT`.
    pub port_env: Vec<(String, String)>,
    /// Variables the app needs a stable random value for (Rails's `SECRET_KEY_BASE`): dployrd
    /// generates each once per service, keeps it on the instance (0600) and treats it as a
    /// secret; a value in the service's env or secrets wins.
    pub generated_secrets: Vec<String>,
    /// For a static site built by a toolchain (Vite's `dist`, CRA's `build`): the folder
    /// dployrd serves, relative to the app's folder. `None`: the app's folder.
    pub static_dir: Option<String>,
    /// Lines for the top of the build log besides the steps: warnings (`npm install` instead of
    /// `npm ci`, and why) and facts (the framework found).
    pub notes: Vec<String>,
}

/// The user's replacements for the defaults. A build command replaces all default build steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrides {
    pub build_command: Option<String>,
    pub start_command: Option<String>,
    /// The kind named in the settings or `dployr.toml`, over the one the files suggest.
    #[serde(default)]
    pub kind: Option<ServiceKind>,
}

impl Plan {
    pub(crate) fn empty(kind: ServiceKind) -> Plan {
        Plan {
            kind,
            package_manager: None,
            build: Vec::new(),
            release: None,
            start: None,
            toolchain: Vec::new(),
            bin_dirs: Vec::new(),
            env: BTreeMap::new(),
            port_env: Vec::new(),
            generated_secrets: Vec::new(),
            static_dir: None,
            notes: Vec::new(),
        }
    }

    /// Applies the user's commands. The toolchain stays: overrides almost always still call the
    /// runtime's tools, and anything else they need shows up as a failing step in the build log.
    pub fn with_overrides(mut self, overrides: &Overrides) -> Plan {
        if let Some(build) = nonblank(&overrides.build_command) {
            self.build = vec![Step::new(build, "the service's build command")];
        }
        if let Some(start) = nonblank(&overrides.start_command) {
            self.start = Some(Step::new(start, "the service's start command"));
            // A framework's static site (Vite's `dist/`) is a service once the user names a
            // command to run it with.
            if self.static_dir.take().is_some() {
                self.kind = ServiceKind::Web;
            }
        }
        if let Some(kind) = overrides.kind {
            self.kind = kind;
        }
        self
    }

    /// The plan as the build log shows it, one line per fact or command with its reason.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!("kind: {}", self.kind)];
        if let Some(pm) = &self.package_manager {
            lines.push(format!("package manager: {pm}"));
        }
        lines.extend(self.notes.iter().cloned());
        let mut step =
            |label: &str, s: &Step| lines.push(format!("{label}: {}  # {}", s.run, s.why));
        for s in &self.build {
            step("build", s);
        }
        if let Some(s) = &self.release {
            step("release", s);
        }
        if let Some(s) = &self.start {
            step("start", s);
        }
        if let Some(d) = &self.static_dir {
            lines.push(format!("serve: {d}/ as a static site"));
        }
        for (name, value) in &self.port_env {
            lines.push(format!("env: {name}={value}"));
        }
        for name in &self.generated_secrets {
            lines.push(format!(
                "env: {name} (generated once for this service, kept secret)"
            ));
        }
        lines
    }
}

fn nonblank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The default plan for `runtime` from the files in `dir`. For every runtime but static and
/// docker, a `Procfile` `web:` line is the start command, and its `release:` line the release
/// step, as on the PaaSes users come from; a `worker:` line without a `web:` line makes the
/// service a worker that runs it.
pub fn plan(runtime: Runtime, dir: &Path, host: &Host) -> Plan {
    let mut plan = match runtime {
        Runtime::Node => node::plan(dir, host),
        Runtime::Python => python::plan(dir, host),
        Runtime::Go => go::plan(dir),
        Runtime::Php => php::plan(dir),
        Runtime::Ruby => ruby::plan(dir),
        Runtime::Dotnet => dotnet::plan(dir),
        Runtime::Java => java::plan(dir),
        Runtime::Static => return Plan::empty(ServiceKind::Static),
        Runtime::Docker => return Plan::empty(ServiceKind::Web),
    };
    let procfile = Procfile::read(dir);
    if let Some(web) = procfile.web {
        plan.start = Some(Step::new(web, "Procfile web:"));
    } else if let Some(worker) = procfile.worker {
        plan.kind = ServiceKind::Worker;
        plan.start = Some(Step::new(worker, "Procfile worker: (no web: line)"));
    }
    if let Some(release) = procfile.release {
        plan.release = Some(Step::new(release, "Procfile release:"));
    }
    plan
}

/// The processes of a Heroku-style `Procfile` that dployr runs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Procfile {
    pub web: Option<String>,
    pub worker: Option<String>,
    pub release: Option<String>,
}

impl Procfile {
    pub fn read(dir: &Path) -> Procfile {
        let text = std::fs::read_to_string(dir.join("Procfile")).unwrap_or_default();
        let mut procfile = Procfile::default();
        for line in text.lines() {
            let Some((name, command)) = line.split_once(':') else {
                continue;
            };
            let command = command.trim();
            if command.is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let slot = match name.trim() {
                "web" => &mut procfile.web,
                "worker" => &mut procfile.worker,
                "release" => &mut procfile.release,
                _ => continue,
            };
            slot.get_or_insert_with(|| command.to_owned());
        }
        procfile
    }
}

/// `package.json`, `composer.json` and the like, or `Null` when absent or not JSON.
pub(crate) fn read_json(path: &Path) -> serde_json::Value {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}
