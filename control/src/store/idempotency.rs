//! `idempotency_keys`: the first answer to each `Idempotency-Key` of a deployment request.

use sqlx::FromRow;

use super::query::Arg::{Int, Text};
use super::query::{Exec, execute, optional, run};

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
pub async fn find(
    db: impl Exec<'_>,
    service_id: &str,
    principal: &str,
    key: &str,
    since: i64,
) -> sqlx::Result<Option<KeyRow>> {
    let sql = "SELECT service_id, principal, idem_key, request_hash, deployment_id, response, \
               created_at FROM idempotency_keys \
               WHERE service_id = $1 AND principal = $2 AND idem_key = $3 AND created_at >= $4";
    let args = [Text(service_id), Text(principal), Text(key), Int(since)];
    optional(db, sql, &args).await
}

/// Stores the key; false when another request stored it first. `ON CONFLICT DO NOTHING`, not
/// a caught violation, which on PostgreSQL would abort the surrounding transaction.
pub async fn insert(db: impl Exec<'_>, r: &KeyRow) -> sqlx::Result<bool> {
    let sql = "INSERT INTO idempotency_keys (service_id, principal, idem_key, request_hash, \
               deployment_id, response, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
               ON CONFLICT DO NOTHING";
    let args = [
        Text(&r.service_id),
        Text(&r.principal),
        Text(&r.idem_key),
        Text(&r.request_hash),
        Text(&r.deployment_id),
        Text(&r.response),
        Int(r.created_at),
    ];
    Ok(execute(db, sql, &args).await? > 0)
}

/// Forgets keys stored before `before`.
pub async fn prune(db: impl Exec<'_>, before: i64) -> sqlx::Result<()> {
    let sql = "DELETE FROM idempotency_keys WHERE created_at < $1";
    run(db, sql, &[Int(before)]).await
}
