//! A service's output on this instance: every line lands in the service's log book and is
//! queued for Base, tagged with its deployment.

use tokio::sync::mpsc;

use super::Engine;
use crate::deploy::{LogLine, Stream};
use proto::wire::{LogRecord, LogStream};

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
                engine.ship(&id, Some(&dep), stream, &line);
                let mut st = engine.lock();
                st.services.entry(id.clone()).or_default().logs.push(line);
            }
        });
        tx
    }

    /// Queues a line for Base. A full queue (Base away for long, or slower than the service)
    /// drops the line and counts it, rather than slowing the service down.
    pub(super) fn ship(
        &self,
        service_id: &str,
        deployment_id: Option<&str>,
        stream: LogStream,
        line: &LogLine,
    ) {
        let record = LogRecord {
            service_id: service_id.to_string(),
            deployment_id: deployment_id.map(str::to_string),
            at_ms: line.at_ms,
            stream,
            line: line.line.clone(),
        };
        if self.inner.ship.try_send(record).is_err() {
            self.inner
                .ship_dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Lines that could not be queued for Base since the last call.
    pub fn take_dropped_lines(&self) -> u64 {
        self.inner
            .ship_dropped
            .swap(0, std::sync::atomic::Ordering::Relaxed)
    }

    /// A line of dployrd's own in the service's log.
    pub(super) fn note(&self, service_id: &str, text: &str) {
        let line = LogLine::now(Stream::Stderr, text);
        self.ship(service_id, None, LogStream::System, &line);
        self.lock()
            .services
            .entry(service_id.to_string())
            .or_default()
            .logs
            .push(line);
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
