//! SQL for `replicas` (the Base processes on this database, each with a lease) and
//! `agent_connections` (which replica holds each agent's connection, and its epoch).

use super::query::Arg::{Int, OptText, Text};
use super::query::{Exec, all, execute, optional_scalar, run};

/// Records the replica as alive until `lease_until` (inserting it the first time), taking
/// streams from the others at `peer_addr`.
pub async fn renew(
    db: impl Exec<'_>,
    id: &str,
    started_at: i64,
    lease_until: i64,
    peer_addr: Option<&str>,
) -> sqlx::Result<()> {
    let sql = "INSERT INTO replicas (id, started_at, lease_until, peer_addr) \
               VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE \
               SET lease_until = excluded.lease_until, peer_addr = excluded.peer_addr";
    let args = [
        Text(id),
        Int(started_at),
        Int(lease_until),
        OptText(peer_addr),
    ];
    run(db, sql, &args).await
}

/// The replicas whose lease runs past `now`, by id.
pub async fn alive(db: impl Exec<'_>, now: i64) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = all(
        db,
        "SELECT id FROM replicas WHERE lease_until > $1 ORDER BY id",
        &[Int(now)],
    )
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// A replica that stops cleanly: its row and its connections go at once, instead of when its
/// lease runs out.
pub async fn leave(db: &sqlx::AnyPool, id: &str) -> sqlx::Result<()> {
    run(
        db,
        "DELETE FROM agent_connections WHERE replica_id = $1",
        &[Text(id)],
    )
    .await?;
    run(db, "DELETE FROM replicas WHERE id = $1", &[Text(id)]).await
}

/// Forgets replicas dead since before `before` and the connections they held.
pub async fn forget_dead(db: &sqlx::AnyPool, before: i64) -> sqlx::Result<u64> {
    run(
        db,
        "DELETE FROM agent_connections WHERE replica_id IN \
         (SELECT id FROM replicas WHERE lease_until < $1)",
        &[Int(before)],
    )
    .await?;
    execute(
        db,
        "DELETE FROM replicas WHERE lease_until < $1",
        &[Int(before)],
    )
    .await
}

/// Records that `replica` now holds the instance's connection; returns its epoch, one more
/// than any connection of the instance before (on any replica).
pub async fn claim(
    db: impl Exec<'_>,
    instance_id: &str,
    replica: &str,
    now: i64,
) -> sqlx::Result<i64> {
    let sql = "INSERT INTO agent_connections (instance_id, replica_id, epoch, connected_at) \
               VALUES ($1, $2, 1, $3) \
               ON CONFLICT (instance_id) DO UPDATE SET replica_id = excluded.replica_id, \
               epoch = agent_connections.epoch + 1, connected_at = excluded.connected_at \
               RETURNING epoch";
    let epoch: Option<i64> =
        optional_scalar(db, sql, &[Text(instance_id), Text(replica), Int(now)]).await?;
    Ok(epoch.unwrap_or(1))
}

/// Removes the record of a connection that ended, unless a newer one replaced it; true when
/// it was removed.
pub async fn release(db: impl Exec<'_>, instance_id: &str, epoch: i64) -> sqlx::Result<bool> {
    let sql = "DELETE FROM agent_connections WHERE instance_id = $1 AND epoch = $2";
    Ok(execute(db, sql, &[Text(instance_id), Int(epoch)]).await? > 0)
}

/// The instances whose connection a live replica holds, with that replica.
pub async fn held(db: impl Exec<'_>, now: i64) -> sqlx::Result<Vec<(String, String)>> {
    all(
        db,
        "SELECT c.instance_id, c.replica_id FROM agent_connections c \
         JOIN replicas r ON r.id = c.replica_id WHERE r.lease_until > $1",
        &[Int(now)],
    )
    .await
}

/// The live replica holding the instance's connection, if any, and where it takes streams.
pub async fn holder(
    db: impl Exec<'_>,
    instance_id: &str,
    now: i64,
) -> sqlx::Result<Option<(String, Option<String>)>> {
    let rows: Vec<(String, Option<String>)> = all(
        db,
        "SELECT c.replica_id, r.peer_addr FROM agent_connections c \
         JOIN replicas r ON r.id = c.replica_id \
         WHERE c.instance_id = $1 AND r.lease_until > $2",
        &[Text(instance_id), Int(now)],
    )
    .await?;
    Ok(rows.into_iter().next())
}
