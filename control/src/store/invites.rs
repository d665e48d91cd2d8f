//! SQL for `invites`.

use proto::api::Role;
use sqlx::{Executor, FromRow};

use super::{Db, Named};

#[derive(Debug, Clone, FromRow)]
pub struct InviteRow {
    pub id: String,
    pub cluster_id: String,
    pub email: String,
    #[sqlx(try_from = "Named<Role>")]
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// The inviter's name (joined when reading).
    #[sqlx(default)]
    pub invited_by_name: Option<String>,
}

const SELECT: &str = "i.id, i.cluster_id, i.email, i.role, i.invited_by, i.created_at, \
                      i.expires_at, u.name AS invited_by_name \
                      FROM invites i LEFT JOIN users u ON u.id = i.invited_by";

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Db>,
    r: &InviteRow,
    token_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO invites (id, cluster_id, email, role, token_hash, invited_by, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&r.id)
    .bind(&r.cluster_id)
    .bind(&r.email)
    .bind(r.role.as_str())
    .bind(token_hash)
    .bind(&r.invited_by)
    .bind(r.created_at)
    .bind(r.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The pending (not accepted, revoked or expired) invitation with this token hash.
pub async fn pending_by_hash<'e>(
    db: impl Executor<'e, Database = Db>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<InviteRow>> {
    sqlx::query_as(&format!(
        "SELECT {SELECT} WHERE i.token_hash = $1 AND i.accepted_at IS NULL \
         AND i.revoked_at IS NULL AND i.expires_at > $2"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn pending_in<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
    now: i64,
) -> sqlx::Result<Vec<InviteRow>> {
    sqlx::query_as(&format!(
        "SELECT {SELECT} WHERE i.cluster_id = $1 AND i.accepted_at IS NULL \
         AND i.revoked_at IS NULL AND i.expires_at > $2 ORDER BY i.created_at DESC, i.id DESC"
    ))
    .bind(cluster_id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// Marks a pending invitation used; false when someone else used it first (single use).
pub async fn accept<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    user_id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE invites SET accepted_at = $3, accepted_by = $2 \
         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(user_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Revokes a pending invitation of the cluster; false when there was none.
pub async fn revoke<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
    id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE invites SET revoked_at = $3 WHERE id = $1 AND cluster_id = $2 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(cluster_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected() > 0)
}
