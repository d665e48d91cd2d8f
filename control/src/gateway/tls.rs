//! The gateway's TLS: its own key and self-signed certificate (made on first start, kept in the
//! data dir, pinned by agents through the SHA-256 in the install command), and a client-
//! certificate verifier that demands a certificate and proof of its key but trusts no CA: which
//! certificates are welcome is decided after the handshake, against the enrolled fingerprints.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use sha2::{Digest, Sha256};

/// SHA-256 of a DER certificate, lowercase hex: what Base stores and agents pin.
pub fn fingerprint(cert_der: &[u8]) -> String {
    hex::encode(Sha256::digest(cert_der))
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The gateway's key pair and certificate.
#[derive(Debug, Clone)]
pub struct Identity {
    pub cert: CertificateDer<'static>,
    key: Arc<Vec<u8>>,
}

impl Identity {
    pub fn pin(&self) -> String {
        fingerprint(&self.cert)
    }

    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.as_ref().clone()))
    }

    /// Loads `gateway-cert.der` / `gateway-key.der` from `dir`, creating them (key 0600) if absent.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Identity> {
        let cert_path = dir.join("gateway-cert.der");
        let key_path = dir.join("gateway-key.der");
        if cert_path.exists() && key_path.exists() {
            let cert = CertificateDer::from(std::fs::read(&cert_path)?);
            return Ok(Identity {
                cert,
                key: Arc::new(std::fs::read(&key_path)?),
            });
        }
        let names = vec!["dployr-gateway".to_string(), "localhost".to_string()];
        let made = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
        let key = made.key_pair.serialize_der();
        write_private(&key_path, &key)?;
        std::fs::write(&cert_path, made.cert.der())?;
        Ok(Identity {
            cert: made.cert.der().clone(),
            key: Arc::new(key),
        })
    }
}

/// Writes a secret file readable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

/// Requires a client certificate and a valid handshake signature with its key; accepts any
/// certificate otherwise (agents' certificates are self-signed; enrollment pins them).
#[derive(Debug)]
pub struct AnyClientCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
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

    fn client_auth_mandatory(&self) -> bool {
        true
    }
}

pub fn server_config(identity: &Identity) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = provider();
    let verifier = Arc::new(AnyClientCertificate {
        algorithms: provider.signature_verification_algorithms,
    });
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![identity.cert.clone()], identity.key())?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_created_once_with_a_private_key_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = Identity::load_or_create(dir.path()).unwrap();
        let b = Identity::load_or_create(dir.path()).unwrap();
        assert_eq!(
            a.pin(),
            b.pin(),
            "the second start reuses the key and certificate"
        );
        assert_eq!(a.pin().len(), 64);
        let mode = std::fs::metadata(dir.path().join("gateway-key.der"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        server_config(&a).unwrap();
    }
}
