//! SQL for `base_flags`: one-shot facts about this Base, claimed by inserting a row.

use super::query::Arg::{Int, Text};
use super::query::{Exec, insert_into};

/// Set once when the first person signs up on a Base with closed sign-up.
pub const OWNER_CLAIMED: &str = "owner_claimed";

/// Inserts the flag; a unique violation means someone else claimed it first.
pub async fn claim(db: impl Exec<'_>, name: &str, now: i64) -> sqlx::Result<()> {
    insert_into(db, "base_flags (name, created_at)", &[Text(name), Int(now)]).await
}
