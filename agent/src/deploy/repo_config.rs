//! `dployr.toml` in a service's repository: its root directory, runtime, build and start commands,
//! port, build timeout and health check, versioned with the code. [`super::app_dir`] finds the
//! files that apply (the one at the top, and the one in the root directory). Read after the
//! fetch; what it sets wins, and the dashboard's settings are the defaults for what it leaves
//! out. A file that does not parse (or has a misspelt key) fails the deploy with the reason, so
//! a typo never silently falls back to the defaults.
//!
//! ```toml
//! service = "api"            # the CLI's default service (`dployr deploy`); ignored here
//! root_dir = "apps/api"      # top-level file only: the app's folder in a monorepo
//! runtime = "node"
//! runtime_version = ">=20"   # over engines.node, .python-version, go.mod, …
//! build = "npm ci && npm run build"
//! start = "node dist/server.js"
//! port = 3000                # the port a Docker image listens on
//! build_timeout_secs = 900
//! [health_check]
//! path = "/healthz"          # HTTP probe; or probe = "tcp" / "none"
//! interval_secs = 2
//! retries = 20
//! [resources]                # each over the dashboard's; see proto::resources
//! memory_mb = 512
//! cpu_millis = 500           # half a CPU
//! build_memory_mb = 2048
//! build_cpu_millis = 1000
//! ```

use std::path::Path;

use proto::resources::Resources;
use proto::rules::{build_timeout_problem, health_numbers_problem};
use proto::service::{
    HealthCheck, Probe, Runtime, ServiceSpec, check_root_dir, check_runtime_version,
};
use serde::Deserialize;

pub const FILE: &str = "dployr.toml";
/// A config file is a few lines; anything this big is not one.
const MAX_BYTES: u64 = 64 * 1024;

#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    pub service: Option<String>,
    pub root_dir: Option<String>,
    pub runtime: Option<Runtime>,
    /// The version the runtime must be (`20`, `>=3.11`, …); blank clears the dashboard's.
    pub runtime_version: Option<String>,
    #[serde(alias = "build_command")]
    pub build: Option<String>,
    #[serde(alias = "start_command")]
    pub start: Option<String>,
    pub port: Option<u16>,
    pub build_timeout_secs: Option<u32>,
    pub health_check: Option<RepoHealth>,
    pub resources: Option<Resources>,
}

#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoHealth {
    /// `http` (needs `path`), `tcp` or `none`; `http` when only `path` is given.
    pub probe: Option<String>,
    pub path: Option<String>,
    pub interval_secs: Option<u32>,
    pub timeout_secs: Option<u32>,
    pub retries: Option<u32>,
    pub start_grace_secs: Option<u32>,
}

/// The repository's config, if it has one. `Err` says what is wrong, naming the file.
pub fn load(dir: &Path) -> Result<Option<RepoConfig>, String> {
    let path = dir.join(FILE);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{FILE}: {e}")),
    };
    if !meta.is_file() {
        return Err(format!("{FILE} must be a regular file"));
    }
    if meta.len() > MAX_BYTES {
        return Err(format!("{FILE} is larger than {} KiB", MAX_BYTES / 1024));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{FILE}: {e}"))?;
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{FILE} is not valid: {e}"))
}

