//! SQL for `log_chunks`: a service's output stored a batch of lines per row, so a burst costs a
//! few inserts instead of one per line (migration 0005 says why and how a chunk is laid out).

use proto::wire::LogStream;
use sqlx::{AnyConnection, AnyPool, FromRow};

use super::query::Arg::{Int, Text};
use super::query::{Exec, all, insert_into, run, scalar};

/// One stored line, as callers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    pub seq: i64,
    pub service_id: String,
    pub deployment_id: Option<String>,
    pub at_ms: i64,
    pub stream: LogStream,
    pub line: String,
}

/// Most lines in one chunk.
pub const CHUNK_LINES: usize = 4_096;
/// A chunk is closed once its text passes this many bytes: reads decode whole chunks.
pub const CHUNK_BYTES: usize = 1 << 20;
/// Chunks fetched per round trip while reading backwards.
const CHUNKS_PER_READ: i64 = 16;

/// A line inside a chunk's JSON body: `[seq, at_ms, stream, deployment_id, line]`.
/// An unknown stream name fails the read (serde), like any other bad column.
type Packed = (i64, i64, LogStream, Option<String>, String);

#[derive(FromRow)]
struct ChunkRow {
    first_seq: i64,
    body: String,
}

/// Stores `rows`, all of `service_id` and in `seq` order, as one chunk or a few.
pub async fn insert(
    conn: &mut AnyConnection,
    service_id: &str,
    rows: &[LogRow],
) -> sqlx::Result<()> {
    let mut start = 0;
    while start < rows.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < rows.len() && end - start < CHUNK_LINES && bytes < CHUNK_BYTES {
            bytes += rows[end].line.len() + 64;
            end += 1;
        }
        insert_chunk(&mut *conn, service_id, &rows[start..end]).await?;
        start = end;
    }
    Ok(())
}

async fn insert_chunk(
    conn: &mut AnyConnection,
    service_id: &str,
    rows: &[LogRow],
) -> sqlx::Result<()> {
    let packed: Vec<(i64, i64, LogStream, Option<&str>, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.seq,
                r.at_ms,
                r.stream,
                r.deployment_id.as_deref(),
                r.line.as_str(),
            )
        })
        .collect();
    let body = serde_json::to_string(&packed).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let args = [
        Text(service_id),
        Int(rows[0].seq),
        Int(rows[rows.len() - 1].seq),
        Int(rows.len() as i64),
        Text(&body),
    ];
    insert_into(
        conn,
        "log_chunks (service_id, first_seq, last_seq, lines, body)",
        &args,
    )
    .await
}

fn unpack(service_id: &str, body: &str) -> sqlx::Result<Vec<LogRow>> {
    let packed: Vec<Packed> =
        serde_json::from_str(body).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(packed
        .into_iter()
        .map(|(seq, at_ms, stream, deployment_id, line)| LogRow {
            seq,
            service_id: service_id.to_string(),
            deployment_id,
            at_ms,
            stream,
            line,
        })
        .collect())
}

pub async fn max_seq(db: impl Exec<'_>) -> sqlx::Result<i64> {
    let max: Option<i64> = scalar(db, "SELECT MAX(last_seq) FROM log_chunks", &[]).await?;
    Ok(max.unwrap_or(0))
}

/// Lines of a service (or of one of its deployments) after `since`, oldest first; the newest
/// `limit` of them when there are more.
pub async fn after(
    db: &AnyPool,
    service_id: &str,
    deployment_id: Option<&str>,
    since: i64,
    limit: i64,
) -> sqlx::Result<Vec<LogRow>> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let mut newest_first: Vec<LogRow> = Vec::new();
    let mut before = i64::MAX;
    while newest_first.len() < limit {
        let sql = "SELECT first_seq, body FROM log_chunks \
                   WHERE service_id = $1 AND last_seq > $2 AND first_seq < $3 \
                   ORDER BY first_seq DESC LIMIT $4";
        let args = [
            Text(service_id),
            Int(since),
            Int(before),
            Int(CHUNKS_PER_READ),
        ];
        let chunks: Vec<ChunkRow> = all(db, sql, &args).await?;
        let Some(last) = chunks.last() else { break };
        before = last.first_seq;
        for chunk in &chunks {
            let lines = unpack(service_id, &chunk.body)?;
            let wanted = lines.into_iter().rev().filter(|r| {
                r.seq > since && deployment_id.is_none_or(|d| r.deployment_id.as_deref() == Some(d))
            });
            newest_first.extend(wanted.take(limit - newest_first.len()));
            if newest_first.len() == limit {
                break;
            }
        }
    }
    newest_first.reverse();
    Ok(newest_first)
}

/// Lines of a service after `since`, oldest first; the oldest `limit` of them when there are
/// more (what a relay that must not skip any reads, page after page).
pub async fn oldest_after(
    db: &AnyPool,
    service_id: &str,
    since: i64,
    limit: i64,
) -> sqlx::Result<Vec<LogRow>> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let mut rows: Vec<LogRow> = Vec::new();
    // Chunks start after this one's start: the cursor always moves on.
    let mut from = i64::MIN;
    while rows.len() < limit {
        let sql = "SELECT first_seq, body FROM log_chunks \
                   WHERE service_id = $1 AND last_seq > $2 AND first_seq > $3 \
                   ORDER BY first_seq LIMIT $4";
        let args = [
            Text(service_id),
            Int(since),
            Int(from),
            Int(CHUNKS_PER_READ),
        ];
        let chunks: Vec<ChunkRow> = all(db, sql, &args).await?;
        let Some(last) = chunks.last() else { break };
        from = last.first_seq;
        for chunk in &chunks {
            let lines = unpack(service_id, &chunk.body)?;
            let wanted = lines.into_iter().filter(|r| r.seq > since);
            rows.extend(wanted.take(limit - rows.len()));
            if rows.len() == limit {
                break;
            }
        }
    }
    Ok(rows)
}

/// Deletes a service's oldest chunks while the newer ones alone hold at least `keep` lines;
/// returns how many lines went.
pub async fn trim(db: &AnyPool, service_id: &str, keep: i64) -> sqlx::Result<u64> {
    let sql = "SELECT MAX(first_seq) FROM (\
                 SELECT first_seq, CAST(SUM(lines) OVER (ORDER BY first_seq DESC \
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS BIGINT) AS newer \
                 FROM log_chunks WHERE service_id = $1) t \
               WHERE newer >= $2";
    let cut: Option<i64> = scalar(db, sql, &[Text(service_id), Int(keep)]).await?;
    let Some(cut) = cut else { return Ok(0) };
    let sql = "DELETE FROM log_chunks WHERE service_id = $1 AND first_seq <= $2 RETURNING lines";
    let gone: Vec<(i64,)> = all(db, sql, &[Text(service_id), Int(cut)]).await?;
    Ok(gone.iter().map(|(n,)| *n as u64).sum())
}

pub async fn add_dropped(db: impl Exec<'_>, service_id: &str, n: i64) -> sqlx::Result<()> {
    let sql = "UPDATE services SET logs_dropped = logs_dropped + $1 WHERE id = $2";
    run(db, sql, &[Int(n), Text(service_id)]).await
}

pub async fn dropped(db: impl Exec<'_>, service_id: &str) -> sqlx::Result<i64> {
    let sql = "SELECT logs_dropped FROM services WHERE id = $1";
    scalar(db, sql, &[Text(service_id)]).await
}
