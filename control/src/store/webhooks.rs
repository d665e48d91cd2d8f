//! SQL for `service_webhooks` (one push-to-deploy hook per service, its secret sealed) and
//! `webhook_deliveries` (delivery ids already handled, for deduplication).

use sqlx::FromRow;

use super::query::Arg::{Int, OptText, Text};
use super::query::{self, Exec, execute, optional, run};

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
pub async fn upsert(db: impl Exec<'_>, r: &WebhookRow) -> sqlx::Result<()> {
    let sql = "INSERT INTO service_webhooks \
               (service_id, sealed, key_id, branch, created_at, created_by) \
               VALUES ($1, $2, $3, $4, $5, $6) \
               ON CONFLICT (service_id) DO UPDATE SET sealed = excluded.sealed, \
               key_id = excluded.key_id, branch = excluded.branch, \
               created_at = excluded.created_at, created_by = excluded.created_by, \
               last_delivery_at = NULL, last_provider = NULL, last_outcome = NULL";
    let args = [
        Text(&r.service_id),
        Text(&r.sealed),
        Text(&r.key_id),
        OptText(r.branch.as_deref()),
        Int(r.created_at),
        OptText(r.created_by.as_deref()),
    ];
    run(db, sql, &args).await
}

pub async fn of_service(db: impl Exec<'_>, service_id: &str) -> sqlx::Result<Option<WebhookRow>> {
    let sql = "SELECT w.service_id, w.sealed, w.key_id, w.branch, w.created_at, w.created_by, \
               w.last_delivery_at, w.last_provider, w.last_outcome, u.name AS created_by_name \
               FROM service_webhooks w LEFT JOIN users u ON u.id = w.created_by \
               WHERE w.service_id = $1";
    optional(db, sql, &[Text(service_id)]).await
}

/// Removes the hook; true when there was one.
pub async fn delete(db: impl Exec<'_>, service_id: &str) -> sqlx::Result<bool> {
    let sql = "DELETE FROM service_webhooks WHERE service_id = $1";
    Ok(execute(db, sql, &[Text(service_id)]).await? > 0)
}

/// Notes the newest verified delivery and what came of it.
pub async fn record_delivery(
    db: impl Exec<'_>,
    service_id: &str,
    at: i64,
    provider: &str,
    outcome: &str,
) -> sqlx::Result<()> {
    let sql = "UPDATE service_webhooks SET last_delivery_at = $2, last_provider = $3, \
               last_outcome = $4 WHERE service_id = $1";
    let args = [Text(service_id), Int(at), Text(provider), Text(outcome)];
    run(db, sql, &args).await
}

/// Every hook (for a master key rotation).
pub async fn all(db: impl Exec<'_>) -> sqlx::Result<Vec<WebhookRow>> {
    let sql = "SELECT service_id, sealed, key_id, branch, created_at, created_by, \
               last_delivery_at, last_provider, last_outcome FROM service_webhooks \
               ORDER BY service_id";
    query::all(db, sql, &[]).await
}

pub async fn reseal(
    db: impl Exec<'_>,
    service_id: &str,
    sealed: &str,
    key_id: &str,
) -> sqlx::Result<()> {
    let sql = "UPDATE service_webhooks SET sealed = $2, key_id = $3 WHERE service_id = $1";
    run(db, sql, &[Text(service_id), Text(sealed), Text(key_id)]).await
}

/// Records a delivery id; false when it was already there (a retry: do nothing again). Uses
/// `ON CONFLICT DO NOTHING` rather than catching the violation, which on PostgreSQL would
/// abort the surrounding transaction.
pub async fn first_delivery(
    db: impl Exec<'_>,
    service_id: &str,
    provider: &str,
    delivery_id: &str,
    at: i64,
) -> sqlx::Result<bool> {
    let sql = "INSERT INTO webhook_deliveries (service_id, provider, delivery_id, received_at) \
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
    let args = [Text(service_id), Text(provider), Text(delivery_id), Int(at)];
    Ok(execute(db, sql, &args).await? > 0)
}

/// Forgets delivery ids received before `before`.
pub async fn prune_deliveries(db: impl Exec<'_>, before: i64) -> sqlx::Result<u64> {
    let sql = "DELETE FROM webhook_deliveries WHERE received_at < $1";
    execute(db, sql, &[Int(before)]).await
}
