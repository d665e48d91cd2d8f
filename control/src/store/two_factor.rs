//! SQL for two-factor sign-in: `user_totp` (the sealed secret), `backup_codes` (hashed),
//! `login_challenges` (the second step of a sign-in), a session's `step_up_at` and a cluster's
//! `require_2fa`. Every "use once" is one conditional `UPDATE`, so two requests racing with the
//! same code cannot both pass.

use sqlx::FromRow;

use super::query::Arg::{Int, Text};
use super::query::{Exec, Table, execute, insert_into, optional_scalar, run, scalar, select_one};

/// An account's TOTP secret, sealed, and whether its enrolment was confirmed.
#[derive(Debug, Clone, FromRow)]
pub struct TotpRow {
    pub user_id: String,
    pub sealed: String,
    pub key_id: String,
    pub created_at: i64,
    pub enabled_at: Option<i64>,
    pub last_step: Option<i64>,
}

impl Table for TotpRow {
    const FROM: &'static str = "user_totp";
    const COLUMNS: &'static str = "user_id, sealed, key_id, created_at, enabled_at, last_step";
}

pub async fn totp_of(db: impl Exec<'_>, user_id: &str) -> sqlx::Result<Option<TotpRow>> {
    select_one(db, "user_id = $1", &[Text(user_id)]).await
}

/// Every stored secret, for resealing after a master key rotation.
pub async fn all_totp(db: impl Exec<'_>) -> sqlx::Result<Vec<TotpRow>> {
    super::query::select(db, "1 = 1 ORDER BY user_id", &[]).await
}

/// A new, unconfirmed secret for `user_id` (the caller drops a pending one first): a unique
/// violation when two-factor is already on, so the enabled secret is never replaced this way.
pub async fn start(
    db: impl Exec<'_>,
    user_id: &str,
    sealed: &str,
    key_id: &str,
    now: i64,
) -> sqlx::Result<()> {
    let into = "user_totp (user_id, sealed, key_id, created_at)";
    insert_into(
        db,
        into,
        &[Text(user_id), Text(sealed), Text(key_id), Int(now)],
    )
    .await
}

/// Forgets an unconfirmed enrolment (before a new one starts).
pub async fn drop_pending(db: impl Exec<'_>, user_id: &str) -> sqlx::Result<()> {
    let sql = "DELETE FROM user_totp WHERE user_id = $1 AND enabled_at IS NULL";
    run(db, sql, &[Text(user_id)]).await
}

/// Turns two-factor on with the step of the confirming code; false if it was not pending.
pub async fn enable(db: impl Exec<'_>, user_id: &str, step: i64, now: i64) -> sqlx::Result<bool> {
    let sql = "UPDATE user_totp SET enabled_at = $1, last_step = $2 \
               WHERE user_id = $3 AND enabled_at IS NULL";
    Ok(execute(db, sql, &[Int(now), Int(step), Text(user_id)]).await? == 1)
}

/// Takes `step` as the last code used: false when it, or a later one, was used already (a
/// replay).
pub async fn take_step(db: impl Exec<'_>, user_id: &str, step: i64) -> sqlx::Result<bool> {
    let sql = "UPDATE user_totp SET last_step = $1 \
               WHERE user_id = $2 AND enabled_at IS NOT NULL \
               AND (last_step IS NULL OR last_step < $1)";
    Ok(execute(db, sql, &[Int(step), Text(user_id)]).await? == 1)
}

/// Turns two-factor off: forgets the secret (the caller also deletes the backup codes).
pub async fn delete_totp(db: impl Exec<'_>, user_id: &str) -> sqlx::Result<bool> {
    let sql = "DELETE FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL";
    Ok(execute(db, sql, &[Text(user_id)]).await? == 1)
}

pub async fn reseal(
    db: impl Exec<'_>,
    user_id: &str,
    sealed: &str,
    key_id: &str,
) -> sqlx::Result<()> {
    let sql = "UPDATE user_totp SET sealed = $1, key_id = $2 WHERE user_id = $3";
    run(db, sql, &[Text(sealed), Text(key_id), Text(user_id)]).await
}

/// Whether `user_id` has two-factor on.
pub async fn enabled(db: impl Exec<'_>, user_id: &str) -> sqlx::Result<bool> {
    let sql = "SELECT COUNT(*) FROM user_totp WHERE user_id = $1 AND enabled_at IS NOT NULL";
    Ok(scalar::<i64>(db, sql, &[Text(user_id)]).await? > 0)
}

pub async fn insert_code(
    db: impl Exec<'_>,
    user_id: &str,
    code_hash: &str,
    now: i64,
) -> sqlx::Result<()> {
    let into = "backup_codes (code_hash, user_id, created_at)";
    insert_into(db, into, &[Text(code_hash), Text(user_id), Int(now)]).await
}

