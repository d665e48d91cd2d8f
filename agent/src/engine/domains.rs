//! A service's own domains and their certificates. Base's `Command::Domains` says which hosts
//! a service serves beside its default `<name>.<domain>` (and whether its HTTPS answers carry
//! HSTS); the engine routes them at once if a release is live, uses them for every later
//! deploy instead of the order's `spec.domains`, keeps them in `services/<id>/domains.json`
//! (0600) across restarts, and hands them to the certificate keeper (ACME), which is told to
//! forget the hosts dropped. `Command::InstallCertificate` puts a team's own certificate in
//! the store.

use std::path::Path;
use std::sync::Arc;

use proto::service::ServiceSpec;
use proto::wire::{
    CertReport, CertState, CommandErrorKind, CommandFailure, ServiceDomains, UploadedCert,
};

use super::Engine;
use crate::ingress::certs::{CertError, Certificates};
use crate::ingress::{CertKeeper, CertReporter, InvalidHost};

const FILE: &str = "domains.json";

impl Engine {
    /// The certificate store the ingress serves from; without one, certificates are refused.
    pub fn set_certificates(&self, certs: Certificates) {
        let _ = self.inner.certs.set(certs);
    }

    /// Who gets certificates for the services' domains (ACME). It is told at once to ensure
    /// every domain already known (restored from disk).
    pub fn set_cert_keeper(&self, keeper: Arc<dyn CertKeeper>) {
        if self.inner.keeper.set(keeper.clone()).is_err() {
            tracing::warn!("a certificate keeper was already set; the new one is ignored");
            return;
        }
        let hosts: Vec<String> = {
            let st = self.lock();
            st.domains.values().flat_map(|d| d.hosts.clone()).collect()
        };
        for host in hosts {
            keeper.ensure(&host);
        }
    }

    /// Reports certificates to Base (for the keeper).
    /// The domain services get their default host under (`--ingress-domain`).
    pub fn ingress_domain(&self) -> &str {
        &self.inner.config.domain
    }

    pub fn cert_reporter(&self) -> CertReporter {
        CertReporter::new(self.inner.reports.clone())
    }

    /// The hosts `service_id` serves: `<name>.<domain>` and its own domains (from Base's last
    /// `Domains` command if there was one, else the deploy order's).
    pub(super) fn hosts(&self, service_id: &str, spec: &ServiceSpec) -> Vec<String> {
        let default = format!("{}.{}", spec.name, self.inner.config.domain);
        let mut hosts = vec![default.clone()];
        match self.lock().domains.get(service_id) {
            // Base may list the default host too (to get it a certificate).
            Some(d) => hosts.extend(d.hosts.iter().filter(|h| **h != default).cloned()),
            None => hosts.extend(spec.domains.iter().cloned()),
        }
        hosts
    }

    pub(super) fn apply_domains(&self, d: ServiceDomains) -> Result<(), CommandFailure> {
        let invalid =
            |e: InvalidHost| CommandFailure::new(CommandErrorKind::Invalid, e.to_string());
        let mut hosts = Vec::new();
        for host in &d.hosts {
            // A DNS name (no port, no wildcard: a route is for one host).
            let name = crate::ingress::certs::normalize(host)
                .filter(|n| !n.starts_with('*'))
                .ok_or_else(|| invalid(InvalidHost(host.clone())))?;
            if !hosts.contains(&name) {
                hosts.push(name);
            }
        }
        let d = ServiceDomains { hosts, ..d };
        let service_id = d.service_id.to_string();
        save(&self.inner.config.services_dir, &d).map_err(|e| {
            CommandFailure::new(CommandErrorKind::Failed, format!("saving the domains: {e}"))
        })?;
        // What it served before: Base's last word, else what its live release's order said.
        let before = self
            .lock()
            .domains
            .get(service_id.as_str())
            .map(|o| o.hosts.clone());
        let before = before
            .or_else(|| self.live_spec(&service_id).map(|spec| spec.domains))
            .unwrap_or_default();
        let dropped: Vec<String> = {
            let mut st = self.lock();
            st.domains.insert(d.service_id.clone(), d.clone());
            // Dropped: served before, and by no service now (this one included).
            before
                .iter()
                .filter_map(|h| crate::ingress::certs::normalize(h))
                .filter(|h| !st.domains.values().any(|other| other.hosts.contains(h)))
                .collect()
        };
        self.inner.routes.set_hsts(&service_id, d.hsts);
        self.reroute(&service_id).map_err(invalid)?;
        let keeper = self.inner.keeper.get();
        for host in &dropped {
            if let Some(keeper) = keeper {
                keeper.forget(host);
            }
            if let Some(certs) = self.inner.certs.get()
                && let Err(e) = certs.remove(host)
            {
                tracing::warn!(host, error = %e, "removing the certificate of a dropped domain");
            }
        }
        if let Some(keeper) = keeper {
            for host in &d.hosts {
                keeper.ensure(host);
            }
        }
        tracing::info!(service = %service_id, hosts = ?d.hosts, hsts = d.hsts, ?dropped, "domains");
        Ok(())
    }

