//! SQL for `service_webhooks` (one push-to-deploy hook per service, its secret sealed) and
//! `webhook_deliveries` (delivery ids already handled, for deduplication).

use sqlx::{Executor, FromRow};

use super::Db;

#[derive(Debug, Clone, FromRow)]
pub struct WebhookRow {
    pub service_id: String,
    pub sealed: String,
    pub key_id: String,
    /// The branch filter; `None`: the service's own git branch.
    pub branch: Option<String>,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub last_delivery_at: Option<i64>,
    pub last_provider: Option<String>,
    pub last_outcome: Option<String>,
    /// The name of `created_by` (joined when reading).
    #[sqlx(default)]
    pub created_by_name: Option<String>,
}

/// Creates the service's hook or replaces it (a rotation: new secret, new creator, history
/// of deliveries forgotten).
pub async fn upsert<'e>(db: impl Executor<'e, Database = Db>, r: &WebhookRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO service_webhooks (service_id, sealed, key_id, branch, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (service_id) DO UPDATE SET sealed = excluded.sealed, \
         key_id = excluded.key_id, branch = excluded.branch, created_at = excluded.created_at, \
         created_by = excluded.created_by, last_delivery_at = NULL, last_provider = NULL, \
         last_outcome = NULL",
    )
    .bind(&r.service_id)
    .bind(&r.sealed)
    .bind(&r.key_id)
    .bind(&r.branch)
    .bind(r.created_at)
    .bind(&r.created_by)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn of_service<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
) -> sqlx::Result<Option<WebhookRow>> {
    sqlx::query_as(
        "SELECT w.service_id, w.sealed, w.key_id, w.branch, w.created_at, w.created_by, \
         w.last_delivery_at, w.last_provider, w.last_outcome, u.name AS created_by_name \
         FROM service_webhooks w LEFT JOIN users u ON u.id = w.created_by \
         WHERE w.service_id = $1",
    )
    .bind(service_id)
    .fetch_optional(db)
    .await
}

/// Removes the hook; true when there was one.
pub async fn delete<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
) -> sqlx::Result<bool> {
    let r = sqlx::query("DELETE FROM service_webhooks WHERE service_id = $1")
        .bind(service_id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Notes the newest verified delivery and what came of it.
pub async fn record_delivery<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    at: i64,
    provider: &str,
    outcome: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE service_webhooks SET last_delivery_at = $2, last_provider = $3, \
         last_outcome = $4 WHERE service_id = $1",
    )
    .bind(service_id)
    .bind(at)
    .bind(provider)
    .bind(outcome)
    .execute(db)
    .await?;
    Ok(())
}

/// Every hook (for a master key rotation).
pub async fn all<'e>(db: impl Executor<'e, Database = Db>) -> sqlx::Result<Vec<WebhookRow>> {
    sqlx::query_as(
        "SELECT service_id, sealed, key_id, branch, created_at, created_by, last_delivery_at, \
         last_provider, last_outcome FROM service_webhooks ORDER BY service_id",
    )
    .fetch_all(db)
    .await
}

pub async fn reseal<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    sealed: &str,
    key_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE service_webhooks SET sealed = $2, key_id = $3 WHERE service_id = $1")
        .bind(service_id)
        .bind(sealed)
        .bind(key_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Records a delivery id; false when it was already there (a retry: do nothing again). Uses
/// `ON CONFLICT DO NOTHING` rather than catching the violation, which on PostgreSQL would
/// abort the surrounding transaction.
pub async fn first_delivery<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    provider: &str,
    delivery_id: &str,
    at: i64,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "INSERT INTO webhook_deliveries (service_id, provider, delivery_id, received_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(service_id)
    .bind(provider)
    .bind(delivery_id)
    .bind(at)
    .execute(db)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Forgets delivery ids received before `before`.
pub async fn prune_deliveries<'e>(
    db: impl Executor<'e, Database = Db>,
    before: i64,
) -> sqlx::Result<u64> {
    let r = sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}
