//! The ingress: dployrd's HTTP reverse proxy. It routes each request by `Host` to the live
//! release of a service (a process on 127.0.0.1:<port>), so a deploy is a route switch: start
//! the new release, [`Routes::set`] it, drain and stop the old one, without a failed request.
//!
//! - [`routes`]: the shared table a deploy rewrites atomically.
//! - [`certs`]: the certificates served by SNI and the ACME challenge answers.
//! - `proxy`: forwarding one request (headers, streamed bodies, error answers).
//! - `direct`: ordinary HTTP/1.1 requests forwarded without hyper, like nginx does.
//! - `request_body`: a client's request body on its way upstream, its bytes counted.
//! - `message`: the body type, the ingress's own short answers, the host a request is for.
//! - `upgrade`: WebSocket and other `Upgrade` pass-through.
//! - `front`: what plain HTTP answers itself (ACME HTTP-01, redirects to HTTPS).
//! - `tls`: the HTTPS listener (HTTP/1.1 and HTTP/2, certificates by SNI).
//! - `workers`: one current-thread runtime per core for each listener, like nginx's workers.
//! - `upstream`: each worker's keep-alive connections to the releases.
//! - `coarse_timer`: hyper's timer for the safeguard timeouts, checked once a second.
//! - `covered`: each worker's view of which hosts have a certificate (to redirect them).
//! - [`meter`]: each worker's per-service request counts, collected by the metrics sampler.
//! - `histogram`: the latency histogram those counts keep.
//! - [`keeper`]: who gets certificates for the engine's domains (ACME), and how it reports.
//!
//! This module is the HTTP/1.1 accept loop with graceful shutdown, shared with HTTPS.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::Instrument;

pub mod certs;
mod coarse_timer;
mod covered;
mod direct;
mod front;
mod histogram;
pub mod keeper;
mod message;
pub mod meter;
mod proxy;
mod request_body;
pub mod routes;
mod tls;
mod upgrade;
mod upstream;
mod workers;

pub use certs::Certificates;
pub use keeper::{CertKeeper, CertReporter};
pub use message::Body;
pub use meter::Meters;
pub use routes::{InvalidHost, Routes, Target};
pub use tls::{HANDSHAKE_TIMEOUT, serve_https, server_config};

use coarse_timer::CoarseTimer;
use proxy::{Peer, Proxy, Scheme};

/// A request's headers for the ingress tests, from `(name, value)` pairs in order.
#[cfg(test)]
fn test_headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for (name, value) in pairs {
        headers.append(*name, value.parse().unwrap());
    }
    headers
}

/// `DPLOYR_INGRESS_DIRECT=off` sends every request through hyper (see `direct`).
fn direct_path_enabled() -> bool {
    std::env::var("DPLOYR_INGRESS_DIRECT").map_or(true, |v| v != "off")
}

/// A client must send its request head within this (slowloris); the direct path also closes a
/// connection that sends no request for this long.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What the plain-HTTP listener does besides proxying, once dployrd has certificates.
#[derive(Clone, Default)]
pub struct HttpOptions {
    /// Answers ACME HTTP-01 challenges from, and redirects hosts it has a certificate for.
    pub certs: Option<Certificates>,
    /// The HTTPS listener's port, for redirects; `None`: nothing is redirected.
    pub https_port: Option<u16>,
}

/// Serves HTTP/1.1 (keep-alive, upgrades) on `listener`, routing by `routes`, until `shutdown`
/// completes. Then it stops accepting, lets every request in progress finish (idle keep-alive
/// connections are closed at once), and returns. Bound the wait with a timeout around this
/// future if a slow request must not hold shutdown up. Upgraded connections (WebSockets) are
/// not waited for.
pub async fn serve(listener: TcpListener, routes: Routes, shutdown: impl Future) {
    serve_http(listener, routes, HttpOptions::default(), shutdown).await;
}

/// [`serve`], with ACME HTTP-01 answers and redirects to HTTPS (see [`HttpOptions`]).
pub async fn serve_http(
    listener: TcpListener,
    routes: Routes,
    options: HttpOptions,
    shutdown: impl Future,
) {
    workers::run(
        "ingress-http",
        listener,
        shutdown,
        move |handed, stopped| {
            // Per worker: its own upstream connections (see `workers`) and request counts.
            routes.meters().serve_worker();
            let front = (options.certs.clone())
                .map(|certs| front::HttpFront::new(certs, options.https_port));
            let proxy = Arc::new(Proxy::new(routes.clone(), Scheme::Http, front));
            let timer = CoarseTimer::new();
            let mut http = http1::Builder::new();
            http.timer(timer.clone())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let direct = direct_path_enabled().then_some(timer);
            accept_loop(handed, stopped.wait(), move |stream, peer, stopping| {
                let direct = direct.clone();
                connection(stream, peer, direct, http.clone(), proxy.clone(), stopping)
            })
        },
    )
    .await;
}

/// Serves the connections handed to this worker until `shutdown`, each in its own task from
/// `serve_one`; then signals every connection (through the `watch` receiver each gets) and waits
/// for them all.
pub(crate) async fn accept_loop<F, C>(
    mut handed: workers::Handed,
    shutdown: impl Future,
    mut serve_one: F,
) where
    F: FnMut(TcpStream, SocketAddr, watch::Receiver<()>) -> C,
    C: Future<Output = ()> + Send + 'static,
{
    // Every connection holds a receiver; `closed()` on the sender is "all connections done".
    let (stop, stopping) = watch::channel(());
    let mut shutdown = pin!(shutdown);

    loop {
        let (stream, peer, open) = tokio::select! {
            _ = &mut shutdown => break,
            next = handed.next() => match next {
                Some(next) => next,
                None => break,
            },
        };
        let connection = serve_one(stream, peer, stopping.clone());
        let connection = async move {
            connection.await;
            drop(open);
        };
        tokio::spawn(connection.instrument(tracing::debug_span!("ingress", %peer)));
    }

    drop(handed);
    drop(stopping);
    // Wakes every connection; `send` fails only when none is left, which is fine.
    let _ = stop.send(());
    stop.closed().await;
}

/// Serves one plain-HTTP connection: by the direct path (given its worker's timer) while its
/// requests are ordinary ones, by hyper from the first that is not.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    direct: Option<CoarseTimer>,
    http: http1::Builder,
    proxy: Arc<Proxy>,
    mut stopping: watch::Receiver<()>,
) {
    let _ = stream.set_nodelay(true);
    let peer = Peer::new(peer);
    let served = direct::serve(stream, &peer, &proxy, direct.as_ref(), &mut stopping);
    let Some(stream) = served.await else {
        return;
    };
    let service = service_fn(move |req| {
        let (proxy, peer) = (proxy.clone(), peer.clone());
        let span = tracing::debug_span!("request", method = %req.method(), path = req.uri().path());
        async move { Ok::<_, Infallible>(proxy.handle(req, &peer).await) }.instrument(span)
    });
    let mut conn = pin!(
        http.serve_connection(TokioIo::new(stream), service)
            .with_upgrades()
    );
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stopping.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "ingress connection ended with an error");
    }
}
