//! What an instance reports about its certificates (`AgentMsg::Certificate`): for a verified
//! custom domain, recorded on the domain's row; for a service's default host
//! `<service>.<ingress domain>` (which nobody added, so it has no row), in
//! `default_host_certs`. Either way a change is a `domain.cert_issued` or `domain.cert_failed`
//! event, with the alert it opens or closes; the same report again (each reconnect repeats where
//! certificates stand) changes nothing.

use proto::api::{AuditAction, CertificateStatus, DomainCertificate};
use proto::wire::{CertReport, CertState};
use serde_json::{Value, json};

use crate::events::NewEvent;
use crate::store::default_host_certs::{self as default_sql, DefaultHostCertRow};
use crate::store::domains::{self as sql, CertUpdate};
use crate::store::services::{self as services_sql, ServiceRow};
use crate::{Base, ClientInfo, DomainError, clock};

/// Where a host's certificate stood before a report.
#[derive(Debug, Default)]
pub(crate) struct Known<'a> {
    pub state: Option<CertificateStatus>,
    pub expires_at: Option<i64>,
    pub issuer: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub retry_at: Option<i64>,
}

impl<'a> Known<'a> {
    fn of_default_host(row: &'a DefaultHostCertRow) -> Self {
        Known {
            state: Some(row.state),
            expires_at: row.expires_at,
            issuer: row.issuer.as_deref(),
            reason: row.reason.as_deref(),
            retry_at: row.retry_at,
        }
    }

    /// Whether `state` is what is already known.
    fn same_as(&self, state: &CertState) -> bool {
        match state {
            CertState::Issued {
                expires_at_ms,
                issuer,
            } => {
                self.state == Some(CertificateStatus::Issued)
                    && self.expires_at == Some(*expires_at_ms)
                    && self.issuer == Some(issuer.as_str())
            }
            CertState::Failed {
                reason,
                retry_at_ms,
            } => {
                self.state == Some(CertificateStatus::Failed)
                    && self.reason == Some(reason.as_str())
                    && self.retry_at == Some(*retry_at_ms)
            }
        }
    }

    /// What to store for `state`, and the event that tells it.
    fn after(&self, state: &'a CertState, domain: &str) -> (CertUpdate<'a>, AuditAction, Value) {
        match state {
            CertState::Issued {
                expires_at_ms,
                issuer,
            } => (
                CertUpdate {
                    state: CertificateStatus::Issued,
                    expires_at: Some(*expires_at_ms),
                    issuer: Some(issuer),
                    reason: None,
                    retry_at: None,
                },
                AuditAction::DomainCertIssued,
                json!({ "domain": domain, "issuer": issuer, "expires_at_ms": expires_at_ms }),
            ),
            CertState::Failed {
                reason,
                retry_at_ms,
            } => (
                CertUpdate {
                    state: CertificateStatus::Failed,
                    // The old certificate keeps serving: its expiry stays known.
                    expires_at: self.expires_at,
                    issuer: self.issuer,
                    reason: Some(reason),
                    retry_at: Some(*retry_at_ms),
                },
                AuditAction::DomainCertFailed,
                json!({ "domain": domain, "reason": reason, "retry_at_ms": retry_at_ms }),
            ),
        }
    }
}

/// The dashboard's view of a default host's stored report (`none` when there is none for
/// `host`: a report about the service's earlier name does not apply).
pub(crate) fn default_host_certificate(
    row: Option<&DefaultHostCertRow>,
    host: &str,
) -> DomainCertificate {
    let rfc = |ms: Option<i64>| ms.map(clock::rfc3339);
    match row.filter(|r| r.host == host) {
        Some(r) => DomainCertificate {
            status: r.state,
            expires_at: rfc(r.expires_at),
            issuer: r.issuer.clone(),
            reason: r.reason.clone(),
            retry_at: rfc(r.retry_at),
            uploaded: false,
        },
        None => DomainCertificate {
            status: CertificateStatus::None,
            expires_at: None,
            issuer: None,
            reason: None,
            retry_at: None,
            uploaded: false,
        },
    }
}

