//! SQL for `service_env`: who set each variable and when, and the sealed value of secrets.

use sqlx::FromRow;

use super::query::Arg::{Int, OptInt, OptText, Text};
use super::query::{Exec, all, execute, run, scalar};

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

pub async fn upsert(db: impl Exec<'_>, r: &EnvRow) -> sqlx::Result<()> {
    let sql = "INSERT INTO service_env \
               (service_id, name, secret, sealed, key_id, updated_at, updated_by) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) \
               ON CONFLICT (service_id, name) DO UPDATE SET secret = excluded.secret, \
               sealed = excluded.sealed, key_id = excluded.key_id, \
               updated_at = excluded.updated_at, updated_by = excluded.updated_by";
    let args = [
        Text(&r.service_id),
        Text(&r.name),
        Int(r.secret),
        OptText(r.sealed.as_deref()),
        OptText(r.key_id.as_deref()),
        Int(r.updated_at),
        OptText(r.updated_by.as_deref()),
    ];
    run(db, sql, &args).await
}

/// Deletes one variable; true when it existed.
pub async fn delete(db: impl Exec<'_>, service_id: &str, name: &str) -> sqlx::Result<bool> {
    let sql = "DELETE FROM service_env WHERE service_id = $1 AND name = $2";
    Ok(execute(db, sql, &[Text(service_id), Text(name)]).await? > 0)
}

/// Every variable of a service, by name.
pub async fn of_service(db: impl Exec<'_>, service_id: &str) -> sqlx::Result<Vec<EnvRow>> {
    let sql = "SELECT e.service_id, e.name, e.secret, e.sealed, e.key_id, e.updated_at, \
               e.updated_by, u.name AS updated_by_name \
               FROM service_env e LEFT JOIN users u ON u.id = e.updated_by \
               WHERE e.service_id = $1 ORDER BY e.name";
    all(db, sql, &[Text(service_id)]).await
}

/// Every secret in the database (for a key rotation).
pub async fn all_secrets(db: impl Exec<'_>) -> sqlx::Result<Vec<EnvRow>> {
    let sql = "SELECT service_id, name, secret, sealed, key_id, updated_at, updated_by \
               FROM service_env WHERE secret = 1 ORDER BY service_id, name";
    all(db, sql, &[]).await
}

/// Replaces a secret's sealed value (rotation: who set it and when stay as they were).
pub async fn reseal(
    db: impl Exec<'_>,
    service_id: &str,
    name: &str,
    sealed: &str,
    key_id: &str,
) -> sqlx::Result<()> {
    let sql = "UPDATE service_env SET sealed = $3, key_id = $4 WHERE service_id = $1 AND name = $2";
    let args = [Text(service_id), Text(name), Text(sealed), Text(key_id)];
    run(db, sql, &args).await
}

/// Marks the service's variables as changed since its newest deployment (`at`), or clears the
/// mark (`None`) when a deployment takes them.
pub async fn set_changed(db: impl Exec<'_>, service_id: &str, at: Option<i64>) -> sqlx::Result<()> {
    let sql = "UPDATE services SET env_changed_at = $2 WHERE id = $1";
    run(db, sql, &[Text(service_id), OptInt(at)]).await
}

pub async fn changed_at(db: impl Exec<'_>, service_id: &str) -> sqlx::Result<Option<i64>> {
    let sql = "SELECT env_changed_at FROM services WHERE id = $1";
    scalar(db, sql, &[Text(service_id)]).await
}
