//! `/api/v1/services/{id}/env`: list (secret values never included), set or overwrite one
//! variable or secret, remove one, import a `.env` file.

use axum::Json;
use http::StatusCode;
use proto::api::{EnvList, ImportEnvRequest, SetEnvRequest};

use super::error::ApiResult;
use super::extract::{ApiJson, On};

#[utoipa::path(
    get, path = "/services/{id}/env", tag = "env", params(("id" = String, Path, description = "The service's id")),
    responses((status = 200, body = EnvList))
)]
pub async fn list(On(base, actor, id): On) -> ApiResult<Json<EnvList>> {
    Ok(Json(base.list_env(&actor, &id).await?))
}

#[utoipa::path(
    put, path = "/services/{id}/env/{key}", tag = "env", params(("id" = String, Path, description = "The service's id"), ("key" = String, Path, description = "The variable's name")), request_body = SetEnvRequest,
    responses((status = 204, description = "Set; redeploy to apply"))
)]
pub async fn set(
    On(base, actor, (id, key)): On<(String, String)>,
    ApiJson(req): ApiJson<SetEnvRequest>,
) -> ApiResult<StatusCode> {
    base.set_env(&actor, &id, &key, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete, path = "/services/{id}/env/{key}", tag = "env", params(("id" = String, Path, description = "The service's id"), ("key" = String, Path, description = "The variable's name")),
    responses((status = 204, description = "Removed; redeploy to apply"))
)]
pub async fn unset(On(base, actor, (id, key)): On<(String, String)>) -> ApiResult<StatusCode> {
    base.unset_env(&actor, &id, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/services/{id}/env/import", tag = "env", params(("id" = String, Path, description = "The service's id")), request_body = ImportEnvRequest,
    responses((status = 200, body = EnvList))
)]
pub async fn import(
    On(base, actor, id): On,
    ApiJson(req): ApiJson<ImportEnvRequest>,
) -> ApiResult<Json<EnvList>> {
    Ok(Json(base.import_env(&actor, &id, req).await?))
}
