//! A cluster's notification channels: `/clusters/{id}/notifications` (list: Members and up,
//! never a secret; create: Admin+, the webhook's signing secret shown once), `.../{channel}`
//! (change, remove), `.../{channel}/test` (send one now, answer the outcome) and
//! `.../{channel}/deliveries` (each notification and its attempts).

use axum::Json;
use http::StatusCode;
use proto::api::{
    Channel, CreateChannelRequest, CreatedChannel, Delivery, DeliveryAttempt, UpdateChannelRequest,
};

use super::error::ApiResult;
use super::extract::{ApiJson, On};

#[utoipa::path(
    get, path = "/clusters/{id}/notifications", tag = "notifications",
    params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 200, description = "The channels, without secrets", body = [Channel]))
)]
pub async fn list(On(base, actor, cluster): On) -> ApiResult<Json<Vec<Channel>>> {
    Ok(Json(base.channels(&actor, &cluster).await?))
}

#[utoipa::path(
    post, path = "/clusters/{id}/notifications", tag = "notifications",
    params(("id" = String, Path, description = "The cluster's id")), request_body = CreateChannelRequest,
    responses((status = 201, description = "Added; a webhook's signing secret, shown this once", body = CreatedChannel))
)]
pub async fn create(
    On(base, actor, cluster): On,
    ApiJson(req): ApiJson<CreateChannelRequest>,
) -> ApiResult<(StatusCode, Json<CreatedChannel>)> {
    let made = base.create_channel(&actor, &cluster, req).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(
    patch, path = "/clusters/{id}/notifications/{channel}", tag = "notifications",
    params(("id" = String, Path, description = "The cluster's id"), ("channel" = String, Path, description = "The channel's id")),
    request_body = UpdateChannelRequest,
    responses((status = 200, body = Channel))
)]
pub async fn update(
    On(base, actor, (cluster, channel)): On<(String, String)>,
    ApiJson(req): ApiJson<UpdateChannelRequest>,
) -> ApiResult<Json<Channel>> {
    Ok(Json(
        base.update_channel(&actor, &cluster, &channel, req).await?,
    ))
}

#[utoipa::path(
    delete, path = "/clusters/{id}/notifications/{channel}", tag = "notifications",
    params(("id" = String, Path, description = "The cluster's id"), ("channel" = String, Path, description = "The channel's id")),
    responses((status = 204, description = "Removed, with its deliveries"))
)]
pub async fn delete(
    On(base, actor, (cluster, channel)): On<(String, String)>,
) -> ApiResult<StatusCode> {
    base.delete_channel(&actor, &cluster, &channel).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/clusters/{id}/notifications/{channel}/test", tag = "notifications",
    params(("id" = String, Path, description = "The cluster's id"), ("channel" = String, Path, description = "The channel's id")),
    responses((status = 200, description = "What came of one test notification, sent now", body = DeliveryAttempt))
)]
pub async fn test(
    On(base, actor, (cluster, channel)): On<(String, String)>,
) -> ApiResult<Json<DeliveryAttempt>> {
    Ok(Json(base.test_channel(&actor, &cluster, &channel).await?))
}

#[utoipa::path(
    get, path = "/clusters/{id}/notifications/{channel}/deliveries", tag = "notifications",
    params(("id" = String, Path, description = "The cluster's id"), ("channel" = String, Path, description = "The channel's id")),
    responses((status = 200, description = "The newest 50 notifications, newest first, with their attempts", body = [Delivery]))
)]
pub async fn deliveries(
    On(base, actor, (cluster, channel)): On<(String, String)>,
) -> ApiResult<Json<Vec<Delivery>>> {
    Ok(Json(
        base.channel_deliveries(&actor, &cluster, &channel).await?,
    ))
}
