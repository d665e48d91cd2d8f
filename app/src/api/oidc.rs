//! Server functions for a cluster's OIDC bindings (CI without a stored token): list, add and
//! remove which issuer and repository may exchange a job's identity token for a short-lived API
//! token (Owners and Admins; `control` authorizes and records the events, as for REST).
// The form's fields are the server function's arguments (one per input, as every form here);
// the macro's client-side twin does not carry a per-function allow.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use proto::api::OidcBinding;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::as_actor;

#[server(prefix = "/rpc")]
pub async fn list_oidc_bindings(cluster_id: String) -> Result<Vec<OidcBinding>, AppError> {
    as_actor(async |base, actor| Ok(base.oidc_bindings(actor, &cluster_id).await?.bindings)).await
}

/// The form's fields as text; empty optional ones are absent (the provider's issuer, Base's URL
/// as audience, any ref, any environment).
#[server(prefix = "/rpc")]
pub async fn add_oidc_binding(
    cluster_id: String,
    provider: String,
    repository: String,
    #[server(default)] git_ref: String,
    #[server(default)] environment: String,
    role: String,
    #[server(default)] issuer: String,
    #[server(default)] audience: String,
) -> Result<OidcBinding, AppError> {
    as_actor(async |base, actor| {
        let provider = proto::api::OidcProvider::parse(provider.trim())
            .ok_or_else(|| control::DomainError::invalid("provider", "choose github or gitlab"))?;
        let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let req = proto::api::CreateOidcBindingRequest {
            provider,
            issuer: given(&issuer),
            audience: given(&audience),
            repository: repository.trim().to_string(),
            git_ref: given(&git_ref),
            environment: given(&environment),
            role: crate::api::team::role_of(&role)?,
        };
        base.add_oidc_binding(actor, &cluster_id, req).await
    })
    .await
}

#[server(prefix = "/rpc")]
pub async fn remove_oidc_binding(cluster_id: String, binding_id: String) -> Result<(), AppError> {
    as_actor(async |base, actor| {
        base.remove_oidc_binding(actor, &cluster_id, &binding_id)
            .await
    })
    .await
}
