//! SQL for `service_env`: who set each variable and when, and the sealed value of secrets.

use sqlx::{Executor, FromRow};

use super::Db;

#[derive(Debug, Clone, FromRow)]
pub struct EnvRow {
    pub service_id: String,
    pub name: String,
    /// 1 for a secret.
    pub secret: i64,
    pub sealed: Option<String>,
    pub key_id: Option<String>,
    pub updated_at: i64,
    pub updated_by: Option<String>,
    /// The name of `updated_by` (joined when reading).
    #[sqlx(default)]
    pub updated_by_name: Option<String>,
}

pub async fn upsert<'e>(db: impl Executor<'e, Database = Db>, r: &EnvRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO service_env (service_id, name, secret, sealed, key_id, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (service_id, name) DO UPDATE SET secret = excluded.secret, \
         sealed = excluded.sealed, key_id = excluded.key_id, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
    )
    .bind(&r.service_id)
    .bind(&r.name)
    .bind(r.secret)
    .bind(&r.sealed)
    .bind(&r.key_id)
    .bind(r.updated_at)
    .bind(&r.updated_by)
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes one variable; true when it existed.
pub async fn delete<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    name: &str,
) -> sqlx::Result<bool> {
    let r = sqlx::query("DELETE FROM service_env WHERE service_id = $1 AND name = $2")
        .bind(service_id)
        .bind(name)
        .execute(db)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Every variable of a service, by name.
pub async fn of_service<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
) -> sqlx::Result<Vec<EnvRow>> {
    sqlx::query_as(
        "SELECT e.service_id, e.name, e.secret, e.sealed, e.key_id, e.updated_at, e.updated_by, \
         u.name AS updated_by_name \
         FROM service_env e LEFT JOIN users u ON u.id = e.updated_by \
         WHERE e.service_id = $1 ORDER BY e.name",
    )
    .bind(service_id)
    .fetch_all(db)
    .await
}

/// Every secret in the database (for a key rotation).
pub async fn all_secrets<'e>(db: impl Executor<'e, Database = Db>) -> sqlx::Result<Vec<EnvRow>> {
    sqlx::query_as(
        "SELECT service_id, name, secret, sealed, key_id, updated_at, updated_by \
         FROM service_env WHERE secret = 1 ORDER BY service_id, name",
    )
    .fetch_all(db)
    .await
}

/// Replaces a secret's sealed value (rotation: who set it and when stay as they were).
pub async fn reseal<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    name: &str,
    sealed: &str,
    key_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE service_env SET sealed = $3, key_id = $4 WHERE service_id = $1 AND name = $2",
    )
    .bind(service_id)
    .bind(name)
    .bind(sealed)
    .bind(key_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the service's variables as changed since its newest deployment (`at`), or clears the
/// mark (`None`) when a deployment takes them.
pub async fn set_changed<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    at: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE services SET env_changed_at = $2 WHERE id = $1")
        .bind(service_id)
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn changed_at<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
) -> sqlx::Result<Option<i64>> {
    let (at,): (Option<i64>,) = sqlx::query_as("SELECT env_changed_at FROM services WHERE id = $1")
        .bind(service_id)
        .fetch_one(db)
        .await?;
    Ok(at)
}
