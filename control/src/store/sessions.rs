//! SQL for `sessions`. Only the SHA-256 of a session token is ever stored.

use sqlx::Executor;

use super::Db;
use super::users::UserRow;

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Db>,
    s: &NewSession<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.token_hash)
    .bind(s.user_id)
    .bind(s.created_at)
    .bind(s.expires_at)
    .bind(s.ip)
    .bind(s.user_agent)
    .execute(db)
    .await?;
    Ok(())
}

/// The user behind a live (unexpired, unrevoked) session.
pub async fn live_user<'e>(
    db: impl Executor<'e, Database = Db>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(
        "SELECT u.id, u.email, u.name, u.password_hash, u.created_at \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn revoke<'e>(
    db: impl Executor<'e, Database = Db>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(token_hash)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes every session of a user except `keep` (after a password change).
pub async fn revoke_others<'e>(
    db: impl Executor<'e, Database = Db>,
    user_id: &str,
    keep: &str,
    now: i64,
) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 \
         WHERE user_id = $2 AND token_hash <> $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .bind(keep)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}
