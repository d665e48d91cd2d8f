//! `/api/v1/services/{id}/deployments` and `/api/v1/deployments/{id}`: start a deployment (202:
//! the work happens on the instance), list and show them with every step, cancel one.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use proto::api::{CreateDeploymentRequest, Deployment, DeploymentList};

use super::error::ApiError;
use super::extract::Authed;
use crate::state::ServerState;

/// `{"deployment": …}`, as the 202 body.
#[derive(serde::Serialize)]
pub struct Accepted {
    deployment: Deployment,
}

pub async fn create(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(service): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    // The body is optional: `dployr deploy` with no ref sends none.
    let req: CreateDeploymentRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CreateDeploymentRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::Status(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}"))
        })?
    };
    let deployment = state.base.create_deployment(&actor, &service, req).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { deployment })))
}

pub async fn list(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(service): Path<String>,
) -> Result<Json<DeploymentList>, ApiError> {
    Ok(Json(DeploymentList {
        deployments: state.base.list_deployments(&actor, &service).await?,
    }))
}

pub async fn show(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, ApiError> {
    Ok(Json(state.base.get_deployment(&actor, &id).await?))
}

pub async fn cancel(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, ApiError> {
    Ok(Json(state.base.cancel_deployment(&actor, &id).await?))
}

/// `POST /api/v1/services/{id}/rollback {"deployment_id": …}`.
#[derive(serde::Deserialize)]
pub struct RollbackRequest {
    deployment_id: String,
}

pub async fn rollback(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(service): Path<String>,
    super::extract::ApiJson(req): super::extract::ApiJson<RollbackRequest>,
) -> Result<Json<Deployment>, ApiError> {
    Ok(Json(
        state
            .base
            .rollback(&actor, &service, &req.deployment_id)
            .await?,
    ))
}

/// `POST /api/v1/services/{id}/{restart|stop|start}`.
pub async fn action(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path((service, action)): Path<(String, String)>,
) -> Result<Json<proto::api::Service>, ApiError> {
    let action = match action.as_str() {
        "restart" => proto::wire::Lifecycle::Restart,
        "stop" => proto::wire::Lifecycle::Stop,
        "start" => proto::wire::Lifecycle::Start,
        _ => {
            return Err(ApiError::Status(
                StatusCode::NOT_FOUND,
                "no such API route".into(),
            ));
        }
    };
    Ok(Json(
        state.base.service_action(&actor, &service, action).await?,
    ))
}
