//! Server functions for a service's custom domains: list (everyone in the cluster), add, verify
//! and remove (Admins and Owners; `control` decides).

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
    as_actor(async |base, actor| base.add_domain(actor, &service_id, req).await).await
}

#[server(prefix = "/rpc")]
pub async fn verify_domain(service_id: String, name: String) -> Result<Domain, AppError> {
    as_actor(async |base, actor| base.verify_domain(actor, &service_id, &name).await).await
}

#[server(prefix = "/rpc")]
pub async fn remove_domain(service_id: String, name: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.remove_domain(actor, &service_id, &name).await).await
}
