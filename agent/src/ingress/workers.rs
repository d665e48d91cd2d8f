//! The ingress's threads. A proxy does little work per request and all of it is I/O, so like
//! nginx it runs one event loop per core: a current-thread tokio runtime on a thread of its own
//! that serves the connections handed to it to their end. A request, its upstream connection
//! (each worker has its own idle connections) and the tasks driving both stay on one thread: no
//! wake-ups across threads, no locks shared between cores, and the rest of dployrd (its Base
//! session, builds, logs) keeps its own runtime.
//!
//! Connections are accepted in one place, the caller's task, and each is handed to the worker
//! with the fewest open connections. Workers accepting from a shared socket themselves would be
//! cheaper by one hand-off per connection, but the first to wake takes a whole burst (a client
//! opening 64 connections at once), and one core then does most of the work.
//!
//! `DPLOYR_INGRESS_THREADS` sets how many workers a listener gets (default: one per core).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

/// Out of file descriptors, `accept` fails at once and would fail again in a busy loop; a short
/// pause lets connections close.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// How many workers each listener runs.
pub(crate) fn count() -> usize {
    std::env::var("DPLOYR_INGRESS_THREADS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Accepts on `listener` until `shutdown`, serving the connections on [`count`] worker threads,
/// each running `serve` with the connections handed to it and a future that completes when
/// `shutdown` has. Returns once every worker's `serve` has returned. Tasks a worker spawned that
/// `serve` did not wait for (upgraded tunnels) end with it. If this future is dropped, the
/// workers are told to stop as if `shutdown` had completed.
pub(crate) async fn run<S, F>(name: &str, listener: TcpListener, shutdown: impl Future, serve: S)
where
    S: Fn(Handed, Stopped) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + 'static,
{
    let (stop, stopped) = watch::channel(false);
    let serve = Arc::new(serve);
    let mut workers = Vec::new();
    for index in 0..count() {
        let (hand, handed) = mpsc::unbounded_channel();
        let open = Arc::new(AtomicUsize::new(0));
        let (done, finished) = oneshot::channel::<()>();
        let handed = Handed {
            streams: handed,
            open: open.clone(),
        };
        let (serve, stopped) = (serve.clone(), Stopped(stopped.clone()));
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{index}"))
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    // `serve` itself runs inside the runtime: it may spawn.
                    Ok(runtime) => runtime.block_on(async move { serve(handed, stopped).await }),
                    Err(e) => tracing::error!(error = %e, "ingress worker has no runtime"),
                }
                drop(done);
            });
        match thread {
            Ok(_) => workers.push(Worker {
                hand,
                open,
                finished,
            }),
            Err(e) => tracing::error!(error = %e, listener = name, "ingress worker not started"),
        }
    }
    if workers.is_empty() {
        tracing::error!(listener = name, "no ingress worker started: not serving");
        return;
    }

    let mut shutdown = pin!(shutdown);
    let mut next = 0;
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted.and_then(|(s, peer)| Ok((s.into_std()?, peer))) {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, listener = name, "ingress accept failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        // The least busy worker; among equals, the next in turn.
        let n = workers.len();
        let pick = (0..n)
            .map(|i| (next + i) % n)
            .min_by_key(|&i| workers[i].open.load(Ordering::Relaxed))
            .unwrap_or(0);
        next = (pick + 1) % n;
        workers[pick].open.fetch_add(1, Ordering::Relaxed);
        // Fails only if that worker died; the connection is then closed by the drop.
        let _ = workers[pick].hand.send((stream, peer));
    }
    drop(listener);
    let _ = stop.send(true);
    for worker in workers {
        drop(worker.hand);
        let _ = worker.finished.await;
    }
}

struct Worker {
    hand: mpsc::UnboundedSender<(std::net::TcpStream, SocketAddr)>,
    open: Arc<AtomicUsize>,
    finished: oneshot::Receiver<()>,
}

/// A worker's side of the hand-off: the connections accepted for it.
pub(crate) struct Handed {
    streams: mpsc::UnboundedReceiver<(std::net::TcpStream, SocketAddr)>,
    open: Arc<AtomicUsize>,
}

impl Handed {
    /// The next connection, registered with this worker's runtime, and what to keep while it is
    /// open (it counts towards this worker's load); `None` once the listener has stopped.
    pub(crate) async fn next(&mut self) -> Option<(TcpStream, SocketAddr, Open)> {
        loop {
            let (stream, peer) = self.streams.recv().await?;
            let open = Open(self.open.clone());
            match TcpStream::from_std(stream) {
                Ok(stream) => return Some((stream, peer, open)),
                Err(e) => tracing::warn!(error = %e, "ingress connection not registered"),
            }
        }
    }
}

/// One open connection of a worker; dropped when the connection ends.
pub(crate) struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Completes when the workers are to stop: `shutdown` completed, or [`run`] was dropped.
pub(crate) struct Stopped(watch::Receiver<bool>);

impl Stopped {
    pub(crate) async fn wait(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}
