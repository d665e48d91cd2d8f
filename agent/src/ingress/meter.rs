//! Per-service request figures of the ingress (issue 19): requests, status classes, bytes and a
//! latency histogram. The ingress is tuned for throughput (see `workers`), so counting adds no
//! shared write per request: each worker thread counts in its own thread-local table, indexed
//! by the route's meter slot (a small number the route table gives each service; see
//! [`Target::meter`](super::Target)), with a fixed-bucket histogram, so a request neither
//! locks, nor touches an atomic, nor allocates (the table grows only when a worker first sees a
//! new slot). Once per sampling interval the sampler asks every worker over a channel
//! ([`Meters::collect`]); each hands over its table and starts a fresh one, and the sampler
//! merges them.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::StatusCode;
use http_body::Frame;
use proto::wire::Percentiles;
use tokio::sync::{mpsc, oneshot};

use super::histogram::Histogram;

/// How long the sampler waits for a worker's table; a worker that is that busy is skipped for
/// one interval, and its counts go into the next.
const COLLECT_TIMEOUT: Duration = Duration::from_secs(2);

/// One service's counts on one worker, or merged.
#[derive(Clone, Default)]
pub struct Counts {
    pub requests: u64,
    /// 2xx, 3xx, 4xx, 5xx.
    pub status: [u64; 4],
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub latency: Histogram,
}

impl Counts {
    fn merge(&mut self, other: &Counts) {
        self.requests += other.requests;
        for (a, b) in self.status.iter_mut().zip(other.status) {
            *a += b;
        }
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.latency.merge(&other.latency);
    }

    /// The latency percentiles, if there were requests.
    pub fn percentiles(&self) -> Option<Percentiles> {
        Some(Percentiles {
            p50: self.latency.quantile(0.50)?,
            p95: self.latency.quantile(0.95)?,
            p99: self.latency.quantile(0.99)?,
        })
    }
}

thread_local! {
    /// This worker's counts, by meter slot.
    static TABLE: RefCell<Vec<Counts>> = const { RefCell::new(Vec::new()) };
}

fn with_slot(slot: u32, f: impl FnOnce(&mut Counts)) {
    // `try_with`: a body dropped while its thread shuts down finds the table gone; its bytes
    // are lost with the worker anyway.
    let _ = TABLE.try_with(|table| {
        let mut table = table.borrow_mut();
        let i = slot as usize;
        if table.len() <= i {
            table.resize_with(i + 1, Counts::default);
        }
        f(&mut table[i]);
    });
}

/// One answered request of the service with `slot`: its status and the time to its head.
pub(crate) fn record(slot: u32, status: StatusCode, latency: Duration) {
    with_slot(slot, |c| {
        c.requests += 1;
        let class = status.as_u16() / 100;
        if (2..=5).contains(&class) {
            c.status[usize::from(class - 2)] += 1;
        }
        c.latency
            .add(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    });
}

/// Body bytes of one request (`inbound`) or one response, counted once at the body's end.
pub(crate) fn add_bytes(slot: u32, inbound: bool, bytes: u64) {
    if bytes == 0 {
        return;
    }
    with_slot(slot, |c| {
        if inbound {
            c.bytes_in += bytes;
        } else {
            c.bytes_out += bytes;
        }
    });
}

/// Bytes a body has passed so far, for the meter slot of its service.
pub(crate) struct Counted {
    slot: u32,
    inbound: bool,
    bytes: u64,
}

impl Counted {
    pub(crate) fn new(slot: u32, inbound: bool) -> Self {
        Self {
            slot,
            inbound,
            bytes: 0,
        }
    }

    pub(crate) fn add<T: bytes::Buf>(&mut self, frame: &Option<Result<Frame<T>, hyper::Error>>) {
        if let Some(Ok(frame)) = frame
            && let Some(data) = frame.data_ref()
        {
            self.bytes += data.remaining() as u64;
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        add_bytes(self.slot, self.inbound, self.bytes);
    }
}

type Ask = oneshot::Sender<Vec<Counts>>;

/// The workers that count, for the sampler. Clones share one list.
#[derive(Clone, Default)]
pub struct Meters {
    workers: Arc<Mutex<Vec<mpsc::UnboundedSender<Ask>>>>,
}

impl std::fmt::Debug for Meters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Meters")
    }
}

impl Meters {
    /// Registers the calling worker: a task on its runtime answers [`Meters::collect`] with the
    /// worker's table until the runtime ends. Call it inside the worker's runtime.
    pub fn serve_worker(&self) {
        let (ask, mut asked) = mpsc::unbounded_channel::<Ask>();
        self.workers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ask);
        tokio::spawn(async move {
            while let Some(reply) = asked.recv().await {
                let table = TABLE.with(|t| std::mem::take(&mut *t.borrow_mut()));
                let _ = reply.send(table);
            }
        });
    }

    /// Every worker's counts since the last call, merged, by meter slot. Workers that ended are
    /// forgotten.
    pub async fn collect(&self) -> Vec<Counts> {
        let mut replies = Vec::new();
        self.workers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|worker| {
                let (reply, replied) = oneshot::channel();
                replies.push(replied);
                worker.send(reply).is_ok()
            });
        let mut merged: Vec<Counts> = Vec::new();
        for replied in replies {
            let Ok(Ok(table)) = tokio::time::timeout(COLLECT_TIMEOUT, replied).await else {
                continue;
            };
            if merged.len() < table.len() {
                merged.resize_with(table.len(), Counts::default);
            }
            for (into, counts) in merged.iter_mut().zip(&table) {
                into.merge(counts);
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn collect_merges_the_workers_tables_and_starts_them_afresh() {
        let meters = Meters::default();
        // Two workers, each a thread with its own runtime, as the ingress runs them.
        let mut threads = Vec::new();
        for ms in [5, 40] {
            let meters = meters.clone();
            let (ready, is_ready) = oneshot::channel();
            let (stop, stopped) = oneshot::channel::<()>();
            threads.push((
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async move {
                        meters.serve_worker();
                        record(1, StatusCode::OK, Duration::from_millis(ms));
                        record(1, StatusCode::BAD_GATEWAY, Duration::from_millis(ms));
                        add_bytes(1, true, 10);
                        add_bytes(1, false, 100);
                        ready.send(()).unwrap();
                        let _ = stopped.await;
                    });
                }),
                stop,
            ));
            is_ready.await.unwrap();
        }
        let merged = meters.collect().await;
        assert_eq!(merged.len(), 2, "slot 0 unused, slot 1 counted");
        let c = &merged[1];
        assert_eq!((c.requests, c.status), (4, [2, 0, 0, 2]));
        assert_eq!((c.bytes_in, c.bytes_out), (20, 200));
        let p = c.percentiles().unwrap();
        assert!((4_500..=5_500).contains(&p.p50), "{p:?}");
        assert!((36_000..=44_000).contains(&p.p99), "{p:?}");
        let again = meters.collect().await;
        assert!(again.iter().all(|c| c.requests == 0), "tables start afresh");
        for (thread, stop) in threads {
            stop.send(()).unwrap();
            thread.join().unwrap();
        }
    }
}
