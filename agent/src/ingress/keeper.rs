//! Who gets certificates for the domains the engine routes. The engine knows which hosts each
//! service serves (Base's `Command::Domains`) but not how a certificate is obtained: it tells a
//! [`CertKeeper`] (dployrd's ACME client, when configured) which domains to keep a certificate
//! for and which to forget. The keeper installs what it gets in the ingress's
//! [`Certificates`](super::Certificates) and says how it went through a [`CertReporter`], which
//! reaches Base as `AgentMsg::Certificate` whenever dployrd is connected.

use proto::wire::{AgentMsg, CertReport};
use tokio::sync::mpsc;

/// Keeps a certificate for each domain it was asked to `ensure` (ordering and renewing it),
/// until told to `forget` it. Both calls return at once: the work happens in the background,
/// and calling `ensure` again for a domain already kept does nothing new.
pub trait CertKeeper: Send + Sync {
    fn ensure(&self, domain: &str);
    fn forget(&self, domain: &str);
}

/// Sends certificate reports to Base (through the connection's report queue; reports made
/// while offline are dropped, and the `Hello` of the next connection lists every certificate
/// the store holds instead).
#[derive(Clone, Debug)]
pub struct CertReporter(mpsc::UnboundedSender<AgentMsg>);

impl CertReporter {
    /// Reports through the same queue as the engine's (`Engine::cert_reporter` gives one).
    pub fn new(reports: mpsc::UnboundedSender<AgentMsg>) -> Self {
        Self(reports)
    }

    pub fn report(&self, report: CertReport) {
        tracing::info!(domain = %report.domain, state = ?report.state, "certificate");
        let _ = self.0.send(AgentMsg::Certificate(report));
    }
}
