//! `dployr clusters`, `instances`, `services`: list and show, plus adding a server (which
//! prints its install command) and creating or deleting a service (changing one is in
//! [`super::update`]).

use std::collections::BTreeMap;

use proto::api::{
    ClusterSummary, CreateInstanceRequest, CreateInstanceResponse, CreateServiceRequest, Instance,
    Service,
};
use proto::service::{GitSource, Runtime, ServiceKind, Source};
use reqwest::Method;

use super::{Ctx, wire_name};
use crate::args::{CreateServiceArgs, InstancesCmd, ServicesCmd, ShowCmd};
use crate::error::{CliError, Result};
use crate::output::Paint;

pub async fn clusters(ctx: &Ctx, cmd: Option<ShowCmd>) -> Result<()> {
    let all = ctx.clusters().await?;
    let shown: Vec<ClusterSummary> = match cmd {
        Some(ShowCmd::Show { id }) => {
            let id = match id {
                Some(id) => id,
                None => ctx.cluster().await?,
            };
            let one: serde_json::Value = ctx.api.get(&format!("/clusters/{id}")).await?;
            ctx.out.show(&one, || {
                for key in [
                    "id",
                    "name",
                    "role",
                    "created_at",
                    "member_count",
                    "instance_count",
                    "service_count",
                ] {
                    let v = crate::output::cell(
                        one.get("cluster")
                            .filter(|c| c.get(key).is_some())
                            .unwrap_or(&one),
                        key,
                    );
                    println!("{:<16}{v}", format!("{key}:"));
                }
            });
            return Ok(());
        }
        _ => all,
    };
    if ctx.out.printed_json(&shown) {
        return Ok(());
    }
    let rows = shown
        .iter()
        .map(|c| vec![c.id.clone(), c.name.clone(), c.role.as_str().into()])
        .collect::<Vec<_>>();
    ctx.out.table(&["ID", "NAME", "ROLE"], &rows);
    Ok(())
}

pub async fn instances(ctx: &Ctx, cmd: Option<InstancesCmd>) -> Result<()> {
    let cluster = ctx.cluster().await?;
    match cmd.unwrap_or(InstancesCmd::List) {
        InstancesCmd::List => {
            let all = ctx.instances_of(&cluster).await?;
            ctx.out.list(
                &all,
                &["ID", "STATUS", "NAME", "HOST", "LAST SEEN"],
                instance_row,
                "No instances yet: add a server with `dployr instances add NAME`.",
            );
            Ok(())
        }
        InstancesCmd::Show { instance } => {
            let one = find_instance(ctx, &cluster, &instance).await?;
            ctx.out.show(&one, || {
                ctx.out.table(
                    &["ID", "STATUS", "NAME", "HOST", "LAST SEEN"],
                    &[instance_row(&one)],
                );
            });
            Ok(())
        }
        InstancesCmd::Add { name } => {
            let created: CreateInstanceResponse = ctx
                .api
                .send(
                    Method::POST,
                    &format!("/clusters/{cluster}/instances"),
                    &CreateInstanceRequest { name },
                )
                .await?;
            if ctx.out.printed_json(&created) {
                return Ok(());
            }
            println!(
                "{} Instance {} ({}) registered. On the server, as root, run:\n",
                ctx.out.paint("✓", Paint::Green),
                ctx.out.paint(&created.instance.name, Paint::Bold),
                created.instance.id
            );
            println!("  {}\n", created.install_command);
            eprintln!("The join token in it works once and is not shown again.");
            Ok(())
        }
        InstancesCmd::Remove { instance } => {
            let one = find_instance(ctx, &cluster, &instance).await?;
            ctx.api
                .send_no_content(Method::DELETE, &format!("/instances/{}", one.id))
                .await?;
            println!("Removed instance {} ({}).", one.name, one.id);
            Ok(())
        }
    }
}

fn instance_row(i: &Instance) -> Vec<String> {
    let status = wire_name(i.status);
    vec![
        i.id.clone(),
        status,
        i.name.clone(),
        i.host.as_ref().map_or("-".into(), |h| {
            format!("{} ({}, {} CPUs)", h.hostname, h.arch, h.cpus)
        }),
        i.last_seen_at.clone().unwrap_or_else(|| "-".into()),
    ]
}

async fn find_instance(ctx: &Ctx, cluster: &str, wanted: &str) -> Result<Instance> {
    let all = ctx.instances_of(cluster).await?;
    let names: Vec<String> = all.iter().map(|i| i.name.clone()).collect();
    all.into_iter()
        .find(|i| i.id == wanted || i.name == wanted)
        .ok_or_else(|| {
            CliError::usage(format!("no instance {wanted:?}"))
                .hint(format!("instances here: {}", names.join(", ")))
        })
}

