//! `/api/v1/clusters`: list, create, show, rename, delete.

use axum::Json;
use axum::extract::{Path, Query, State};
use http::StatusCode;
use proto::api::{
    ClusterList, ClusterOverview, ClusterSummary, CreateClusterRequest, UpdateClusterRequest,
};

use super::error::ApiError;
use super::extract::{ApiJson, Authed};
use crate::state::ServerState;

pub async fn list(
    State(state): State<ServerState>,
    Authed(actor): Authed,
) -> Result<Json<ClusterList>, ApiError> {
    Ok(Json(ClusterList {
        clusters: state.base.list_clusters(&actor).await?,
    }))
}

pub async fn create(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    ApiJson(req): ApiJson<CreateClusterRequest>,
) -> Result<(StatusCode, Json<ClusterSummary>), ApiError> {
    let cluster = state.base.create_cluster(&actor, &req.name).await?;
    Ok((StatusCode::CREATED, Json(cluster)))
}

pub async fn show(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<Json<ClusterOverview>, ApiError> {
    Ok(Json(state.base.cluster_overview(&actor, &id).await?))
}

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

#[derive(serde::Deserialize)]
pub struct DeleteQuery {
    /// The cluster's name, repeated, so a mistyped id or a stray script deletes nothing.
    #[serde(default)]
    confirm: String,
}

/// `DELETE /clusters/{id}?confirm=<name>`: Owner only; 204.
pub async fn delete(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    state.base.delete_cluster(&actor, &id, &q.confirm).await?;
    Ok(StatusCode::NO_CONTENT)
}
