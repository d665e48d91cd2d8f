//! SQL for `agent_commands`: commands one replica decided for an agent another replica holds,
//! taken once by the holder, with the outcome it writes back.

use super::query::Arg::{Int, Text};
use super::query::{Exec, all, optional, optional_scalar, run};

pub struct NewCommand<'a> {
    pub id: &'a str,
    pub instance_id: &'a str,
    /// `proto::wire::Command` as JSON.
    pub command: &'a str,
    pub requested_by: &'a str,
    pub created_at: i64,
    pub deadline: i64,
}

pub async fn insert(db: impl Exec<'_>, c: &NewCommand<'_>) -> sqlx::Result<()> {
    let sql = "INSERT INTO agent_commands \
               (id, instance_id, command, requested_by, created_at, deadline) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    let args = [
        Text(c.id),
        Text(c.instance_id),
        Text(c.command),
        Text(c.requested_by),
        Int(c.created_at),
        Int(c.deadline),
    ];
    run(db, sql, &args).await
}

/// The commands not taken yet, before their deadline, for agents `replica` holds.
pub async fn waiting_for(db: impl Exec<'_>, replica: &str, now: i64) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = all(
        db,
        "SELECT c.id FROM agent_commands c \
         JOIN agent_connections a ON a.instance_id = c.instance_id \
         WHERE a.replica_id = $1 AND c.taken_by IS NULL AND c.deadline > $2 \
         ORDER BY c.created_at",
        &[Text(replica), Int(now)],
    )
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Takes the command for `replica` unless another took it or its deadline passed: its
/// instance, command and deadline.
pub async fn take(
    db: impl Exec<'_>,
    id: &str,
    replica: &str,
    now: i64,
) -> sqlx::Result<Option<(String, String, i64)>> {
    optional(
        db,
        "UPDATE agent_commands SET taken_by = $2 \
         WHERE id = $1 AND taken_by IS NULL AND deadline > $3 \
         RETURNING instance_id, command, deadline",
        &[Text(id), Text(replica), Int(now)],
    )
    .await
}

/// Writes the outcome (JSON) of a taken command.
pub async fn finish(db: impl Exec<'_>, id: &str, outcome: &str, now: i64) -> sqlx::Result<()> {
    let sql = "UPDATE agent_commands SET outcome = $2, done_at = $3 WHERE id = $1";
    run(db, sql, &[Text(id), Text(outcome), Int(now)]).await
}

/// The outcome written back, if any yet.
pub async fn outcome_of(db: impl Exec<'_>, id: &str) -> sqlx::Result<Option<String>> {
    let found: Option<Option<String>> = optional_scalar(
        db,
        "SELECT outcome FROM agent_commands WHERE id = $1",
        &[Text(id)],
    )
    .await?;
    Ok(found.flatten())
}

/// Deletes commands created before `before` (long answered or abandoned).
pub async fn forget_before(db: impl Exec<'_>, before: i64) -> sqlx::Result<()> {
    run(
        db,
        "DELETE FROM agent_commands WHERE created_at < $1",
        &[Int(before)],
    )
    .await
}
