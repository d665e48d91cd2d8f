//! What a service is, as Base stores it, the REST API shows it and dployrd runs it: its source,
//! runtime, commands, port, env, health check, restart policy and domains. Written once here so
//! Base and the agent cannot disagree on a field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::resources::Resources;

/// Where a service's code comes from: `{"git":{"url":…,"branch":…}}` or `{"image":"name:tag"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Source {
    Git(GitSource),
    Image(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GitSource {
    pub url: String,
    #[serde(default = "default_branch")]
    pub branch: String,
}

fn default_branch() -> String {
    "main".into()
}

/// How a service is built and run. Detected from the checked-out files when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Node,
    Python,
    Go,
    Php,
    Ruby,
    Dotnet,
    Java,
    Static,
    Docker,
}

crate::names::wire_names!(Runtime, "runtime" {
    Node => "node",
    Python => "python",
    Go => "go",
    Php => "php",
    Ruby => "ruby",
    Dotnet => "dotnet",
    Java => "java",
    Static => "static",
    Docker => "docker",
});

/// How dployrd decides a new release is ready for traffic: `{"http":{"path":"/healthz"}}`,
/// `{"tcp":{}}` or `{"none":{}}`, plus timing. After `start_grace_secs` it probes every
/// `interval_secs` (each probe may take `timeout_secs`) until one succeeds or `retries` in a row
/// fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthCheck {
    #[serde(flatten)]
    pub probe: Probe,
    #[serde(default = "default_interval")]
    pub interval_secs: u32,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u32,
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default)]
    pub start_grace_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Probe {
    Http { path: String },
    Tcp {},
    None {},
}

fn default_interval() -> u32 {
    1
}
fn default_timeout() -> u32 {
    2
}
fn default_retries() -> u32 {
    30
}

impl Default for HealthCheck {
    /// `GET /` on the release's port answering below 500: a web app that works passes it
    /// without configuration, and one that answers 500 never goes live. (Workers are checked by
    /// staying up instead; see `ServiceKind`.)
    fn default() -> Self {
        HealthCheck {
            probe: Probe::Http { path: "/".into() },
            interval_secs: default_interval(),
            timeout_secs: default_timeout(),
            retries: default_retries(),
            start_grace_secs: 0,
        }
    }
}

/// What dployrd does when a service's process exits on its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RestartPolicy {
    /// Restart it whatever the exit code (with exponential backoff).
    #[default]
    Always,
    /// Restart it unless it exited with code 0.
    OnFailure,
    Never,
}

/// Everything dployrd needs to build and run a service, besides secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceSpec {
    pub name: String,
    pub source: Source,
    /// `None`: detect from the files.
    pub runtime: Option<Runtime>,
    /// Replaces the runtime's default build steps (one shell command).
    pub build_command: Option<String>,
    /// Replaces the runtime's default start command.
    pub start_command: Option<String>,
    /// The port the app listens on inside its container (Docker); other runtimes are given a
    /// fresh port in `PORT` on every release.
    pub port: Option<u16>,
    pub env: BTreeMap<String, String>,
    pub health_check: HealthCheck,
    pub restart: RestartPolicy,
    /// Host names the ingress routes to this service, besides its default one.
    pub domains: Vec<String>,
    /// The build's hard limit; `None`: 15 minutes.
    #[serde(default)]
    pub build_timeout_secs: Option<u32>,
    /// The folder of the repository the app lives in (a monorepo's `api/`), relative, in the form
    /// [`check_root_dir`] returns: detection, build, start, static files, `dployr.toml`, the file
    /// explorer and the console all start there. `None`: the top of the repository.
    #[serde(default)]
    pub root_dir: Option<String>,
    /// What the service is: a web app behind the ingress, a background worker with no port, or a
    /// static site. `None`: a static site for the static runtime, a worker when the Procfile has
    /// a `worker:` line and no `web:` line, a web app otherwise.
    #[serde(default)]
    pub kind: Option<ServiceKind>,
    /// The language version wanted (`20`, `3.12`, `1.22`), over what the repository's files ask
    /// for (`engines.node`, `.python-version`, `go.mod`, …). Checked against the instance's
    /// toolchain before the build, with [`check_runtime_version`]'s grammar.
    #[serde(default)]
    pub runtime_version: Option<String>,
    /// Memory and CPU limits of the service's process and of its builds; left out when none.
    #[serde(default, skip_serializing_if = "Resources::is_none")]
    pub resources: Resources,
}

/// What a service is, for routing and health checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// Listens on `PORT`; the ingress routes its domains to it; health-checked over HTTP.
    Web,
    /// Runs in the background with no port and no route; supervised (restarted by policy).
    Worker,
    /// Files served by dployrd itself.
    Static,
}

crate::names::wire_names!(ServiceKind, "service kind" {
    Web => "web",
    Worker => "worker",
    Static => "static",
});

