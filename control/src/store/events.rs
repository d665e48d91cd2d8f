//! SQL for `events`, the append-only audit log: insert and read, never update or delete.

use sqlx::{Executor, FromRow};

use super::Db;

#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub id: String,
    pub cluster_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub actor_name: Option<String>,
    pub actor_ip: Option<String>,
    pub actor_user_agent: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub details: String,
    pub created_at: i64,
}

pub async fn insert<'e>(db: impl Executor<'e, Database = Db>, e: &EventRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO events (id, cluster_id, actor_user_id, actor_ip, actor_user_agent, action, \
         target, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&e.id)
    .bind(&e.cluster_id)
    .bind(&e.actor_user_id)
    .bind(&e.actor_ip)
    .bind(&e.actor_user_agent)
    .bind(&e.action)
    .bind(&e.target)
    .bind(&e.details)
    .bind(e.created_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The newest events of a cluster, newest first.
pub async fn recent<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(
        "SELECT e.id, e.cluster_id, e.actor_user_id, u.name AS actor_name, e.actor_ip, \
         e.actor_user_agent, e.action, e.target, e.details, e.created_at \
         FROM events e LEFT JOIN users u ON u.id = e.actor_user_id \
         WHERE e.cluster_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2",
    )
    .bind(cluster_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Events not tied to a cluster (sign-ins, password changes) of one user, newest first.
pub async fn of_user<'e>(
    db: impl Executor<'e, Database = Db>,
    user_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(
        "SELECT e.id, e.cluster_id, e.actor_user_id, u.name AS actor_name, e.actor_ip, \
         e.actor_user_agent, e.action, e.target, e.details, e.created_at \
         FROM events e LEFT JOIN users u ON u.id = e.actor_user_id \
         WHERE e.actor_user_id = $1 AND e.cluster_id IS NULL \
         ORDER BY e.created_at DESC, e.id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await
}
