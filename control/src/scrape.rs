//! What a Prometheus scrape (`GET /metrics`, issue 19) sees of one cluster: its instances and
//! whether their agents are connected, deployments running and waiting for their agent, how
//! long finished deployments took, removals and notifications waiting, and the newest raw
//! point of every host and service series.
//!
//! Who may scrape: an API token (never a browser session: scrapers hold a token, and a token
//! names its cluster) whose role, and its creator's role now, is Owner or Admin
//! ([`ScrapeMetrics`]). The token's cluster is the scope: a scrape never shows another
//! cluster's figures. Series older than [`FRESH_MS`] are left out, so a silent instance's
//! series go stale in Prometheus instead of repeating their last value.

use std::collections::HashMap;

use crate::rbac::{ScrapeMetrics, authorize};
use crate::store::metrics::PointRow;
use crate::store::scrape::{self as sql, Durations};
use crate::{Actor, Base, DomainError};

/// How recent a series' newest point must be to be exposed: a few sampling intervals.
pub const FRESH_MS: i64 = 60_000;

/// One instance of the scraped cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapedInstance {
    pub id: String,
    pub name: String,
    pub connected: bool,
}

/// A series' newest point with the names Prometheus labels it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestPoint {
    pub instance: String,
    /// Empty for the instance's host.
    pub service: String,
    pub point: PointRow,
}

/// Everything one scrape shows of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterScrape {
    pub cluster: String,
    pub instances: Vec<ScrapedInstance>,
    pub deploys_running: i64,
    /// Deployments whose order no agent has accepted yet (the command queue).
    pub deploys_waiting: i64,
    pub removals_waiting: i64,
    /// Notifications not delivered yet (retries included).
    pub notifications_waiting: i64,
    pub durations: Vec<Durations>,
    pub latest: Vec<LatestPoint>,
}

impl Base {
    /// The scrape of the token's cluster; `Unauthorized` without an API token, `Forbidden`
    /// below Admin.
    pub async fn scrape(&self, actor: &Actor) -> Result<ClusterScrape, DomainError> {
        let grant = (actor.token.as_ref()).ok_or(DomainError::Unauthorized(
            "scraping metrics needs an API token (Authorization: Bearer …)",
        ))?;
        let may = authorize::<ScrapeMetrics>(&self.store, actor, &grant.cluster_id).await?;
        let cluster_id = may.cluster_id();
        let pool = self.store.pool();
        let cluster = crate::store::clusters::by_id(pool, cluster_id)
            .await?
            .ok_or(DomainError::NotFound("cluster"))?;
        let instances: Vec<ScrapedInstance> = crate::store::instances::in_cluster(pool, cluster_id)
            .await?
            .into_iter()
            .map(|i| ScrapedInstance {
                connected: self.instance_online(&i.id),
                id: i.id,
                name: i.name,
            })
            .collect();
        let services: HashMap<String, String> =
            crate::store::services::in_cluster(pool, cluster_id)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
        let names: HashMap<&str, &str> = instances
            .iter()
            .map(|i| (i.id.as_str(), i.name.as_str()))
            .collect();
        let since = self.clock.now_ms() - FRESH_MS;
        let latest = sql::latest_points(pool, cluster_id, since)
            .await?
            .into_iter()
            .filter_map(|point| {
                let instance = names.get(point.instance_id.as_str())?.to_string();
                let service = match point.service_id.as_str() {
                    "" => String::new(),
                    // A deleted service's points age out; it has no name to show.
                    id => services.get(id)?.clone(),
                };
                Some(LatestPoint {
                    instance,
                    service,
                    point,
                })
            })
            .collect();
        let (deploys_running, deploys_waiting) = sql::running(pool, cluster_id).await?;
        Ok(ClusterScrape {
            cluster: cluster.name,
            deploys_running,
            deploys_waiting,
            removals_waiting: sql::pending_removals(pool, cluster_id).await?,
            notifications_waiting: sql::pending_notifications(pool, cluster_id).await?,
            durations: sql::durations(pool, cluster_id).await?,
            instances,
            latest,
        })
    }
}
