//! Service logs in Base: the agent's log stream is read here, every line numbered, stored
//! (bounded per service: the oldest go first, counted) and relayed at once to whoever follows
//! the service. Readers need `services.logs` (Members and up; Guests do not see output, which
//! can carry data).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use proto::api::LogLine;
use proto::wire::{LogRecord, MuxStream};
use tokio::sync::broadcast;

use crate::log_owners::Owners;
use crate::rbac::ViewLogs;
use crate::store::logs::{self as sql, LogRow};
use crate::store::services as services_sql;
use crate::{Actor, Base, DomainError, clock};

/// Lines kept per service; older ones are deleted (and counted).
pub const KEPT_PER_SERVICE: i64 = 50_000;
/// Longest line stored; the agent cuts at 16 KiB too, this guards against any other sender.
const MAX_LINE: usize = 16 * 1024;
/// Lines per service between trims of its oldest lines.
const TRIM_AFTER: usize = 2_000;
/// Lines a live follower may fall behind before it misses some (it is told how many).
const FOLLOW_BUFFER: usize = 16 * 1024;
/// Parsed batches waiting to be stored, per agent connection.
const STORE_QUEUE: usize = 16;
/// Lines stored in one transaction at most, when batches have piled up.
const STORE_BATCH: usize = 4_096;
/// Distinct service ids one log stream may name (an instance runs far fewer).
const MAX_SERVICES_PER_STREAM: usize = 4_096;
/// Lines a read returns at most.
pub const MAX_READ: i64 = 10_000;

/// Numbering and live relay of log lines.
#[derive(Debug, Default)]
pub struct LogHub {
    /// The last `seq` given out; 0 until loaded from the store.
    pub(crate) last_seq: AtomicI64,
    loaded: tokio::sync::OnceCell<()>,
    live: Mutex<HashMap<String, broadcast::Sender<Arc<LogLine>>>>,
    since_trim: Mutex<HashMap<String, usize>>,
    /// Per followed service, the last line relayed to its followers here: where lines another
    /// replica stored are read from ([`crate::replicas::logs`]).
    relayed: Mutex<HashMap<String, i64>>,
}

impl LogHub {
    fn sender(&self, service_id: &str) -> broadcast::Sender<Arc<LogLine>> {
        self.live
            .lock()
            .expect("log hub lock")
            .entry(service_id.to_string())
            .or_insert_with(|| broadcast::channel(FOLLOW_BUFFER).0)
            .clone()
    }

    /// The service's followers here, if any.
    pub(crate) fn followers(&self, service_id: &str) -> Option<broadcast::Sender<Arc<LogLine>>> {
        let live = self.live.lock().expect("log hub lock");
        live.get(service_id)
            .filter(|tx| tx.receiver_count() > 0)
            .cloned()
    }

    /// Lines up to `seq` of the service were relayed here (or read by a follower).
    pub(crate) fn relayed_up_to(&self, service_id: &str, seq: i64) {
        let mut relayed = self.relayed.lock().expect("log hub lock");
        let at = relayed.entry(service_id.to_string()).or_default();
        *at = (*at).max(seq);
    }

    /// Nobody here follows the service any more: forgets where its relay stood.
    pub(crate) fn forget_relayed(&self, service_id: &str) {
        self.relayed
            .lock()
            .expect("log hub lock")
            .remove(service_id);
    }

    /// The last line relayed here of a service someone here follows.
    pub(crate) fn relayed(&self, service_id: &str) -> Option<i64> {
        self.relayed
            .lock()
            .expect("log hub lock")
            .get(service_id)
            .copied()
    }
}

pub(crate) fn view(r: &LogRow) -> LogLine {
    LogLine {
        seq: r.seq,
        at: clock::rfc3339(r.at_ms),
        stream: r.stream,
        deployment_id: r.deployment_id.clone(),
        line: r.line.clone(),
    }
}

fn truncate(mut line: String) -> String {
    if line.len() > MAX_LINE {
        let mut cut = MAX_LINE;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
    }
    line
}

/// What a follower gets: the stored lines after `since`, then live ones (skip any with a `seq`
/// at or below the last stored one: they raced the read).
#[derive(Debug)]
pub struct Follow {
    pub backlog: Vec<LogLine>,
    pub dropped: i64,
    pub live: broadcast::Receiver<Arc<LogLine>>,
}

impl Base {
    /// Reads an agent's log stream until it ends, storing and relaying every line of a service
    /// that runs on `instance_id` (lines of other services are ignored).
    pub async fn ingest_logs(&self, instance_id: &str, stream: MuxStream) {
        if let Err(e) = self.catch_up_log_numbering().await {
            tracing::warn!(error = %e, "reading the last log line's number");
        }
        // Reading and storing overlap: while one batch is being written, the next ones are
        // read and parsed, and whatever has piled up is written in one transaction.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<LogRecord>>(STORE_QUEUE);
        let store = async {
            while let Some(mut batch) = rx.recv().await {
                while batch.len() < STORE_BATCH {
                    match rx.try_recv() {
                        Ok(more) => batch.extend(more),
                        Err(_) => break,
                    }
                }
                if let Err(e) = self.store_logs(batch).await {
                    tracing::warn!(error = %e, "storing log lines");
                }
            }
        };
        tokio::join!(self.read_log_stream(instance_id, stream, tx), store);
    }

