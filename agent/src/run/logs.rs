//! dployrd's services' output on its way to Base: a bounded queue the engine fills, and one log
//! stream per connection that a shipper task writes it to, paced by the stream's credit window.

use std::sync::Arc;

use proto::wire::{self, LogRecord, StreamOpen};
use tokio::sync::mpsc;

use crate::engine::Engine;

/// Log lines waiting for Base: enough for a burst, bounded so a long outage costs memory
/// only up to here (later lines are dropped and counted; the engine's log book keeps recent
/// ones).
pub(super) const LOG_QUEUE: usize = 64 * 1024;
/// Lines per write on the log stream.
const LOG_BATCH: usize = 512;

/// The log lines on their way to Base; each connection's shipper holds it while it runs.
pub(super) type LogQueue = Arc<tokio::sync::Mutex<mpsc::Receiver<LogRecord>>>;

/// Tells the engine a shipper drains the queue, until dropped (the shipper returns or is aborted).
struct Shipping(Engine);

impl Shipping {
    fn on(engine: &Engine) -> Shipping {
        engine.set_shipping(true);
        Shipping(engine.clone())
    }
}

impl Drop for Shipping {
    fn drop(&mut self) {
        self.0.set_shipping(false);
    }
}

/// The running shipper of one connection; dropping it (the connection ended) stops it.
pub(super) struct Shipper(tokio::task::JoinHandle<()>);

impl Drop for Shipper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Opens the log stream and writes queued lines to it as JSON lines, in batches, until the
/// connection ends. The stream's credit window paces it: a slow Base slows this, and the queue
/// absorbs the difference.
pub(super) fn start(mux: wire::Mux, queue: LogQueue, engine: Engine) -> Shipper {
    Shipper(tokio::spawn(ship(mux, queue, engine)))
}

async fn ship(mux: wire::Mux, queue: LogQueue, engine: Engine) {
    let mut stream = match mux.open(&StreamOpen::Logs) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot open the log stream");
            return;
        }
    };
    let mut queue = queue.lock().await;
    let _shipping = Shipping::on(&engine);
    let mut batch = Vec::with_capacity(LOG_BATCH);
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        if queue.recv_many(&mut batch, LOG_BATCH).await == 0 {
            return;
        }
        let dropped = engine.take_dropped_lines();
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "log lines dropped: Base was away or slower than the services"
            );
        }
        buf.clear();
        for record in batch.drain(..) {
            if serde_json::to_writer(&mut buf, &record).is_ok() {
                buf.push(b'\n');
            }
        }
        if stream.send(&buf).await.is_err() {
            return;
        }
    }
}
