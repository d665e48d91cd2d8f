//! SQL for `memberships`: who belongs to which cluster, with which role.

use proto::api::{ClusterSummary, Role};
use sqlx::FromRow;

use super::Named;
use super::query::Arg::{Int, Text};
use super::query::{Exec, all, insert_into, optional, run, scalar};

pub async fn insert(
    db: impl Exec<'_>,
    cluster_id: &str,
    user_id: &str,
    role: Role,
    now: i64,
) -> sqlx::Result<()> {
    let args = [
        Text(cluster_id),
        Text(user_id),
        Text(role.as_str()),
        Int(now),
    ];
    insert_into(
        db,
        "memberships (cluster_id, user_id, role, created_at)",
        &args,
    )
    .await
}

pub async fn role_of(
    db: impl Exec<'_>,
    cluster_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<Role>> {
    let sql = "SELECT role FROM memberships WHERE cluster_id = $1 AND user_id = $2";
    let row: Option<RoleRow> = optional(db, sql, &[Text(cluster_id), Text(user_id)]).await?;
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
pub async fn clusters_of(db: impl Exec<'_>, user_id: &str) -> sqlx::Result<Vec<ClusterSummary>> {
    let sql = "SELECT c.id, c.name, m.role FROM memberships m \
               JOIN clusters c ON c.id = m.cluster_id \
               WHERE m.user_id = $1 ORDER BY m.created_at, c.id";
    let rows: Vec<Row> = all(db, sql, &[Text(user_id)]).await?;
    Ok(rows
        .into_iter()
        .map(|r| ClusterSummary {
            id: r.id,
            name: r.name,
            role: r.role,
        })
        .collect())
}

pub async fn count_in(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM memberships WHERE cluster_id = $1";
    scalar(db, sql, &[Text(cluster_id)]).await
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
pub async fn members_of(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<Vec<MemberRow>> {
    let sql = "SELECT m.user_id, u.email, u.name, m.role, m.created_at FROM memberships m \
               JOIN users u ON u.id = m.user_id WHERE m.cluster_id = $1 \
               ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 \
               WHEN 'member' THEN 2 ELSE 3 END, u.name, u.id";
    all(db, sql, &[Text(cluster_id)]).await
}

pub async fn set_role(
    db: impl Exec<'_>,
    cluster_id: &str,
    user_id: &str,
    role: Role,
) -> sqlx::Result<()> {
    let sql = "UPDATE memberships SET role = $3 WHERE cluster_id = $1 AND user_id = $2";
    run(
        db,
        sql,
        &[Text(cluster_id), Text(user_id), Text(role.as_str())],
    )
    .await
}

pub async fn delete(db: impl Exec<'_>, cluster_id: &str, user_id: &str) -> sqlx::Result<()> {
    let sql = "DELETE FROM memberships WHERE cluster_id = $1 AND user_id = $2";
    run(db, sql, &[Text(cluster_id), Text(user_id)]).await
}

pub async fn owners_in(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM memberships WHERE cluster_id = $1 AND role = 'owner'";
    scalar(db, sql, &[Text(cluster_id)]).await
}
