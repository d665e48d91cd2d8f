//! `dployr services update`: the options given become a `PATCH /api/v1/services/{id}` of only
//! those settings; an empty value clears one (`null` in the PATCH). Base checks the rules and
//! names the setting it refuses.

use proto::api::{Service, UpdateServiceRequest};
use proto::service::{GitSource, Runtime, ServiceKind, ServiceSpec, Source};
use reqwest::Method;

use super::Ctx;
use crate::args::UpdateServiceArgs;
use crate::error::{CliError, Result};
use crate::output::Paint;

pub async fn run(ctx: &Ctx, a: UpdateServiceArgs) -> Result<()> {
    let svc = ctx.service(Some(a.service.clone())).await?;
    let patch = patch_of(a, &svc.spec)?;
    let changed = changed(&patch);
    if changed.is_empty() {
        return Err(CliError::usage("nothing to change")
            .hint("give the settings to change, e.g. --kind worker or --runtime-version 20"));
    }
    let updated: Service = ctx
        .api
        .send(Method::PATCH, &format!("/services/{}", svc.id), &patch)
        .await?;
    ctx.out.show(&updated, || {
        println!(
            "{} Updated {} of {} ({}). Deploy it with `dployr deploy {} --wait` to apply.",
            ctx.out.paint("✓", Paint::Green),
            changed.join(", "),
            ctx.out.paint(&updated.spec.name, Paint::Bold),
            updated.id,
            updated.spec.name
        );
    });
    Ok(())
}

/// `None`: not given; `Some(None)`: given empty (clear); `Some(Some(v))`: set.
fn clearable(v: Option<String>) -> Option<Option<String>> {
    v.map(|v| Some(v).filter(|v| !v.trim().is_empty()))
}

/// The PATCH the options make, against the service's current settings (for the source: a new
/// branch keeps the URL, a new URL keeps the branch).
pub fn patch_of(a: UpdateServiceArgs, current: &ServiceSpec) -> Result<UpdateServiceRequest> {
    let runtime = match clearable(a.runtime) {
        None => None,
        Some(None) => Some(None),
        Some(Some(r)) => Some(Some(r.trim().parse::<Runtime>().map_err(|_| {
            CliError::usage(format!("unknown runtime {r:?}")).hint(
                "one of node, python, go, php, ruby, dotnet, java, static, docker ('' to detect)",
            )
        })?)),
    };
    let kind = match clearable(a.kind) {
        None => None,
        Some(None) => Some(None),
        Some(Some(k)) => Some(Some(k.parse::<ServiceKind>().map_err(|e| {
            CliError::usage(e).hint("--kind web, worker or static ('' to detect)")
        })?)),
    };
    let port = match clearable(a.port) {
        None => None,
        Some(None) => Some(None),
        Some(Some(p)) => Some(Some(p.trim().parse::<u16>().map_err(|_| {
            CliError::usage(format!("{p:?} is not a port")).hint("a number from 1 to 65535")
        })?)),
    };
    let (source, runtime) = match (a.image, a.git, a.branch, &current.source) {
        (Some(image), ..) => {
            // Images run with Docker: say so unless the runtime was given.
            let runtime = runtime.or(Some(Some(Runtime::Docker)));
            (Some(Source::Image(image)), runtime)
        }
        (None, None, None, _) => (None, runtime),
        (None, url, branch, Source::Git(g)) => {
            let source = Source::Git(GitSource {
                url: url.unwrap_or_else(|| g.url.clone()),
                branch: branch.unwrap_or_else(|| g.branch.clone()),
            });
            (Some(source), runtime)
        }
        (None, Some(url), branch, Source::Image(_)) => {
            let source = Source::Git(GitSource {
                url,
                branch: branch.unwrap_or_else(|| "main".into()),
            });
            // Docker was the image's runtime; a repository's is detected unless given.
            (Some(source), runtime.or(Some(None)))
        }
        (None, None, Some(_), Source::Image(_)) => {
            return Err(CliError::usage("an image service has no branch")
                .hint("switch it to a repository with --git URL --branch NAME"));
        }
    };
    Ok(UpdateServiceRequest {
        name: a.name,
        source,
        runtime,
        build_command: clearable(a.build_command),
        start_command: clearable(a.start_command),
        port,
        env: None,
        health_check: None,
        restart: None,
        domains: a
            .domains
            .map(|d| d.into_iter().filter(|d| !d.trim().is_empty()).collect()),
        build_timeout_secs: None,
        root_dir: clearable(a.root_dir),
        kind,
        runtime_version: clearable(a.runtime_version),
        resources: a.limits.over(current.resources)?,
    })
}

