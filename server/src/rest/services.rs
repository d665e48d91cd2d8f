//! `/api/v1/clusters/{cluster}/services` and `/api/v1/services/{id}`: create, list, show, change
//! and delete services.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use proto::api::{CreateServiceRequest, Service, ServiceList, UpdateServiceRequest};

use super::error::ApiError;
use super::extract::{ApiJson, Authed};
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
