//! The agent's side of mutual TLS: its own key pair and self-signed certificate (ECDSA P-256,
//! made with rcgen on first use, key file 0600), and a server verifier that trusts exactly one
//! certificate, the one whose SHA-256 the install command carried. No web PKI is involved, so a
//! Base on a bare IP works, and a man in the middle with any CA-signed certificate does not.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

pub fn fingerprint(cert_der: &[u8]) -> String {
    hex::encode(Sha256::digest(cert_der))
}

/// The agent's certificate and key.
#[derive(Debug, Clone)]
pub struct AgentIdentity {
    pub cert: CertificateDer<'static>,
    key: Arc<Vec<u8>>,
}

impl AgentIdentity {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.as_ref().clone()))
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(&self.cert)
    }

    /// Loads the identity from `dir`, creating it on first use.
    pub fn load_or_create(dir: &Path) -> std::io::Result<AgentIdentity> {
        let cert_path = dir.join("agent-cert.der");
        let key_path = dir.join("agent-key.der");
        if cert_path.exists() && key_path.exists() {
            let cert = CertificateDer::from(std::fs::read(&cert_path)?);
            return Ok(AgentIdentity {
                cert,
                key: Arc::new(std::fs::read(&key_path)?),
            });
        }
        std::fs::create_dir_all(dir)?;
        let host = std::fs::read_to_string("/etc/hostname")
            .unwrap_or_default()
            .trim()
            .to_string();
        let name = if host.is_empty() {
            "dployrd".to_string()
        } else {
            format!("dployrd.{host}")
        };
        let made = rcgen::generate_simple_self_signed(vec![name]).map_err(std::io::Error::other)?;
        let key = made.key_pair.serialize_der();
        write_private(&key_path, &key)?;
        std::fs::write(&cert_path, made.cert.der())?;
        Ok(AgentIdentity {
            cert: made.cert.der().clone(),
            key: Arc::new(key),
        })
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(tmp, path)
}

/// Trusts exactly the server certificate whose SHA-256 is `pin`.
#[derive(Debug)]
pub struct PinnedServer {
    pin: String,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = fingerprint(end_entity);
        if got == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "Base's certificate sha256:{got} does not match the pinned sha256:{}",
                self.pin
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A client config that pins Base and presents `identity` (or no certificate at all, which
/// only tests want, to prove the gateway refuses it).
pub fn client_config(
    pin: &str,
    identity: Option<&AgentIdentity>,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedServer {
        pin: pin.to_string(),
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match identity {
        Some(id) => builder.with_client_auth_cert(vec![id.cert.clone()], id.key())?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