    /// Parses the stream's JSON lines and passes on the records of the instance's own services
    /// (at most [`MAX_SERVICES_PER_STREAM`] distinct ids are looked up).
    async fn read_log_stream(
        &self,
        instance_id: &str,
        mut stream: MuxStream,
        out: tokio::sync::mpsc::Sender<Vec<LogRecord>>,
    ) {
        let mut partial: Vec<u8> = Vec::new();
        let mut owned = Owners::new(MAX_SERVICES_PER_STREAM);
        loop {
            let chunk = match stream.recv().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "log stream ended");
                    break;
                }
            };
            partial.extend_from_slice(&chunk);
            let Some(end) = partial.iter().rposition(|b| *b == b'\n') else {
                if partial.len() > 4 * MAX_LINE {
                    tracing::warn!("log stream sent an overlong line; closing it");
                    break;
                }
                continue;
            };
            let complete: Vec<u8> = partial.drain(..=end).collect();
            let mut kept = Vec::new();
            for line in complete.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let r = match serde_json::from_slice::<LogRecord>(line) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::debug!(error = %e, "unreadable log record skipped");
                        continue;
                    }
                };
                let ok = owned
                    .allows(&r.service_id, |id| async move {
                        services_sql::by_id(self.store.pool(), &id)
                            .await
                            .ok()
                            .flatten()
                            .is_some_and(|s| s.instance_id == instance_id)
                    })
                    .await;
                if ok {
                    kept.push(r);
                }
            }
            if !kept.is_empty() && out.send(kept).await.is_err() {
                break;
            }
        }
    }

    /// Numbers, stores and relays `records` (in one transaction).
    pub async fn store_logs(&self, records: Vec<LogRecord>) -> Result<(), DomainError> {
        if records.is_empty() {
            return Ok(());
        }
        let hub = &self.logs;
        hub.loaded
            .get_or_try_init(|| async {
                let max = sql::max_seq(self.store.pool()).await?;
                hub.last_seq.fetch_max(max, Ordering::SeqCst);
                Ok::<_, DomainError>(())
            })
            .await?;
        let first = hub
            .last_seq
            .fetch_add(records.len() as i64, Ordering::SeqCst)
            + 1;
        // One chunk (or a few) per service in the batch, all in one transaction.
        let mut by_service: HashMap<String, Vec<LogRow>> = HashMap::new();
        for (i, r) in records.into_iter().enumerate() {
            by_service
                .entry(r.service_id.to_string())
                .or_default()
                .push(LogRow {
                    seq: first + i as i64,
                    service_id: r.service_id.into_string(),
                    deployment_id: r.deployment_id.map(String::from),
                    at_ms: r.at_ms,
                    stream: r.stream,
                    line: truncate(r.line),
                });
        }
        let mut tx = self.store.begin().await?;
        for (service_id, lines) in &by_service {
            sql::insert(&mut tx, service_id, lines).await?;
        }
        tx.commit().await?;
        for (service_id, lines) in &by_service {
            let live = hub.sender(service_id);
            for r in lines {
                // Nobody following is not an error.
                let _ = live.send(Arc::new(view(r)));
            }
            // Only a service followed here needs to know where another replica's lines start.
            if let Some(last) = lines.last().filter(|_| live.receiver_count() > 0) {
                hub.relayed_up_to(service_id, last.seq);
            }
            self.fanout(crate::changes::Change::Logs(service_id.clone()));
            let due = {
                let mut since = hub.since_trim.lock().expect("log hub lock");
                let c = since.entry(service_id.clone()).or_default();
                *c += lines.len();
                if *c >= TRIM_AFTER {
                    *c = 0;
                    true
                } else {
                    false
                }
            };
            if due {
                let gone = sql::trim(self.store.pool(), service_id, KEPT_PER_SERVICE).await?;
                if gone > 0 {
                    sql::add_dropped(self.store.pool(), service_id, gone as i64).await?;
                }
            }
        }
        Ok(())
    }

    async fn log_service(&self, actor: &Actor, service_id: &str) -> Result<String, DomainError> {
        let (svc, _) = self.service_for::<ViewLogs>(actor, service_id).await?;
        Ok(svc.id)
    }

    /// Stored lines of a service (or one deployment of it) after `since`, at most `limit`, and
    /// how many older lines were dropped to keep within the bound.
    pub async fn read_logs(
        &self,
        actor: &Actor,
        service_id: &str,
        deployment_id: Option<&str>,
        since: i64,
        limit: i64,
    ) -> Result<(Vec<LogLine>, i64), DomainError> {
        let id = self.log_service(actor, service_id).await?;
        let rows = sql::after(
            self.store.pool(),
            &id,
            deployment_id,
            since,
            limit.clamp(1, MAX_READ),
        )
        .await?;
        let dropped = sql::dropped(self.store.pool(), &id).await?;
        Ok((rows.iter().map(view).collect(), dropped))
    }

    /// Stored lines after `since`, then every new line as it arrives.
    pub async fn follow_logs(
        &self,
        actor: &Actor,
        service_id: &str,
        deployment_id: Option<&str>,
        since: i64,
        limit: i64,
    ) -> Result<Follow, DomainError> {
        let id = self.log_service(actor, service_id).await?;
        // Subscribe before reading, so nothing falls between the two.
        let live = self.logs.sender(&id).subscribe();
        let (backlog, dropped) = self
            .read_logs(actor, &id, deployment_id, since, limit)
            .await?;
        // Lines another replica stores after these are relayed here (a line committed between
        // the read and now comes twice at worst, and the follower skips the repeat).
        let read = backlog.last().map_or(since, |l| l.seq);
        self.logs.relayed_up_to(&id, read);
        Ok(Follow {
            backlog,
            dropped,
            live,
        })
    }

    /// The id of the service a deployment belongs to, if the actor may see it.
    pub async fn service_of_deployment(
        &self,
        actor: &Actor,
        deployment_id: &str,
    ) -> Result<String, DomainError> {
        Ok(self.get_deployment(actor, deployment_id).await?.service_id)
    }
}
