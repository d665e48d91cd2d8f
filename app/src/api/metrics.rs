//! Server functions for the metrics charts: a service's and an instance's stored series (the
//! same `control` calls, and so the same rule, as `GET /api/v1/services/{id}/metrics` and
//! `/api/v1/instances/{id}/metrics`: any member of the cluster, Guests included; not found for
//! anyone else) and the headroom of each of a cluster's servers now.

use leptos::prelude::*;
use proto::api::MetricSeries;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::as_actor;

/// How much of one server is in use now, from its newest stored point (none in the last two
/// minutes: `None`s). Percentages of the whole machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headroom {
    pub instance_id: String,
    pub name: String,
    pub cpu_pct: Option<f64>,
    pub mem_pct: Option<f64>,
    pub disk_pct: Option<f64>,
}

#[cfg(feature = "ssr")]
fn query(since: String, step: u32) -> proto::api::MetricsQuery {
    proto::api::MetricsQuery {
        since: Some(since),
        step: Some(step),
    }
}

/// A service's series over `since` (`1h`, `24h`, `7d`) with points at least `step` s apart.
#[server(prefix = "/rpc")]
pub async fn get_service_metrics(
    service_id: String,
    since: String,
    step: u32,
) -> Result<MetricSeries, AppError> {
    as_actor(async |base, actor| {
        base.service_metrics(actor, &service_id, &query(since, step))
            .await
    })
    .await
}

/// An instance's host series, as [`get_service_metrics`].
#[server(prefix = "/rpc")]
pub async fn get_instance_metrics(
    instance_id: String,
    since: String,
    step: u32,
) -> Result<MetricSeries, AppError> {
    as_actor(async |base, actor| {
        base.instance_metrics(actor, &instance_id, &query(since, step))
            .await
    })
    .await
}

/// Each of the cluster's servers with its headroom now.
#[server(prefix = "/rpc")]
pub async fn get_headroom(cluster_id: String) -> Result<Vec<Headroom>, AppError> {
    as_actor(async |base, actor| {
        let mut out = Vec::new();
        for i in base.list_instances(actor, &cluster_id).await? {
            let series = base
                .instance_metrics(actor, &i.id, &query("2m".into(), 0))
                .await?;
            let last = series.points.last();
            let share = |used: Option<i64>, total: Option<i64>| match (used, total) {
                (Some(u), Some(t)) if t > 0 => Some(u as f64 * 100.0 / t as f64),
                _ => None,
            };
            let host = last.and_then(|p| p.host.as_ref());
            out.push(Headroom {
                instance_id: i.id,
                name: i.name,
                cpu_pct: last.and_then(|p| p.cpu_centi_pct).map(|c| c as f64 / 100.0),
                mem_pct: share(
                    last.and_then(|p| p.mem_bytes),
                    host.map(|h| h.mem_total_bytes),
                ),
                disk_pct: share(
                    host.map(|h| h.disk_used_bytes),
                    host.map(|h| h.disk_total_bytes),
                ),
            });
        }
        Ok(out)
    })
    .await
}
