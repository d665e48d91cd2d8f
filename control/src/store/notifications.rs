//! SQL for `notification_channels` (a cluster's alert channels, their secret sealed) and
//! `notification_incidents` (incidents in progress, one row each).

use sqlx::FromRow;

use super::query::Arg::{Int, OptInt, OptText, Text};
use super::query::{self, Exec, execute, insert_into, optional, run};

#[derive(Debug, Clone, FromRow)]
pub struct ChannelRow {
    pub id: String,
    pub cluster_id: String,
    pub name: String,
    pub kind: String,
    /// A webhook's URL or an email channel's recipients (comma-separated); '' otherwise.
    pub target: String,
    pub sealed: Option<String>,
    pub key_id: Option<String>,
    /// `,kind,kind,`: see the migration.
    pub events: String,
    pub disk_pct: Option<i64>,
    pub mem_pct: Option<i64>,
    pub mem_minutes: Option<i64>,
    pub created_at: i64,
    pub created_by: Option<String>,
}

const COLUMNS: &str = "id, cluster_id, name, kind, target, sealed, key_id, events, disk_pct, \
                       mem_pct, mem_minutes, created_at, created_by";

pub async fn insert(db: impl Exec<'_>, r: &ChannelRow) -> sqlx::Result<()> {
    let args = [
        Text(&r.id),
        Text(&r.cluster_id),
        Text(&r.name),
        Text(&r.kind),
        Text(&r.target),
        OptText(r.sealed.as_deref()),
        OptText(r.key_id.as_deref()),
        Text(&r.events),
        OptInt(r.disk_pct),
        OptInt(r.mem_pct),
        OptInt(r.mem_minutes),
        Int(r.created_at),
        OptText(r.created_by.as_deref()),
    ];
    insert_into(db, &format!("notification_channels ({COLUMNS})"), &args).await
}

/// Writes every field but the id, the cluster and the creation.
pub async fn update(db: impl Exec<'_>, r: &ChannelRow) -> sqlx::Result<()> {
    let sql = "UPDATE notification_channels SET name = $2, target = $3, sealed = $4, \
               key_id = $5, events = $6, disk_pct = $7, mem_pct = $8, mem_minutes = $9 \
               WHERE id = $1";
    let args = [
        Text(&r.id),
        Text(&r.name),
        Text(&r.target),
        OptText(r.sealed.as_deref()),
        OptText(r.key_id.as_deref()),
        Text(&r.events),
        OptInt(r.disk_pct),
        OptInt(r.mem_pct),
        OptInt(r.mem_minutes),
    ];
    run(db, sql, &args).await
}

pub async fn by_id(
    db: impl Exec<'_>,
    cluster_id: &str,
    id: &str,
) -> sqlx::Result<Option<ChannelRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM notification_channels WHERE cluster_id = $1 AND id = $2");
    optional(db, &sql, &[Text(cluster_id), Text(id)]).await
}

/// A channel wherever it is (for the delivery worker).
pub async fn any_by_id(db: impl Exec<'_>, id: &str) -> sqlx::Result<Option<ChannelRow>> {
    let sql = format!("SELECT {COLUMNS} FROM notification_channels WHERE id = $1");
    optional(db, &sql, &[Text(id)]).await
}

pub async fn in_cluster(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<Vec<ChannelRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notification_channels WHERE cluster_id = $1 ORDER BY created_at, id"
    );
    query::all(db, &sql, &[Text(cluster_id)]).await
}

/// Channels anywhere subscribed to `alert` (the disk and memory watch).
pub async fn subscribed_to(db: impl Exec<'_>, alert: &str) -> sqlx::Result<Vec<ChannelRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM notification_channels WHERE events LIKE $1 ORDER BY id");
    query::all(db, &sql, &[Text(&format!("%,{alert},%"))]).await
}

