//! A service's custom domains (issue 18): a name is unique across Base and is routed only once
//! its owner proved control of it with a TXT record, so no cluster can take a host another one
//! holds. Read in this order:
//!
//! - [`names`]: what a domain may be called (one-level wildcards), and where its TXT record is.
//! - this module: list, add, remove, change (HSTS), each with its audit event, and the DNS
//!   records a team creates.
//! - [`verify`]: the TXT lookup, the Verify action and the background re-check of pending ones.
//! - [`routing`]: telling the instance which verified hosts its services serve.
//! - [`spec_sync`]: the settings' `domains` and the domain rows kept equal (and the conflict
//!   check every new claim goes through).
//! - [`certs`]: uploaded certificates (key sealed).
//! - [`cert_reports`]: the instance's certificate reports, for domains and default hosts.
//! - [`default_hosts`]: certificates for `<service>.<ingress domain>` when it has a wildcard.
//!
//! Viewing takes `cluster.view`; every change takes `services.manage` (Owner, Admin), like the
//! rest of a service's settings.

pub mod cert_reports;
pub mod certs;
pub mod default_hosts;
pub mod names;
mod pointers;
pub mod routing;
pub mod spec_sync;
pub mod verify;

use std::net::IpAddr;

use proto::api::{
    AddDomainRequest, AuditAction, CertificateStatus, DefaultHost, DnsRecord, Domain,
    DomainCertificate, DomainList, DomainStatus, UpdateDomainRequest,
};
use serde_json::json;

use crate::events::{NewEvent, record};
use crate::rbac::{ManageServices, ViewCluster};
use crate::store::default_host_certs;
use crate::store::domains::{self as sql, DomainRow};
use crate::store::services::ServiceRow;
use crate::{Actor, Base, DomainError, clock};
pub(crate) use pointers::Pointers;

/// The value of the TXT record that proves ownership.
pub fn verification_value(token: &str) -> String {
    format!("dployr-verify={token}")
}

/// The API's view of a stored domain, with the records to create for it.
pub(crate) fn view(r: &DomainRow, to: &Pointers) -> Domain {
    let rfc = |ms: Option<i64>| ms.map(clock::rfc3339);
    let mut records = vec![DnsRecord {
        kind: "TXT".into(),
        name: names::txt_name(&r.name),
        value: verification_value(&r.token),
        purpose: "proves you control the domain".into(),
    }];
    records.extend(to.records(&r.name));
    let issued = r.cert_state == CertificateStatus::Issued;
    // An upload the instance has not reported serving yet (the domain still pending, or the
    // instance offline) shows its own expiry and issuer, so the team sees what it uploaded.
    let upload = match (&r.upload_chain, r.cert_state) {
        (Some(chain), CertificateStatus::None) => certs::uploaded_leaf(chain),
        _ => None,
    };
    let (expires_at, issuer) = match upload {
        Some((not_after, issuer)) => (Some(not_after), Some(issuer)),
        None => (r.cert_expires_at.filter(|_| issued), r.cert_issuer.clone()),
    };
    Domain {
        name: r.name.clone(),
        service_id: r.service_id.clone(),
        status: r.status,
        verification: verification_value(&r.token),
        records,
        verified_at: rfc(r.verified_at),
        last_checked_at: rfc(r.last_checked_at),
        last_error: r.last_error.clone(),
        certificate: DomainCertificate {
            status: r.cert_state,
            expires_at: rfc(expires_at),
            issuer,
            reason: r.cert_reason.clone(),
            retry_at: rfc(r.cert_retry_at),
            uploaded: r.upload_chain.is_some(),
        },
        hsts: r.hsts != 0,
        created_at: clock::rfc3339(r.created_at),
    }
}

/// A new pending row for `name` on `svc`, with a fresh random token.
pub(crate) fn new_row(svc: &ServiceRow, name: &str, hsts: bool, now: i64) -> DomainRow {
    DomainRow {
        id: crate::ids::new_id(crate::ids::DOMAIN),
        cluster_id: svc.cluster_id.clone(),
        service_id: svc.id.clone(),
        name: name.to_string(),
        token: crate::auth::token::random_token(),
        status: DomainStatus::Pending,
        verified_at: None,
        last_checked_at: None,
        last_error: None,
        next_check_at: now,
        check_failures: 0,
        cert_state: CertificateStatus::None,
        cert_expires_at: None,
        cert_issuer: None,
        cert_reason: None,
        cert_retry_at: None,
        upload_chain: None,
        upload_key_sealed: None,
        upload_key_id: None,
        hsts: i64::from(hsts),
        created_at: now,
    }
}

/// Why `name` cannot go to `svc`, if another service holds it. Another cluster's service is
/// not named: the ids and names of other teams' services stay private.
pub(crate) fn held_elsewhere(svc: &ServiceRow, holder: &DomainRow, held_by: &str) -> DomainError {
    if holder.service_id == svc.id {
        DomainError::Conflict(format!(
            "{} is already a domain of this service",
            holder.name
        ))
    } else if holder.cluster_id == svc.cluster_id {
        DomainError::Conflict(format!(
            "{} is already a domain of the service {held_by} in this cluster: remove it there first",
            holder.name
        ))
    } else {
        DomainError::Conflict(format!(
            "{} is held by another cluster on this Base: a domain serves one service only",
            holder.name
        ))
    }
}

