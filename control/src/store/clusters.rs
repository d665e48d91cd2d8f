//! SQL for `clusters`.

use sqlx::FromRow;

use super::query::Arg::{Int, Text};
use super::query::{Exec, Table, execute, insert_into, optional_scalar, run, select_one};

#[derive(Debug, Clone, FromRow)]
pub struct ClusterRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

impl Table for ClusterRow {
    const FROM: &'static str = "clusters";
    const COLUMNS: &'static str = "id, name, created_at";
}

pub async fn insert(db: impl Exec<'_>, c: &ClusterRow, created_by: &str) -> sqlx::Result<()> {
    let args = [
        Text(&c.id),
        Text(&c.name),
        Int(c.created_at),
        Text(created_by),
    ];
    insert_into(db, "clusters (id, name, created_at, created_by)", &args).await
}

pub async fn by_id(db: impl Exec<'_>, id: &str) -> sqlx::Result<Option<ClusterRow>> {
    select_one(db, "id = $1", &[Text(id)]).await
}

pub async fn rename(db: impl Exec<'_>, id: &str, name: &str) -> sqlx::Result<()> {
    let sql = "UPDATE clusters SET name = $1 WHERE id = $2";
    run(db, sql, &[Text(name), Text(id)]).await
}

/// The first cluster ever created on this Base, if any.
pub async fn oldest(db: impl Exec<'_>) -> sqlx::Result<Option<String>> {
    let sql = "SELECT id FROM clusters ORDER BY created_at, id LIMIT 1";
    optional_scalar(db, sql, &[]).await
}

/// Deletes a cluster and everything in it: services first (their deployments, logs and env go
/// with them), then instances (a service's instance is `ON DELETE RESTRICT`), then the cluster
/// (memberships, invitations, tokens and its events cascade). Returns false if it was gone.
pub async fn delete_with_contents(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<bool> {
    let args = [Text(id)];
    run(
        &mut *conn,
        "DELETE FROM services WHERE cluster_id = $1",
        &args,
    )
    .await?;
    run(
        &mut *conn,
        "DELETE FROM instances WHERE cluster_id = $1",
        &args,
    )
    .await?;
    let gone = execute(&mut *conn, "DELETE FROM clusters WHERE id = $1", &args).await?;
    Ok(gone == 1)
}
