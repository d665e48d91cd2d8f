//! Push-to-deploy webhooks. Two halves:
//!
//! - the public `POST /hooks/{github|gitlab|generic}/{service}` ([`router`], merged at the top
//!   level, not under `/api/v1`): no session, no `Origin` (Git hosts send neither; the
//!   delivery's signature or token is the authentication), bodies up to 1 MiB;
//! - managing a service's hook under `/api/v1/services/{id}/webhook` (Admin+): show, enable or
//!   rotate (the secret is in that answer only), switch off.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use control::ClientInfo;
use control::webhooks::{HookHeaders, MAX_HOOK_BODY, Provider};
use http::{HeaderMap, StatusCode};
use proto::api::{CreatedWebhook, EnableWebhookRequest, HookReply, WebhookInfo};

use super::error::{ApiError, ApiResult};
use super::extract::{On, json_or_default};
use crate::state::ServerState;

/// The public delivery route. Its own body cap: GitHub's push payloads list every commit.
pub fn router() -> Router<ServerState> {
    Router::new()
        .route("/hooks/{provider}/{service}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_HOOK_BODY))
}

/// A delivery from a Git host or CI. 202 when it queued a deployment, 200 for anything else
/// it verified (`pong`, `duplicate`, `ignored` with the reason), 401 for any failed proof.
pub async fn receive(
    State(state): State<ServerState>,
    Path((provider, service)): Path<(String, String)>,
    client: Option<Extension<ClientInfo>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let provider = Provider::parse(&provider).ok_or_else(|| {
        ApiError::Status(StatusCode::NOT_FOUND, "no such webhook provider".into())
    })?;
    let body = body.map_err(|r| {
        let message = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                format!("webhook bodies are limited to {} KiB", MAX_HOOK_BODY / 1024)
            }
            _ => r.body_text(),
        };
        ApiError::Status(r.status(), message)
    })?;
    let headers = HookHeaders::new(headers.iter().filter_map(|(name, value)| {
        Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
    }));
    let client = client.map(|Extension(c)| c).unwrap_or_default();
    let reply = state
        .base
        .receive_hook(provider, &service, &headers, &body, client)
        .await?;
    tracing::info!(service.id = %service, provider = provider.as_str(), ?reply, "webhook delivery");
    let status = match reply {
        HookReply::Deployed { .. } => StatusCode::ACCEPTED,
        _ => StatusCode::OK,
    };
    Ok((status, Json(reply)).into_response())
}

#[utoipa::path(
    get, path = "/services/{id}/webhook", tag = "webhooks", params(("id" = String, Path, description = "The service's id")),
    responses((status = 200, description = "Whether the hook is on, its URLs and last delivery; never the secret", body = WebhookInfo))
)]
pub async fn show(On(base, actor, id): On) -> ApiResult<Json<WebhookInfo>> {
    Ok(Json(base.webhook(&actor, &id).await?))
}

#[utoipa::path(
    post, path = "/services/{id}/webhook", tag = "webhooks", params(("id" = String, Path, description = "The service's id")),
    request_body(content = Option<EnableWebhookRequest>, description = "Optional: the branch filter"),
    responses((status = 201, description = "Enabled or rotated: the secret, shown this once", body = CreatedWebhook))
)]
pub async fn enable(
    On(base, actor, id): On,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    // The body is optional: no body keeps the branch filter as it is.
    let req: EnableWebhookRequest = json_or_default(&body, "invalid JSON body")?;
    let created = base.enable_webhook(&actor, &id, req).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    delete, path = "/services/{id}/webhook", tag = "webhooks", params(("id" = String, Path, description = "The service's id")),
    responses((status = 204, description = "Switched off; deliveries are refused from now on"))
)]
pub async fn disable(On(base, actor, id): On) -> ApiResult<StatusCode> {
    base.disable_webhook(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
