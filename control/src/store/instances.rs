//! SQL for `instances` and `join_tokens`.

use sqlx::FromRow;

use super::query::Arg::{Int, OptText, Text};
use super::query::{
    Exec, Table, execute, insert_into, optional_scalar, run, scalar, select, select_one,
};

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

impl Table for InstanceRow {
    const FROM: &'static str = "instances";
    const COLUMNS: &'static str = "id, cluster_id, name, cert_fingerprint, created_at, \
                                   enrolled_at, last_seen_at, agent_version, host_facts, \
                                   console_enabled";
}

pub async fn insert(
    db: impl Exec<'_>,
    row: &InstanceRow,
    created_by: Option<&str>,
) -> sqlx::Result<()> {
    let args = [
        Text(&row.id),
        Text(&row.cluster_id),
        Text(&row.name),
        Int(row.created_at),
        OptText(created_by),
        Int(row.console_enabled),
    ];
    insert_into(
        db,
        "instances (id, cluster_id, name, created_at, created_by, console_enabled)",
        &args,
    )
    .await
}

pub async fn by_id(db: impl Exec<'_>, id: &str) -> sqlx::Result<Option<InstanceRow>> {
    select_one(db, "id = $1", &[Text(id)]).await
}

pub async fn by_fingerprint(
    db: impl Exec<'_>,
    fingerprint: &str,
) -> sqlx::Result<Option<InstanceRow>> {
    select_one(db, "cert_fingerprint = $1", &[Text(fingerprint)]).await
}

pub async fn in_cluster(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<Vec<InstanceRow>> {
    let condition = "cluster_id = $1 ORDER BY created_at, id";
    select(db, condition, &[Text(cluster_id)]).await
}

pub async fn delete(db: impl Exec<'_>, id: &str) -> sqlx::Result<bool> {
    let sql = "DELETE FROM instances WHERE id = $1";
    Ok(execute(db, sql, &[Text(id)]).await? == 1)
}

/// Records the certificate an instance enrolled with; only once (a second enrollment fails).
pub async fn set_enrolled(
    db: impl Exec<'_>,
    id: &str,
    fingerprint: &str,
    version: &str,
    host_facts: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "UPDATE instances SET cert_fingerprint = $1, agent_version = $2, host_facts = $3, \
               enrolled_at = $4, last_seen_at = $4 WHERE id = $5 AND cert_fingerprint IS NULL";
    let args = [
        Text(fingerprint),
        Text(version),
        Text(host_facts),
        Int(now),
        Text(id),
    ];
    Ok(execute(db, sql, &args).await? == 1)
}

pub async fn touch(
    db: impl Exec<'_>,
    id: &str,
    version: &str,
    host_facts: &str,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "UPDATE instances SET agent_version = $1, host_facts = $2, last_seen_at = $3 \
               WHERE id = $4";
    run(
        db,
        sql,
        &[Text(version), Text(host_facts), Int(now), Text(id)],
    )
    .await
}

pub async fn insert_join_token(
    db: impl Exec<'_>,
    token_hash: &str,
    instance_id: &str,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    let args = [
        Text(token_hash),
        Text(instance_id),
        Int(now),
        Int(expires_at),
    ];
    insert_into(
        db,
        "join_tokens (token_hash, instance_id, created_at, expires_at)",
        &args,
    )
    .await
}

/// Burns a live join token and returns its instance; `None` if unknown, used or expired. One
/// conditional UPDATE, so two concurrent uses of one token succeed at most once.
/// Whether a join token with this hash could be burnt now (a read: no write lock taken).
pub async fn join_token_usable(
    db: impl Exec<'_>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "SELECT instance_id FROM join_tokens \
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
    Ok(
        optional_scalar::<String>(db, sql, &[Text(token_hash), Int(now)])
            .await?
            .is_some(),
    )
}

pub async fn burn_join_token(
    db: impl Exec<'_>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<String>> {
    let sql = "UPDATE join_tokens SET used_at = $1 \
               WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
               RETURNING instance_id";
    optional_scalar(db, sql, &[Int(now), Text(token_hash)]).await
}

pub async fn count_in(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM instances WHERE cluster_id = $1";
    scalar(db, sql, &[Text(cluster_id)]).await
}

pub async fn set_console_enabled(db: impl Exec<'_>, id: &str, enabled: bool) -> sqlx::Result<()> {
    let sql = "UPDATE instances SET console_enabled = $1 WHERE id = $2";
    run(db, sql, &[Int(i64::from(enabled)), Text(id)]).await
}