impl Base {
    /// Notes where an instance's agent connects from (the gateway, on each Hello).
    pub fn note_instance_address(&self, instance_id: &str, ip: IpAddr) {
        let mut known = self
            .instance_addrs
            .lock()
            .expect("addresses lock is never poisoned");
        known.insert(instance_id.to_string(), ip);
    }

    /// The service's domains with their records, status and certificate.
    pub async fn list_domains(
        &self,
        actor: &Actor,
        service_id: &str,
    ) -> Result<DomainList, DomainError> {
        let (svc, _) = self.service_for::<ViewCluster>(actor, service_id).await?;
        let rows = sql::of_service(self.store.pool(), &svc.id).await?;
        let to = self.pointers(&svc).await;
        let default_host = match &to.default_host {
            Some(host) => {
                let stored = default_host_certs::of_service(self.store.pool(), &svc.id).await?;
                Some(DefaultHost {
                    name: host.clone(),
                    wildcard: self.certified_default_host(&svc).await.is_some(),
                    certificate: cert_reports::default_host_certificate(stored.as_ref(), host),
                })
            }
            None => None,
        };
        Ok(DomainList {
            domains: rows.iter().map(|r| view(r, &to)).collect(),
            default_host,
        })
    }

    /// One domain of the service, visible to the actor.
    pub(crate) async fn domain_of(
        &self,
        svc: &ServiceRow,
        name: &str,
    ) -> Result<DomainRow, DomainError> {
        let name = names::parse(name).map_err(|_| DomainError::NotFound("domain"))?;
        sql::by_name(self.store.pool(), &name)
            .await?
            .filter(|d| d.service_id == svc.id)
            .ok_or(DomainError::NotFound("domain"))
    }

    /// Adds a pending domain to the service: 409 when any service on this Base holds the name.
    pub async fn add_domain(
        &self,
        actor: &Actor,
        service_id: &str,
        req: AddDomainRequest,
    ) -> Result<Domain, DomainError> {
        let (svc, may) = self
            .service_for::<ManageServices>(actor, service_id)
            .await?;
        let name = names::parse(&req.name)?;
        let mut tx = self.store.begin().await?;
        let row = Base::insert_domain(&mut tx, &svc, &name, req.hsts).await?;
        spec_sync::add_to_spec(&mut tx, &svc.id, &name).await?;
        let details = json!({ "domain": name, "service": svc.name });
        record(
            &mut *tx,
            NewEvent::by(
                actor,
                may.cluster_id(),
                AuditAction::DomainAdd,
                &svc.id,
                details,
            ),
        )
        .await?;
        tx.commit().await?;
        self.activity.changed(may.cluster_id());
        // Checked at once in the background: a team that created the TXT record first sees it
        // verified without pressing anything.
        Ok(view(&row, &self.pointers(&svc).await))
    }

    /// Removes the domain; its instance stops routing it.
    pub async fn remove_domain(
        &self,
        actor: &Actor,
        service_id: &str,
        name: &str,
    ) -> Result<(), DomainError> {
        let (svc, may) = self
            .service_for::<ManageServices>(actor, service_id)
            .await?;
        let row = self.domain_of(&svc, name).await?;
        let mut tx = self.store.begin().await?;
        sql::delete(&mut *tx, &row.id).await?;
        spec_sync::remove_from_spec(&mut tx, &svc.id, &row.name).await?;
        let details = json!({ "domain": row.name, "service": svc.name });
        record(
            &mut *tx,
            NewEvent::by(
                actor,
                may.cluster_id(),
                AuditAction::DomainRemove,
                &svc.id,
                details,
            ),
        )
        .await?;
        tx.commit().await?;
        self.activity.changed(may.cluster_id());
        if row.status == DomainStatus::Verified {
            self.send_domains(&svc.id).await;
        }
        Ok(())
    }

    /// Changes the domain's settings (HSTS).
    pub async fn update_domain(
        &self,
        actor: &Actor,
        service_id: &str,
        name: &str,
        req: UpdateDomainRequest,
    ) -> Result<Domain, DomainError> {
        let (svc, may) = self
            .service_for::<ManageServices>(actor, service_id)
            .await?;
        let mut row = self.domain_of(&svc, name).await?;
        if let Some(hsts) = req.hsts {
            let mut tx = self.store.begin().await?;
            sql::set_hsts(&mut *tx, &row.id, hsts).await?;
            let details = json!({ "domain": row.name, "hsts": hsts });
            record(
                &mut *tx,
                NewEvent::by(
                    actor,
                    may.cluster_id(),
                    AuditAction::DomainUpdate,
                    &svc.id,
                    details,
                ),
            )
            .await?;
            tx.commit().await?;
            row.hsts = i64::from(hsts);
            if row.status == DomainStatus::Verified {
                self.send_domains(&svc.id).await;
            }
        }
        Ok(view(&row, &self.pointers(&svc).await))
    }
}