/// The settings a PATCH touches, by their option names.
fn changed(p: &UpdateServiceRequest) -> Vec<&'static str> {
    [
        ("name", p.name.is_some()),
        ("source", p.source.is_some()),
        ("runtime", p.runtime.is_some()),
        ("kind", p.kind.is_some()),
        ("runtime version", p.runtime_version.is_some()),
        ("root dir", p.root_dir.is_some()),
        ("build command", p.build_command.is_some()),
        ("start command", p.start_command.is_some()),
        ("port", p.port.is_some()),
        ("domains", p.domains.is_some()),
        ("resources", p.resources.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_spec() -> ServiceSpec {
        serde_json::from_value(serde_json::json!({
            "name": "api",
            "source": {"git": {"url": "https://example.com/a.git", "branch": "main"}},
            "runtime": "node",
            "start_command": "node a.js",
            "build_command": null,
            "port": null,
            "env": {},
            "health_check": {"tcp": {}},
            "restart": "always",
            "domains": [],
        }))
        .unwrap()
    }

    fn args(service: &str) -> UpdateServiceArgs {
        UpdateServiceArgs {
            service: service.into(),
            ..UpdateServiceArgs::default()
        }
    }

    #[test]
    fn given_options_set_empty_ones_clear_and_the_rest_stay_out() {
        let a = UpdateServiceArgs {
            kind: Some("worker".into()),
            runtime_version: Some("20".into()),
            start_command: Some("".into()),
            root_dir: Some("apps/api".into()),
            ..args("api")
        };
        let p = patch_of(a, &git_spec()).unwrap();
        assert_eq!(p.kind, Some(Some(ServiceKind::Worker)));
        assert_eq!(p.runtime_version, Some(Some("20".into())));
        assert_eq!(p.start_command, Some(None));
        assert_eq!(p.root_dir, Some(Some("apps/api".into())));
        assert_eq!((p.source, p.runtime, p.port), (None, None, None));
        let body = serde_json::to_value(
            patch_of(
                UpdateServiceArgs {
                    kind: Some("".into()),
                    ..args("api")
                },
                &git_spec(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(body["kind"], serde_json::Value::Null, "{body}");
        // What is not given stays out of the body (a null there would clear it).
        assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
        assert_eq!(
            changed(&patch_of(args("api"), &git_spec()).unwrap()).len(),
            0
        );
    }

    #[test]
    fn a_branch_keeps_the_url_and_an_image_brings_docker() {
        let a = UpdateServiceArgs {
            branch: Some("release".into()),
            ..args("api")
        };
        let p = patch_of(a, &git_spec()).unwrap();
        assert_eq!(
            p.source,
            Some(Source::Git(GitSource {
                url: "https://example.com/a.git".into(),
                branch: "release".into()
            }))
        );
        let a = UpdateServiceArgs {
            image: Some("nginx:1".into()),
            ..args("api")
        };
        let p = patch_of(a, &git_spec()).unwrap();
        assert_eq!(p.source, Some(Source::Image("nginx:1".into())));
        assert_eq!(p.runtime, Some(Some(Runtime::Docker)));
        for bad in [
            UpdateServiceArgs {
                kind: Some("daemon".into()),
                ..args("api")
            },
            UpdateServiceArgs {
                port: Some("http".into()),
                ..args("api")
            },
            UpdateServiceArgs {
                runtime: Some("cobol".into()),
                ..args("api")
            },
        ] {
            assert!(patch_of(bad, &git_spec()).is_err());
        }
    }
}
