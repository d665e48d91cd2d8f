//! Server functions for a service's push-to-deploy webhook (Admins and Owners): show it, enable
//! or rotate it (the only answer that carries the secret), switch it off.

use leptos::prelude::*;
use proto::api::{CreatedWebhook, WebhookInfo};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{actor, base, fail};

#[server(prefix = "/rpc")]
pub async fn get_webhook(service_id: String) -> Result<WebhookInfo, AppError> {
    let actor = actor().await?;
    base()?.webhook(&actor, &service_id).await.map_err(fail)
}

/// Enables the hook or rotates its secret. `branch` is the filter as typed: empty deploys the
/// service's own branch.
#[server(prefix = "/rpc")]
pub async fn enable_webhook(
    service_id: String,
    #[server(default)] branch: String,
) -> Result<CreatedWebhook, AppError> {
    let actor = actor().await?;
    let req = proto::api::EnableWebhookRequest {
        branch: Some(branch),
    };
    base()?
        .enable_webhook(&actor, &service_id, req)
        .await
        .map_err(fail)
}

#[server(prefix = "/rpc")]
pub async fn disable_webhook(service_id: String) -> Result<(), AppError> {
    let actor = actor().await?;
    base()?
        .disable_webhook(&actor, &service_id)
        .await
        .map_err(fail)
}
