//! SQL for `memberships`: who belongs to which cluster, with which role.

use proto::api::{ClusterSummary, Role};
use sqlx::{Executor, FromRow};

use super::{Db, Named};

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
    let row: Option<RoleRow> =
        sqlx::query_as("SELECT role FROM memberships WHERE cluster_id = $1 AND user_id = $2")
            .bind(cluster_id)
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|r| r.role))
}

#[derive(FromRow)]
struct RoleRow {
    #[sqlx(try_from = "Named<Role>")]
    role: Role,
}

#[derive(FromRow)]
struct Row {
    id: String,
    name: String,
    #[sqlx(try_from = "Named<Role>")]
    role: Role,
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
        .map(|r| ClusterSummary {
            id: r.id,
            name: r.name,
            role: r.role,
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

/// A member as listed: the membership joined with the user.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    pub user_id: String,
    pub email: String,
    pub name: String,
    #[sqlx(try_from = "Named<Role>")]
    pub role: Role,
    pub created_at: i64,
}

/// The cluster's members, most powerful role first, then by name.
pub async fn members_of<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as(
        "SELECT m.user_id, u.email, u.name, m.role, m.created_at FROM memberships m \
         JOIN users u ON u.id = m.user_id WHERE m.cluster_id = $1 \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 \
         ELSE 3 END, u.name, u.id",
    )
    .bind(cluster_id)
    .fetch_all(db)
    .await
}

pub async fn set_role<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
    user_id: &str,
    role: Role,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE memberships SET role = $3 WHERE cluster_id = $1 AND user_id = $2")
        .bind(cluster_id)
        .bind(user_id)
        .bind(role.as_str())
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
    user_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM memberships WHERE cluster_id = $1 AND user_id = $2")
        .bind(cluster_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn owners_in<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE cluster_id = $1 AND role = 'owner'")
        .bind(cluster_id)
        .fetch_one(db)
        .await
}
