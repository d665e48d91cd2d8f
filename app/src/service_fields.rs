//! The service settings form as the browser submits it (plain text per input) and its parsing
//! into `proto` types. Create and Settings share it so both forms read the same way: env as
//! `KEY=value` lines, domains comma-separated, the source as git URL + branch or an image.
//! Parse failures name the same fields as `control`'s own checks (`source`, `port`, `env`, …),
//! so one error slot per input covers both.

use std::collections::BTreeMap;

use proto::api::Service;
use proto::resources::Resources;
use proto::service::{GitSource, Probe, Runtime, ServiceKind, Source};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Every input of the form, as text. Absent inputs read as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceFields {
    pub name: String,
    /// Only the create form has it: a service stays on its instance.
    pub instance_id: String,
    /// `git` or `image`.
    pub source: String,
    pub git_url: String,
    pub git_branch: String,
    pub image: String,
    /// Empty: detect from the files.
    pub runtime: String,
    /// Empty: the top of the repository.
    pub root_dir: String,
    /// `web`, `worker` or `static`; empty: detect.
    pub kind: String,
    /// Empty: what the repository's files ask for. Ignored for images (the input is hidden).
    pub runtime_version: String,
    pub build_command: String,
    pub start_command: String,
    pub port: String,
    /// `KEY=value`, one a line; blank lines and `#` comments are skipped.
    pub env: String,
    /// `http`, `tcp` or `none`.
    pub health: String,
    pub health_path: String,
    /// Comma-separated.
    pub domains: String,
    /// Limits, each a whole number or empty (none): MB, and thousandths of a CPU.
    pub memory_mb: String,
    pub cpu_millis: String,
    pub build_memory_mb: String,
    pub build_cpu_millis: String,
}

/// What the fields mean, before `control` checks the rules (names, URLs, domains…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFields {
    pub source: Source,
    pub runtime: Option<Runtime>,
    pub root_dir: Option<String>,
    pub kind: Option<ServiceKind>,
    pub runtime_version: Option<String>,
    pub build_command: Option<String>,
    pub start_command: Option<String>,
    pub port: Option<u16>,
    pub env: BTreeMap<String, String>,
    pub probe: Probe,
    pub domains: Vec<String>,
    pub resources: Resources,
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// A limit input: empty is none, else a whole number.
fn limit(field: &str, text: &str) -> Result<Option<u32>, AppError> {
    optional(text)
        .map(|t| {
            t.parse()
                .map_err(|_| invalid(field, "a whole number, or empty for no limit"))
        })
        .transpose()
}

