//! `/api/v1/services/{id}/deployments` and `/api/v1/deployments/{id}`: start a deployment (202:
//! the work happens on the instance), list and show them with every step, cancel one.

use axum::Json;
use axum::response::{IntoResponse, Response};
use control::idempotency::Queued;
use http::{HeaderMap, StatusCode};
use proto::api::{CreateDeploymentRequest, Deployment, DeploymentList};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiQuery, On, json_or_default};
use super::page::{self, PageQuery};

/// `{"deployment": …}`, as the 202 body.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Accepted {
    deployment: Deployment,
}

#[utoipa::path(
    post, path = "/services/{id}/deployments", tag = "deployments",
    params(
        ("id" = String, Path, description = "The service's id"),
        ("Idempotency-Key" = Option<String>, Header, max_length = 255, pattern = "^[ -~]+$",
         description = "Makes retries safe: the same key (per service and caller, for 24 hours) \
                        answers with the first request's deployment instead of making another"),
    ),
    request_body(content = Option<CreateDeploymentRequest>, description = "Optional: no body deploys the service's branch"),
    responses(
        (status = 202, description = "Queued; the instance does the work", body = Accepted,
         headers(("Idempotent-Replayed" = String, description = "`true` when this is the answer to an earlier request with the same Idempotency-Key"))),
        (status = 422, description = "`idempotency_key_reused`: the key was used for a different request", body = proto::api::ErrorBody),
    )
)]
pub async fn create(
    On(base, actor, service): On,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    // The body is optional: `dployr deploy` with no ref sends none.
    let req: CreateDeploymentRequest = json_or_default(&body, "invalid JSON body")?;
    // Control checks the key; bytes that are not UTF-8 become U+FFFD, which it refuses.
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .map(|k| String::from_utf8_lossy(k.as_bytes()));
    match base
        .create_deployment(&actor, &service, req, key.as_deref())
        .await?
    {
        Queued::Created(deployment) => {
            Ok((StatusCode::ACCEPTED, Json(Accepted { deployment })).into_response())
        }
        Queued::Replayed(deployment) => Ok((
            StatusCode::ACCEPTED,
            [("idempotent-replayed", "true")],
            Json(Accepted { deployment }),
        )
            .into_response()),
        Queued::KeyReused => Err(ApiError::Coded(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request: use a new key".into(),
        )),
    }
}

/// The request header that makes a deploy request safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

#[utoipa::path(
    get, path = "/services/{id}/deployments", tag = "deployments", params(("id" = String, Path, description = "The service's id"), PageQuery),
    responses((status = 200, body = DeploymentList))
)]
pub async fn list(
    On(base, actor, service): On,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<DeploymentList>> {
    let page = q.parse()?;
    // The cursor's key is the creation time in ms: deployments are paged in SQL.
    let before = match &page.after {
        None => None,
        Some((at, id)) => Some((
            at.parse::<i64>().map_err(|_| {
                control::DomainError::invalid("cursor", "not a cursor this API gave out")
            })?,
            id.as_str(),
        )),
    };
    let (deployments, next) = base
        .deployment_page(&actor, &service, before, page.limit)
        .await?;
    Ok(Json(DeploymentList {
        deployments,
        next_cursor: next.map(|(at, id)| page::encode(&at.to_string(), &id)),
    }))
}

#[utoipa::path(
    get, path = "/deployments/{id}", tag = "deployments", params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 200, body = Deployment))
)]
pub async fn show(On(base, actor, id): On) -> ApiResult<Json<Deployment>> {
    Ok(Json(base.get_deployment(&actor, &id).await?))
}

#[utoipa::path(
    post, path = "/deployments/{id}/cancel", tag = "deployments", params(("id" = String, Path, description = "The deployment's id")),
    responses((status = 200, body = Deployment))
)]
pub async fn cancel(On(base, actor, id): On) -> ApiResult<Json<Deployment>> {
    Ok(Json(base.cancel_deployment(&actor, &id).await?))
}

/// `POST /api/v1/services/{id}/rollback {"deployment_id": …}`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct RollbackRequest {
    deployment_id: String,
}

#[utoipa::path(
    post, path = "/services/{id}/rollback", tag = "deployments", params(("id" = String, Path, description = "The service's id")), request_body = RollbackRequest,
    responses((status = 200, body = Deployment))
)]
pub async fn rollback(
    On(base, actor, service): On,
    super::extract::ApiJson(req): super::extract::ApiJson<RollbackRequest>,
) -> ApiResult<Json<Deployment>> {
    Ok(Json(
        base.rollback(&actor, &service, &req.deployment_id).await?,
    ))
}

/// `POST /api/v1/services/{id}/{restart|stop|start}`.
#[utoipa::path(
    post, path = "/services/{id}/{action}", tag = "deployments",
    params(("id" = String, Path, description = "The service's id"), ("action" = LifecycleAction, Path, description = "What to do with the live release")),
    responses((status = 200, body = proto::api::Service))
)]
pub async fn action(
    On(base, actor, (service, action)): On<(String, String)>,
) -> ApiResult<Json<proto::api::Service>> {
    let action = LifecycleAction::parse(&action)
        .ok_or_else(|| ApiError::Status(StatusCode::NOT_FOUND, "no such API route".into()))?;
    Ok(Json(
        base.service_action(&actor, &service, action.into()).await?,
    ))
}

/// The `{action}` of `POST /services/{id}/{action}`.
#[derive(Clone, Copy, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum LifecycleAction {
    /// Restart the live release's process.
    Restart,
    /// Stop it (and keep it stopped across agent restarts).
    Stop,
    /// Start a stopped service again.
    Start,
}

impl LifecycleAction {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "restart" => Some(Self::Restart),
            "stop" => Some(Self::Stop),
            "start" => Some(Self::Start),
            _ => None,
        }
    }
}

impl From<LifecycleAction> for proto::wire::Lifecycle {
    fn from(a: LifecycleAction) -> Self {
        match a {
            LifecycleAction::Restart => Self::Restart,
            LifecycleAction::Stop => Self::Stop,
            LifecycleAction::Start => Self::Start,
        }
    }
}
