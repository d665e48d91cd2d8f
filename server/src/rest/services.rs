//! `/api/v1/clusters/{cluster}/services` and `/api/v1/services/{id}`: create, list, show, change
//! and delete services, and watch them live (WebSockets for the dashboard).

use axum::Json;
use axum::response::Response;
use control::revocation::Access;
use http::StatusCode;
use proto::api::{CreateServiceRequest, Service, ServiceDetail, ServiceList, UpdateServiceRequest};

use super::error::ApiResult;
use super::extract::{ApiJson, On, Upgrade};
use super::live::push_on_change;
use super::page::{Listing, Order, PageQuery, Paged};

#[utoipa::path(
    post, path = "/clusters/{id}/services", tag = "services", params(("id" = String, Path, description = "The cluster's id")), request_body = CreateServiceRequest,
    responses((status = 201, body = Service))
)]
pub async fn create(
    On(base, actor, cluster): On,
    ApiJson(req): ApiJson<CreateServiceRequest>,
) -> ApiResult<(StatusCode, Json<Service>)> {
    let svc = base.create_service(&actor, &cluster, req).await?;
    Ok((StatusCode::CREATED, Json(svc)))
}

#[utoipa::path(
    get, path = "/clusters/{id}/services", tag = "services", params(("id" = String, Path, description = "The cluster's id"), PageQuery),
    responses((status = 200, body = ServiceList))
)]
pub async fn list(
    On(base, actor, cluster): On,
    Paged(page): Paged,
) -> ApiResult<Json<ServiceList>> {
    let all = base.list_services(&actor, &cluster).await?;
    Ok(Json(page.of(all, Order::Asc, |s| {
        (s.spec.name.clone(), s.id.clone())
    })))
}

#[utoipa::path(
    get, path = "/services/{id}", tag = "services", params(("id" = String, Path, description = "The service's id")),
    responses((status = 200, body = Service))
)]
pub async fn show(On(base, actor, id): On) -> ApiResult<Json<Service>> {
    Ok(Json(base.get_service(&actor, &id).await?))
}

#[utoipa::path(
    patch, path = "/services/{id}", tag = "services", params(("id" = String, Path, description = "The service's id")), request_body = UpdateServiceRequest,
    responses((status = 200, body = Service))
)]
pub async fn update(
    On(base, actor, id): On,
    ApiJson(patch): ApiJson<UpdateServiceRequest>,
) -> ApiResult<Json<Service>> {
    Ok(Json(base.update_service(&actor, &id, patch).await?))
}

#[utoipa::path(
    delete, path = "/services/{id}", tag = "services", params(("id" = String, Path, description = "The service's id")),
    responses((status = 204, description = "Deleted; its instance stops it"))
)]
pub async fn delete(On(base, actor, id): On) -> ApiResult<StatusCode> {
    base.delete_service(&actor, &id).await?;
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
    On(base, actor, cluster): On,
    Upgrade(upgrade): Upgrade,
) -> ApiResult<Response> {
    base.list_services(&actor, &cluster).await?;
    Ok(upgrade.on_upgrade(move |socket| async move {
        let changes = base.subscribe_activity(&cluster);
        let revoked = base.until_revoked(actor.clone(), Access::Cluster(cluster.clone()));
        push_on_change(socket, changes, revoked, "services", || async {
            base.list_services(&actor, &cluster)
                .await
                .map(ServiceList::whole)
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
pub async fn live_one(On(base, actor, id): On, Upgrade(upgrade): Upgrade) -> ApiResult<Response> {
    let cluster = base.get_service(&actor, &id).await?.cluster_id;
    Ok(upgrade.on_upgrade(move |socket| async move {
        let changes = base.subscribe_activity(&cluster);
        let revoked = base.until_revoked(actor.clone(), Access::Service(id.clone()));
        push_on_change(socket, changes, revoked, "service", || async {
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
