//! SQL for `pending_removals`: services deleted in Base that their instance has not confirmed
//! removing yet.

use sqlx::FromRow;

use super::query::Arg::{Int, OptText, Text};
use super::query::{self, Exec, execute, run};

#[derive(Debug, Clone, FromRow)]
pub struct RemovalRow {
    pub instance_id: String,
    pub service_id: String,
    pub cert_fingerprint: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "instance_id, service_id, cert_fingerprint, created_at";

/// Notes that `service_id` must go from `instance_id` (whose agent has `fingerprint`, if it
/// enrolled). Noting it twice keeps the first.
pub async fn insert(
    db: impl Exec<'_>,
    instance_id: &str,
    service_id: &str,
    fingerprint: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    let sql = "INSERT INTO pending_removals (instance_id, service_id, cert_fingerprint, \
               created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
    let args = [
        Text(instance_id),
        Text(service_id),
        OptText(fingerprint),
        Int(now),
    ];
    run(db, sql, &args).await
}

/// What an instance still has to remove, oldest first.
pub async fn of_instance(db: impl Exec<'_>, instance_id: &str) -> sqlx::Result<Vec<RemovalRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM pending_removals WHERE instance_id = $1 \
         ORDER BY created_at, service_id"
    );
    query::all(db, &sql, &[Text(instance_id)]).await
}

/// What the agent holding `fingerprint` still has to remove (its instance may be gone).
pub async fn of_fingerprint(db: impl Exec<'_>, fingerprint: &str) -> sqlx::Result<Vec<RemovalRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM pending_removals WHERE cert_fingerprint = $1 \
         ORDER BY created_at, service_id"
    );
    query::all(db, &sql, &[Text(fingerprint)]).await
}

/// Every instance with something left to remove.
pub async fn instances(db: impl Exec<'_>) -> sqlx::Result<Vec<String>> {
    let sql = "SELECT DISTINCT instance_id FROM pending_removals ORDER BY instance_id";
    let rows: Vec<(String,)> = query::all(db, sql, &[]).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The agent confirmed the removal.
pub async fn done(db: impl Exec<'_>, instance_id: &str, service_id: &str) -> sqlx::Result<bool> {
    let sql = "DELETE FROM pending_removals WHERE instance_id = $1 AND service_id = $2";
    Ok(execute(db, sql, &[Text(instance_id), Text(service_id)]).await? > 0)
}
