//! `/api/v1/clusters/{cluster}/instances` and `/api/v1/instances/{id}`: add a server (getting its
//! one-time join token and install command), list with live status, remove (revoking it).

use axum::Json;
use axum::response::Response;
use control::revocation::Access;
use http::StatusCode;
use proto::api::{
    CreateInstanceRequest, CreateInstanceResponse, Instance, InstanceList, UpdateInstanceRequest,
};

use super::error::ApiResult;
use super::extract::{ApiJson, On, Upgrade};
use super::page::{Listing, Order, PageQuery, Paged, time_key};

#[utoipa::path(
    post, path = "/clusters/{id}/instances", tag = "instances", params(("id" = String, Path, description = "The cluster's id")), request_body = CreateInstanceRequest,
    responses((status = 201, body = CreateInstanceResponse))
)]
pub async fn create(
    On(base, actor, cluster): On,
    ApiJson(req): ApiJson<CreateInstanceRequest>,
) -> ApiResult<(StatusCode, Json<CreateInstanceResponse>)> {
    let made = base.create_instance(&actor, &cluster, &req.name).await?;
    let body = CreateInstanceResponse {
        instance: made.instance,
        join_token: made.join_token,
        install_command: made.install_command,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

#[utoipa::path(
    get, path = "/clusters/{id}/instances", tag = "instances", params(("id" = String, Path, description = "The cluster's id"), PageQuery),
    responses((status = 200, body = InstanceList))
)]
pub async fn list(
    On(base, actor, cluster): On,
    Paged(page): Paged,
) -> ApiResult<Json<InstanceList>> {
    let all = base.list_instances(&actor, &cluster).await?;
    Ok(Json(page.of(all, Order::Asc, |i| {
        (time_key(&i.created_at), i.id.clone())
    })))
}

#[utoipa::path(
    delete, path = "/instances/{id}", tag = "instances", params(("id" = String, Path, description = "The instance's id")),
    responses((status = 204, description = "Removed; its agent is disconnected and cannot reconnect"))
)]
pub async fn delete(On(base, actor, id): On) -> ApiResult<StatusCode> {
    base.delete_instance(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /instances/{id} {console_enabled}` (Admin+).
#[utoipa::path(
    patch, path = "/instances/{id}", tag = "instances", params(("id" = String, Path, description = "The instance's id")), request_body = UpdateInstanceRequest,
    responses((status = 200, body = Instance))
)]
pub async fn update(
    On(base, actor, id): On,
    ApiJson(req): ApiJson<UpdateInstanceRequest>,
) -> ApiResult<Json<Instance>> {
    Ok(Json(base.update_instance(&actor, &id, req).await?))
}

/// `GET …/instances/live` (WebSocket): the cluster's instance list, sent at once and again
/// whenever any instance changes (online, offline, added, removed). Authorized before the
/// upgrade and again before every push, so a member removed from the cluster stops receiving.
#[utoipa::path(
    get, path = "/clusters/{id}/instances/live", tags = ["instances", "websocket"], params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 101, description = "WebSocket: an `InstanceList` as a JSON text message at once and after every change"), (status = 426, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn live(On(base, actor, cluster): On, Upgrade(upgrade): Upgrade) -> ApiResult<Response> {
    base.list_instances(&actor, &cluster).await?;
    Ok(upgrade.on_upgrade(move |socket| async move {
        let changes = base.registry().subscribe(&cluster);
        let revoked = base.until_revoked(actor.clone(), Access::Cluster(cluster.clone()));
        super::live::push_on_change(socket, changes, revoked, "instances", || async {
            base.list_instances(&actor, &cluster)
                .await
                .map(InstanceList::whole)
        })
        .await
    }))
}