pub async fn services(ctx: &Ctx, cmd: Option<ServicesCmd>) -> Result<()> {
    match cmd.unwrap_or(ServicesCmd::List) {
        ServicesCmd::List => {
            let cluster = ctx.cluster().await?;
            let all = ctx.services_of(&cluster).await?;
            ctx.out.list(
                &all,
                &["ID", "STATUS", "NAME", "SOURCE", "DOMAINS"],
                service_row,
                "No services yet: `dployr services create NAME --git URL`.",
            );
            Ok(())
        }
        ServicesCmd::Show { service } => {
            let svc = ctx.service(service).await?;
            ctx.out.show(&svc, || {
                ctx.out.table(
                    &["ID", "STATUS", "NAME", "SOURCE", "DOMAINS"],
                    &[service_row(&svc)],
                );
                if svc.env_changed {
                    eprintln!(
                        "Variables changed since the last deploy: `dployr deploy` applies them."
                    );
                }
            });
            Ok(())
        }
        ServicesCmd::Create(args) => create(ctx, *args).await,
        ServicesCmd::Update(args) => super::update::run(ctx, *args).await,
        ServicesCmd::Delete { service, confirm } => {
            let svc = ctx.service(Some(service)).await?;
            if confirm.as_deref() != Some(svc.spec.name.as_str()) {
                return Err(CliError::usage(format!(
                    "deleting {} removes its releases and logs for good",
                    svc.spec.name
                ))
                .hint(format!("repeat its name: --confirm {}", svc.spec.name)));
            }
            ctx.api
                .send_no_content(Method::DELETE, &format!("/services/{}", svc.id))
                .await?;
            println!("Deleted service {} ({}).", svc.spec.name, svc.id);
            Ok(())
        }
    }
}

fn service_row(s: &Service) -> Vec<String> {
    let status = wire_name(s.status);
    let source = match &s.spec.source {
        Source::Git(g) => format!("{}#{}", g.url, g.branch),
        Source::Image(i) => i.clone(),
    };
    let domains = if s.spec.domains.is_empty() {
        "-".into()
    } else {
        s.spec.domains.join(",")
    };
    vec![s.id.clone(), status, s.spec.name.clone(), source, domains]
}

async fn create(ctx: &Ctx, a: CreateServiceArgs) -> Result<()> {
    let cluster = ctx.cluster().await?;
    let instance = match &a.instance {
        Some(i) => find_instance(ctx, &cluster, i).await?,
        None => {
            let all = ctx.instances_of(&cluster).await?;
            match all.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(CliError::usage("this cluster has no instances")
                        .hint("add a server first: `dployr instances add NAME`"));
                }
                _ => {
                    return Err(CliError::usage("several instances: say which one runs it")
                        .hint("--instance NAME"));
                }
            }
        }
    };
    let runtime = match &a.runtime {
        None => None,
        Some(r) => Some(r.parse::<Runtime>().map_err(|_| {
            CliError::usage(format!("unknown runtime {r:?}")).hint(
                "one of node, python, go, php, ruby, dotnet, java, static, docker (or leave it out)",
            )
        })?),
    };
    let kind = match &a.kind {
        None => None,
        Some(k) => Some(
            k.parse::<ServiceKind>()
                .map_err(|e| CliError::usage(e).hint("--kind web, worker or static"))?,
        ),
    };
    let source = match (a.git, a.image) {
        (Some(url), _) => Source::Git(GitSource {
            url,
            branch: a.branch,
        }),
        (None, Some(image)) => Source::Image(image),
        (None, None) => return Err(CliError::usage("give --git URL or --image NAME")),
    };
    let req = CreateServiceRequest {
        name: a.name,
        instance_id: instance.id,
        source,
        runtime,
        build_command: a.build_command,
        start_command: a.start_command,
        port: a.port,
        env: BTreeMap::new(),
        health_check: None,
        restart: None,
        domains: a.domains,
        build_timeout_secs: None,
        root_dir: a.root_dir,
        kind,
        runtime_version: a.runtime_version,
        resources: a.limits.over(Default::default())?.unwrap_or_default(),
    };
    let svc: Service = ctx
        .api
        .send(Method::POST, &format!("/clusters/{cluster}/services"), &req)
        .await?;
    ctx.out.show(&svc, || {
        println!(
            "{} Created service {} ({}) on {}. Deploy it with `dployr deploy {} --wait`.",
            ctx.out.paint("✓", Paint::Green),
            ctx.out.paint(&svc.spec.name, Paint::Bold),
            svc.id,
            instance.name,
            svc.spec.name
        );
    });
    Ok(())
}
