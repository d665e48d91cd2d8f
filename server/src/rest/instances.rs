//! `/api/v1/clusters/{cluster}/instances` and `/api/v1/instances/{id}`: add a server (getting its
//! one-time join token and install command), list with live status, remove (revoking it).

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use proto::api::{CreateInstanceRequest, CreateInstanceResponse, InstanceList};

use super::error::ApiError;
use super::extract::{ApiJson, Authed};
use crate::state::ServerState;

pub async fn create(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
    ApiJson(req): ApiJson<CreateInstanceRequest>,
) -> Result<(StatusCode, Json<CreateInstanceResponse>), ApiError> {
    let made = state
        .base
        .create_instance(&actor, &cluster, &req.name)
        .await?;
    let body = CreateInstanceResponse {
        instance: made.instance,
        join_token: made.join_token,
        install_command: made.install_command,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn list(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
) -> Result<Json<InstanceList>, ApiError> {
    Ok(Json(InstanceList {
        instances: state.base.list_instances(&actor, &cluster).await?,
    }))
}

pub async fn delete(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.base.delete_instance(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
