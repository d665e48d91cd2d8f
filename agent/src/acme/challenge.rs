//! Answering a challenge through the ingress's [`Certificates`]: the HTTP-01 key
//! authorization, or the TLS-ALPN-01 certificate (RFC 8737). The answer is withdrawn when the
//! [`Answer`] is dropped, whether the order succeeded, failed or was abandoned.

use std::sync::Arc;

use rcgen::{CertificateParams, CustomExtension, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

use crate::ingress::certs::Certificates;

/// Why a TLS-ALPN-01 certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AlpnCertError {
    #[error("TLS-ALPN-01 certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS-ALPN-01 key refused: {0}")]
    Key(#[from] rustls::Error),
}

/// A challenge answer being served; withdrawn on drop.
pub enum Answer {
    Http01 { certs: Certificates, token: String },
    TlsAlpn01 { certs: Certificates, domain: String },
}

impl Answer {
    /// Serves `key_authorization` for `token` over HTTP.
    pub fn http01(certs: &Certificates, token: &str, key_authorization: &str) -> Answer {
        certs.set_http01(token, key_authorization);
        Answer::Http01 {
            certs: certs.clone(),
            token: token.to_string(),
        }
    }

    /// Presents a self-signed certificate for `domain` carrying the critical acmeIdentifier
    /// extension with `digest` (SHA-256 of the key authorization) to `acme-tls/1` handshakes.
    pub fn tls_alpn01(certs: &Certificates, domain: &str, digest: &[u8]) -> anyhow::Result<Answer> {
        certs.set_alpn01(domain, alpn01_key(domain, digest)?);
        Ok(Answer::TlsAlpn01 {
            certs: certs.clone(),
            domain: domain.to_string(),
        })
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        match self {
            Answer::Http01 { certs, token } => certs.clear_http01(token),
            Answer::TlsAlpn01 { certs, domain } => certs.clear_alpn01(domain),
        }
    }
}

/// The TLS-ALPN-01 certificate and its key.
pub fn alpn01_key(domain: &str, digest: &[u8]) -> Result<Arc<CertifiedKey>, AlpnCertError> {
    let mut params = CertificateParams::new(vec![domain.to_string()])?;
    params.custom_extensions = vec![CustomExtension::new_acme_identifier(digest)];
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signer = rustls::crypto::ring::sign::any_supported_type(&der)?;
    Ok(Arc::new(CertifiedKey::new(
        vec![cert.der().clone()],
        signer,
    )))
}
