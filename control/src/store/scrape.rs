//! SQL a Prometheus scrape of one cluster reads (`crate::scrape`): deployments running and
//! waiting for their agent, how long finished deployments took, services waiting for their
//! instance to confirm a removal, and the newest raw metric point of every series. Each is one
//! aggregate query, so a scrape costs the same however many deployments the cluster has had.

use proto::deploy::DeployState;

use super::metrics::PointRow;
use super::query::Arg::{Int, Text};
use super::query::{self, Exec, Table};

/// The upper bounds of the deploy-duration buckets, in seconds (then `+Inf`).
pub const DEPLOY_BUCKETS_SECS: [i64; 8] = [10, 30, 60, 120, 300, 600, 1200, 1800];

/// Finished deployments of one outcome: how many ended within each bucket's bound (not
/// cumulative), how many in all and their summed duration in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Durations {
    pub outcome: String,
    pub buckets: [i64; DEPLOY_BUCKETS_SECS.len()],
    pub count: i64,
    pub sum_ms: i64,
}

const CLUSTER_DEPLOYMENTS: &str = "deployments d JOIN services s ON s.id = d.service_id \
    JOIN instances i ON i.id = s.instance_id WHERE i.cluster_id = $1";

/// Deployments of the cluster still in progress, and of those, the orders no agent accepted
/// yet (the command queue).
pub async fn running(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<(i64, i64)> {
    let open: Vec<String> = DeployState::ALL
        .into_iter()
        .filter(|s| s.in_progress())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let sql = format!(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN d.accepted_at IS NULL THEN 1 ELSE 0 END), 0) \
         AS BIGINT) FROM {CLUSTER_DEPLOYMENTS} AND d.state IN ({})",
        open.join(", ")
    );
    query::all::<(i64, i64)>(db, &sql, &[Text(cluster_id)])
        .await
        .map(|rows| rows.first().copied().unwrap_or_default())
}

/// How long the cluster's finished deployments took, from creation to their first terminal
/// transition (live, or failed / cancelled / timed out), by outcome (`live` or `failed`).
pub async fn durations(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<Vec<Durations>> {
    let buckets: Vec<String> = DEPLOY_BUCKETS_SECS
        .iter()
        .enumerate()
        .map(|(i, secs)| {
            let low = i
                .checked_sub(1)
                .map_or(-1, |j| DEPLOY_BUCKETS_SECS[j] * 1000);
            format!(
                "CAST(COALESCE(SUM(CASE WHEN ms > {low} AND ms <= {} THEN 1 ELSE 0 END), 0) \
                 AS BIGINT)",
                secs * 1000
            )
        })
        .collect();
    let sql = format!(
        "SELECT outcome, COUNT(*), CAST(COALESCE(SUM(ms), 0) AS BIGINT), {} FROM ( \
         SELECT CASE WHEN MAX(CASE WHEN t.state = 'live' THEN 1 ELSE 0 END) = 1 \
         THEN 'live' ELSE 'failed' END AS outcome, MIN(t.at) - d.created_at AS ms \
         FROM deployment_transitions t, {CLUSTER_DEPLOYMENTS} AND t.deployment_id = d.id \
         AND t.state IN ('live', 'failed', 'cancelled', 'timed_out') \
         GROUP BY d.id, d.created_at) finished GROUP BY outcome ORDER BY outcome",
        buckets.join(", ")
    );
    type Row = (String, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
    let rows: Vec<Row> = query::all(db, &sql, &[Text(cluster_id)]).await?;
    Ok(rows
        .into_iter()
        .map(|r| Durations {
            outcome: r.0,
            count: r.1,
            sum_ms: r.2,
            buckets: [r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10],
        })
        .collect())
}

/// Services of the cluster's instances whose removal the instance has not confirmed yet.
pub async fn pending_removals(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM pending_removals r JOIN instances i ON i.id = r.instance_id \
               WHERE i.cluster_id = $1";
    query::scalar(db, sql, &[Text(cluster_id)]).await
}

/// The cluster's notifications not delivered yet.
pub async fn pending_notifications(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM notification_outbox o \
               JOIN notification_channels c ON c.id = o.channel_id \
               WHERE c.cluster_id = $1 AND o.state = 'pending'";
    query::scalar(db, sql, &[Text(cluster_id)]).await
}

/// The newest raw point of every series of the cluster's instances, if no older than `since`.
pub async fn latest_points(
    db: impl Exec<'_>,
    cluster_id: &str,
    since: i64,
) -> sqlx::Result<Vec<PointRow>> {
    let condition = format!(
        "tier = 0 AND at >= $1 AND instance_id IN (SELECT id FROM instances WHERE cluster_id = $2) \
         AND at = (SELECT MAX(q.at) FROM {from} q WHERE q.instance_id = {from}.instance_id \
         AND q.service_id = {from}.service_id AND q.tier = 0) ORDER BY instance_id, service_id",
        from = PointRow::FROM
    );
    query::select(db, &condition, &[Int(since), Text(cluster_id)]).await
}
