//! `/api/v1/clusters/{cluster}/services` and `/api/v1/services/{id}`: create, list, show, change
//! and delete services, and watch them live (WebSockets for the dashboard).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use proto::api::{CreateServiceRequest, Service, ServiceDetail, ServiceList, UpdateServiceRequest};

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Authed, Upgrade};
use super::live::push_on_change;
use super::page::{Order, PageQuery, cut};
use crate::state::ServerState;

#[utoipa::path(
    post, path = "/clusters/{id}/services", tag = "services", params(("id" = String, Path, description = "The cluster's id")), request_body = CreateServiceRequest,
    responses((status = 201, body = Service))
)]
pub async fn create(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
    ApiJson(req): ApiJson<CreateServiceRequest>,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    let svc = state.base.create_service(&actor, &cluster, req).await?;
    Ok((StatusCode::CREATED, Json(svc)))
}

#[utoipa::path(
    get, path = "/clusters/{id}/services", tag = "services", params(("id" = String, Path, description = "The cluster's id"), PageQuery),
    responses((status = 200, body = ServiceList))
)]
pub async fn list(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ServiceList>, ApiError> {
    let page = q.parse()?;
    let all = state.base.list_services(&actor, &cluster).await?;
    let (services, next_cursor) = cut(all, Order::Asc, &page, |s| {
        (s.spec.name.clone(), s.id.clone())
    });
    Ok(Json(ServiceList {
        services,
        next_cursor,
    }))
}

#[utoipa::path(
    get, path = "/services/{id}", tag = "services", params(("id" = String, Path, description = "The service's id")),
    responses((status = 200, body = Service))
)]
pub async fn show(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<Json<Service>, ApiError> {
    Ok(Json(state.base.get_service(&actor, &id).await?))
}

#[utoipa::path(
    patch, path = "/services/{id}", tag = "services", params(("id" = String, Path, description = "The service's id")), request_body = UpdateServiceRequest,
    responses((status = 200, body = Service))
)]
pub async fn update(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UpdateServiceRequest>,
) -> Result<Json<Service>, ApiError> {
    Ok(Json(state.base.update_service(&actor, &id, patch).await?))
}

#[utoipa::path(
    delete, path = "/services/{id}", tag = "services", params(("id" = String, Path, description = "The service's id")),
    responses((status = 204, description = "Deleted; its instance stops it"))
)]
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
#[utoipa::path(
    get, path = "/clusters/{id}/services/live", tags = ["services", "websocket"], params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 101, description = "WebSocket: a `ServiceList` as a JSON text message at once and after every change"), (status = 426, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn live_list(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
    Upgrade(upgrade): Upgrade,
) -> Result<Response, ApiError> {
    state.base.list_services(&actor, &cluster).await?;
    let base = state.base.clone();
    Ok(upgrade.on_upgrade(move |socket| async move {
        let changes = base.subscribe_activity();
        push_on_change(socket, changes, "services", || async {
            let services = base.list_services(&actor, &cluster).await?;
            Ok::<_, control::DomainError>(ServiceList {
                services,
                next_cursor: None,
            })
        })
        .await
    }))
}

/// `GET /api/v1/services/{id}/live` (WebSocket): the service and its recent deployments, sent at
/// once and again after every change, authorized like [`live_list`]. Closes when the service is
/// deleted.
#[utoipa::path(
    get, path = "/services/{id}/live", tags = ["services", "websocket"], params(("id" = String, Path, description = "The service's id")),
    responses((status = 101, description = "WebSocket: a `ServiceDetail` as a JSON text message at once and after every change"), (status = 426, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn live_one(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Upgrade(upgrade): Upgrade,
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
