//! SQL for `invites`.

use proto::api::Role;
use sqlx::FromRow;

use super::Named;
use super::query::Arg::{Int, OptText, Text};
use super::query::{Exec, Table, execute, insert_into, select, select_one};

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

impl Table for InviteRow {
    const FROM: &'static str = "invites i LEFT JOIN users u ON u.id = i.invited_by";
    const COLUMNS: &'static str = "i.id, i.cluster_id, i.email, i.role, i.invited_by, \
                                   i.created_at, i.expires_at, u.name AS invited_by_name";
}

/// What makes an invitation pending, given `now` as `$2`.
const PENDING: &str = "i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2";

pub async fn insert(db: impl Exec<'_>, r: &InviteRow, token_hash: &str) -> sqlx::Result<()> {
    let args = [
        Text(&r.id),
        Text(&r.cluster_id),
        Text(&r.email),
        Text(r.role.as_str()),
        Text(token_hash),
        OptText(r.invited_by.as_deref()),
        Int(r.created_at),
        Int(r.expires_at),
    ];
    let into = "invites (id, cluster_id, email, role, token_hash, invited_by, created_at, \
                expires_at)";
    insert_into(db, into, &args).await
}

/// The pending (not accepted, revoked or expired) invitation with this token hash.
pub async fn pending_by_hash(
    db: impl Exec<'_>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<InviteRow>> {
    let condition = format!("i.token_hash = $1 AND {PENDING}");
    select_one(db, &condition, &[Text(token_hash), Int(now)]).await
}

pub async fn pending_in(
    db: impl Exec<'_>,
    cluster_id: &str,
    now: i64,
) -> sqlx::Result<Vec<InviteRow>> {
    let condition =
        format!("i.cluster_id = $1 AND {PENDING} ORDER BY i.created_at DESC, i.id DESC");
    select(db, &condition, &[Text(cluster_id), Int(now)]).await
}

/// Marks a pending invitation used; false when someone else used it first (single use).
pub async fn accept(db: impl Exec<'_>, id: &str, user_id: &str, now: i64) -> sqlx::Result<bool> {
    let sql = "UPDATE invites SET accepted_at = $3, accepted_by = $2 \
               WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL";
    Ok(execute(db, sql, &[Text(id), Text(user_id), Int(now)]).await? > 0)
}

/// Revokes a pending invitation of the cluster; false when there was none.
pub async fn revoke(db: impl Exec<'_>, cluster_id: &str, id: &str, now: i64) -> sqlx::Result<bool> {
    let sql = "UPDATE invites SET revoked_at = $3 WHERE id = $1 AND cluster_id = $2 \
               AND accepted_at IS NULL AND revoked_at IS NULL";
    Ok(execute(db, sql, &[Text(id), Text(cluster_id), Int(now)]).await? > 0)
}

/// Revokes the invitations still open in the cluster that the user made (they left or were
/// removed); how many.
pub async fn revoke_made_by(
    db: impl Exec<'_>,
    cluster_id: &str,
    user_id: &str,
    now: i64,
) -> sqlx::Result<u64> {
    let sql = "UPDATE invites SET revoked_at = $3 WHERE cluster_id = $1 AND invited_by = $2 \
               AND accepted_at IS NULL AND revoked_at IS NULL";
    execute(db, sql, &[Text(cluster_id), Text(user_id), Int(now)]).await
}
