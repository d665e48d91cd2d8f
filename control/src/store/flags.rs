//! SQL for `base_flags`: one-shot facts about this Base, claimed by inserting a row.

use sqlx::Executor;

use super::Db;

/// Set once when the first person signs up on a Base with closed sign-up.
pub const OWNER_CLAIMED: &str = "owner_claimed";

/// Inserts the flag; a unique violation means someone else claimed it first.
pub async fn claim<'e>(
    db: impl Executor<'e, Database = Db>,
    name: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO base_flags (name, created_at) VALUES ($1, $2)")
        .bind(name)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
