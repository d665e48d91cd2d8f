//! A real pebble (Debian's package, `/usr/bin/pebble`) per test: its own config on free
//! loopback ports, its HTTPS certificate from a CA made here (the package ships no test
//! certificates), validating through the test's DNS server ([`crate::dns::DnsServer`]: set an A
//! record of 127.0.0.1 for each name) against the ports the test's ingress listens on.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every wait on pebble gives up after this.
const DEADLINE: Duration = Duration::from_secs(60);

pub struct Pebble {
    dir: tempfile::TempDir,
    pub listen: u16,
    pub management: u16,
    /// The CA that signed pebble's HTTPS certificate (the `ca_root` to give ACME).
    pub https_root: PathBuf,
    child: Option<Child>,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Pebble {
    /// Starts pebble validating on `http_port`/`tls_port` of the names `dns` resolves, with
    /// certificates valid `validity_s` seconds (pebble's default, 5 years, when `None`).
    pub async fn start(
        http_port: u16,
        tls_port: u16,
        dns: SocketAddr,
        validity_s: Option<u64>,
    ) -> Pebble {
        let mut pebble = Pebble::prepare(dns, validity_s);
        pebble.validate_on(http_port, tls_port).await;
        pebble
    }

    /// Pebble's ports, HTTPS certificate and settings, not started yet: its directory URL and
    /// root are known before the ports it validates on (a dployrd that must be given the
    /// directory before its ingress has ports).
    pub fn prepare(dns: SocketAddr, validity_s: Option<u64>) -> Pebble {
        let dir = tempfile::tempdir().unwrap();
        let https_root = https_certificate(dir.path());
        let (listen, management) = (crate::free_port(), crate::free_port());
        let mut config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{listen}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": dir.path().join("cert.pem"),
            "privateKey": dir.path().join("key.pem"),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
        }});
        if let Some(v) = validity_s {
            config["pebble"]["certificateValidityPeriod"] = v.into();
        }
        std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
        std::fs::write(dir.path().join("dns"), dns.to_string()).unwrap();
        Pebble {
            dir,
            listen,
            management,
            https_root,
            child: None,
        }
    }

    /// Starts the prepared pebble validating HTTP-01 on `http_port` and TLS-ALPN-01 on
    /// `tls_port`.
    pub async fn validate_on(&mut self, http_port: u16, tls_port: u16) {
        let path = self.dir.path().join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        config["pebble"]["httpPort"] = http_port.into();
        config["pebble"]["tlsPort"] = tls_port.into();
        std::fs::write(&path, config.to_string()).unwrap();
        self.restart().await;
    }

    /// From now on (pebble restarts), new accounts must be bound to the external account `kid`
    /// whose HMAC key is `hmac_key_b64url` (as ZeroSSL requires).
    pub async fn require_eab(&mut self, kid: &str, hmac_key_b64url: &str) {
        let path = self.dir.path().join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        config["pebble"]["externalAccountBindingRequired"] = true.into();
        config["pebble"]["externalAccountMACKeys"] = serde_json::json!({ kid: hmac_key_b64url });
        std::fs::write(&path, config.to_string()).unwrap();
        self.restart().await;
    }

    /// (Re)starts the process with the same config and ports; waits until its directory answers.
    pub async fn restart(&mut self) {
        self.kill();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("pebble.log"))
            .unwrap();
        let dns = std::fs::read_to_string(self.dir.path().join("dns")).unwrap();
        let child = Command::new("pebble")
            .arg("-config")
            .arg(self.dir.path().join("config.json"))
            .arg("-dnsserver")
            .arg(dns)
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            // Every order validates its challenge (no authorization reuse).
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("pebble (apt-get install -y pebble)");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if let Ok((200, _)) = self.get(self.listen, "/dir").await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "pebble did not start:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.listen)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }

    /// The root pebble issues under (new on every start).
    pub async fn issuing_root(&self) -> CertificateDer<'static> {
        let (status, body) = self.get(self.management, "/roots/0").await.unwrap();
        assert_eq!(status, 200, "{body}");
        CertificateDer::from_pem_slice(body.as_bytes()).unwrap()
    }

    /// `GET path` over HTTPS on `port`, trusting pebble's HTTPS root.
    async fn get(&self, port: u16, path: &str) -> std::io::Result<(u16, String)> {
        let root = CertificateDer::from_pem_file(&self.https_root).unwrap();
        let (status, body, _) = https_get(port, "127.0.0.1", root, path).await?;
        Ok((status, body))
    }
}

/// `GET path` (HTTP/1.0) over TLS to 127.0.0.1:`port` as `host` (SNI, verified name and
/// `Host`), trusting `root`: the status, the body and the server's leaf certificate.
pub async fn https_get(
    port: u16,
    host: &str,
    root: CertificateDer<'static>,
    path: &str,
) -> std::io::Result<(u16, String, CertificateDer<'static>)> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from(host.to_string()).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    let leaf = tls.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned();
    tls.write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await?;
    let mut response = Vec::new();
    // Go's servers close without close_notify: what was read until then is the answer.
    let _ = tls.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string(), leaf))
}

/// Writes a CA (`ca.pem`) and pebble's certificate for 127.0.0.1 signed by it (`cert.pem`,
/// `key.pem`) into `dir`; returns the CA's path.
fn https_certificate(dir: &Path) -> PathBuf {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    dir.join("ca.pem")
}
