//! Server functions for a service's variables and secrets. A secret's value goes in and never
//! comes out: `list_env` returns names, who set them and when, and plain values only.

use leptos::prelude::*;
use proto::api::EnvList;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::as_actor;

#[server(prefix = "/rpc")]
pub async fn list_env(service_id: String) -> Result<EnvList, AppError> {
    as_actor(async |base, actor| base.list_env(actor, &service_id).await).await
}

/// Sets (or overwrites) one variable; `secret` is the checkbox ("on" when ticked).
#[server(prefix = "/rpc")]
pub async fn set_env_var(
    service_id: String,
    key: String,
    value: String,
    #[server(default)] secret: Option<String>,
) -> Result<(), AppError> {
    let req = proto::api::SetEnvRequest {
        value,
        secret: secret.is_some_and(|s| !s.is_empty()),
    };
    as_actor(async |base, actor| base.set_env(actor, &service_id, key.trim(), req).await).await
}

#[server(prefix = "/rpc")]
pub async fn unset_env_var(service_id: String, key: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.unset_env(actor, &service_id, &key).await).await
}
