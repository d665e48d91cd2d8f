//! The HTTPS listener: TLS by rustls with the certificate picked by SNI from
//! [`Certificates`], then HTTP/1.1 (with WebSocket upgrades) or HTTP/2 (WebSockets by RFC
//! 8441's extended CONNECT) as the client's ALPN says, into the same [`Proxy`] as plain HTTP
//! (which then says `X-Forwarded-Proto: https` and adds HSTS for services that asked); an
//! HTTP/1.1 connection's ordinary requests take the direct path, as in the clear. There
//! is no default certificate: a handshake for a name the store has none for fails. A
//! TLS-ALPN-01 validation (`acme-tls/1`) gets the challenge certificate during the handshake
//! and nothing after it.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::ServerConfig;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use super::certs::{ACME_TLS_ALPN, Certificates};
use super::coarse_timer::CoarseTimer;
use super::proxy::{Peer, Proxy, Scheme};
use super::routes::Routes;
use super::{HEADER_READ_TIMEOUT, accept_loop, direct, direct_path_enabled, workers};

/// A client must finish its TLS handshake within this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The rustls configuration of the HTTPS listener: certificates from `certs` by SNI, ALPN
/// `h2`, `http/1.1` and `acme-tls/1`.
pub fn server_config(certs: &Certificates) -> ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_no_client_auth()
        .with_cert_resolver(certs.resolver());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
    config
}

/// Serves HTTPS on `listener` until `shutdown`, then finishes like [`super::serve`] does
/// (requests in progress complete, idle connections close, upgraded ones are not waited for).
pub async fn serve_https(
    listener: TcpListener,
    routes: Routes,
    certs: Certificates,
    shutdown: impl Future,
) {
    let acceptor = TlsAcceptor::from(Arc::new(server_config(&certs)));
    workers::run(
        "ingress-https",
        listener,
        shutdown,
        move |handed, stopped| {
            // Per worker: its own upstream connections (see `workers`) and request counts.
            routes.meters().serve_worker();
            let proxy = Arc::new(Proxy::new(routes.clone(), Scheme::Https, None));
            let mut http = auto::Builder::new(TokioExecutor::new());
            let timer = CoarseTimer::new();
            http.http1()
                .timer(timer.clone())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            // WebSockets over HTTP/2 (RFC 8441), else a browser opens an HTTP/1.1
            // connection beside the HTTP/2 one for each.
            http.http2().timer(timer.clone()).enable_connect_protocol();
            let acceptor = acceptor.clone();
            let direct = direct_path_enabled().then_some(timer);
            accept_loop(handed, stopped.wait(), move |stream, peer, stopping| {
                let served = Served {
                    acceptor: acceptor.clone(),
                    direct: direct.clone(),
                    http: http.clone(),
                    proxy: proxy.clone(),
                };
                connection(stream, peer, served, stopping)
            })
        },
    )
    .await;
}

/// What serves a worker's HTTPS connections.
struct Served {
    acceptor: TlsAcceptor,
    /// The worker's timer, for the direct path; `None`: it is off.
    direct: Option<CoarseTimer>,
    http: auto::Builder<TokioExecutor>,
    proxy: Arc<Proxy>,
}

/// Serves one HTTPS connection: the handshake, then an HTTP/1.1 connection's ordinary requests
/// by the direct path, the rest (and HTTP/2) by hyper.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    served: Served,
    mut stopping: watch::Receiver<()>,
) {
    let Served {
        acceptor,
        direct,
        http,
        proxy,
    } = served;
    let _ = stream.set_nodelay(true);
    let mut tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            return;
        }
    };
    if tls.get_ref().1.alpn_protocol() == Some(ACME_TLS_ALPN) {
        // The validation is the handshake itself (RFC 8737 §3): nothing is served after it.
        let _ = tls.shutdown().await;
        return;
    }
    let peer = Peer::new(peer);
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let timer = direct.as_ref().filter(|_| !h2);
    let Some(tls) = direct::serve(tls, &peer, &proxy, timer, &mut stopping).await else {
        return;
    };
    let service = service_fn(move |req| {
        let (proxy, peer) = (proxy.clone(), peer.clone());
        let span = tracing::debug_span!("request", method = %req.method(), path = req.uri().path());
        async move { Ok::<_, Infallible>(proxy.handle(req, &peer).await) }.instrument(span)
    });
    let mut conn = pin!(http.serve_connection_with_upgrades(TokioIo::new(tls), service));
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stopping.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "HTTPS connection ended with an error");
    }
}
