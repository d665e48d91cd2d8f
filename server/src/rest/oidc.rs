//! CI OIDC federation over REST: a cluster's bindings (`/clusters/{id}/oidc/bindings`, Owner
//! and Admin) and the public exchange of a CI job's identity token for a short-lived API token
//! (`/auth/oidc/exchange`, no session; throttled per IP like sign-ins).

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use http::request::Parts;
use proto::api::{
    CreateOidcBindingRequest, OidcBinding, OidcBindingList, OidcExchangeRequest,
    OidcExchangeResponse,
};

use super::error::ApiResult;
use super::extract::{ApiJson, On, client};
use crate::state::ServerState;

#[utoipa::path(
    get, path = "/clusters/{id}/oidc/bindings", tag = "oidc",
    params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 200, description = "The issuers and repositories the cluster trusts", body = OidcBindingList))
)]
pub async fn list(On(base, actor, cluster): On) -> ApiResult<Json<OidcBindingList>> {
    Ok(Json(base.oidc_bindings(&actor, &cluster).await?))
}

#[utoipa::path(
    post, path = "/clusters/{id}/oidc/bindings", tag = "oidc",
    params(("id" = String, Path, description = "The cluster's id")), request_body = CreateOidcBindingRequest,
    responses((status = 201, description = "Trusted from now on", body = OidcBinding))
)]
pub async fn add(
    On(base, actor, cluster): On,
    ApiJson(req): ApiJson<CreateOidcBindingRequest>,
) -> ApiResult<(StatusCode, Json<OidcBinding>)> {
    let made = base.add_oidc_binding(&actor, &cluster, req).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(
    delete, path = "/clusters/{id}/oidc/bindings/{binding}", tag = "oidc",
    params(("id" = String, Path, description = "The cluster's id"), ("binding" = String, Path, description = "The binding's id")),
    responses((status = 204, description = "No longer trusted; tokens it gave expire within the hour"))
)]
pub async fn remove(
    On(base, actor, (cluster, binding)): On<(String, String)>,
) -> ApiResult<StatusCode> {
    base.remove_oidc_binding(&actor, &cluster, &binding).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/auth/oidc/exchange", tag = "oidc", security(()), request_body = OidcExchangeRequest,
    responses(
        (status = 200, description = "A `dp_` API token for one cluster, lasting at most an hour", body = OidcExchangeResponse),
        (status = 429, description = "Too many failed exchanges from this address", body = proto::api::ErrorBody)
    )
)]
pub async fn exchange(
    State(state): State<ServerState>,
    parts: Parts,
    ApiJson(req): ApiJson<OidcExchangeRequest>,
) -> ApiResult<Json<OidcExchangeResponse>> {
    Ok(Json(state.base.oidc_exchange(req, &client(&parts)).await?))
}
