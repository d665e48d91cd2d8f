//! What pebble validates against and the test clients fetch from. [`Ingress::real`] is
//! dployrd's own ingress (`serve_http` answering HTTP-01 from [`Certificates`], `serve_https` by
//! SNI with TLS-ALPN-01) routing every test domain to an app answering `hello <host>`.
//! [`Ingress::start`] is a stand-in that does the same by hand and can also hold HTTP-01
//! requests unanswered, which only a test of an order in progress needs.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use agent::ingress::certs::{ACME_TLS_ALPN, Certificates};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub struct Ingress {
    pub certs: Certificates,
    pub http: SocketAddr,
    pub https: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
    hold: Hold,
}

/// While set, HTTP-01 requests are answered never, and their tokens are sent here.
type Hold = Arc<Mutex<Option<mpsc::UnboundedSender<String>>>>;

impl Drop for Ingress {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The hosts the real ingress routes to the app.
pub const HOSTS: &[&str] = &[
    "app.dployr.test",
    "one.dployr.test",
    "two.dployr.test",
    "three.dployr.test",
    "next.dployr.test",
];

impl Ingress {
    /// dployrd's ingress on HTTP and HTTPS, every test host routed to an app saying hello.
    pub async fn real(certs: Certificates) -> Ingress {
        let app = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = app.local_addr().unwrap();
        let hello = tokio::spawn(async move {
            while let Ok((tcp, _)) = app.accept().await {
                let service = service_fn(|req: Request<Incoming>| async move {
                    Ok::<_, Infallible>(Response::new(Full::<Bytes>::from(format!(
                        "hello {}",
                        host(&req)
                    ))))
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(tcp), service));
            }
        });
        let routes = agent::ingress::Routes::new();
        let hosts = HOSTS.iter().map(|h| h.to_string()).collect();
        routes.set("svc_app", hosts, upstream).unwrap();
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let https = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (http_addr, https_addr) = (http.local_addr().unwrap(), https.local_addr().unwrap());
        let options = agent::ingress::HttpOptions {
            certs: Some(certs.clone()),
            https_port: Some(https_addr.port()),
        };
        let plain = tokio::spawn(agent::ingress::serve_http(
            http,
            routes.clone(),
            options,
            std::future::pending::<()>(),
        ));
        let tls = tokio::spawn(agent::ingress::serve_https(
            https,
            routes,
            certs.clone(),
            std::future::pending::<()>(),
        ));
        Ingress {
            certs,
            http: http_addr,
            https: https_addr,
            tasks: vec![plain, tls, hello],
            hold: Hold::default(),
        }
    }

    /// The stand-in (see the module's doc).
    pub async fn start(certs: Certificates) -> Ingress {
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let https = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (http_addr, https_addr) = (http.local_addr().unwrap(), https.local_addr().unwrap());
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(certs.resolver());
        config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let plain_certs = certs.clone();
        let hold = Hold::default();
        let plain_hold = hold.clone();
        let plain = tokio::spawn(async move {
            while let Ok((tcp, _)) = http.accept().await {
                let (certs, hold) = (plain_certs.clone(), plain_hold.clone());
                tokio::spawn(serve(TokioIo::new(tcp), certs, hold));
            }
        });
        let tls_certs = certs.clone();
        let tls = tokio::spawn(async move {
            while let Ok((tcp, _)) = https.accept().await {
                let (acceptor, certs) = (acceptor.clone(), tls_certs.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    // A TLS-ALPN-01 validation ends with the handshake.
                    if stream.get_ref().1.alpn_protocol() == Some(ACME_TLS_ALPN) {
                        return;
                    }
                    serve(TokioIo::new(stream), certs, Hold::default()).await;
                });
            }
        });
        Ingress {
            certs,
            http: http_addr,
            https: https_addr,
            tasks: vec![plain, tls],
            hold,
        }
    }

    /// From now on HTTP-01 requests hang (a validation in progress); their tokens come out of
    /// the receiver.
    pub fn hold_http01(&self) -> mpsc::UnboundedReceiver<String> {
        assert_eq!(
            self.tasks.len(),
            2,
            "only the stand-in holds HTTP-01 requests"
        );
        let (tx, rx) = mpsc::unbounded_channel();
        *self.hold.lock().unwrap() = Some(tx);
        rx
    }

    pub fn release_http01(&self) {
        *self.hold.lock().unwrap() = None;
    }
}

impl Ingress {
    /// Stops answering plain HTTP (so HTTP-01 validations fail with connection refused).
    pub fn stop_http(&self) {
        self.tasks[0].abort();
    }
}

async fn serve<S>(io: TokioIo<S>, certs: Certificates, hold: Hold)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req: Request<Incoming>| {
        let certs = certs.clone();
        let held = hold.lock().unwrap().clone();
        async move {
            let path = req.uri().path();
            if let (Some(tx), Some(token)) =
                (held, path.strip_prefix("/.well-known/acme-challenge/"))
            {
                let _ = tx.send(token.to_string());
                std::future::pending::<()>().await;
            }
            Ok::<_, Infallible>(answer(&certs, &req))
        }
    });
    let _ = http1::Builder::new().serve_connection(io, service).await;
}

fn answer(certs: &Certificates, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if let Some(token) = path.strip_prefix("/.well-known/acme-challenge/") {
        return match certs.http01(token) {
            Some(key_authorization) => Response::new(Full::from(key_authorization)),
            None => Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body(Full::from("no such challenge"))
                .unwrap(),
        };
    }
    Response::new(Full::from(format!("hello {}", host(req))))
}

fn host(req: &Request<Incoming>) -> &str {
    req.headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
}
