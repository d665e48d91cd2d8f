//! SQL for `services`.

use proto::api::ServiceStatus;
use sqlx::FromRow;

use super::Named;
use super::query::Arg::{Int, OptText, Text};
use super::query::{Exec, Table, execute, insert_into, run, scalar, select, select_one};

#[derive(Debug, Clone, FromRow)]
pub struct ServiceRow {
    pub id: String,
    pub cluster_id: String,
    pub instance_id: String,
    pub name: String,
    /// JSON of `proto::service::ServiceSpec`.
    pub spec: String,
    #[sqlx(try_from = "Named<ServiceStatus>")]
    pub status: ServiceStatus,
    pub live_deployment_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the variables changed after the newest deployment was made (see migration 0006).
    pub env_changed_at: Option<i64>,
}

impl Table for ServiceRow {
    const FROM: &'static str = "services";
    const COLUMNS: &'static str = "id, cluster_id, instance_id, name, spec, status, \
                                   live_deployment_id, created_at, updated_at, env_changed_at";
}

pub async fn insert(
    db: impl Exec<'_>,
    row: &ServiceRow,
    created_by: Option<&str>,
) -> sqlx::Result<()> {
    let args = [
        Text(&row.id),
        Text(&row.cluster_id),
        Text(&row.instance_id),
        Text(&row.name),
        Text(&row.spec),
        Text(row.status.as_str()),
        OptText(row.live_deployment_id.as_deref()),
        OptText(created_by),
        Int(row.created_at),
        Int(row.updated_at),
    ];
    let into = "services (id, cluster_id, instance_id, name, spec, status, live_deployment_id, \
                created_by, created_at, updated_at)";
    insert_into(db, into, &args).await
}

pub async fn by_id(db: impl Exec<'_>, id: &str) -> sqlx::Result<Option<ServiceRow>> {
    select_one(db, "id = $1", &[Text(id)]).await
}

pub async fn in_cluster(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<Vec<ServiceRow>> {
    select(db, "cluster_id = $1 ORDER BY name", &[Text(cluster_id)]).await
}

pub async fn count_in(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM services WHERE cluster_id = $1";
    scalar(db, sql, &[Text(cluster_id)]).await
}

pub async fn on_instance(db: impl Exec<'_>, instance_id: &str) -> sqlx::Result<Vec<ServiceRow>> {
    select(db, "instance_id = $1 ORDER BY name", &[Text(instance_id)]).await
}

/// Writes name, spec, status and live deployment back.
pub async fn update(db: impl Exec<'_>, row: &ServiceRow) -> sqlx::Result<()> {
    let sql = "UPDATE services SET name = $1, spec = $2, status = $3, live_deployment_id = $4, \
               updated_at = $5 WHERE id = $6";
    let args = [
        Text(&row.name),
        Text(&row.spec),
        Text(row.status.as_str()),
        OptText(row.live_deployment_id.as_deref()),
        Int(row.updated_at),
        Text(&row.id),
    ];
    run(db, sql, &args).await
}

/// Replaces the settings alone (the domains API keeping `spec.domains` in step), leaving the
/// status the agent's reports move untouched.
pub async fn set_spec(db: impl Exec<'_>, id: &str, spec: &str, at: i64) -> sqlx::Result<()> {
    let sql = "UPDATE services SET spec = $2, updated_at = $3 WHERE id = $1";
    run(db, sql, &[Text(id), Text(spec), Int(at)]).await
}

pub async fn delete(db: impl Exec<'_>, id: &str) -> sqlx::Result<bool> {
    let sql = "DELETE FROM services WHERE id = $1";
    Ok(execute(db, sql, &[Text(id)]).await? == 1)
}
