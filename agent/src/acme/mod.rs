//! dployrd's ACME client (RFC 8555, through `instant-acme`): keeps a valid certificate for
//! every domain it is asked to, in the ingress's [`Certificates`]. A domain gets an order at
//! once when it has no certificate (or one that is due), a renewal at 2/3 of its lifetime, and
//! after a failure a retry with exponential backoff; the old certificate keeps serving
//! meanwhile. Every outcome is reported to Base as a [`CertReport`]. Uploaded certificates are
//! never ordered over.
//!
//! - [`options`]: the CA, the challenge, the timings; [`args`]: `dployrd run`'s flags.
//! - [`account`]: the account, created once and kept in `account.json`.
//! - [`order`]: one order; [`challenge`]: the answers served through [`Certificates`].
//! - [`schedule`]: renewal and retry times; [`keeper`]: the task that keeps one domain's
//!   certificate.

pub mod account;
pub mod args;
pub mod challenge;
mod keeper;
pub mod options;
pub mod order;
pub mod schedule;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use proto::wire::domains::CertReport;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinHandle;

pub use args::Args;
pub use options::{AcmeOptions, ChallengeKind, ExternalAccount, Timings};

use crate::ingress::certs::Certificates;

/// The ACME client. Clones share it; its tasks stop when the last clone is dropped.
#[derive(Clone)]
pub struct Acme {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Acme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acme")
            .field("directory", &self.shared.core.options.directory)
            .finish_non_exhaustive()
    }
}

struct Shared {
    core: Arc<keeper::Core>,
    domains: Mutex<HashMap<String, Kept>>,
}

/// A domain's keeper task and the bell that makes it look again.
struct Kept {
    task: JoinHandle<()>,
    nudge: Arc<Notify>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let domains = self
            .domains
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for (_, kept) in domains.drain() {
            kept.task.abort();
        }
    }
}

impl Acme {
    /// An ACME client putting certificates into `certs` and reporting to `reports`. Must be
    /// called inside a Tokio runtime; nothing is ordered until [`Acme::ensure`].
    pub fn start(
        options: AcmeOptions,
        certs: Certificates,
        reports: mpsc::UnboundedSender<CertReport>,
    ) -> Acme {
        Acme {
            shared: Arc::new(Shared {
                core: Arc::new(keeper::Core {
                    options,
                    certs,
                    reports,
                    orders: Semaphore::new(1),
                    account: tokio::sync::Mutex::new(None),
                }),
                domains: Mutex::default(),
            }),
        }
    }

    /// Keeps a valid certificate for `domain`: orders one now if it has none or it is due,
    /// then renews it. Calling it again for a kept domain only makes its keeper look again
    /// (a failing domain still waits out its backoff). Not for uploaded certificates.
    pub fn ensure(&self, domain: &str) {
        let Some(domain) = crate::ingress::certs::normalize(domain) else {
            tracing::warn!(%domain, "ACME: not a domain name; ignored");
            return;
        };
        let mut domains = self.domains();
        if let Some(kept) = domains.get(&domain)
            && !kept.task.is_finished()
        {
            kept.nudge.notify_one();
            return;
        }
        let nudge = Arc::new(Notify::new());
        let task = tokio::spawn(keeper::keep(
            self.shared.core.clone(),
            domain.clone(),
            nudge.clone(),
        ));
        domains.insert(domain, Kept { task, nudge });
    }

    /// Stops keeping `domain`'s certificate (an order under way is abandoned and its challenge
    /// answers withdrawn). The certificate itself stays until the engine removes it.
    pub fn forget(&self, domain: &str) {
        let Some(domain) = crate::ingress::certs::normalize(domain) else {
            return;
        };
        if let Some(kept) = self.domains().remove(&domain) {
            kept.task.abort();
        }
    }

    fn domains(&self) -> std::sync::MutexGuard<'_, HashMap<String, Kept>> {
        self.shared
            .domains
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The engine's keeper (`dployrd run` with ACME on): the domains the engine routes get
/// certificates in `certs`, and every outcome reaches Base through the engine's reporter.
/// `None` when ACME is off.
pub fn keep_for(
    engine: &crate::engine::Engine,
    certs: &Certificates,
    options: Option<AcmeOptions>,
) -> Option<Acme> {
    let options = options?;
    let reporter = engine.cert_reporter();
    let (reports, mut received) = mpsc::unbounded_channel::<CertReport>();
    tokio::spawn(async move {
        while let Some(report) = received.recv().await {
            reporter.report(report);
        }
    });
    tracing::info!(directory = %options.directory, challenge = ?options.challenge, "ACME on");
    let acme = Acme::start(options, certs.clone(), reports);
    engine.set_cert_keeper(Arc::new(acme.clone()));
    Some(acme)
}

impl crate::ingress::keeper::CertKeeper for Acme {
    fn ensure(&self, domain: &str) {
        Acme::ensure(self, domain);
    }

    fn forget(&self, domain: &str) {
        Acme::forget(self, domain);
    }
}