pub async fn delete_codes(db: impl Exec<'_>, user_id: &str) -> sqlx::Result<u64> {
    execute(
        db,
        "DELETE FROM backup_codes WHERE user_id = $1",
        &[Text(user_id)],
    )
    .await
}

/// Uses one backup code: false when it is not `user_id`'s or was used already.
pub async fn use_code(
    db: impl Exec<'_>,
    user_id: &str,
    code_hash: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let sql = "UPDATE backup_codes SET used_at = $1 \
               WHERE code_hash = $2 AND user_id = $3 AND used_at IS NULL";
    Ok(execute(db, sql, &[Int(now), Text(code_hash), Text(user_id)]).await? == 1)
}

/// How many of `user_id`'s backup codes are still unused.
pub async fn codes_left(db: impl Exec<'_>, user_id: &str) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM backup_codes WHERE user_id = $1 AND used_at IS NULL";
    scalar(db, sql, &[Text(user_id)]).await
}

pub async fn insert_challenge(
    db: impl Exec<'_>,
    token_hash: &str,
    user_id: &str,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    let into = "login_challenges (token_hash, user_id, created_at, expires_at)";
    let args = [Text(token_hash), Text(user_id), Int(now), Int(expires_at)];
    insert_into(db, into, &args).await
}

/// The account a live (unused, unexpired) challenge belongs to.
pub async fn challenge_user(
    db: impl Exec<'_>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<String>> {
    let sql = "SELECT user_id FROM login_challenges \
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
    optional_scalar(db, sql, &[Text(token_hash), Int(now)]).await
}

/// Ends a challenge (its sign-in is done): false if it was used or expired meanwhile.
pub async fn use_challenge(db: impl Exec<'_>, token_hash: &str, now: i64) -> sqlx::Result<bool> {
    let sql = "UPDATE login_challenges SET used_at = $1 \
               WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1";
    Ok(execute(db, sql, &[Int(now), Text(token_hash)]).await? == 1)
}

/// Forgets challenges that ended more than a day ago (they prove nothing any more).
pub async fn prune_challenges(db: impl Exec<'_>, before: i64) -> sqlx::Result<u64> {
    let sql = "DELETE FROM login_challenges WHERE expires_at < $1";
    execute(db, sql, &[Int(before)]).await
}

/// Records that a code was entered on the session `token_hash` at `now`.
pub async fn set_step_up(db: impl Exec<'_>, token_hash: &str, now: i64) -> sqlx::Result<()> {
    let sql = "UPDATE sessions SET step_up_at = $1 WHERE token_hash = $2";
    run(db, sql, &[Int(now), Text(token_hash)]).await
}

/// When a code was last entered on the session `token_hash`, if ever.
pub async fn step_up_at(db: impl Exec<'_>, token_hash: &str) -> sqlx::Result<Option<i64>> {
    let sql = "SELECT step_up_at FROM sessions WHERE token_hash = $1";
    Ok(optional_scalar::<Option<i64>>(db, sql, &[Text(token_hash)])
        .await?
        .flatten())
}

pub async fn set_required(db: impl Exec<'_>, cluster_id: &str, required: bool) -> sqlx::Result<()> {
    let sql = "UPDATE clusters SET require_2fa = $1 WHERE id = $2";
    run(db, sql, &[Int(i64::from(required)), Text(cluster_id)]).await
}

pub async fn required(db: impl Exec<'_>, cluster_id: &str) -> sqlx::Result<bool> {
    let sql = "SELECT require_2fa FROM clusters WHERE id = $1";
    Ok(optional_scalar::<i64>(db, sql, &[Text(cluster_id)])
        .await?
        .unwrap_or(0)
        == 1)
}

/// Whether `cluster_id` requires two-factor and `user_id` has it off: one query, run on every
/// authorization.
pub async fn refused_by_cluster(
    db: impl Exec<'_>,
    cluster_id: &str,
    user_id: &str,
) -> sqlx::Result<bool> {
    let sql = "SELECT COUNT(*) FROM clusters c WHERE c.id = $1 AND c.require_2fa = 1 \
               AND NOT EXISTS (SELECT 1 FROM user_totp t \
                               WHERE t.user_id = $2 AND t.enabled_at IS NOT NULL)";
    Ok(scalar::<i64>(db, sql, &[Text(cluster_id), Text(user_id)]).await? > 0)
}

/// How many of `user_id`'s clusters require two-factor (they may not turn it off).
pub async fn requiring_clusters(db: impl Exec<'_>, user_id: &str) -> sqlx::Result<i64> {
    let sql = "SELECT COUNT(*) FROM clusters c JOIN memberships m ON m.cluster_id = c.id \
               WHERE m.user_id = $1 AND c.require_2fa = 1";
    scalar(db, sql, &[Text(user_id)]).await
}
