//! SQL for `log_lines`.

use sqlx::{Executor, FromRow};

use super::Db;

#[derive(Debug, Clone, FromRow)]
pub struct LogRow {
    pub seq: i64,
    pub service_id: String,
    pub deployment_id: Option<String>,
    pub at_ms: i64,
    pub stream: String,
    pub line: String,
}

/// Rows per INSERT statement. Small on purpose: sqlx's SQLite driver resolves each `$n` it binds
/// by scanning the statement's parameter names, so binding costs grow with the square of the
/// parameters per statement (at 500 rows, 3,000 parameters, that scan was half of Base's CPU
/// while storing a burst; see BENCHMARKS.md).
pub const ROWS_PER_INSERT: usize = 32;

/// Inserts `rows` (at most [`ROWS_PER_INSERT`]) in one statement.
pub async fn insert<'e>(db: impl Executor<'e, Database = Db>, rows: &[LogRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO log_lines (seq, service_id, deployment_id, at_ms, stream, line) VALUES ",
    );
    for i in 0..rows.len() {
        let b = i * 6;
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6
        ));
    }
    let mut q = sqlx::query(&sql);
    for r in rows {
        q = q
            .bind(r.seq)
            .bind(&r.service_id)
            .bind(&r.deployment_id)
            .bind(r.at_ms)
            .bind(&r.stream)
            .bind(&r.line);
    }
    q.execute(db).await?;
    Ok(())
}

pub async fn max_seq<'e>(db: impl Executor<'e, Database = Db>) -> sqlx::Result<i64> {
    let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(seq) FROM log_lines")
        .fetch_one(db)
        .await?;
    Ok(max.unwrap_or(0))
}

/// Lines of a service (or of one of its deployments) after `since`, oldest first; the newest
/// `limit` of them when there are more.
pub async fn after<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    deployment_id: Option<&str>,
    since: i64,
    limit: i64,
) -> sqlx::Result<Vec<LogRow>> {
    let mut rows: Vec<LogRow> = match deployment_id {
        Some(dep) => {
            sqlx::query_as(
                "SELECT seq, service_id, deployment_id, at_ms, stream, line FROM log_lines \
                 WHERE service_id = $1 AND deployment_id = $2 AND seq > $3 \
                 ORDER BY seq DESC LIMIT $4",
            )
            .bind(service_id)
            .bind(dep)
            .bind(since)
            .bind(limit)
            .fetch_all(db)
            .await?
        }
        None => {
            sqlx::query_as(
                "SELECT seq, service_id, deployment_id, at_ms, stream, line FROM log_lines \
                 WHERE service_id = $1 AND seq > $2 ORDER BY seq DESC LIMIT $3",
            )
            .bind(service_id)
            .bind(since)
            .bind(limit)
            .fetch_all(db)
            .await?
        }
    };
    rows.reverse();
    Ok(rows)
}

/// Deletes a service's lines beyond the newest `keep`; returns how many went.
pub async fn trim<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    keep: i64,
) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "DELETE FROM log_lines WHERE service_id = $1 AND seq <= (\
         SELECT seq FROM log_lines WHERE service_id = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)",
    )
    .bind(service_id)
    .bind(keep)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

pub async fn add_dropped<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
    n: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE services SET logs_dropped = logs_dropped + $1 WHERE id = $2")
        .bind(n)
        .bind(service_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn dropped<'e>(
    db: impl Executor<'e, Database = Db>,
    service_id: &str,
) -> sqlx::Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT logs_dropped FROM services WHERE id = $1")
        .bind(service_id)
        .fetch_one(db)
        .await?;
    Ok(n)
}