/// Every channel with a sealed secret (for a master key rotation).
pub async fn sealed(db: impl Exec<'_>) -> sqlx::Result<Vec<ChannelRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM notification_channels WHERE sealed IS NOT NULL ORDER BY id");
    query::all(db, &sql, &[]).await
}

pub async fn delete(db: impl Exec<'_>, cluster_id: &str, id: &str) -> sqlx::Result<bool> {
    let sql = "DELETE FROM notification_channels WHERE cluster_id = $1 AND id = $2";
    Ok(execute(db, sql, &[Text(cluster_id), Text(id)]).await? > 0)
}

/// Starts an incident; false when it is already in progress.
pub async fn open_incident(
    db: impl Exec<'_>,
    kind: &str,
    subject: &str,
    cluster_id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "INSERT INTO notification_incidents (kind, subject, cluster_id, opened_at) \
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
    let args = [Text(kind), Text(subject), Text(cluster_id), Int(now)];
    Ok(execute(db, sql, &args).await? > 0)
}

/// Ends an incident; false when none was in progress.
pub async fn close_incident(db: impl Exec<'_>, kind: &str, subject: &str) -> sqlx::Result<bool> {
    let sql = "DELETE FROM notification_incidents WHERE kind = $1 AND subject = $2";
    Ok(execute(db, sql, &[Text(kind), Text(subject)]).await? > 0)
}

/// The subjects of the incidents of `kind` in progress.
pub async fn open_incidents(db: impl Exec<'_>, kind: &str) -> sqlx::Result<Vec<String>> {
    let sql = "SELECT subject FROM notification_incidents WHERE kind = $1 ORDER BY subject";
    let rows: Vec<(String,)> = query::all(db, sql, &[Text(kind)]).await?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

/// How many `action` events `target` has had since `since` (crashes in a window).
pub async fn count_events(
    db: impl Exec<'_>,
    action: &str,
    target: &str,
    since: i64,
) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM events WHERE action = $1 AND target = $2 AND created_at >= $3";
    query::scalar(db, sql, &[Text(action), Text(target), Int(since)]).await
}

/// The newest `action` event of `target`, if any (when a crash loop last crashed).
pub async fn last_event_at(
    db: impl Exec<'_>,
    action: &str,
    target: &str,
) -> sqlx::Result<Option<i64>> {
    let sql = "SELECT MAX(created_at) FROM events WHERE action = $1 AND target = $2";
    query::scalar(db, sql, &[Text(action), Text(target)]).await
}

/// An enrolled instance, as the offline watch sees it.
#[derive(Debug, Clone, FromRow)]
pub struct WatchedInstance {
    pub id: String,
    pub cluster_id: String,
    pub name: String,
}

/// Every enrolled instance.
pub async fn enrolled_instances(db: impl Exec<'_>) -> sqlx::Result<Vec<WatchedInstance>> {
    let sql = "SELECT id, cluster_id, name FROM instances WHERE cert_fingerprint IS NOT NULL \
               ORDER BY id";
    query::all(db, sql, &[]).await
}

/// An instance's raw host figures the thresholds look at.
#[derive(Debug, Clone, FromRow)]
pub struct HostFill {
    pub at: i64,
    pub mem_bytes: Option<i64>,
    pub mem_total_bytes: Option<i64>,
    pub disk_used_bytes: Option<i64>,
    pub disk_total_bytes: Option<i64>,
}

/// `instance_id`'s raw host points since `since`, oldest first.
pub async fn host_fill(
    db: impl Exec<'_>,
    instance_id: &str,
    since: i64,
) -> sqlx::Result<Vec<HostFill>> {
    let sql = "SELECT at, mem_bytes, mem_total_bytes, disk_used_bytes, disk_total_bytes \
               FROM metric_points WHERE instance_id = $1 AND service_id = '' AND tier = 0 \
               AND at >= $2 ORDER BY at";
    query::all(db, sql, &[Text(instance_id), Int(since)]).await
}