impl RepoConfig {
    /// `spec` with this file's settings on top, and the names of the settings it changed.
    pub fn apply(&self, spec: &ServiceSpec) -> Result<(ServiceSpec, Vec<&'static str>), String> {
        let mut out = spec.clone();
        let mut changed = Vec::new();
        if let Some(root) = &self.root_dir {
            out.root_dir = check_root_dir(root).map_err(|e| format!("{FILE}: root_dir {e}"))?;
            changed.push("root_dir");
        }
        if let Some(r) = self.runtime {
            out.runtime = Some(r);
            changed.push("runtime");
        }
        if let Some(v) = &self.runtime_version {
            out.runtime_version =
                check_runtime_version(v).map_err(|e| format!("{FILE}: runtime_version {e}"))?;
            changed.push("runtime_version");
        }
        if let Some(b) = &self.build {
            out.build_command = Some(b.clone());
            changed.push("build");
        }
        if let Some(s) = &self.start {
            out.start_command = Some(s.clone());
            changed.push("start");
        }
        if let Some(p) = self.port {
            out.port = Some(p);
            changed.push("port");
        }
        if let Some(t) = self.build_timeout_secs {
            if let Some(problem) = build_timeout_problem(t) {
                return Err(format!("{FILE}: {problem}"));
            }
            out.build_timeout_secs = Some(t);
            changed.push("build_timeout_secs");
        }
        if let Some(h) = &self.health_check {
            out.health_check = h.apply(&spec.health_check)?;
            changed.push("health_check");
        }
        if let Some(r) = self.resources {
            out.resources = spec.resources.overridden_by(r);
            out.resources
                .check()
                .map_err(|(field, e)| format!("{FILE}: resources.{field}: {e}"))?;
            changed.push("resources");
        }
        Ok((out, changed))
    }
}

impl RepoHealth {
    fn apply(&self, base: &HealthCheck) -> Result<HealthCheck, String> {
        let probe = match (self.probe.as_deref(), &self.path) {
            (None, None) => base.probe.clone(),
            (None | Some("http"), Some(path)) => {
                if !path.starts_with('/') {
                    return Err(format!("{FILE}: health_check.path must start with /"));
                }
                Probe::Http { path: path.clone() }
            }
            (Some("http"), None) => {
                return Err(format!("{FILE}: an http health check needs a path"));
            }
            (Some("tcp"), _) => Probe::Tcp {},
            (Some("none"), _) => Probe::None {},
            (Some(other), _) => {
                return Err(format!(
                    "{FILE}: health_check.probe is {other:?}; use http, tcp or none"
                ));
            }
        };
        let hc = HealthCheck {
            probe,
            interval_secs: self.interval_secs.unwrap_or(base.interval_secs),
            timeout_secs: self.timeout_secs.unwrap_or(base.timeout_secs),
            retries: self.retries.unwrap_or(base.retries),
            start_grace_secs: self.start_grace_secs.unwrap_or(base.start_grace_secs),
        };
        // The dashboard's bounds (audit finding L9): 0 seconds between checks is no check.
        match health_numbers_problem(&hc) {
            Some(problem) => Err(format!("{FILE}: health_check.{problem}")),
            None => Ok(hc),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proto::service::{GitSource, RestartPolicy, Source};

    /// A service's settings as the dashboard sent them (also `app_dir`'s tests).
    pub(crate) fn spec() -> ServiceSpec {
        ServiceSpec {
            name: "api".into(),
            source: Source::Git(GitSource {
                url: "file:///r".into(),
                branch: "main".into(),
            }),
            runtime: None,
            build_command: Some("make".into()),
            start_command: Some("./dashboard-start".into()),
            port: None,
            env: Default::default(),
            health_check: HealthCheck::default(),
            restart: RestartPolicy::Always,
            domains: vec![],
            build_timeout_secs: None,
            root_dir: None,
            kind: None,
            runtime_version: None,
            resources: Default::default(),
        }
    }

    fn with_file(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), text).unwrap();
        dir
    }

    #[test]
    fn the_file_wins_and_the_dashboard_fills_the_rest() {
        let dir = with_file(
            "service = \"api\"\nruntime = \"python\"\nstart = \"python app.py\"\n\
             [health_check]\npath = \"/healthz\"\nretries = 5\n",
        );
        let cfg = load(dir.path()).unwrap().unwrap();
        let (s, changed) = cfg.apply(&spec()).unwrap();
        assert_eq!(s.runtime, Some(Runtime::Python));
        assert_eq!(s.start_command.as_deref(), Some("python app.py"));
        assert_eq!(
            s.build_command.as_deref(),
            Some("make"),
            "left to the dashboard"
        );
        assert_eq!(
            s.health_check.probe,
            Probe::Http {
                path: "/healthz".into()
            }
        );
        assert_eq!(s.health_check.retries, 5);
        assert_eq!(
            s.health_check.interval_secs,
            HealthCheck::default().interval_secs
        );
        assert_eq!(changed, ["runtime", "start", "health_check"]);
    }

