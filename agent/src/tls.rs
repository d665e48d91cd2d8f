//! The agent's side of mutual TLS ([`proto::tls`] holds the shared part): its own identity,
//! `agent-cert.der` and `agent-key.der` in the data dir, made on first use for the name
//! `dployrd.<hostname>`, and the client config that pins Base.

use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;

/// The agent's certificate and key.
#[derive(Debug, Clone)]
pub struct AgentIdentity(proto::tls::Identity);

impl AgentIdentity {
    /// Loads the identity from `dir`, creating it on first use.
    pub fn load_or_create(dir: &Path) -> std::io::Result<AgentIdentity> {
        proto::tls::Identity::load_or_create(dir, "agent", || {
            let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
            match host.trim() {
                "" => vec!["dployrd".to_string()],
                host => vec![format!("dployrd.{host}")],
            }
        })
        .map(AgentIdentity)
    }

    pub fn fingerprint(&self) -> String {
        self.0.fingerprint()
    }
}

/// A client config that pins Base and presents `identity` (or no certificate at all, which
/// only tests want, to prove the gateway refuses it).
pub fn client_config(
    pin: &str,
    identity: Option<&AgentIdentity>,
) -> Result<Arc<ClientConfig>, rustls::Error> {
    proto::tls::client_config(pin, identity.map(|id| &id.0))
}
