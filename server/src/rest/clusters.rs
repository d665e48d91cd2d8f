//! `/api/v1/clusters`: list, create, show, rename, delete.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use proto::api::{
    ClusterList, ClusterOverview, ClusterSummary, CreateClusterRequest, UpdateClusterRequest,
};

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Authed};
use crate::state::ServerState;

#[utoipa::path(
    get, path = "/clusters", tag = "clusters",
    responses((status = 200, body = ClusterList))
)]
pub async fn list(
    State(state): State<ServerState>,
    Authed(actor): Authed,
) -> Result<Json<ClusterList>, ApiError> {
    Ok(Json(ClusterList {
        clusters: state.base.list_clusters(&actor).await?,
    }))
}

#[utoipa::path(
    post, path = "/clusters", tag = "clusters", request_body = CreateClusterRequest,
    responses((status = 201, body = ClusterSummary))
)]
pub async fn create(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    ApiJson(req): ApiJson<CreateClusterRequest>,
) -> Result<(StatusCode, Json<ClusterSummary>), ApiError> {
    let cluster = state.base.create_cluster(&actor, &req.name).await?;
    Ok((StatusCode::CREATED, Json(cluster)))
}

#[utoipa::path(
    get, path = "/clusters/{id}", tag = "clusters", params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 200, body = ClusterOverview))
)]
pub async fn show(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<Json<ClusterOverview>, ApiError> {
    Ok(Json(state.base.cluster_overview(&actor, &id).await?))
}

#[utoipa::path(
    patch, path = "/clusters/{id}", tag = "clusters", params(("id" = String, Path, description = "The cluster's id")), request_body = UpdateClusterRequest,
    responses((status = 200, body = ClusterSummary))
)]
pub async fn update(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateClusterRequest>,
) -> Result<Json<ClusterSummary>, ApiError> {
    Ok(Json(
        state.base.rename_cluster(&actor, &id, &req.name).await?,
    ))
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
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    state.base.delete_cluster(&actor, &id, &q.confirm).await?;
    Ok(StatusCode::NO_CONTENT)
}