impl Base {
    /// Records what `instance_id` reported about a host's certificate. A report about a host
    /// that is neither a domain of one of the instance's services nor one's default host is
    /// ignored.
    pub async fn record_certificate(
        &self,
        instance_id: &str,
        report: &CertReport,
    ) -> Result<(), DomainError> {
        let Some(row) = sql::by_name(self.store.pool(), &report.domain).await? else {
            return self
                .record_default_host_certificate(instance_id, report)
                .await;
        };
        let on_instance = services_sql::by_id(self.store.pool(), &row.service_id)
            .await?
            .is_some_and(|s| s.instance_id == instance_id);
        if !on_instance {
            tracing::warn!(domain = %report.domain, "certificate report from an instance that does not serve it");
            return Ok(());
        }
        let before = Known {
            state: Some(row.cert_state),
            expires_at: row.cert_expires_at,
            issuer: row.cert_issuer.as_deref(),
            reason: row.cert_reason.as_deref(),
            retry_at: row.cert_retry_at,
        };
        if before.same_as(&report.state) {
            return Ok(());
        }
        let (update, action, details) = before.after(&report.state, &row.name);
        let mut tx = self.store.begin().await?;
        sql::set_cert(&mut *tx, &row.name, update).await?;
        self.record_cert_event(&mut tx, &row.cluster_id, &row.service_id, action, details)
            .await?;
        tx.commit().await?;
        self.activity.changed(&row.cluster_id);
        Ok(())
    }

    async fn record_default_host_certificate(
        &self,
        instance_id: &str,
        report: &CertReport,
    ) -> Result<(), DomainError> {
        let Some(svc) = self.default_host_owner(instance_id, &report.domain).await? else {
            tracing::info!(domain = %report.domain, "certificate report for an unknown domain");
            return Ok(());
        };
        let stored = default_sql::of_service(self.store.pool(), &svc.id).await?;
        let before = stored
            .as_ref()
            .filter(|r| r.host == report.domain)
            .map(Known::of_default_host)
            .unwrap_or_default();
        if before.same_as(&report.state) {
            return Ok(());
        }
        let (update, action, mut details) = before.after(&report.state, &report.domain);
        details["default_host"] = json!(true);
        let mut tx = self.store.begin().await?;
        default_sql::set(
            &mut *tx,
            &svc.id,
            &report.domain,
            update,
            self.clock.now_ms(),
        )
        .await?;
        self.record_cert_event(&mut tx, &svc.cluster_id, &svc.id, action, details)
            .await?;
        tx.commit().await?;
        self.activity.changed(&svc.cluster_id);
        Ok(())
    }

    /// The service on `instance_id` whose default host is `host`.
    async fn default_host_owner(
        &self,
        instance_id: &str,
        host: &str,
    ) -> Result<Option<ServiceRow>, DomainError> {
        let Some((name, _)) = host.split_once('.') else {
            return Ok(None);
        };
        for svc in services_sql::on_instance(self.store.pool(), instance_id).await? {
            if svc.name == name && self.pointers(&svc).await.default_host.as_deref() == Some(host) {
                return Ok(Some(svc));
            }
        }
        Ok(None)
    }

    /// A certificate event, by dployrd (no user), with the alert it opens or closes.
    async fn record_cert_event(
        &self,
        conn: &mut sqlx::AnyConnection,
        cluster_id: &str,
        service_id: &str,
        action: AuditAction,
        details: Value,
    ) -> Result<(), DomainError> {
        let system = ClientInfo {
            ip: None,
            user_agent: Some("dployrd".into()),
        };
        let event = NewEvent {
            cluster_id: Some(cluster_id),
            actor_user_id: None,
            actor_token_id: None,
            client: &system,
            action,
            target: Some(service_id),
            details,
        };
        self.record_alerting(conn, event).await
    }
}
