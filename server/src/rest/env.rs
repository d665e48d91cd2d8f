//! `/api/v1/services/{id}/env`: list (secret values never included), set or overwrite one
//! variable or secret, remove one, import a `.env` file.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use proto::api::{EnvList, ImportEnvRequest, SetEnvRequest};

use super::error::ApiError;
use super::extract::{ApiJson, Authed};
use crate::state::ServerState;

pub async fn list(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> Result<Json<EnvList>, ApiError> {
    Ok(Json(state.base.list_env(&actor, &id).await?))
}

pub async fn set(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path((id, key)): Path<(String, String)>,
    ApiJson(req): ApiJson<SetEnvRequest>,
) -> Result<StatusCode, ApiError> {
    state.base.set_env(&actor, &id, &key, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unset(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path((id, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.base.unset_env(&actor, &id, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn import(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ImportEnvRequest>,
) -> Result<Json<EnvList>, ApiError> {
    Ok(Json(state.base.import_env(&actor, &id, req).await?))
}
