//! SQL for `sessions`. Only the SHA-256 of a session token is ever stored; the API names a
//! session by its opaque `id` (migration 0019), never by that hash.

use sqlx::FromRow;

use super::query::Arg::{Int, OptText, Text};
use super::query::{Exec, Table, execute, insert_into, optional, select};
use super::users::UserRow;
use crate::ids;

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
    let id = ids::new_id(ids::SESSION);
    let args = [
        Text(&id),
        Text(s.token_hash),
        Text(s.user_id),
        Int(s.created_at),
        Int(s.expires_at),
        OptText(s.ip),
        OptText(s.user_agent),
    ];
    let into = "sessions (id, token_hash, user_id, created_at, expires_at, ip, user_agent)";
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

/// Revokes every live session of a user except `keep` (after a password change, or "sign
/// out everywhere else"); how many.
pub async fn revoke_others(
    db: impl Exec<'_>,
    user_id: &str,
    keep: &str,
    now: i64,
) -> sqlx::Result<u64> {
    let sql = "UPDATE sessions SET revoked_at = $1 \
               WHERE user_id = $2 AND token_hash <> $3 AND revoked_at IS NULL AND expires_at > $1";
    execute(db, sql, &[Int(now), Text(user_id), Text(keep)]).await
}

/// A live session's user and when it was last used (to know whether to write that again).
#[derive(Debug, Clone, FromRow)]
pub struct LiveSession {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub last_used_at: Option<i64>,
}

/// [`live_user`] with the session's last use, read in the same statement.
pub async fn live(
    db: impl Exec<'_>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<LiveSession>> {
    let sql = "SELECT u.id, u.email, u.name, u.password_hash, u.created_at, s.last_used_at \
               FROM sessions s JOIN users u ON u.id = s.user_id \
               WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2";
    optional(db, sql, &[Text(token_hash), Int(now)]).await
}

/// Records a use at `now` unless one was recorded since `since` (two requests racing write
/// once); whether it wrote.
pub async fn touch(
    db: impl Exec<'_>,
    token_hash: &str,
    now: i64,
    since: i64,
) -> sqlx::Result<bool> {
    let sql = "UPDATE sessions SET last_used_at = $1 \
               WHERE token_hash = $2 AND (last_used_at IS NULL OR last_used_at < $3)";
    Ok(execute(db, sql, &[Int(now), Text(token_hash), Int(since)]).await? == 1)
}

/// One session as its owner's list shows it. `token_hash` is read only to mark the current one
/// and never leaves `control`.
#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id: String,
    pub token_hash: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Table for SessionRow {
    const FROM: &'static str = "sessions";
    const COLUMNS: &'static str = "id, token_hash, created_at, last_used_at, ip, user_agent";
}

/// The user's live sessions, most recently used (or made) first.
pub async fn live_of(db: impl Exec<'_>, user_id: &str, now: i64) -> sqlx::Result<Vec<SessionRow>> {
    let condition = "user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
                     ORDER BY COALESCE(last_used_at, created_at) DESC, id DESC";
    select(db, condition, &[Text(user_id), Int(now)]).await
}

/// Revokes the user's live session `id` (someone else's id matches nothing); the revoked row.
pub async fn revoke_by_id(
    db: impl Exec<'_>,
    user_id: &str,
    id: &str,
    now: i64,
) -> sqlx::Result<Option<SessionRow>> {
    let sql = "UPDATE sessions SET revoked_at = $1 \
               WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL AND expires_at > $1 \
               RETURNING id, token_hash, created_at, last_used_at, ip, user_agent";
    optional(db, sql, &[Int(now), Text(id), Text(user_id)]).await
}
