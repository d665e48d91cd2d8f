//! SQL for `api_tokens`.

use proto::api::Role;
use sqlx::{Executor, FromRow};

use super::{Db, Named};

#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: String,
    pub cluster_id: String,
    pub user_id: String,
    pub name: String,
    #[sqlx(try_from = "Named<Role>")]
    pub role: Role,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The creator's name (joined when listing).
    #[sqlx(default)]
    pub user_name: Option<String>,
}

const COLUMNS: &str = "t.id, t.cluster_id, t.user_id, t.name, t.role, t.created_at, t.expires_at, \
                       t.last_used_at, t.revoked_at";

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Db>,
    r: &TokenRow,
    token_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, cluster_id, user_id, name, role, token_hash, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&r.id)
    .bind(&r.cluster_id)
    .bind(&r.user_id)
    .bind(&r.name)
    .bind(r.role.as_str())
    .bind(token_hash)
    .bind(r.created_at)
    .bind(r.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The live token with this hash: not revoked, not expired at `now`.
pub async fn live<'e>(
    db: impl Executor<'e, Database = Db>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens t WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
         AND (t.expires_at IS NULL OR t.expires_at > $2)"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn in_cluster<'e>(
    db: impl Executor<'e, Database = Db>,
    cluster_id: &str,
) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS}, u.name AS user_name FROM api_tokens t \
         LEFT JOIN users u ON u.id = t.user_id WHERE t.cluster_id = $1 \
         ORDER BY t.created_at DESC, t.id DESC"
    ))
    .bind(cluster_id)
    .fetch_all(db)
    .await
}

pub async fn by_id<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens t WHERE t.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Revokes a live token; false when it was already revoked.
pub async fn revoke<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let r =
        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(db)
            .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn touch<'e>(
    db: impl Executor<'e, Database = Db>,
    id: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
