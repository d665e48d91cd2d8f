//! Stored metrics: `GET /services/{id}/metrics` and `GET /instances/{id}/metrics`, readable by
//! any member of the cluster (a 404 for anyone else), `?since=1h&step=60`.

use axum::Json;
use proto::api::{MetricSeries, MetricsQuery};

use super::error::ApiResult;
use super::extract::{ApiQuery, On};

#[utoipa::path(
    get, path = "/services/{id}/metrics", tag = "metrics",
    params(("id" = String, Path, description = "The service's id"), MetricsQuery),
    responses((status = 200, description = "The service's CPU, memory and restarts, oldest first", body = MetricSeries))
)]
pub async fn of_service(
    On(base, actor, id): On,
    ApiQuery(q): ApiQuery<MetricsQuery>,
) -> ApiResult<Json<MetricSeries>> {
    Ok(Json(base.service_metrics(&actor, &id, &q).await?))
}

#[utoipa::path(
    get, path = "/instances/{id}/metrics", tag = "metrics",
    params(("id" = String, Path, description = "The instance's id"), MetricsQuery),
    responses((status = 200, description = "The instance's CPU, load, memory, swap, disk and network, oldest first", body = MetricSeries))
)]
pub async fn of_instance(
    On(base, actor, id): On,
    ApiQuery(q): ApiQuery<MetricsQuery>,
) -> ApiResult<Json<MetricSeries>> {
    Ok(Json(base.instance_metrics(&actor, &id, &q).await?))
}
