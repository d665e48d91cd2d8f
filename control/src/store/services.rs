//! SQL for `services`.

use proto::api::ServiceStatus;
use sqlx::{Executor, FromRow};

use super::{Db, Named};

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

const COLUMNS: &str = "id, cluster_id, instance_id, name, spec, status, live_deployment_id, \
                       created_at, updated_at, env_changed_at";

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Db>,
    row: &ServiceRow,
    created_by: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO services (id, cluster_id, instance_id, name, spec, status, \
         live_deployment_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&row.id)
    .bind(&row.cluster_id)
    .bind(&row.instance_id)
    .bind(&row.name)
    .bind(&row.spec)
    .bind(row.status.as_str())
    .bind(&row.live_deployment_id)
    .bind(created_by)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn by_id<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
) -> sqlx::Result<Option<ServiceRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM services WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn in_cluster<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
) -> sqlx::Result<Vec<ServiceRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM services WHERE cluster_id = $1 ORDER BY name"
    ))
    .bind(cluster_id)
    .fetch_all(db)
    .await
}

pub async fn count_in<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM services WHERE cluster_id = $1")
        .bind(cluster_id)
        .fetch_one(db)
        .await
}

pub async fn on_instance<'e>(
    db: impl Executor<'e, Database = Db>,
    instance_id: &str,
) -> sqlx::Result<Vec<ServiceRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM services WHERE instance_id = $1 ORDER BY name"
    ))
    .bind(instance_id)
    .fetch_all(db)
    .await
}

/// Writes name, spec, status and live deployment back.
pub async fn update<'e>(
    db: impl Executor<'e, Database = Db>,
    row: &ServiceRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE services SET name = $1, spec = $2, status = $3, live_deployment_id = $4, \
         updated_at = $5 WHERE id = $6",
    )
    .bind(&row.name)
    .bind(&row.spec)
    .bind(row.status.as_str())
    .bind(&row.live_deployment_id)
    .bind(row.updated_at)
    .bind(&row.id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete<'e>(db: impl Executor<'e, Database = Db>, id: &str) -> sqlx::Result<bool> {
    let r = sqlx::query("DELETE FROM services WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}
