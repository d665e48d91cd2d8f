//! SQL for `base_flags`: one-shot facts about this Base, claimed by inserting a row.

use super::query::Arg::{Int, Text};
use super::query::{Exec, run};

/// Set once when the first person signs up on a Base with closed sign-up.
pub const OWNER_CLAIMED: &str = "owner_claimed";

/// Inserts the flag; a unique violation means someone else claimed it first.
pub async fn claim(db: impl Exec<'_>, name: &str, now: i64) -> sqlx::Result<()> {
    let sql = "INSERT INTO base_flags (name, created_at) VALUES ($1, $2)";
    run(db, sql, &[Text(name), Int(now)]).await
}
