//! Base on HTTPS (`--tls`): Base terminates TLS on its own listener with the operator's
//! certificate files ([`files`]) or with a certificate for its public host from an ACME CA,
//! through the same client dployrd uses for services ([`acme`]). The router is served through
//! [`listener::TlsListener`], HTTP/1.1 or HTTP/2 as the client's ALPN says; [`plain`] is the
//! optional plain-HTTP listener (HTTP-01 answers, redirects to https). With `--tls off` Base
//! speaks plain HTTP: local development, or a proxy in front that terminates TLS
//! (`--trusted-proxy` says whose `X-Forwarded-For` to believe).
//!
//! - [`args`]: the flags and the checks on them.
//! - [`files`], [`acme`]: where the certificate comes from.
//! - [`listener`], [`plain`]: the two listeners.

pub mod acme;
pub mod args;
pub mod files;
pub mod listener;
pub mod plain;

use std::path::Path;
use std::sync::Arc;

use agent::acme::Acme;
use agent::ingress::certs::{ACME_TLS_ALPN, Certificates};
use anyhow::Context;
use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use rustls::server::ResolvesServerCert;

pub use args::{TlsArgs, TlsConfigError, TlsMode};

/// Base's TLS while it serves. Dropping it stops the certificate's upkeep (file watching, ACME
/// renewals).
pub struct BaseTls {
    /// The rustls configuration of Base's listener.
    pub config: Arc<ServerConfig>,
    /// The ACME store, whose HTTP-01 answers the plain listener gives (`None` with files).
    pub challenges: Option<Certificates>,
    _acme: Option<Acme>,
    _watch: Option<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Checks the flags against the public URL and gets the certificate going; `None` with
/// `--tls off`. Certificates and the ACME account live in `<data_dir>/tls` (0700).
pub fn start(
    args: &TlsArgs,
    data_dir: &Path,
    public_url: &url::Url,
) -> anyhow::Result<Option<BaseTls>> {
    args.check(public_url)?;
    match args.mode {
        TlsMode::Off => Ok(None),
        TlsMode::Files => {
            let (cert, key) = args
                .tls_cert
                .as_deref()
                .zip(args.tls_key.as_deref())
                .ok_or(TlsConfigError::MissingFiles)?;
            let served = files::FileCert::load(cert, key).context("--tls files")?;
            let watch = AbortOnDrop(tokio::spawn(served.clone().watch()));
            Ok(Some(BaseTls {
                config: server_config(served, false),
                challenges: None,
                _acme: None,
                _watch: Some(watch),
            }))
        }
        TlsMode::Acme => {
            let tls_dir = data_dir.join("tls");
            private_dir(&tls_dir).with_context(|| format!("creating {}", tls_dir.display()))?;
            let options = args.acme_options(&tls_dir)?;
            let host = public_url.host_str().unwrap_or_default();
            let (acme, certs) = acme::start(options, &tls_dir, host)
                .with_context(|| format!("opening the certificates in {}", tls_dir.display()))?;
            Ok(Some(BaseTls {
                config: server_config(certs.resolver(), true),
                challenges: Some(certs),
                _acme: Some(acme),
                _watch: None,
            }))
        }
    }
}

/// TLS 1.2 and 1.3 by ring, certificates from `resolver`, ALPN `h2` then `http/1.1` (and
/// `acme-tls/1` when TLS-ALPN-01 validations may come).
pub fn server_config(resolver: Arc<dyn ResolvesServerCert>, acme_alpn: bool) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    if acme_alpn {
        config.alpn_protocols.push(ACME_TLS_ALPN.to_vec());
    }
    Arc::new(config)
}

/// Logs the names a certificate is for and when it expires (a warning within 14 days).
pub(crate) fn log_expiry(leaf: &CertificateDer<'_>, source: &str) {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let Ok((_, cert)) = X509Certificate::from_der(leaf.as_ref()) else {
        tracing::warn!(%source, "the TLS certificate cannot be read for its expiry");
        return;
    };
    let names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    GeneralName::IPAddress(ip) => Some(format!("{ip:?}")),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let not_after = cert.validity().not_after.timestamp();
    let expires = control::clock::rfc3339(not_after * 1000);
    let left_days = (not_after * 1000 - control::clock::now_ms()) / 86_400_000;
    if left_days < 14 {
        tracing::warn!(%source, ?names, %expires, left_days, "Base's TLS certificate expires soon");
    } else {
        tracing::info!(%source, ?names, %expires, "Base's TLS certificate");
    }
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}