/// The text of a limit input.
fn limit_text(value: Option<u32>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl ServiceFields {
    /// The blank create form: a git source on `main`, runtime detected, `GET /` health check.
    pub fn blank() -> ServiceFields {
        ServiceFields {
            source: "git".into(),
            git_branch: "main".into(),
            health: "http".into(),
            health_path: "/".into(),
            ..ServiceFields::default()
        }
    }

    /// The form filled with a service's current settings.
    pub fn of(service: &Service) -> ServiceFields {
        let s = &service.spec;
        let (source, git_url, git_branch, image) = match &s.source {
            Source::Git(g) => ("git", g.url.clone(), g.branch.clone(), String::new()),
            Source::Image(i) => ("image", String::new(), "main".into(), i.clone()),
        };
        let (health, health_path) = match &s.health_check.probe {
            Probe::Http { path } => ("http", path.clone()),
            Probe::Tcp {} => ("tcp", String::new()),
            Probe::None {} => ("none", String::new()),
        };
        ServiceFields {
            name: s.name.clone(),
            instance_id: service.instance_id.clone(),
            source: source.into(),
            git_url,
            git_branch,
            image,
            runtime: s
                .runtime
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            root_dir: s.root_dir.clone().unwrap_or_default(),
            kind: s.kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
            runtime_version: s.runtime_version.clone().unwrap_or_default(),
            build_command: s.build_command.clone().unwrap_or_default(),
            start_command: s.start_command.clone().unwrap_or_default(),
            port: s.port.map(|p| p.to_string()).unwrap_or_default(),
            env: s.env.iter().map(|(k, v)| format!("{k}={v}\n")).collect(),
            health: health.into(),
            health_path,
            domains: s.domains.join(", "),
            memory_mb: limit_text(s.resources.memory_mb),
            cpu_millis: limit_text(s.resources.cpu_millis),
            build_memory_mb: limit_text(s.resources.build_memory_mb),
            build_cpu_millis: limit_text(s.resources.build_cpu_millis),
        }
    }

    pub fn parse(&self) -> Result<ParsedFields, AppError> {
        let runtime = match self.runtime.trim() {
            "" | "auto" => None,
            r => Some(r.parse::<Runtime>().map_err(|m| invalid("runtime", m))?),
        };
        let (source, runtime) = match self.source.as_str() {
            "image" => (
                Source::Image(self.image.trim().to_string()),
                // An image only runs with Docker; "detect" means exactly that here.
                runtime.or(Some(Runtime::Docker)),
            ),
            "git" | "" => {
                let branch = optional(&self.git_branch).unwrap_or_else(|| "main".into());
                let url = self.git_url.trim().to_string();
                (Source::Git(GitSource { url, branch }), runtime)
            }
            _ => return Err(invalid("source", "choose a git repository or an image")),
        };
        let kind = match self.kind.trim() {
            "" | "detect" => None,
            k => Some(k.parse::<ServiceKind>().map_err(|m| invalid("kind", m))?),
        };
        // Hidden for images (which bring their own runtime): whatever it still holds is dropped.
        let runtime_version = match source {
            Source::Image(_) => None,
            Source::Git(_) => proto::service::check_runtime_version(&self.runtime_version)
                .map_err(|e| invalid("runtime_version", e))?,
        };
        let port = match self.port.trim() {
            "" => None,
            p => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| invalid("port", "must be a number between 1 and 65535"))?,
            ),
        };
        let mut env = BTreeMap::new();
        for (n, line) in self.env.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(invalid("env", format!("line {}: write KEY=value", n + 1)));
            };
            env.insert(k.trim().to_string(), v.to_string());
        }
        let probe = match self.health.as_str() {
            "http" => Probe::Http {
                path: optional(&self.health_path).unwrap_or_else(|| "/".into()),
            },
            "tcp" | "" => Probe::Tcp {},
            "none" => Probe::None {},
            _ => return Err(invalid("health_check", "choose HTTP, TCP or none")),
        };
        let resources = Resources {
            memory_mb: limit("memory_mb", &self.memory_mb)?,
            cpu_millis: limit("cpu_millis", &self.cpu_millis)?,
            build_memory_mb: limit("build_memory_mb", &self.build_memory_mb)?,
            build_cpu_millis: limit("build_cpu_millis", &self.build_cpu_millis)?,
        };
        resources
            .check()
            .map_err(|(field, message)| invalid(field, message))?;
        let domains = self
            .domains
            .split([',', '\n', ' '])
            .filter_map(optional)
            .collect();
        Ok(ParsedFields {
            source,
            runtime,
            root_dir: proto::service::check_root_dir(&self.root_dir)
                .map_err(|e| invalid("root_dir", e))?,
            kind,
            runtime_version,
            build_command: optional(&self.build_command),
            start_command: optional(&self.start_command),
            port,
            env,
            probe,
            domains,
            resources,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> ServiceFields {
        ServiceFields {
            name: "api".into(),
            git_url: "https://example.com/a.git".into(),
            ..ServiceFields::blank()
        }
    }

    #[test]
    fn a_filled_form_reads_as_the_api_types() {
        let f = ServiceFields {
            runtime: "node".into(),
            port: "3000".into(),
            env: "# comment\nNODE_ENV=production\n\nURL=postgres://a?b=c\n".into(),
            health: "http".into(),
            health_path: "/up".into(),
            domains: "a.example.com, b.example.com".into(),
            build_command: "  ".into(),
            ..fields()
        };
        let p = f.parse().unwrap();
        assert_eq!(p.runtime, Some(Runtime::Node));
        assert_eq!(p.port, Some(3000));
        assert_eq!(p.env["URL"], "postgres://a?b=c");
        assert_eq!(p.env.len(), 2);
        assert_eq!(p.probe, Probe::Http { path: "/up".into() });
        assert_eq!(p.domains, ["a.example.com", "b.example.com"]);
        assert_eq!(p.build_command, None);
    }

    #[test]
    fn an_image_detects_docker_and_bad_inputs_name_their_field() {
        let img = ServiceFields {
            source: "image".into(),
            image: "nginx:1".into(),
            ..fields()
        };
        assert_eq!(img.parse().unwrap().runtime, Some(Runtime::Docker));
        // The field a form refuses once `change` has spoilt one of its inputs.
        let refused = |change: fn(&mut ServiceFields)| {
            let mut f = fields();
            change(&mut f);
            match f.parse() {
                Err(AppError::Invalid { field, .. }) => field,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(refused(|f| f.port = "http".into()), "port");
        assert_eq!(refused(|f| f.env = "JUSTAKEY".into()), "env");
        assert_eq!(refused(|f| f.runtime = "cobol".into()), "runtime");
        assert_eq!(refused(|f| f.kind = "daemon".into()), "kind");
        assert_eq!(
            refused(|f| f.runtime_version = "latest".into()),
            "runtime_version"
        );
        assert_eq!(refused(|f| f.memory_mb = "lots".into()), "memory_mb");
        assert_eq!(refused(|f| f.memory_mb = "8".into()), "memory_mb");
        assert_eq!(
            refused(|f| f.build_cpu_millis = "5".into()),
            "build_cpu_millis"
        );
    }

    #[test]
    fn limits_read_back_and_empty_is_none() {
        let f = ServiceFields {
            memory_mb: " 64 ".into(),
            build_cpu_millis: "500".into(),
            ..fields()
        };
        let r = f.parse().unwrap().resources;
        assert_eq!((r.memory_mb, r.cpu_millis), (Some(64), None));
        assert_eq!((r.build_memory_mb, r.build_cpu_millis), (None, Some(500)));
        assert!(fields().parse().unwrap().resources.is_none());
    }

    #[test]
    fn kind_and_runtime_version_read_back_and_images_drop_the_version() {
        let f = ServiceFields {
            kind: "worker".into(),
            runtime_version: " 3.12 ".into(),
            ..fields()
        };
        let p = f.parse().unwrap();
        assert_eq!(p.kind, Some(ServiceKind::Worker));
        assert_eq!(p.runtime_version.as_deref(), Some("3.12"));
        let detect = ServiceFields {
            kind: String::new(),
            ..fields()
        };
        assert_eq!(detect.parse().unwrap().kind, None);
        let img = ServiceFields {
            source: "image".into(),
            image: "nginx:1".into(),
            ..f
        };
        let p = img.parse().unwrap();
        assert_eq!(
            (p.kind, p.runtime_version),
            (Some(ServiceKind::Worker), None)
        );
    }
}
