//! `/api/v1/clusters/{cluster}/services` and `/api/v1/services/{id}`: create, list, show, change
//! and delete services, and watch them live (WebSockets for the dashboard).

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use proto::api::{CreateServiceRequest, Service, ServiceDetail, ServiceList, UpdateServiceRequest};

use super::error::ApiError;
use super::extract::{ApiJson, Authed};
use super::live::push_on_change;
use crate::state::ServerState;

pub async fn create(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
    ApiJson(req): ApiJson<CreateServiceRequest>,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    let svc = state.base.create_service(&actor, &cluster, req).await?;
    Ok((StatusCode::CREATED, Json(svc)))
}

pub async fn list(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
) -> Result<Json<ServiceList>, ApiError> {
    Ok(Json(ServiceList {
        services: state.base.list_services(&actor, &cluster).await?,
    }))
}

pub async fn show(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<Json<Service>, ApiError> {
    Ok(Json(state.base.get_service(&actor, &id).await?))
}

pub async fn update(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UpdateServiceRequest>,
) -> Result<Json<Service>, ApiError> {
    Ok(Json(state.base.update_service(&actor, &id, patch).await?))
}

pub async fn delete(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.base.delete_service(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET …/clusters/{id}/services/live` (WebSocket): the cluster's service list, sent at once and
/// again after every service or deployment change. Authorized before the upgrade and again
/// before every push.
pub async fn live_list(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    state.base.list_services(&actor, &cluster).await?;
    let base = state.base.clone();
    Ok(upgrade.on_upgrade(move |socket| async move {
        let changes = base.subscribe_activity();
        push_on_change(socket, changes, "services", || async {
            let services = base.list_services(&actor, &cluster).await?;
            Ok::<_, control::DomainError>(ServiceList { services })
        })
        .await
    }))
}

/// `GET /api/v1/services/{id}/live` (WebSocket): the service and its recent deployments, sent at
/// once and again after every change, authorized like [`live_list`]. Closes when the service is
/// deleted.
pub async fn live_one(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    state.base.get_service(&actor, &id).await?;
    let base = state.base.clone();
    Ok(upgrade.on_upgrade(move |socket| async move {
        let changes = base.subscribe_activity();
        push_on_change(socket, changes, "service", || async {
            let service = base.get_service(&actor, &id).await?;
            let deployments = base.list_deployments(&actor, &id).await?;
            Ok::<_, control::DomainError>(ServiceDetail {
                service,
                deployments,
            })
        })
        .await
    }))
}
