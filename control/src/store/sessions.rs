//! SQL for `sessions`. Only the SHA-256 of a session token is ever stored.

use super::query::Arg::{Int, OptText, Text};
use super::query::{Exec, execute, insert_into, optional};
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

pub async fn insert(db: impl Exec<'_>, s: &NewSession<'_>) -> sqlx::Result<()> {
    let args = [
        Text(s.token_hash),
        Text(s.user_id),
        Int(s.created_at),
        Int(s.expires_at),
        OptText(s.ip),
        OptText(s.user_agent),
    ];
    let into = "sessions (token_hash, user_id, created_at, expires_at, ip, user_agent)";
    insert_into(db, into, &args).await
}

/// The user behind a live (unexpired, unrevoked) session.
pub async fn live_user(
    db: impl Exec<'_>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<UserRow>> {
    let sql = "SELECT u.id, u.email, u.name, u.password_hash, u.created_at \
               FROM sessions s JOIN users u ON u.id = s.user_id \
               WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2";
    optional(db, sql, &[Text(token_hash), Int(now)]).await
}

pub async fn revoke(db: impl Exec<'_>, token_hash: &str, now: i64) -> sqlx::Result<bool> {
    let sql = "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL";
    Ok(execute(db, sql, &[Int(now), Text(token_hash)]).await? == 1)
}

/// Revokes every session of a user except `keep` (after a password change).
pub async fn revoke_others(
    db: impl Exec<'_>,
    user_id: &str,
    keep: &str,
    now: i64,
) -> sqlx::Result<u64> {
    let sql = "UPDATE sessions SET revoked_at = $1 \
               WHERE user_id = $2 AND token_hash <> $3 AND revoked_at IS NULL";
    execute(db, sql, &[Int(now), Text(user_id), Text(keep)]).await
}
