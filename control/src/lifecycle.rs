//! What Members and up can do to a running service besides deploying: roll back to a kept
//! release (no build), restart, stop and start. Each is a command the agent carries out before
//! it answers, so the caller learns whether it worked.

use proto::api::{AuditAction, Deployment, Service, ServiceStatus};
use proto::deploy::DeployState;
use proto::wire::{Command, Lifecycle};
use serde_json::json;

use crate::deployments::Step;
use crate::events::commit_with;
use crate::rbac::Deploy;
use crate::store::deployments as deployments_sql;
use crate::store::services as services_sql;
use crate::{Actor, Base, DomainError};

impl Base {
    /// Sends `command` to the instance and waits, up to the action timeout, for the agent to
    /// carry it out; its refusal (mapped once, in the registry) or an offline instance is the
    /// error.
    async fn carry_out(&self, instance_id: &str, command: Command) -> Result<(), DomainError> {
        let timeout = self.limits().action_timeout;
        self.run_command(instance_id, command, timeout).await
    }

    /// Switches the service back to the release of `deployment_id`, which must be one it
    /// served before and the agent still keeps.
    pub async fn rollback(
        &self,
        actor: &Actor,
        service_id: &str,
        deployment_id: &str,
    ) -> Result<Deployment, DomainError> {
        let (svc, may) = self.service_in_view(actor, service_id).await?;
        let may = may.also::<Deploy>()?;
        let row = deployments_sql::by_id(self.store.pool(), deployment_id)
            .await?
            .filter(|d| d.service_id == svc.id)
            .ok_or_else(|| {
                DomainError::invalid("deployment_id", "no such deployment of this service")
            })?;
        let state = row.state;
        if !matches!(state, DeployState::Superseded | DeployState::RolledBack) {
            return Err(DomainError::Conflict(format!(
                "only a release that served before can be rolled back to; this one is {state}"
            )));
        }
        let command = Command::Rollback {
            service_id: svc.id.clone().into(),
            deployment_id: row.id.clone().into(),
        };
        self.carry_out(&svc.instance_id, command).await?;
        // The agent reports `live` too; whichever lands first records it.
        let details = json!({ "service": svc.name, "deployment_id": row.id });
        let event = may.event(actor, AuditAction::ServiceRollback, &svc.id, details);
        self.apply_with_event(&row.id, Step::bare(DeployState::Live, None), event)
            .await?;
        self.get_deployment(actor, &row.id).await
    }

    /// Restarts (a new process, then the switch), stops or starts the live release.
    pub async fn service_action(
        &self,
        actor: &Actor,
        service_id: &str,
        action: Lifecycle,
    ) -> Result<Service, DomainError> {
        let (mut svc, may) = self.service_in_view(actor, service_id).await?;
        let may = may.also::<Deploy>()?;
        if action == Lifecycle::Remove {
            return Err(DomainError::invalid("action", "delete the service instead"));
        }
        if svc.live_deployment_id.is_none() {
            return Err(DomainError::Conflict(
                "this service has no live release yet: deploy it first".into(),
            ));
        }
        let command = Command::Service {
            service_id: svc.id.clone().into(),
            action,
        };
        self.carry_out(&svc.instance_id, command).await?;
        let (status, name) = match action {
            Lifecycle::Stop => (ServiceStatus::Stopped, AuditAction::ServiceStop),
            Lifecycle::Start => (ServiceStatus::Running, AuditAction::ServiceStart),
            _ => (ServiceStatus::Running, AuditAction::ServiceRestart),
        };
        svc.status = status;
        svc.updated_at = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        services_sql::update(&mut *tx, &svc).await?;
        let event = may.event(actor, name, &svc.id, json!({ "service": svc.name }));
        commit_with(tx, event).await?;
        self.activity.changed(&svc.cluster_id);
        self.get_service(actor, &svc.id).await
    }
}
