//! Turning REST bodies into a valid [`ServiceSpec`]: every rule a service's settings must meet,
//! each failure naming its field, so a bad create or patch is refused before anything is stored.

use proto::api::{CreateServiceRequest, UpdateServiceRequest};
use proto::service::{Runtime, ServiceSpec, Source};

use crate::DomainError;

mod check;
use check::check;

/// Service names become host names (`<service>.<instance domain>`): one DNS label.
pub fn service_name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    let ok = (1..=63).contains(&name.len())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(name.to_string())
    } else {
        Err(DomainError::invalid(
            "name",
            "use 1 to 63 lowercase letters, digits and hyphens (it becomes a host name)",
        ))
    }
}

pub fn from_create(req: CreateServiceRequest) -> Result<ServiceSpec, DomainError> {
    let runtime = match (&req.source, req.runtime) {
        (Source::Image(_), None | Some(Runtime::Docker)) => Some(Runtime::Docker),
        (Source::Image(_), Some(other)) => {
            return Err(DomainError::invalid(
                "runtime",
                format!("an image source runs with the docker runtime, not {other}"),
            ));
        }
        (Source::Git(_), r) => r,
    };
    let spec = ServiceSpec {
        name: service_name(&req.name)?,
        source: req.source,
        runtime,
        build_command: req.build_command,
        start_command: req.start_command,
        port: req.port,
        env: req.env,
        health_check: req.health_check.unwrap_or_default(),
        restart: req.restart.unwrap_or_default(),
        domains: req.domains,
        build_timeout_secs: req.build_timeout_secs,
        root_dir: req.root_dir,
        kind: req.kind,
        runtime_version: req.runtime_version,
        resources: req.resources,
    };
    check(spec)
}

