//! Background jobs on one replica at a time. The deployment sweeper, the domain checks, the
//! offline watch and the metrics rollup each decide from the whole database; run on every
//! replica they would time a deploy out twice or send an alert three times. On PostgreSQL the
//! replica that holds the session-level advisory lock [`JOBS_LOCK`], on a connection of its
//! own that it keeps, runs them; if it dies, PostgreSQL ends its session and the lock with it,
//! and the next replica to ask takes over at its next pass. On SQLite the one replica always
//! runs them.

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::sync::Mutex;

use crate::Base;

/// The advisory lock's key: "dplyjobs" in ASCII.
pub const JOBS_LOCK: i64 = 0x6470_6c79_6a6f_6273;

/// This replica's connection for the lock, and whether it holds the lock on it.
#[derive(Debug, Default)]
pub struct Leader(Mutex<Option<(PgConnection, bool)>>);

impl Base {
    /// Whether this replica runs the background jobs now (asked before each pass).
    pub async fn leads_jobs(&self) -> bool {
        let Some(url) = self.store.postgres_url() else {
            return true;
        };
        let mut slot = self.leader.0.lock().await;
        if slot.is_none() {
            match PgConnection::connect(url).await {
                Ok(conn) => *slot = Some((conn, false)),
                Err(e) => {
                    tracing::warn!(error = %e, "no connection for the jobs' lock");
                    return false;
                }
            }
        }
        let (conn, leading) = slot.as_mut().expect("set just above");
        // While held, a ping: the session alive means the lock still is.
        let asked = if *leading {
            sqlx::query_scalar::<_, i32>("SELECT 1")
                .fetch_one(&mut *conn)
                .await
                .map(|_| true)
        } else {
            sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                .bind(JOBS_LOCK)
                .fetch_one(&mut *conn)
                .await
        };
        match asked {
            Ok(now_leading) => {
                if now_leading && !*leading {
                    tracing::info!(replica = %self.replica_id(), "this replica runs the background jobs");
                }
                *leading = now_leading;
                now_leading
            }
            Err(e) => {
                // The session is gone, and the lock with it if it was held.
                tracing::warn!(error = %e, "the jobs' lock connection failed");
                *slot = None;
                false
            }
        }
    }
}
