//! The gateway's side of mutual TLS ([`proto::tls`] holds the shared part): its own identity,
//! `gateway-cert.der` and `gateway-key.der` in the data dir, made on first start and pinned by
//! agents through the SHA-256 in the install command, and the server config that demands a
//! client certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;

pub use proto::tls::fingerprint;

/// The gateway's key pair and certificate.
#[derive(Debug, Clone)]
pub struct Identity(proto::tls::Identity);

impl Identity {
    /// The SHA-256 agents pin.
    pub fn pin(&self) -> String {
        self.0.fingerprint()
    }

    /// Loads the identity from `dir`, creating it (key 0600) on first start.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Identity> {
        proto::tls::Identity::load_or_create(dir, "gateway", || {
            vec!["dployr-gateway".to_string(), "localhost".to_string()]
        })
        .map(Identity)
    }
}

impl Identity {
    /// How one replica dials another's peer link ([`crate::replicas::peers`]): replicas share
    /// this identity, so each presents it and trusts only it.
    pub fn peer_client_config(&self) -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
        proto::tls::client_config(&self.pin(), Some(&self.0))
    }
}

pub fn server_config(identity: &Identity) -> Result<Arc<ServerConfig>, rustls::Error> {
    proto::tls::server_config(&identity.0)
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
