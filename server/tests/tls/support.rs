//! A Base started by `server::run` on listeners bound here (so pebble can be told their ports
//! first), HTTPS clients that trust only the CA a test names, and certificates made by rcgen.

use std::net::SocketAddr;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use reqwest::{Client, Response};
use serde_json::json;
use server::Config;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Every wait on a condition gives up after this.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Base's public host in these tests; every client resolves it to 127.0.0.1.
pub const HOST: &str = "base.dployr.test";

pub const PASSWORD: &str = "correct horse battery";

/// Base's listeners, bound before Base is configured.
pub struct Bound {
    pub http: TcpListener,
    pub gateway: TcpListener,
    pub plain: Option<TcpListener>,
}

impl Bound {
    pub async fn new(plain: bool) -> Bound {
        let bind = || TcpListener::bind("127.0.0.1:0");
        Bound {
            http: bind().await.unwrap(),
            gateway: bind().await.unwrap(),
            plain: if plain {
                Some(bind().await.unwrap())
            } else {
                None
            },
        }
    }

    pub fn port(&self) -> u16 {
        self.http.local_addr().unwrap().port()
    }

    pub fn plain_port(&self) -> Option<u16> {
        self.plain.as_ref().map(|l| l.local_addr().unwrap().port())
    }
}

/// A running Base; stops when dropped.
pub struct Base {
    pub addr: SocketAddr,
    pub data_dir: std::path::PathBuf,
    stop: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Base {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A config for a Base in a fresh data dir, public at `https://HOST:<port>` (or `public`).
pub fn config(dir: &tempfile::TempDir, public: &str) -> Config {
    let mut config = Config::for_data_dir(dir.path().join("base"));
    config.public_url = Some(public.parse().unwrap());
    config
}

/// Runs Base with `config` on `bound`; does not wait for it to answer.
pub fn run(config: Config, bound: Bound, dir: tempfile::TempDir) -> Base {
    let addr = bound.http.local_addr().unwrap();
    let data_dir = config.data_dir.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let listeners = server::Listeners {
        http: bound.http,
        gateway: bound.gateway,
        plain: bound.plain,
    };
    let task = tokio::spawn(server::run(config, listeners, async {
        let _ = stopped.await;
    }));
    Base {
        addr,
        data_dir,
        stop: Some(stop),
        task,
        _dir: dir,
    }
}

/// A client that speaks to `HOST` at `addr` over HTTPS trusting only `root` (DER), keeps no
/// cookies and follows no redirects.
pub fn https_client(addr: SocketAddr, root: &[u8]) -> Client {
    Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_der(root).unwrap())
        .resolve(HOST, addr)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// `https://HOST:<port><path>`.
pub fn url(addr: SocketAddr, path: &str) -> String {
    format!("https://{HOST}:{}{path}", addr.port())
}

/// Polls `GET /healthz` until it answers 200 within the deadline; the last error otherwise.
pub async fn wait_healthy(client: &Client, base: &Base, why: impl Fn() -> String) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let last = match client.get(url(base.addr, "/healthz")).send().await {
            Ok(r) if r.status() == 200 => return,
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => format!("{e:?}"),
        };
        assert!(!base.task.is_finished(), "Base stopped: {last}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "Base did not answer over HTTPS in {DEADLINE:?}: {last}\n{}",
            why()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The first person signs up (their session cookie is set on the answer).
pub async fn signup(client: &Client, base_url: &str, origin: &str) -> Response {
    client
        .post(format!("{base_url}/api/v1/auth/signup"))
        .header("Origin", origin)
        .json(&json!({"email": "ana@example.com", "password": PASSWORD, "name": "Ana Lopez"}))
        .send()
        .await
        .unwrap()
}

/// The `Set-Cookie` header of `r` (exactly one).
pub fn set_cookie(r: &Response) -> String {
    let all: Vec<_> = r.headers().get_all("set-cookie").iter().collect();
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].to_str().unwrap().to_string()
}

/// A CA and a certificate for `HOST` signed by it: (CA DER, chain PEM, key PEM, leaf DER).
pub fn issue() -> (Vec<u8>, String, String, Vec<u8>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![HOST.to_string()])
        .unwrap()
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap();
    (
        ca_cert.der().to_vec(),
        leaf.pem(),
        key.serialize_pem(),
        leaf.der().to_vec(),
    )
}

/// The leaf certificate `addr` presents for `HOST`, with the ALPN protocol agreed when the
/// client offers `alpn`; trusting only `root`.
pub async fn handshake(
    addr: SocketAddr,
    root: &[u8],
    alpn: &[&[u8]],
) -> (Vec<u8>, Option<Vec<u8>>) {
    try_handshake(addr, root, alpn).await.unwrap()
}

/// [`handshake`], failing when the server's certificate is not trusted.
pub async fn try_handshake(
    addr: SocketAddr,
    root: &[u8],
    alpn: &[&[u8]],
) -> std::io::Result<(Vec<u8>, Option<Vec<u8>>)> {
    use std::sync::Arc;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.to_vec().into()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from(HOST).unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    let (_, conn) = tls.get_ref();
    Ok((
        conn.peer_certificates().unwrap()[0].to_vec(),
        conn.alpn_protocol().map(<[u8]>::to_vec),
    ))
}
