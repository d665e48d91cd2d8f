//! Server functions for a service's push-to-deploy webhook (Admins and Owners): show it, enable
//! or rotate it (the only answer that carries the secret), switch it off.

use leptos::prelude::*;
use proto::api::{CreatedWebhook, WebhookInfo};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::as_actor;

#[server(prefix = "/rpc")]
pub async fn get_webhook(service_id: String) -> Result<WebhookInfo, AppError> {
    as_actor(async |base, actor| base.webhook(actor, &service_id).await).await
}

/// Enables the hook or rotates its secret. `branch` is the filter as typed: empty deploys the
/// service's own branch.
#[server(prefix = "/rpc")]
pub async fn enable_webhook(
    service_id: String,
    #[server(default)] branch: String,
) -> Result<CreatedWebhook, AppError> {
    let req = proto::api::EnableWebhookRequest {
        branch: Some(branch),
    };
    as_actor(async |base, actor| base.enable_webhook(actor, &service_id, req).await).await
}

#[server(prefix = "/rpc")]
pub async fn disable_webhook(service_id: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.disable_webhook(actor, &service_id).await).await
}
