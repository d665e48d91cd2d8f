//! SQL for `instances` and `join_tokens`.

use sqlx::{Executor, FromRow};

use super::Db;

#[derive(Debug, Clone, FromRow)]
pub struct InstanceRow {
    pub id: String,
    pub cluster_id: String,
    pub name: String,
    pub cert_fingerprint: Option<String>,
    pub created_at: i64,
    pub enrolled_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub agent_version: Option<String>,
    pub host_facts: Option<String>,
    /// 1: browser consoles allowed; 0: switched off.
    pub console_enabled: i64,
}

const COLUMNS: &str = "id, cluster_id, name, cert_fingerprint, created_at, enrolled_at, \
                       last_seen_at, agent_version, host_facts, console_enabled";

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Db>,
    row: &InstanceRow,
    created_by: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO instances (id, cluster_id, name, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&row.id)
    .bind(&row.cluster_id)
    .bind(&row.name)
    .bind(row.created_at)
    .bind(created_by)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn by_id<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
) -> sqlx::Result<Option<InstanceRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM instances WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn by_fingerprint<'e>(
    db: impl Executor<'e, Database = Db>,
    fingerprint: &str,
) -> sqlx::Result<Option<InstanceRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM instances WHERE cert_fingerprint = $1"
    ))
    .bind(fingerprint)
    .fetch_optional(db)
    .await
}

pub async fn in_cluster<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
) -> sqlx::Result<Vec<InstanceRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM instances WHERE cluster_id = $1 ORDER BY created_at, id"
    ))
    .bind(cluster_id)
    .fetch_all(db)
    .await
}

pub async fn delete<'e>(db: impl Executor<'e, Database = Db>, id: &str) -> sqlx::Result<bool> {
    let r = sqlx::query("DELETE FROM instances WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Records the certificate an instance enrolled with; only once (a second enrollment fails).
pub async fn set_enrolled<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    fingerprint: &str,
    version: &str,
    host_facts: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE instances SET cert_fingerprint = $1, agent_version = $2, host_facts = $3, \
         enrolled_at = $4, last_seen_at = $4 WHERE id = $5 AND cert_fingerprint IS NULL",
    )
    .bind(fingerprint)
    .bind(version)
    .bind(host_facts)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn touch<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    version: &str,
    host_facts: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE instances SET agent_version = $1, host_facts = $2, last_seen_at = $3 WHERE id = $4",
    )
    .bind(version)
    .bind(host_facts)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn insert_join_token<'e>(
    db: impl Executor<'e, Database = Db>,
    token_hash: &str,
    instance_id: &str,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO join_tokens (token_hash, instance_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(instance_id)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Burns a live join token and returns its instance; `None` if unknown, used or expired. One
/// conditional UPDATE, so two concurrent uses of one token succeed at most once.
pub async fn burn_join_token<'e>(
    db: impl Executor<'e, Database = Db>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "UPDATE join_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING instance_id",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

pub async fn count_in<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM instances WHERE cluster_id = $1")
        .bind(cluster_id)
        .fetch_one(db)
        .await
}

pub async fn set_console_enabled<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    enabled: bool,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE instances SET console_enabled = $1 WHERE id = $2")
        .bind(i64::from(enabled))
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
