//! The ingress's threads. A proxy does little work per request and all of it is I/O, so like
//! nginx it runs one event loop per core: a current-thread tokio runtime on a thread of its own,
//! every one accepting from the same listening socket and serving the connections it accepted
//! to their end. A request, its upstream connection (each worker has its own idle connections)
//! and the tasks driving both stay on one thread: no wake-ups across threads, no locks shared
//! between cores, and the rest of dployrd (its Base session, builds, logs) keeps its own runtime.
//!
//! `DPLOYR_INGRESS_THREADS` sets how many workers a listener gets (default: one per core).

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// How many workers each listener runs.
pub(crate) fn count() -> usize {
    std::env::var("DPLOYR_INGRESS_THREADS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `serve` on [`count`] worker threads, each with its own handle on `listener` and a
/// future that completes when `shutdown` has. Returns once every worker's `serve` has returned.
/// Tasks a worker spawned that `serve` did not wait for (upgraded tunnels) end with it. If this
/// future is dropped, the workers are told to stop as if `shutdown` had completed.
pub(crate) async fn run<S, F>(name: &str, listener: TcpListener, shutdown: impl Future, serve: S)
where
    S: Fn(TcpListener, Stopped) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + 'static,
{
    let socket = match listener.into_std() {
        Ok(socket) => socket,
        Err(e) => {
            tracing::error!(error = %e, listener = name, "ingress listener unusable");
            return;
        }
    };
    let (stop, stopped) = watch::channel(false);
    let serve = Arc::new(serve);
    let mut finished = Vec::new();
    for worker in 0..count() {
        let socket = match socket.try_clone() {
            Ok(socket) => socket,
            Err(e) => {
                tracing::error!(error = %e, listener = name, "ingress worker not started");
                break;
            }
        };
        let (done, finished_rx) = oneshot::channel::<()>();
        let (serve, stopped) = (serve.clone(), Stopped(stopped.clone()));
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{worker}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match runtime {
                    Ok(runtime) => runtime.block_on(async move {
                        match TcpListener::from_std(socket) {
                            Ok(listener) => serve(listener, stopped).await,
                            Err(e) => tracing::error!(error = %e, "ingress worker has no listener"),
                        }
                    }),
                    Err(e) => tracing::error!(error = %e, "ingress worker has no runtime"),
                }
                drop(done);
            });
        match thread {
            Ok(_) => finished.push(finished_rx),
            Err(e) => tracing::error!(error = %e, listener = name, "ingress worker not started"),
        }
    }
    drop(socket);
    shutdown.await;
    let _ = stop.send(true);
    for worker in finished {
        let _ = worker.await;
    }
}

/// Completes when the workers are to stop: `shutdown` completed, or [`run`] was dropped.
pub(crate) struct Stopped(watch::Receiver<bool>);

impl Stopped {
    pub(crate) async fn wait(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}