    #[test]
    fn no_file_is_no_config_and_a_bad_one_says_why() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
        let typo = with_file("biuld = \"make\"\n");
        let e = load(typo.path()).unwrap_err();
        assert!(e.contains("dployr.toml") && e.contains("biuld"), "{e}");
        let bad_runtime = with_file("runtime = \"cobol\"\n");
        assert!(load(bad_runtime.path()).is_err());
        let bad_probe = with_file("[health_check]\nprobe = \"ping\"\n");
        let cfg = load(bad_probe.path()).unwrap().unwrap();
        assert!(cfg.apply(&spec()).unwrap_err().contains("ping"));
    }

    #[test]
    fn runtime_version_is_checked_and_set() {
        let cfg = load(with_file("runtime_version = \" >=20 <23 \"\n").path())
            .unwrap()
            .unwrap();
        let (s, changed) = cfg.apply(&spec()).unwrap();
        assert_eq!(s.runtime_version.as_deref(), Some(">=20 <23"));
        assert_eq!(changed, ["runtime_version"]);

        let dashboard = ServiceSpec {
            runtime_version: Some("18".into()),
            ..spec()
        };
        let blank = load(with_file("runtime_version = \"\"\n").path())
            .unwrap()
            .unwrap();
        assert_eq!(blank.apply(&dashboard).unwrap().0.runtime_version, None);

        let bad = load(with_file("runtime_version = \"20!\"\n").path())
            .unwrap()
            .unwrap();
        let e = bad.apply(&spec()).unwrap_err();
        assert!(
            e.starts_with("dployr.toml: runtime_version") && e.contains("not a version"),
            "{e}"
        );
    }

    #[test]
    fn l9_dployr_toml_numbers_are_range_checked() {
        for (text, named) in [
            ("[health_check]\ninterval_secs = 0\n", "interval_secs"),
            ("[health_check]\ntimeout_secs = 0\n", "timeout_secs"),
            ("[health_check]\nretries = 0\n", "retries"),
            ("[health_check]\ntimeout_secs = 61\n", "timeout_secs"),
            ("build_timeout_secs = 0\n", "build_timeout_secs"),
            ("build_timeout_secs = 86401\n", "build_timeout_secs"),
        ] {
            let cfg = load(with_file(text).path()).unwrap().unwrap();
            let e = cfg.apply(&spec()).unwrap_err();
            assert!(
                e.starts_with("dployr.toml: ") && e.contains(named),
                "{text}: {e}"
            );
        }
        let ok = load(with_file("build_timeout_secs = 900\n").path())
            .unwrap()
            .unwrap();
        assert_eq!(ok.apply(&spec()).unwrap().0.build_timeout_secs, Some(900));
    }

    #[test]
    fn a_resources_table_overrides_the_dashboards_limits_and_is_checked() {
        let dir = with_file("[resources]\nmemory_mb = 64\nbuild_cpu_millis = 500\n");
        let mut base = spec();
        base.resources.cpu_millis = Some(250);
        base.resources.memory_mb = Some(512);
        let (s, changed) = load(dir.path()).unwrap().unwrap().apply(&base).unwrap();
        assert_eq!(changed, ["resources"]);
        assert_eq!(
            s.resources,
            Resources {
                memory_mb: Some(64),
                cpu_millis: Some(250),
                build_memory_mb: None,
                build_cpu_millis: Some(500),
            }
        );
        let low = with_file("[resources]\nmemory_mb = 8\n");
        let e = load(low.path()).unwrap().unwrap().apply(&base).unwrap_err();
        assert!(e.contains("resources.memory_mb"), "{e}");
        let typo = with_file("[resources]\nmemory = 64\n");
        assert!(load(typo.path()).is_err());
    }
}
