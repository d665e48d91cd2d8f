//! SQL for `api_tokens`.

use proto::api::Role;
use sqlx::FromRow;

use super::Named;
use super::query::Arg::{Int, OptInt, Text};
use super::query::{Exec, Table, all, execute, insert_into, run, select_one};

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

impl Table for TokenRow {
    const FROM: &'static str = "api_tokens t";
    const COLUMNS: &'static str = "t.id, t.cluster_id, t.user_id, t.name, t.role, t.created_at, \
                                   t.expires_at, t.last_used_at, t.revoked_at";
}

pub async fn insert(db: impl Exec<'_>, r: &TokenRow, token_hash: &str) -> sqlx::Result<()> {
    let args = [
        Text(&r.id),
        Text(&r.cluster_id),
        Text(&r.user_id),
        Text(&r.name),
        Text(r.role.as_str()),
        Text(token_hash),
        Int(r.created_at),
        OptInt(r.expires_at),
    ];
    let into = "api_tokens (id, cluster_id, user_id, name, role, token_hash, created_at, \
                expires_at)";
    insert_into(db, into, &args).await
}

/// The live token with this hash: not revoked, not expired at `now`.
pub async fn live(db: impl Exec<'_>, token_hash: &str, now: i64) -> sqlx::Result<Option<TokenRow>> {
    let condition = "t.token_hash = $1 AND t.revoked_at IS NULL \
                     AND (t.expires_at IS NULL OR t.expires_at > $2)";
    select_one(db, condition, &[Text(token_hash), Int(now)]).await
}

pub async fn in_cluster(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<Vec<TokenRow>> {
    let sql = format!(
        "SELECT {}, u.name AS user_name FROM api_tokens t \
         LEFT JOIN users u ON u.id = t.user_id WHERE t.cluster_id = $1 \
         ORDER BY t.created_at DESC, t.id DESC",
        TokenRow::COLUMNS
    );
    all(db, &sql, &[Text(cluster_id)]).await
}

pub async fn by_id(db: impl Exec<'_>, id: &str) -> sqlx::Result<Option<TokenRow>> {
    select_one(db, "t.id = $1", &[Text(id)]).await
}

/// Revokes a live token; false when it was already revoked.
pub async fn revoke(db: impl Exec<'_>, id: &str, now: i64) -> sqlx::Result<bool> {
    let sql = "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
    Ok(execute(db, sql, &[Text(id), Int(now)]).await? > 0)
}

pub async fn touch(db: impl Exec<'_>, id: &str, now: i64) -> sqlx::Result<()> {
    let sql = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";
    run(db, sql, &[Text(id), Int(now)]).await
}

/// Revokes every live token of the user, in every cluster (a password change); how many.
pub async fn revoke_all_of(db: impl Exec<'_>, user_id: &str, now: i64) -> sqlx::Result<u64> {
    let sql = "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
    execute(db, sql, &[Text(user_id), Int(now)]).await
}

/// Revokes every live token of the user in one cluster (they left or were removed); how many.
pub async fn revoke_in_cluster(
    db: impl Exec<'_>,
    cluster_id: &str,
    user_id: &str,
    now: i64,
) -> sqlx::Result<u64> {
    let sql = "UPDATE api_tokens SET revoked_at = $3 \
               WHERE cluster_id = $1 AND user_id = $2 AND revoked_at IS NULL";
    execute(db, sql, &[Text(cluster_id), Text(user_id), Int(now)]).await
}

/// Revokes the live tokens an OIDC binding issued (found by their `oidc.exchange` events, whose
/// target is the binding and whose acting token is the one issued); how many.
pub async fn revoke_issued_by(
    db: impl Exec<'_>,
    cluster_id: &str,
    binding_id: &str,
    now: i64,
) -> sqlx::Result<u64> {
    let sql = "UPDATE api_tokens SET revoked_at = $4 \
               WHERE cluster_id = $1 AND revoked_at IS NULL AND id IN \
               (SELECT actor_token_id FROM events \
                WHERE cluster_id = $1 AND action = $2 AND target = $3 \
                AND actor_token_id IS NOT NULL)";
    let exchange = proto::api::AuditAction::OidcExchange.as_str();
    execute(
        db,
        sql,
        &[Text(cluster_id), Text(exchange), Text(binding_id), Int(now)],
    )
    .await
}
