//! SQL for `clusters`.

use sqlx::{Executor, FromRow};

use super::Db;

#[derive(Debug, Clone, FromRow)]
pub struct ClusterRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Db>,
    c: &ClusterRow,
    created_by: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO clusters (id, name, created_at, created_by) VALUES ($1, $2, $3, $4)")
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.created_at)
        .bind(created_by)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn by_id<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
) -> sqlx::Result<Option<ClusterRow>> {
    sqlx::query_as("SELECT id, name, created_at FROM clusters WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn rename<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    name: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE clusters SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The first cluster ever created on this Base, if any.
pub async fn oldest<'e>(db: impl Executor<'e, Database = Db>) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT id FROM clusters ORDER BY created_at, id LIMIT 1")
        .fetch_optional(db)
        .await
}

/// Deletes a cluster and everything in it: services first (their deployments, logs and env go
/// with them), then instances (a service's instance is `ON DELETE RESTRICT`), then the cluster
/// (memberships, invitations, tokens and its events cascade). Returns false if it was gone.
pub async fn delete_with_contents(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<bool> {
    sqlx::query("DELETE FROM services WHERE cluster_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM instances WHERE cluster_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let gone = sqlx::query("DELETE FROM clusters WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(gone.rows_affected() == 1)
}
