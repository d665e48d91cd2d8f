//! The tunnel's mutual TLS, written once for both ends because the pin is part of the contract:
//! the pin is the SHA-256 of a DER certificate ([`fingerprint`]), each end has a self-signed
//! [`Identity`] (ECDSA P-256, made with rcgen on first use, key file 0600), and no web PKI is
//! involved, so a Base on a bare IP works and a man in the middle with any CA-signed
//! certificate does not.
//!
//! - dployrd trusts exactly the Base certificate whose SHA-256 the install command carried
//!   ([`client_config`]).
//! - Base's gateway demands a client certificate and proof of its key but trusts no CA
//!   ([`server_config`]): which certificates are welcome is decided after the handshake,
//!   against the enrolled fingerprints.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    ClientConfig, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};
use sha2::{Digest, Sha256};

/// SHA-256 of a DER certificate, lowercase hex: what Base stores for an agent and what an
/// agent pins for Base.
pub fn fingerprint(cert_der: &[u8]) -> String {
    hex::encode(Sha256::digest(cert_der))
}

/// ring: no cmake or nasm needed to build it.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// One end's key pair and self-signed certificate.
#[derive(Debug, Clone)]
pub struct Identity {
    pub cert: CertificateDer<'static>,
    key: Arc<Vec<u8>>,
}

impl Identity {
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.as_ref().clone()))
    }

    /// This certificate's [`fingerprint`].
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.cert)
    }

    /// Loads `<who>-cert.der` and `<who>-key.der` from `dir`, or on first use creates them: a
    /// certificate for `names()` and a key readable by its owner only.
    pub fn load_or_create(
        dir: &Path,
        who: &str,
        names: impl FnOnce() -> Vec<String>,
    ) -> std::io::Result<Identity> {
        let cert_path = dir.join(format!("{who}-cert.der"));
        let key_path = dir.join(format!("{who}-key.der"));
        if cert_path.exists() && key_path.exists() {
            return Ok(Identity {
                cert: CertificateDer::from(std::fs::read(&cert_path)?),
                key: Arc::new(std::fs::read(&key_path)?),
            });
        }
        std::fs::create_dir_all(dir)?;
        let made = rcgen::generate_simple_self_signed(names()).map_err(std::io::Error::other)?;
        let key = made.key_pair.serialize_der();
        write_private(&key_path, &key)?;
        std::fs::write(&cert_path, made.cert.der())?;
        Ok(Identity {
            cert: made.cert.der().clone(),
            key: Arc::new(key),
        })
    }
}

/// Writes a secret file readable by its owner only, whole or not at all (write, sync, rename).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

/// The handshake-signature checks, the same for both verifiers: the peer proves it holds the
/// key of the certificate it presented, with the provider's algorithms.
macro_rules! signatures_by_provider {
    () => {
        signatures_by_provider!(verify_tls12_signature, verify_tls13_signature);

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algorithms.supported_schemes()
        }
    };
    ($($check:ident),+) => {
        $(
            fn $check(
                &self,
                message: &[u8],
                cert: &CertificateDer<'_>,
                dss: &DigitallySignedStruct,
            ) -> Result<HandshakeSignatureValid, rustls::Error> {
                rustls::crypto::$check(message, cert, dss, &self.algorithms)
            }
        )+
    };
}

/// Trusts exactly the server certificate whose SHA-256 is `pin`.
#[derive(Debug)]
struct PinnedServer {
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

    signatures_by_provider!();
}

/// Requires a client certificate and a valid handshake signature with its key; accepts any
/// certificate otherwise (agents' certificates are self-signed; enrollment pins them).
#[derive(Debug)]
struct AnyClientCertificate {
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

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    signatures_by_provider!();
}

/// dployrd's config: pins Base to `pin` and presents `identity` (or no certificate at all,
/// which only tests want, to prove the gateway refuses it).
pub fn client_config(
    pin: &str,
    identity: Option<&Identity>,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = provider();
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

/// The gateway's config: presents `identity` and requires a client certificate.
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
    use rustls::{ClientConnection, Connection, ServerConnection};

    use super::*;

    fn identity(who: &str) -> Identity {
        let dir = std::env::temp_dir().join(format!("proto-tls-{}-{who}", std::process::id()));
        let made = Identity::load_or_create(&dir, who, || vec!["localhost".into()]).unwrap();
        let again = Identity::load_or_create(&dir, who, || unreachable!("made once")).unwrap();
        assert_eq!(made.fingerprint(), again.fingerprint());
        std::fs::remove_dir_all(&dir).unwrap();
        made
    }

    /// Runs a TLS handshake in memory; the first error either side finds.
    fn handshake(
        client: Arc<ClientConfig>,
        server: Arc<ServerConfig>,
    ) -> Result<(), rustls::Error> {
        let name = ServerName::try_from("dployr-gateway").unwrap();
        let mut c = Connection::from(ClientConnection::new(client, name)?);
        let mut s = Connection::from(ServerConnection::new(server)?);
        for _ in 0..16 {
            pump(&mut c, &mut s)?;
            pump(&mut s, &mut c)?;
            if !c.is_handshaking() && !s.is_handshaking() && !c.wants_write() {
                return Ok(());
            }
        }
        panic!("the handshake did not finish");
    }

    /// Hands everything `from` has to say to `to`.
    fn pump(from: &mut Connection, to: &mut Connection) -> Result<(), rustls::Error> {
        let mut bytes = Vec::new();
        while from.wants_write() {
            from.write_tls(&mut bytes).unwrap();
        }
        let mut unread = &bytes[..];
        while !unread.is_empty() {
            to.read_tls(&mut unread).unwrap();
            to.process_new_packets()?;
        }
        Ok(())
    }

    #[test]
    fn the_pin_decides_which_base_an_agent_trusts_and_base_demands_a_certificate() {
        let (base, agent) = (identity("gateway"), identity("agent"));
        let server = server_config(&base).unwrap();
        let pinned = client_config(&base.fingerprint(), Some(&agent)).unwrap();
        handshake(pinned, server.clone()).expect("the pinned Base with an agent certificate");

        let wrong = client_config(&agent.fingerprint(), Some(&agent)).unwrap();
        let refused = handshake(wrong, server.clone()).unwrap_err();
        assert!(
            refused.to_string().contains("does not match the pinned"),
            "{refused}"
        );

        let anonymous = client_config(&base.fingerprint(), None).unwrap();
        assert!(
            handshake(anonymous, server).is_err(),
            "no client certificate"
        );
    }
}
