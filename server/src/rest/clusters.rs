//! `/api/v1/clusters`: list, create, show, rename, delete.

use axum::Json;
use http::StatusCode;
use proto::api::{
    ClusterList, ClusterOverview, ClusterSummary, CreateClusterRequest, UpdateClusterRequest,
};

use super::error::ApiResult;
use super::extract::{ApiJson, ApiQuery, Caller, On};

#[utoipa::path(
    get, path = "/clusters", tag = "clusters",
    responses((status = 200, body = ClusterList))
)]
pub async fn list(Caller(base, actor): Caller) -> ApiResult<Json<ClusterList>> {
    Ok(Json(ClusterList {
        clusters: base.list_clusters(&actor).await?,
    }))
}

#[utoipa::path(
    post, path = "/clusters", tag = "clusters", request_body = CreateClusterRequest,
    responses((status = 201, body = ClusterSummary))
)]
pub async fn create(
    Caller(base, actor): Caller,
    ApiJson(req): ApiJson<CreateClusterRequest>,
) -> ApiResult<(StatusCode, Json<ClusterSummary>)> {
    let cluster = base.create_cluster(&actor, &req.name).await?;
    Ok((StatusCode::CREATED, Json(cluster)))
}

#[utoipa::path(
    get, path = "/clusters/{id}", tag = "clusters", params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 200, body = ClusterOverview))
)]
pub async fn show(On(base, actor, id): On) -> ApiResult<Json<ClusterOverview>> {
    Ok(Json(base.cluster_overview(&actor, &id).await?))
}

#[utoipa::path(
    patch, path = "/clusters/{id}", tag = "clusters", params(("id" = String, Path, description = "The cluster's id")), request_body = UpdateClusterRequest,
    responses((status = 200, body = ClusterSummary))
)]
pub async fn update(
    On(base, actor, id): On,
    ApiJson(req): ApiJson<UpdateClusterRequest>,
) -> ApiResult<Json<ClusterSummary>> {
    Ok(Json(base.rename_cluster(&actor, &id, &req.name).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// The cluster's name, repeated, so a mistyped id or a stray script deletes nothing.
    #[serde(default)]
    confirm: String,
}

/// `DELETE /clusters/{id}?confirm=<name>`: Owner only; 204.
#[utoipa::path(
    delete, path = "/clusters/{id}", tag = "clusters", params(("id" = String, Path, description = "The cluster's id"), DeleteQuery),
    responses((status = 204, description = "Deleted with everything in it"))
)]
pub async fn delete(
    On(base, actor, id): On,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> ApiResult<StatusCode> {
    base.delete_cluster(&actor, &id, &q.confirm).await?;
    Ok(StatusCode::NO_CONTENT)
}
