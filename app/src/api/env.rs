//! Server functions for a service's variables and secrets. A secret's value goes in and never
//! comes out: `list_env` returns names, who set them and when, and plain values only.

use leptos::prelude::*;
use proto::api::EnvList;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{actor, base, fail};

#[server(prefix = "/rpc")]
pub async fn list_env(service_id: String) -> Result<EnvList, AppError> {
    let actor = actor().await?;
    base()?.list_env(&actor, &service_id).await.map_err(fail)
}

/// Sets (or overwrites) one variable; `secret` is the checkbox ("on" when ticked).
#[server(prefix = "/rpc")]
pub async fn set_env_var(
    service_id: String,
    key: String,
    value: String,
    #[server(default)] secret: Option<String>,
) -> Result<(), AppError> {
    let actor = actor().await?;
    let req = proto::api::SetEnvRequest {
        value,
        secret: secret.is_some_and(|s| !s.is_empty()),
    };
    base()?
        .set_env(&actor, &service_id, key.trim(), req)
        .await
        .map_err(fail)
}

#[server(prefix = "/rpc")]
pub async fn unset_env_var(service_id: String, key: String) -> Result<(), AppError> {
    let actor = actor().await?;
    base()?
        .unset_env(&actor, &service_id, &key)
        .await
        .map_err(fail)
}