    /// Routes the live release's hosts anew (after its domains changed), keeping its upstream.
    fn reroute(&self, service_id: &str) -> Result<(), InvalidHost> {
        let _routing = self.inner.routing.lock().expect("routing lock");
        let Some(upstream) = self.inner.routes.upstream_of(service_id) else {
            return Ok(()); // nothing live (or a worker): the next deploy routes them
        };
        let Some(spec) = self.live_spec(service_id) else {
            return Ok(());
        };
        let hosts = self.hosts(service_id, &spec);
        self.inner.routes.set(service_id, hosts, upstream)
    }

    fn live_spec(&self, service_id: &str) -> Option<ServiceSpec> {
        let live = self.live_id(service_id)?;
        self.kept(service_id, &live).map(|r| r.spec)
    }

    pub(super) fn install_certificate(&self, u: UploadedCert) -> Result<(), CommandFailure> {
        let certs = self.inner.certs.get().ok_or_else(|| {
            CommandFailure::new(
                CommandErrorKind::Invalid,
                "this dployrd keeps no certificates",
            )
        })?;
        let info = certs
            .install(&u.domain, &u.chain_pem, &u.key_pem, true)
            .map_err(|e| {
                let kind = match e {
                    CertError::Io(_) => CommandErrorKind::Failed,
                    _ => CommandErrorKind::Invalid,
                };
                CommandFailure::new(kind, e.to_string())
            })?;
        let domain = crate::ingress::certs::normalize(&u.domain).unwrap_or(u.domain);
        self.cert_reporter().report(CertReport {
            domain,
            state: CertState::Issued {
                expires_at_ms: info.not_after_ms,
                issuer: info.issuer,
            },
        });
        Ok(())
    }

    /// Every certificate in the store, for `Hello` and `Status`.
    pub(super) fn certificate_reports(&self) -> Vec<CertReport> {
        let Some(certs) = self.inner.certs.get() else {
            return Vec::new();
        };
        let mut domains = certs.domains();
        domains.sort();
        domains
            .into_iter()
            .filter_map(|domain| {
                let info = certs.info(&domain)?;
                Some(CertReport {
                    domain,
                    state: CertState::Issued {
                        expires_at_ms: info.not_after_ms,
                        issuer: info.issuer,
                    },
                })
            })
            .collect()
    }

    /// The domains a previous dployrd was given, with their HSTS setting routed.
    pub(super) fn load_domains(&self) {
        let loaded = load(&self.inner.config.services_dir);
        for d in &loaded {
            self.inner.routes.set_hsts(d.service_id.as_str(), d.hsts);
        }
        let mut st = self.lock();
        for d in loaded {
            st.domains.insert(d.service_id.clone(), d);
        }
    }
}

/// Writes `services/<id>/domains.json` (0600, temp file then rename).
fn save(services_dir: &Path, d: &ServiceDomains) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = services_dir.join(d.service_id.as_str());
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(&serde_json::to_vec_pretty(d)?)?;
    file.sync_all()?;
    std::fs::rename(tmp, dir.join(FILE))
}

fn load(services_dir: &Path) -> Vec<ServiceDomains> {
    let Ok(entries) = std::fs::read_dir(services_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let path = e.path().join(FILE);
            let bytes = std::fs::read(&path).ok()?;
            serde_json::from_slice(&bytes)
                .map_err(|err| tracing::warn!(path = %path.display(), error = %err, "unreadable domains file"))
                .ok()
        })
        .collect()
}
