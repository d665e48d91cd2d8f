//! `idempotency_keys`: the first answer to each `Idempotency-Key` of a deployment request.

use sqlx::{Executor, FromRow};

use super::Db;

#[derive(Debug, Clone, FromRow)]
pub struct KeyRow {
    pub service_id: String,
    pub principal: String,
    pub idem_key: String,
    pub request_hash: String,
    pub deployment_id: String,
    pub response: String,
    pub created_at: i64,
}

/// The key's row if it was stored at or after `since` (older ones no longer count).
pub async fn find<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    principal: &str,
    key: &str,
    since: i64,
) -> sqlx::Result<Option<KeyRow>> {
    sqlx::query_as(
        "SELECT service_id, principal, idem_key, request_hash, deployment_id, response, \
         created_at FROM idempotency_keys \
         WHERE service_id = $1 AND principal = $2 AND idem_key = $3 AND created_at >= $4",
    )
    .bind(service_id)
    .bind(principal)
    .bind(key)
    .bind(since)
    .fetch_optional(db)
    .await
}

/// Stores the key; false when another request stored it first. `ON CONFLICT DO NOTHING`, not
/// a caught violation, which on PostgreSQL would abort the surrounding transaction.
pub async fn insert<'e>(db: impl Executor<'e, Database = Db>, r: &KeyRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO idempotency_keys (service_id, principal, idem_key, request_hash, \
         deployment_id, response, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&r.service_id)
    .bind(&r.principal)
    .bind(&r.idem_key)
    .bind(&r.request_hash)
    .bind(&r.deployment_id)
    .bind(&r.response)
    .bind(r.created_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Forgets keys stored before `before`.
pub async fn prune<'e>(db: impl Executor<'e, Database = Db>, before: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(())
}
