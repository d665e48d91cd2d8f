//! The rules a whole [`ServiceSpec`] must meet once a create or a patch has been applied: its
//! source, commands, limits, environment, health check and domains, each failure naming its field.

use proto::service::{
    HealthCheck, Probe, ServiceKind, ServiceSpec, Source, check_env_name, check_root_dir,
    check_runtime_version,
};

use crate::DomainError;

const MAX_COMMAND: usize = 4096;
const MAX_ENV_VARS: usize = 200;
const MAX_ENV_VALUE: usize = 32 * 1024;
const MAX_DOMAINS: usize = 50;

pub(super) fn check(mut spec: ServiceSpec) -> Result<ServiceSpec, DomainError> {
    match &mut spec.source {
        Source::Git(git) => {
            git.url = git.url.trim().to_string();
            git.branch = git.branch.trim().to_string();
            let scheme_ok = ["https://", "http://", "ssh://", "git://", "file://", "git@"]
                .iter()
                .any(|p| git.url.starts_with(p));
            if !scheme_ok || git.url.chars().any(char::is_whitespace) {
                return Err(DomainError::invalid(
                    "source",
                    "git url must start with https://, http://, ssh://, git://, file:// or git@",
                ));
            }
            if git.branch.is_empty() || git.branch.starts_with('-') || git.branch.contains("..") {
                return Err(DomainError::invalid("source", "branch name is not valid"));
            }
        }
        Source::Image(image) => {
            *image = image.trim().to_string();
            if image.is_empty() || image.starts_with('-') || image.chars().any(char::is_whitespace)
            {
                return Err(DomainError::invalid(
                    "source",
                    "image must be a name like nginx:1.27 or registry.example.com/app:tag",
                ));
            }
        }
    }
    spec.resources
        .check()
        .map_err(|(field, e)| DomainError::invalid(field, e))?;
    let image = matches!(spec.source, Source::Image(_));
    spec.root_dir = repository_setting(
        &spec.root_dir,
        image,
        "root_dir",
        "an image source has no repository to pick a folder of",
        check_root_dir,
    )?;
    // A worker (or a web app) can come from an image; a static site is files dployrd serves
    // from a build, which an image does not have.
    if spec.kind == Some(ServiceKind::Static) && image {
        return Err(DomainError::invalid(
            "kind",
            "an image runs its own server: choose web or worker (static is for repositories)",
        ));
    }
    spec.runtime_version = repository_setting(
        &spec.runtime_version,
        image,
        "runtime_version",
        "an image brings its own runtime: choose the version with its tag instead",
        check_runtime_version,
    )?;
    for (field, cmd) in [
        ("build_command", &mut spec.build_command),
        ("start_command", &mut spec.start_command),
    ] {
        if let Some(c) = cmd {
            if c.len() > MAX_COMMAND {
                return Err(DomainError::invalid(field, "at most 4096 characters"));
            }
            if c.trim().is_empty() {
                *cmd = None;
            }
        }
    }
    if spec
        .build_timeout_secs
        .is_some_and(|s| !(1..=24 * 3600).contains(&s))
    {
        return Err(DomainError::invalid(
            "build_timeout_secs",
            "between 1 second and 24 hours",
        ));
    }
    if spec.port == Some(0) {
        return Err(DomainError::invalid("port", "must be between 1 and 65535"));
    }
    if spec.env.len() > MAX_ENV_VARS {
        return Err(DomainError::invalid("env", "at most 200 variables"));
    }
    for (k, v) in &spec.env {
        check_env_name(k).map_err(|m| DomainError::invalid("env", m))?;
        if v.len() > MAX_ENV_VALUE || v.contains('\0') {
            return Err(DomainError::invalid(
                "env",
                format!("{k}: values are at most 32 KiB, without NUL bytes"),
            ));
        }
    }
    check_health(&spec.health_check)?;
    if spec.domains.len() > MAX_DOMAINS {
        return Err(DomainError::invalid("domains", "at most 50 domains"));
    }
    for d in &mut spec.domains {
        *d = crate::domains::names::parse(d)?;
    }
    spec.domains.sort();
    spec.domains.dedup();
    Ok(spec)
}

/// A setting about the repository's files (its folder, its language version): an image source
/// has none, so it is refused there; otherwise `check` gives its stored form.
fn repository_setting(
    value: &Option<String>,
    image: bool,
    field: &'static str,
    refused_for_images: &'static str,
    check: fn(&str) -> Result<Option<String>, String>,
) -> Result<Option<String>, DomainError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if image {
        return Err(DomainError::invalid(field, refused_for_images));
    }
    check(value).map_err(|e| DomainError::invalid(field, e))
}

fn check_health(hc: &HealthCheck) -> Result<(), DomainError> {
    if let Probe::Http { path } = &hc.probe
        && (!path.starts_with('/') || path.len() > 1024 || path.chars().any(char::is_whitespace))
    {
        return Err(DomainError::invalid(
            "health_check",
            "path must start with / and have no spaces",
        ));
    }
    if let Some(problem) = proto::rules::health_numbers_problem(hc) {
        return Err(DomainError::invalid("health_check", problem));
    }
    Ok(())
}
