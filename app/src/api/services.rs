//! Server functions for services and deployments. Each reads the form's text
//! ([`ServiceFields`]), calls the one `control` function that authorizes and checks the rules,
//! and maps its error; the dashboard never decides who may do what.

use leptos::prelude::*;
use proto::api::{Deployment, Service, ServiceDetail};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{actor, as_actor, base, fail};
pub use crate::service_fields::ServiceFields;

#[server(prefix = "/rpc")]
pub async fn list_services(cluster_id: String) -> Result<Vec<Service>, AppError> {
    as_actor(async |base, actor| base.list_services(actor, &cluster_id).await).await
}

/// The service and its recent deployments, newest first.
#[server(prefix = "/rpc")]
pub async fn get_service_detail(service_id: String) -> Result<ServiceDetail, AppError> {
    as_actor(async |base, actor| {
        Ok(ServiceDetail {
            service: base.get_service(actor, &service_id).await?,
            deployments: base.list_deployments(actor, &service_id).await?,
        })
    })
    .await
}

/// Creates the service and sends the browser to its page.
#[server(prefix = "/rpc")]
pub async fn create_service(cluster_id: String, f: ServiceFields) -> Result<Service, AppError> {
    let actor = actor().await?;
    let p = f.parse()?;
    let req = proto::api::CreateServiceRequest {
        name: f.name,
        instance_id: f.instance_id,
        source: p.source,
        runtime: p.runtime,
        build_command: p.build_command,
        start_command: p.start_command,
        port: p.port,
        env: p.env,
        health_check: Some(proto::service::HealthCheck {
            probe: p.probe,
            ..Default::default()
        }),
        restart: None,
        domains: p.domains,
        build_timeout_secs: None,
        root_dir: p.root_dir,
        kind: p.kind,
        runtime_version: p.runtime_version,
        resources: p.resources,
    };
    let svc = base()?
        .create_service(&actor, &cluster_id, req)
        .await
        .map_err(fail)?;
    leptos_axum::redirect(&format!("/c/{}/services/{}", svc.cluster_id, svc.id));
    Ok(svc)
}

/// Saves the Settings form as a PATCH of only the fields that differ from the stored settings,
/// so health-check timings and other settings the form does not show are kept, and the audit
/// event names exactly what changed.
#[server(prefix = "/rpc")]
pub async fn update_service(service_id: String, f: ServiceFields) -> Result<Service, AppError> {
    use proto::api::UpdateServiceRequest;
    use proto::service::HealthCheck;

    let actor = actor().await?;
    let base = base()?;
    let current = base
        .get_service(&actor, &service_id)
        .await
        .map_err(fail)?
        .spec;
    let p = f.parse()?;
    let patch = UpdateServiceRequest {
        name: (f.name.trim() != current.name).then_some(f.name),
        runtime: (p.runtime != current.runtime).then_some(p.runtime),
        build_command: (p.build_command != current.build_command).then_some(p.build_command),
        start_command: (p.start_command != current.start_command).then_some(p.start_command),
        port: (p.port != current.port).then_some(p.port),
        env: (p.env != current.env).then_some(p.env),
        health_check: (p.probe != current.health_check.probe).then(|| HealthCheck {
            probe: p.probe,
            ..current.health_check.clone()
        }),
        restart: None,
        domains: (p.domains != current.domains).then_some(p.domains),
        source: (p.source != current.source).then_some(p.source),
        build_timeout_secs: None,
        root_dir: (p.root_dir != current.root_dir).then_some(p.root_dir),
        kind: (p.kind != current.kind).then_some(p.kind),
        runtime_version: (p.runtime_version != current.runtime_version)
            .then_some(p.runtime_version),
        resources: (p.resources != current.resources).then_some(p.resources),
    };
    base.update_service(&actor, &service_id, patch)
        .await
        .map_err(fail)
}

/// Deletes the service and sends the browser back to the list.
#[server(prefix = "/rpc")]
pub async fn delete_service(service_id: String) -> Result<(), AppError> {
    let svc = as_actor(async |base, actor| {
        let svc = base.get_service(actor, &service_id).await?;
        base.delete_service(actor, &service_id).await?;
        Ok(svc)
    })
    .await?;
    leptos_axum::redirect(&format!("/c/{}/services", svc.cluster_id));
    Ok(())
}

/// Queues a deployment of `git_ref` (empty: the service's branch).
#[server(prefix = "/rpc")]
pub async fn deploy_service(service_id: String, git_ref: String) -> Result<Deployment, AppError> {
    let git_ref = Some(git_ref.trim().to_string()).filter(|r| !r.is_empty());
    let req = proto::api::CreateDeploymentRequest { git_ref };
    as_actor(async |base, actor| {
        base.create_deployment(actor, &service_id, req, None)
            .await
            .and_then(control::idempotency::Queued::into_deployment)
    })
    .await
}

#[server(prefix = "/rpc")]
pub async fn cancel_deployment(deployment_id: String) -> Result<Deployment, AppError> {
    as_actor(async |base, actor| base.cancel_deployment(actor, &deployment_id).await).await
}

/// Switches the service back to the kept release of `deployment_id` (no build).
#[server(prefix = "/rpc")]
pub async fn rollback_service(
    service_id: String,
    deployment_id: String,
) -> Result<Deployment, AppError> {
    as_actor(async |base, actor| base.rollback(actor, &service_id, &deployment_id).await).await
}

/// `restart`, `stop` or `start` the service's live release.
#[server(prefix = "/rpc")]
pub async fn service_action(service_id: String, action: String) -> Result<Service, AppError> {
    use proto::wire::Lifecycle;

    as_actor(async |base, actor| {
        let action = match action.as_str() {
            "restart" => Lifecycle::Restart,
            "stop" => Lifecycle::Stop,
            "start" => Lifecycle::Start,
            _ => {
                return Err(control::DomainError::invalid(
                    "action",
                    "restart, stop or start",
                ));
            }
        };
        base.service_action(actor, &service_id, action).await
    })
    .await
}