/// A runtime version as users write it: `20`, `3.12`, `1.22.3`, `>=18`, `^20.1`, `20.x`,
/// `~3.11`, `>=18 <21`, `18 || 20`. Returns it trimmed; refuses anything else with the reason.
pub fn check_runtime_version(v: &str) -> Result<Option<String>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let ok = v.len() <= 64
        && v.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '.' | '<' | '>' | '=' | '^' | '~' | '*' | '|' | ' ' | '-' | '+'
                )
        })
        && v.chars().any(|c| c.is_ascii_digit());
    if ok {
        Ok(Some(v.to_owned()))
    } else {
        Err(format!(
            "{v:?} is not a version: write one like 20, 3.12, 1.22.3 or a range like >=18 <21"
        ))
    }
}

/// A service's root directory as stored: relative, `/`-separated, without `.`, `..`, empty
/// segments, a trailing `/` or control characters. Blank and `.` mean the top (`None`);
/// `./web/` reads as `web`.
pub fn check_root_dir(dir: &str) -> Result<Option<String>, String> {
    let dir = dir.trim();
    if dir.starts_with('/') || dir.starts_with('\\') {
        return Err(format!(
            "{dir:?} must be relative to the top of the repository, like api or apps/web"
        ));
    }
    if dir.len() > 255 || dir.chars().any(|c| c.is_control() || c == '\\') {
        return Err(format!(
            "{dir:?} is not a folder name (at most 255 characters, / between folders)"
        ));
    }
    let mut parts = Vec::new();
    for part in dir.split('/') {
        match part {
            "" | "." => continue,
            ".." => {
                return Err(format!(
                    "{dir:?} may not climb out of the repository with .."
                ));
            }
            part => parts.push(part),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// Environment variable names: what POSIX shells accept, and not ones dployrd sets itself.
pub fn check_env_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128;
    if !valid {
        return Err(format!(
            "{name:?} is not a valid variable name: letters, digits and _, not starting with a digit"
        ));
    }
    if name == "PORT" {
        return Err("PORT is set by dployrd for every release".into());
    }
    Ok(())
}

/// A domain name the ingress can route: lowercase labels of letters, digits and hyphens.
pub fn check_domain(domain: &str) -> Result<(), String> {
    let ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{domain:?} is not a valid domain: lowercase letters, digits, hyphens and dots"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sources_read_as_the_api_documents_them() {
        let git: Source =
            serde_json::from_value(json!({"git": {"url": "https://x/y.git"}})).unwrap();
        assert_eq!(
            git,
            Source::Git(GitSource {
                url: "https://x/y.git".into(),
                branch: "main".into()
            })
        );
        let image: Source = serde_json::from_value(json!({"image": "nginx:1"})).unwrap();
        assert_eq!(image, Source::Image("nginx:1".into()));
        assert!(serde_json::from_value::<Source>(json!({"svn": "x"})).is_err());
    }

    #[test]
    fn health_checks_read_with_defaults_and_round_trip() {
        let hc: HealthCheck =
            serde_json::from_value(json!({"http": {"path": "/up"}, "retries": 3})).unwrap();
        assert_eq!(hc.probe, Probe::Http { path: "/up".into() });
        assert_eq!((hc.retries, hc.interval_secs), (3, 1));
        let back: HealthCheck = serde_json::from_value(serde_json::to_value(&hc).unwrap()).unwrap();
        assert_eq!(back, hc);
        let none: HealthCheck = serde_json::from_value(json!({"none": {}})).unwrap();
        assert_eq!(none.probe, Probe::None {});
    }

    #[test]
    fn runtimes_parse_by_name_and_unknown_ones_list_the_choices() {
        for r in Runtime::ALL {
            assert_eq!(r.as_str().parse::<Runtime>(), Ok(r));
        }
        let err = "cobol".parse::<Runtime>().unwrap_err();
        assert!(err.contains("node, python"), "{err}");
        crate::names::assert_names_match_serde(&Runtime::ALL, Runtime::as_str, Runtime::parse);
        crate::names::assert_names_match_serde(
            &ServiceKind::ALL,
            ServiceKind::as_str,
            ServiceKind::parse,
        );
    }

    #[test]
    fn env_names_and_domains_are_checked() {
        assert!(check_env_name("DATABASE_URL").is_ok());
        assert!(check_env_name("_x1").is_ok());
        for bad in ["", "1A", "A-B", "A B", "PORT"] {
            assert!(check_env_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_domain("api.example.com").is_ok());
        for bad in ["", "API.example.com", "-a.com", "a..b", "a_b.com"] {
            assert!(check_domain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn root_dirs_read_as_relative_folders_or_the_top() {
        for (given, stored) in [
            ("api", Some("api")),
            ("./apps/web/", Some("apps/web")),
            (" apps//web ", Some("apps/web")),
            ("", None),
            (".", None),
            ("./", None),
        ] {
            assert_eq!(
                check_root_dir(given).unwrap().as_deref(),
                stored,
                "{given:?}"
            );
        }
        for (bad, says) in [
            ("/etc", "relative"),
            ("../other", "climb out"),
            ("api/../../x", "climb out"),
            ("a\\b", "folder name"),
            ("a\nb", "folder name"),
        ] {
            let err = check_root_dir(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }
}
