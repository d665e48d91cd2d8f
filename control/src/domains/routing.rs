//! Which hosts a service's instance routes: its verified domains, nothing else (and its default
//! host, for a certificate, when [`super::default_hosts`] says so). Base says so with
//! `Command::Domains` whenever the set changes (a domain verified or removed, HSTS switched) and
//! again on every agent (re)connect; deploy orders carry only verified hosts in `spec.domains`,
//! so an agent that does not manage domains yet still routes no unverified host.
//!
//! An agent that refuses the command (today's dployrd: "does not manage domains yet") or is
//! offline is logged, never an error for the person who changed a domain: the next connect sends
//! it again.

use proto::api::DomainStatus;
use proto::wire::{Command, Outcome, ServiceDomains};

use crate::Base;
use crate::store::domains as sql;
use crate::store::services as services_sql;

/// What Base last sent one service's instance, and how the agent answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainsSent {
    pub hosts: Vec<String>,
    pub hsts: bool,
    /// `ok`, the agent's refusal, or why it was not delivered.
    pub outcome: String,
}

impl Base {
    /// The hosts a deploy order for the service may carry: its verified domains.
    pub(crate) async fn routable_domains(
        &self,
        service_id: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        sql::verified_names(self.store.pool(), service_id).await
    }

    /// What Base last sent about `service_id`'s domains (tests and diagnostics).
    pub fn last_domains_sent(&self, service_id: &str) -> Option<DomainsSent> {
        let sent = self
            .domains_sent
            .lock()
            .expect("domains lock is never poisoned");
        sent.get(service_id).cloned()
    }

    /// Tells the service's instance to route exactly its verified domains (and to get its
    /// default host a certificate when that can work).
    pub async fn send_domains(&self, service_id: &str) {
        let pool = self.store.pool();
        let svc = match services_sql::by_id(pool, service_id).await {
            Ok(Some(svc)) => svc,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(service.id = %service_id, error = %e, "reading a service to send its domains");
                return;
            }
        };
        // Its default host too, when a CA can reach it ([`super::default_hosts`]). Looked up
        // before the domains are read: a DNS answer can take seconds, and the rows read
        // after it are the newest (a verification meanwhile is not undone by a stale list).
        let default_host = self.certified_default_host(&svc).await;
        let rows = match sql::of_service(pool, service_id).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(service.id = %service_id, error = %e, "reading domains to send");
                return;
            }
        };
        let verified: Vec<_> = rows
            .iter()
            .filter(|r| r.status == DomainStatus::Verified)
            .collect();
        let mut hosts: Vec<String> = verified.iter().map(|r| r.name.clone()).collect();
        hosts.extend(default_host);
        let domains = ServiceDomains {
            service_id: svc.id.clone().into(),
            hosts,
            // One HSTS switch per service on the wire: on when any verified domain asks for it.
            hsts: verified.iter().any(|r| r.hsts != 0),
        };
        let sent = self
            .send_command(
                &svc.instance_id,
                Command::Domains(domains.clone()),
                self.limits().command_timeout,
            )
            .await;
        let outcome = match sent {
            Ok(Outcome::Ok) => "ok".to_string(),
            Ok(Outcome::Err { message, .. }) => {
                tracing::info!(service.id = %svc.id, reason = %message, "the instance did not take the service's domains");
                message
            }
            Err(e) => {
                tracing::info!(service.id = %svc.id, error = %e, "domains not delivered yet; sent again on reconnect");
                e.to_string()
            }
        };
        if outcome == "ok" {
            self.install_uploaded_certificates(&svc.instance_id, &verified)
                .await;
        }
        let mut last = self
            .domains_sent
            .lock()
            .expect("domains lock is never poisoned");
        last.insert(
            svc.id.clone(),
            DomainsSent {
                hosts: domains.hosts,
                hsts: domains.hsts,
                outcome,
            },
        );
    }

    /// On an agent's (re)connect: every service of the instance gets its domains again.
    pub(crate) async fn send_all_domains(&self, instance_id: &str) {
        let services = match services_sql::on_instance(self.store.pool(), instance_id).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "listing services to send their domains");
                return;
            }
        };
        for svc in services {
            self.send_domains(&svc.id).await;
        }
    }
}
