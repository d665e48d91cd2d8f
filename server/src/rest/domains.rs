//! A service's custom domains under `/api/v1/services/{id}/domains`: list (with the DNS records
//! to create), add (409 when any service on this Base holds the name), verify (a TXT lookup
//! now), change HSTS, remove, and upload a certificate (the key is never shown again).

use axum::Json;
use http::StatusCode;
use proto::api::{
    AddDomainRequest, Domain, DomainList, UpdateDomainRequest, UploadCertificateRequest,
};

use super::error::ApiResult;
use super::extract::{ApiJson, On};

#[utoipa::path(
    get, path = "/services/{id}/domains", tag = "domains", params(("id" = String, Path, description = "The service's id")),
    responses((status = 200, description = "The service's domains: status, records to create, certificate", body = DomainList))
)]
pub async fn list(On(base, actor, id): On) -> ApiResult<Json<DomainList>> {
    Ok(Json(base.list_domains(&actor, &id).await?))
}

#[utoipa::path(
    post, path = "/services/{id}/domains", tag = "domains", params(("id" = String, Path, description = "The service's id")),
    request_body = AddDomainRequest,
    responses((status = 201, description = "Added, pending until its TXT record is seen", body = Domain))
)]
pub async fn add(
    On(base, actor, id): On,
    ApiJson(req): ApiJson<AddDomainRequest>,
) -> ApiResult<(StatusCode, Json<Domain>)> {
    Ok((
        StatusCode::CREATED,
        Json(base.add_domain(&actor, &id, req).await?),
    ))
}

#[utoipa::path(
    post, path = "/services/{id}/domains/{name}/verify", tag = "domains",
    params(("id" = String, Path, description = "The service's id"), ("name" = String, Path, description = "The domain")),
    responses((status = 200, description = "Looked up now: `verified`, or still `pending` with `last_error`", body = Domain))
)]
pub async fn verify(On(base, actor, (id, name)): On<(String, String)>) -> ApiResult<Json<Domain>> {
    Ok(Json(base.verify_domain(&actor, &id, &name).await?))
}

#[utoipa::path(
    patch, path = "/services/{id}/domains/{name}", tag = "domains",
    params(("id" = String, Path, description = "The service's id"), ("name" = String, Path, description = "The domain")),
    request_body = UpdateDomainRequest,
    responses((status = 200, description = "Changed", body = Domain))
)]
pub async fn update(
    On(base, actor, (id, name)): On<(String, String)>,
    ApiJson(req): ApiJson<UpdateDomainRequest>,
) -> ApiResult<Json<Domain>> {
    Ok(Json(base.update_domain(&actor, &id, &name, req).await?))
}

#[utoipa::path(
    delete, path = "/services/{id}/domains/{name}", tag = "domains",
    params(("id" = String, Path, description = "The service's id"), ("name" = String, Path, description = "The domain")),
    responses((status = 204, description = "Removed; its instance stops routing it"))
)]
pub async fn remove(On(base, actor, (id, name)): On<(String, String)>) -> ApiResult<StatusCode> {
    base.remove_domain(&actor, &id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put, path = "/services/{id}/domains/{name}/certificate", tag = "domains",
    params(("id" = String, Path, description = "The service's id"), ("name" = String, Path, description = "The domain")),
    request_body = UploadCertificateRequest,
    responses((status = 200, description = "Stored (the key sealed) and sent to the instance once the domain is verified", body = Domain))
)]
pub async fn upload_certificate(
    On(base, actor, (id, name)): On<(String, String)>,
    ApiJson(req): ApiJson<UploadCertificateRequest>,
) -> ApiResult<Json<Domain>> {
    Ok(Json(
        base.upload_certificate(&actor, &id, &name, req).await?,
    ))
}
