//! SQL for `notification_outbox` (one row per notification per channel, written in the
//! transaction of what caused it) and `notification_attempts` (every try to deliver one).

use sqlx::FromRow;

use super::query::Arg::{Int, OptInt, OptText, Text};
use super::query::{self, Exec, execute, insert_into, optional, run};

#[derive(Debug, Clone, FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub channel_id: String,
    pub alert: String,
    /// The alert as JSON (`proto`-free: see `notify::Alert`).
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct AttemptRow {
    pub id: String,
    pub outbox_id: String,
    pub at: i64,
    pub ok: i64,
    pub http_status: Option<i64>,
    pub error: Option<String>,
}

const COLUMNS: &str =
    "id, channel_id, alert, payload, state, attempts, next_attempt_at, created_at";

/// One pending notification for every channel of `cluster_id` subscribed to `alert`, in one
/// statement (so it runs in the caller's transaction); ids are `id_prefix` and the channel's
/// id. Returns how many were queued.
pub async fn fan_out(
    db: impl Exec<'_>,
    id_prefix: &str,
    cluster_id: &str,
    alert: &str,
    payload: &str,
    now: i64,
) -> sqlx::Result<u64> {
    let sql = "INSERT INTO notification_outbox (id, channel_id, alert, payload, state, attempts, \
               next_attempt_at, created_at) \
               SELECT $1 || id, id, $2, $3, 'pending', 0, $4, $4 FROM notification_channels \
               WHERE cluster_id = $5 AND events LIKE $6";
    let pattern = format!("%,{alert},%");
    let args = [
        Text(id_prefix),
        Text(alert),
        Text(payload),
        Int(now),
        Text(cluster_id),
        Text(&pattern),
    ];
    execute(db, sql, &args).await
}

pub async fn insert(db: impl Exec<'_>, r: &OutboxRow) -> sqlx::Result<()> {
    let args = [
        Text(&r.id),
        Text(&r.channel_id),
        Text(&r.alert),
        Text(&r.payload),
        Text(&r.state),
        Int(r.attempts),
        Int(r.next_attempt_at),
        Int(r.created_at),
    ];
    insert_into(db, &format!("notification_outbox ({COLUMNS})"), &args).await
}

/// Pending notifications due at `now`, oldest first.
pub async fn due(db: impl Exec<'_>, now: i64, limit: i64) -> sqlx::Result<Vec<OutboxRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notification_outbox WHERE state = 'pending' \
         AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
    );
    query::all(db, &sql, &[Int(now), Int(limit)]).await
}

/// Takes `r` for one attempt: moves its next attempt to `until` if nobody took it since it was
/// read (another replica's worker). False when someone did.
pub async fn claim(db: impl Exec<'_>, r: &OutboxRow, until: i64) -> sqlx::Result<bool> {
    let sql = "UPDATE notification_outbox SET next_attempt_at = $3 \
               WHERE id = $1 AND state = 'pending' AND next_attempt_at = $2";
    let args = [Text(&r.id), Int(r.next_attempt_at), Int(until)];
    Ok(execute(db, sql, &args).await? > 0)
}

/// After an attempt: its new state, attempt count and next time.
pub async fn set_state(
    db: impl Exec<'_>,
    id: &str,
    state: &str,
    attempts: i64,
    next_attempt_at: i64,
) -> sqlx::Result<()> {
    let sql = "UPDATE notification_outbox SET state = $2, attempts = $3, next_attempt_at = $4 \
               WHERE id = $1";
    let args = [Text(id), Text(state), Int(attempts), Int(next_attempt_at)];
    run(db, sql, &args).await
}

pub async fn by_id(db: impl Exec<'_>, id: &str) -> sqlx::Result<Option<OutboxRow>> {
    let sql = format!("SELECT {COLUMNS} FROM notification_outbox WHERE id = $1");
    optional(db, &sql, &[Text(id)]).await
}

/// A channel's newest notifications, newest first.
pub async fn of_channel(
    db: impl Exec<'_>,
    channel_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<OutboxRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notification_outbox WHERE channel_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    query::all(db, &sql, &[Text(channel_id), Int(limit)]).await
}

pub async fn insert_attempt(db: impl Exec<'_>, a: &AttemptRow) -> sqlx::Result<()> {
    let args = [
        Text(&a.id),
        Text(&a.outbox_id),
        Int(a.at),
        Int(a.ok),
        OptInt(a.http_status),
        OptText(a.error.as_deref()),
    ];
    let into = "notification_attempts (id, outbox_id, at, ok, http_status, error)";
    insert_into(db, into, &args).await
}

/// The attempts of one notification, oldest first.
pub async fn attempts_of(db: impl Exec<'_>, outbox_id: &str) -> sqlx::Result<Vec<AttemptRow>> {
    let sql = "SELECT id, outbox_id, at, ok, http_status, error FROM notification_attempts \
               WHERE outbox_id = $1 ORDER BY at, id";
    query::all(db, sql, &[Text(outbox_id)]).await
}