/// Applies a PATCH: fields present replace, `null` clears optional ones.
pub fn apply(mut spec: ServiceSpec, p: UpdateServiceRequest) -> Result<ServiceSpec, DomainError> {
    if let Some(name) = p.name {
        spec.name = service_name(&name)?;
    }
    if let Some(source) = p.source {
        spec.source = source;
    }
    if let Some(runtime) = p.runtime {
        spec.runtime = runtime;
    }
    if let Some(build) = p.build_command {
        spec.build_command = build;
    }
    if let Some(start) = p.start_command {
        spec.start_command = start;
    }
    if let Some(port) = p.port {
        spec.port = port;
    }
    if let Some(env) = p.env {
        spec.env = env;
    }
    if let Some(hc) = p.health_check {
        spec.health_check = hc;
    }
    if let Some(restart) = p.restart {
        spec.restart = restart;
    }
    if let Some(domains) = p.domains {
        spec.domains = domains;
    }
    if let Some(limit) = p.build_timeout_secs {
        spec.build_timeout_secs = limit;
    }
    if let Some(root) = p.root_dir {
        spec.root_dir = root;
    }
    if let Some(kind) = p.kind {
        spec.kind = kind;
    }
    if let Some(version) = p.runtime_version {
        spec.runtime_version = version;
    }
    if let Some(resources) = p.resources {
        spec.resources = resources;
    }
    if matches!(spec.source, Source::Image(_)) && spec.runtime != Some(Runtime::Docker) {
        return Err(DomainError::invalid(
            "runtime",
            "an image source runs with the docker runtime",
        ));
    }
    check(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::service::{HealthCheck, ServiceKind};
    use serde_json::json;

    fn create(v: serde_json::Value) -> Result<ServiceSpec, DomainError> {
        from_create(serde_json::from_value(v).unwrap())
    }

    fn field_of(e: DomainError) -> &'static str {
        match e {
            DomainError::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_git_service_gets_defaults() {
        let spec = create(json!({
            "name": "api", "instance_id": "ins_1",
            "source": {"git": {"url": "https://example.com/a.git"}}
        }))
        .unwrap();
        assert_eq!(spec.runtime, None);
        assert_eq!(spec.health_check, HealthCheck::default());
        let Source::Git(git) = spec.source else {
            panic!()
        };
        assert_eq!(git.branch, "main");
    }

    #[test]
    fn image_sources_imply_docker_and_refuse_other_runtimes() {
        let spec =
            create(json!({"name": "web", "instance_id": "i", "source": {"image": "nginx:1"}}))
                .unwrap();
        assert_eq!(spec.runtime, Some(Runtime::Docker));
        let e = create(
            json!({"name": "web", "instance_id": "i", "source": {"image": "nginx:1"},
                              "runtime": "node"}),
        )
        .unwrap_err();
        assert_eq!(field_of(e), "runtime");
    }

    #[test]
    fn each_bad_field_is_named() {
        let base = || {
            json!({"name": "api", "instance_id": "i",
                   "source": {"git": {"url": "https://x/y.git"}}})
        };
        let cases = [
            ("name", json!("Not A Label")),
            ("source", json!({"git": {"url": "ftp://x"}})),
            ("source", json!({"image": "has space"})),
            ("port", json!(0)),
            ("env", json!({"1BAD": "x"})),
            ("env", json!({"PORT": "1"})),
            ("health_check", json!({"http": {"path": "nope"}})),
            ("health_check", json!({"tcp": {}, "retries": 0})),
            ("domains", json!(["Bad_Domain"])),
            ("root_dir", json!("../elsewhere")),
            ("root_dir", json!("/srv/app")),
            ("runtime_version", json!("latest")),
            ("runtime_version", json!("20; rm -rf /")),
        ];
        for (field, value) in cases {
            let mut body = base();
            body[field] = value.clone();
            let e = create(body).unwrap_err();
            assert_eq!(field_of(e), field, "{field} = {value}");
        }
    }

    #[test]
    fn patches_replace_present_fields_and_null_clears() {
        let spec = create(json!({"name": "api", "instance_id": "i",
            "source": {"git": {"url": "https://x/y.git"}}, "start_command": "node a.js",
            "domains": ["b.example.com", "A.example.com"]}))
        .unwrap();
        assert_eq!(spec.domains, ["a.example.com", "b.example.com"]);
        let patch: UpdateServiceRequest =
            serde_json::from_value(json!({"start_command": null, "port": 8080})).unwrap();
        let next = apply(spec.clone(), patch).unwrap();
        assert_eq!(next.start_command, None);
        assert_eq!(next.port, Some(8080));
        assert_eq!(next.name, spec.name);
    }

    #[test]
    fn root_dirs_are_stored_plain_and_only_for_repositories() {
        let git = |root: &str| {
            json!({"name": "api", "instance_id": "i",
                   "source": {"git": {"url": "https://x/y.git"}}, "root_dir": root})
        };
        assert_eq!(
            create(git("./apps/api/")).unwrap().root_dir.as_deref(),
            Some("apps/api")
        );
        assert_eq!(create(git(".")).unwrap().root_dir, None);
        let image = json!({"name": "web", "instance_id": "i", "source": {"image": "nginx:1"},
                           "root_dir": "web"});
        assert_eq!(field_of(create(image).unwrap_err()), "root_dir");
        let spec = create(git("api")).unwrap();
        let cleared: UpdateServiceRequest =
            serde_json::from_value(json!({"root_dir": null})).unwrap();
        assert_eq!(apply(spec, cleared).unwrap().root_dir, None);
    }

    #[test]
    fn kinds_and_runtime_versions_are_kept_and_images_take_no_version() {
        let git = json!({"name": "jobs", "instance_id": "i",
                         "source": {"git": {"url": "https://x/y.git"}},
                         "kind": "worker", "runtime_version": " >=18 <21 "});
        let spec = create(git).unwrap();
        assert_eq!(spec.kind, Some(ServiceKind::Worker));
        assert_eq!(spec.runtime_version.as_deref(), Some(">=18 <21"));
        assert_eq!(
            create(json!({"name": "a", "instance_id": "i",
                          "source": {"git": {"url": "https://x/y.git"}}, "runtime_version": "  "}))
            .unwrap()
            .runtime_version,
            None,
            "blank reads as unset"
        );

        // A worker from an image is fine; a version or a static site from one is not.
        let image = |extra: serde_json::Value| {
            let mut body =
                json!({"name": "web", "instance_id": "i", "source": {"image": "nginx:1"}});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            create(body)
        };
        assert_eq!(
            image(json!({"kind": "worker"})).unwrap().kind,
            Some(ServiceKind::Worker)
        );
        let DomainError::Invalid { field, message } =
            image(json!({"runtime_version": "20"})).unwrap_err()
        else {
            panic!("expected Invalid")
        };
        assert_eq!(field, "runtime_version");
        assert!(message.contains("image"), "{message}");
        assert_eq!(
            field_of(image(json!({"kind": "static"})).unwrap_err()),
            "kind"
        );

        // PATCH sets, null clears, and switching to an image with a version set is refused.
        let patch =
            |v: serde_json::Value| -> UpdateServiceRequest { serde_json::from_value(v).unwrap() };
        let next = apply(
            spec.clone(),
            patch(json!({"kind": "web", "runtime_version": "3.12"})),
        )
        .unwrap();
        assert_eq!(next.kind, Some(ServiceKind::Web));
        assert_eq!(next.runtime_version.as_deref(), Some("3.12"));
        let cleared = apply(next, patch(json!({"kind": null, "runtime_version": null}))).unwrap();
        assert_eq!((cleared.kind, cleared.runtime_version), (None, None));
        let e = apply(
            spec,
            patch(json!({"source": {"image": "x:1"}, "runtime": "docker"})),
        )
        .unwrap_err();
        assert_eq!(field_of(e), "runtime_version");
    }

    #[test]
    fn resources_are_kept_checked_and_replaced_by_a_patch() {
        let patch =
            |v: serde_json::Value| -> UpdateServiceRequest { serde_json::from_value(v).unwrap() };
        let spec = create(json!({"name": "api", "instance_id": "i",
                                 "source": {"git": {"url": "https://x/y.git"}},
                                 "resources": {"memory_mb": 64, "build_cpu_millis": 500}}))
        .unwrap();
        assert_eq!(spec.resources.memory_mb, Some(64));
        assert_eq!(spec.resources.build_cpu_millis, Some(500));
        let low = create(json!({"name": "api", "instance_id": "i",
                                "source": {"git": {"url": "https://x/y.git"}},
                                "resources": {"memory_mb": 8}}));
        assert_eq!(field_of(low.unwrap_err()), "memory_mb");
        let next = apply(spec, patch(json!({"resources": {"cpu_millis": 250}}))).unwrap();
        assert_eq!(next.resources.cpu_millis, Some(250));
        assert_eq!(next.resources.memory_mb, None);
        let e = apply(next, patch(json!({"resources": {"cpu_millis": 5}}))).unwrap_err();
        assert_eq!(field_of(e), "cpu_millis");
    }
}
