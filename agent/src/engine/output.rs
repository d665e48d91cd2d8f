//! A service's output on this instance: every line lands in the service's log book and is
//! queued for Base, tagged with its deployment.
//!
//! When the queue is full: while connected to Base, the service's output waits for room (up to
//! [`SHIP_WAIT`] per line), so a burst slows the service's writes down to what Base takes rather
//! than losing lines; while Base is away nothing waits (a service must never block on a missing
//! Base) and lines beyond the queue are dropped and counted.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;

use super::Engine;
use crate::deploy::{LogLine, Stream};
use proto::ids::DeploymentId;
use proto::wire::{LogRecord, LogStream};

/// Longest a line waits for room in a full queue while Base is connected.
const SHIP_WAIT: Duration = Duration::from_secs(1);

/// A line of dployrd's own in a deployment's log.
pub(super) async fn say(logs: &mpsc::Sender<LogLine>, line: &str) {
    let _ = logs
        .send(LogLine::now(Stream::Stdout, line.to_owned()))
        .await;
}

impl Engine {
    /// A sender whose lines land in the service's log book and go to Base, tagged with the
    /// deployment they belong to.
    pub(super) fn log_sender(
        &self,
        service_id: &str,
        deployment_id: &str,
    ) -> mpsc::Sender<LogLine> {
        let (tx, mut rx) = mpsc::channel::<LogLine>(1024);
        let (engine, id, dep) = (
            self.clone(),
            service_id.to_string(),
            deployment_id.to_string(),
        );
        tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                let stream = match line.stream {
                    Stream::Stdout => LogStream::Stdout,
                    Stream::Stderr => LogStream::Stderr,
                };
                let line = engine.keep(&id, line);
                let record = engine.record(&id, Some(&dep), stream, &line);
                if let Err(mpsc::error::TrySendError::Full(record)) =
                    engine.inner.ship.try_send(record)
                {
                    let waited = engine.inner.shipping.load(Ordering::Relaxed)
                        && tokio::time::timeout(SHIP_WAIT, engine.inner.ship.send(record))
                            .await
                            .is_ok_and(|sent| sent.is_ok());
                    if !waited {
                        engine.inner.ship_dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        tx
    }

    /// Scrubs the service's secrets from `line` and keeps it in the service's log book; returns
    /// the scrubbed line, the only form that goes anywhere else.
    fn keep(&self, service_id: &str, mut line: LogLine) -> LogLine {
        let mut st = self.lock();
        let slot = st.services.entry(service_id.into()).or_default();
        if !slot.redactor.is_empty() {
            line.line = slot.redactor.scrub(&line.line);
        }
        slot.logs.push(line.clone());
        line
    }

    fn record(
        &self,
        service_id: &str,
        deployment_id: Option<&str>,
        stream: LogStream,
        line: &LogLine,
    ) -> LogRecord {
        LogRecord {
            service_id: service_id.into(),
            deployment_id: deployment_id.map(DeploymentId::from),
            at_ms: line.at_ms,
            stream,
            line: line.line.clone(),
        }
    }

    /// Queues a line of dployrd's own for Base; a full queue drops it and counts it.
    pub(super) fn ship(
        &self,
        service_id: &str,
        deployment_id: Option<&str>,
        stream: LogStream,
        line: &LogLine,
    ) {
        let record = self.record(service_id, deployment_id, stream, line);
        if self.inner.ship.try_send(record).is_err() {
            self.inner.ship_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether a connection to Base is taking lines off the queue now (see the module doc).
    pub fn set_shipping(&self, on: bool) {
        self.inner.shipping.store(on, Ordering::Relaxed);
    }

    /// Lines that could not be queued for Base since the last call.
    pub fn take_dropped_lines(&self) -> u64 {
        self.inner.ship_dropped.swap(0, Ordering::Relaxed)
    }

    /// A line of dployrd's own in the service's log.
    pub(super) fn note(&self, service_id: &str, text: &str) {
        let line = self.keep(service_id, LogLine::now(Stream::Stderr, text));
        self.ship(service_id, None, LogStream::System, &line);
    }

    /// The recent output of a service, oldest first.
    pub fn log_tail(&self, service_id: &str, n: usize) -> Vec<String> {
        self.lock()
            .services
            .get(service_id)
            .map(|s| s.logs.tail(n))
            .unwrap_or_default()
    }
}
