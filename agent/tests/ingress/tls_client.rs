//! The HTTPS side of the ingress tests: certificates made with rcgen and installed in a real
//! [`Certificates`] store, the ingress listening on HTTP and HTTPS over one route table, and
//! clients that trust exactly those certificates: a raw TLS connection (to see the ALPN and
//! handshake failures) and hyper-util's pooled client over it (HTTP/1.1 or HTTP/2).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use agent::ingress::{self, Certificates, HttpOptions, Routes};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::support::ClientBody;

/// A self-signed certificate for `names`: (chain PEM, key PEM, DER to trust).
pub fn self_signed(names: &[&str]) -> (String, String, CertificateDer<'static>) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().clone())
}

/// The ingress on HTTP and HTTPS (both on 127.0.0.1:0), one route table, one store.
pub struct TlsIngress {
    pub http: SocketAddr,
    pub https: SocketAddr,
    pub routes: Routes,
    pub certs: Certificates,
    _dir: tempfile::TempDir,
    stop: CancellationToken,
}

impl TlsIngress {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let certs = Certificates::open(dir.path().join("certs")).unwrap();
        let routes = Routes::new();
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let https = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (http_addr, https_addr) = (http.local_addr().unwrap(), https.local_addr().unwrap());
        let stop = CancellationToken::new();
        let options = HttpOptions {
            certs: Some(certs.clone()),
            https_port: Some(https_addr.port()),
        };
        let shutdown = stop.clone().cancelled_owned();
        tokio::spawn(ingress::serve_http(http, routes.clone(), options, shutdown));
        let shutdown = stop.clone().cancelled_owned();
        tokio::spawn(ingress::serve_https(
            https,
            routes.clone(),
            certs.clone(),
            shutdown,
        ));
        Self {
            http: http_addr,
            https: https_addr,
            routes,
            certs,
            _dir: dir,
            stop,
        }
    }

    /// Installs a fresh self-signed certificate for `names` (under the first) and returns the
    /// DER a client must trust.
    pub fn certify(&self, names: &[&str]) -> CertificateDer<'static> {
        let (chain, key, der) = self_signed(names);
        self.certs.install(names[0], &chain, &key, false).unwrap();
        der
    }

    pub fn route(&self, service: &str, host: &str, upstream: SocketAddr) {
        self.routes
            .set(service, vec![host.to_owned()], upstream)
            .unwrap();
    }
}

impl Drop for TlsIngress {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A client configuration trusting only `trusted`, offering `alpn`.
pub fn client_config(trusted: &[CertificateDer<'static>], alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in trusted {
        roots.add(cert.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

/// A TLS connection to `addr` naming `sni`.
pub async fn connect(
    tls: &TlsConnector,
    addr: SocketAddr,
    sni: &str,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    tls.connect(name, tcp).await
}

/// hyper-util's connector for the tests: every connection goes to `addr` over TLS, naming
/// the request's host; HTTP/2 when the server picks `h2`.
#[derive(Clone)]
pub struct TlsTo {
    pub addr: SocketAddr,
    pub tls: TlsConnector,
}

pub struct TlsIo(TokioIo<TlsStream<TcpStream>>);

type Connecting = Pin<Box<dyn Future<Output = std::io::Result<TlsIo>> + Send>>;

impl tower_service::Service<http::Uri> for TlsTo {
    type Response = TlsIo;
    type Error = std::io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Connecting {
        let (tls, addr) = (self.tls.clone(), self.addr);
        Box::pin(async move {
            let host = uri.host().expect("a request URI with a host");
            Ok(TlsIo(TokioIo::new(connect(&tls, addr, host).await?)))
        })
    }
}

impl Connection for TlsIo {
    fn connected(&self) -> Connected {
        let h2 = self.0.inner().get_ref().1.alpn_protocol() == Some(b"h2");
        if h2 {
            Connected::new().negotiated_h2()
        } else {
            Connected::new()
        }
    }
}

impl hyper::rt::Read for TlsIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for TlsIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// A pooled HTTPS client to the ingress at `addr` trusting `trusted`, offering `alpn`.
pub fn https_client(
    addr: SocketAddr,
    trusted: &[CertificateDer<'static>],
    alpn: &[&[u8]],
) -> Client<TlsTo, ClientBody> {
    let tls = client_config(trusted, alpn);
    Client::builder(TokioExecutor::new()).build(TlsTo { addr, tls })
}
