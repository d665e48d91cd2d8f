//! Server functions for a service's custom domains: list (everyone in the cluster), add, verify,
//! HSTS on or off, certificate upload and remove (Admins and Owners; `control` decides, and
//! records the audit event, as for the REST API).

use leptos::prelude::*;
use proto::api::{Domain, DomainList};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::as_actor;

#[server(prefix = "/rpc")]
pub async fn get_domains(service_id: String) -> Result<DomainList, AppError> {
    as_actor(async |base, actor| base.list_domains(actor, &service_id).await).await
}

#[server(prefix = "/rpc")]
pub async fn add_domain(
    service_id: String,
    name: String,
    #[server(default)] hsts: Option<String>,
) -> Result<Domain, AppError> {
    // A checkbox sends its value only when ticked.
    let req = proto::api::AddDomainRequest {
        name,
        hsts: hsts.is_some(),
    };
    as_actor(async |base, actor| base.add_domain(actor, &service_id, req).await)
        .await
        // `control` names the settings' `domains` list; this form's input is `name`.
        .map_err(|e| match e {
            AppError::Invalid { field, message } if field == "domains" => AppError::Invalid {
                field: "name".into(),
                message,
            },
            e => e,
        })
}

#[server(prefix = "/rpc")]
pub async fn verify_domain(service_id: String, name: String) -> Result<Domain, AppError> {
    as_actor(async |base, actor| base.verify_domain(actor, &service_id, &name).await).await
}

#[server(prefix = "/rpc")]
pub async fn remove_domain(service_id: String, name: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.remove_domain(actor, &service_id, &name).await).await
}

/// Turns `Strict-Transport-Security` on or off for the domain's HTTPS answers.
#[server(prefix = "/rpc")]
pub async fn set_domain_hsts(
    service_id: String,
    name: String,
    hsts: bool,
) -> Result<Domain, AppError> {
    let req = proto::api::UpdateDomainRequest { hsts: Some(hsts) };
    as_actor(async |base, actor| base.update_domain(actor, &service_id, &name, req).await).await
}

/// A certificate to serve instead of one from ACME: the chain and key as PEM. The key is
/// stored sealed and never sent back.
#[server(prefix = "/rpc")]
pub async fn upload_domain_certificate(
    service_id: String,
    name: String,
    chain_pem: String,
    key_pem: String,
) -> Result<Domain, AppError> {
    let req = proto::api::UploadCertificateRequest { chain_pem, key_pem };
    as_actor(async |base, actor| {
        base.upload_certificate(actor, &service_id, &name, req)
            .await
    })
    .await
}
