//! SQL for `memberships`: who belongs to which cluster, with which role.

use proto::api::{ClusterSummary, Role};
use sqlx::{Executor, FromRow};

use super::Db;

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
    user_id: &str,
    role: Role,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO memberships (cluster_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(cluster_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn role_of<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<Role>> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM memberships WHERE cluster_id = $1 AND user_id = $2")
            .bind(cluster_id)
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    Ok(role.as_deref().and_then(Role::parse))
}

#[derive(FromRow)]
struct Row {
    id: String,
    name: String,
    role: String,
}

/// The user's clusters, oldest membership first (so the first is the one they started with).
pub async fn clusters_of<'e>(
    db: impl Executor<'e, Database = Db>,
    user_id: &str,
) -> sqlx::Result<Vec<ClusterSummary>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id, c.name, m.role FROM memberships m JOIN clusters c ON c.id = m.cluster_id \
         WHERE m.user_id = $1 ORDER BY m.created_at, c.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(ClusterSummary {
                id: r.id,
                name: r.name,
                role: Role::parse(&r.role)?,
            })
        })
        .collect())
}

pub async fn count_in<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE cluster_id = $1")
        .bind(cluster_id)
        .fetch_one(db)
        .await
}
