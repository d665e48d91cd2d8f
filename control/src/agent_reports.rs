//! The agent's side of deployments, as Base sees it. Delivery is at least once and idempotent:
//! an order stays "not accepted" until the agent acks it, and is sent again on every reconnect
//! (the agent runs a deployment id once). After a reconnect the agent's `Hello` carries what
//! became of every deployment it knows, and Base reconciles: a deployment the agent no longer
//! knows failed with it. A deployment whose instance stays offline, or that outlives its build
//! limit, times out here with a reason, so nothing stays in progress forever.

use std::time::Duration;

use proto::api::{AuditAction, ServiceStatus};
use proto::deploy::DeployState;
use proto::wire::{AgentState, Command, DeployOrder, Outcome, RunState};

use crate::deployments::{
    BUILD_TIMEOUT_SECS, COMMAND_TIMEOUT, DRAIN_SECS, OFFLINE_LIMIT_MS, SLACK_MS, Step,
};
use crate::services::spec_of;
use crate::store::deployments as sql;
use crate::store::services as services_sql;
use crate::{Base, DomainError, clock};

impl Base {
    /// Sends every order the instance's agent has not accepted yet, oldest first. Stops at the
    /// first one that cannot be delivered; the next reconnect tries again.
    pub async fn deliver(&self, instance_id: &str) {
        let pending = match sql::in_states(self.store.pool(), &[DeployState::Queued.as_str()]).await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "listing deployments to deliver");
                return;
            }
        };
        let instance_name = crate::store::instances::by_id(self.store.pool(), instance_id)
            .await
            .ok()
            .flatten()
            .map(|i| i.name)
            .unwrap_or_else(|| instance_id.to_string());
        for (row, instance) in pending {
            if instance != instance_id || row.accepted_at.is_some() {
                continue;
            }
            let Ok(spec) = spec_of(&row.spec) else {
                continue;
            };
            let build_timeout_secs = spec.build_timeout_secs.unwrap_or(BUILD_TIMEOUT_SECS);
            // Opened here, for this order to the service's own instance, and nowhere else.
            let secrets = match self.secrets_for_order(&row.service_id).await {
                Ok(s) => s,
                Err(e) => {
                    let reason = e.to_string();
                    if let Err(e) = self
                        .apply(&row.id, Step::bare(DeployState::Failed, Some(&reason)))
                        .await
                    {
                        tracing::warn!(deployment = %row.id, error = %e, "failing a deployment");
                    }
                    continue;
                }
            };
            let order = DeployOrder {
                deployment_id: row.id.clone(),
                service_id: row.service_id.clone(),
                instance_name: instance_name.clone(),
                spec,
                git_ref: row.git_ref.clone(),
                build_timeout_secs,
                drain_secs: DRAIN_SECS,
                secrets,
            };
            let sent = self
                .registry
                .send_command(
                    instance_id,
                    Command::Deploy(Box::new(order)),
                    COMMAND_TIMEOUT,
                )
                .await;
            let result = match sent {
                Ok(Outcome::Ok) => sql::set_accepted(self.store.pool(), &row.id, clock::now_ms())
                    .await
                    .map_err(DomainError::from),
                Ok(Outcome::Err { message }) => self
                    .apply(&row.id, Step::bare(DeployState::Failed, Some(&message)))
                    .await
                    .map(|_| ()),
                Err(e) => {
                    tracing::info!(deployment = %row.id, error = %e, "deploy order not delivered yet");
                    return;
                }
            };
            if let Err(e) = result {
                tracing::warn!(deployment = %row.id, error = %e, "recording a delivered order");
            }
        }
    }

    /// An agent (re)connected and said what it runs: settle every deployment it was given
    /// against its report, update service states, then deliver what it has not accepted yet.
    pub async fn agent_connected(&self, instance_id: &str, state: &AgentState) {
        if let Err(e) = self.reconcile(instance_id, state).await {
            tracing::warn!(error = %e, "reconciling agent state");
        }
        self.deliver(instance_id).await;
    }

    async fn reconcile(&self, instance_id: &str, state: &AgentState) -> Result<(), DomainError> {
        let open: Vec<&str> = DeployState::ALL
            .iter()
            .filter(|s| s.in_progress())
            .map(|s| s.as_str())
            .collect();
        for (row, instance) in sql::in_states(self.store.pool(), &open).await? {
            if instance != instance_id || row.accepted_at.is_none() {
                continue;
            }
            let step = match state.deployments.iter().find(|d| d.deployment_id == row.id) {
                Some(p) => {
                    // While Base was away the agent may have gone several steps further:
                    // record the ones in between so the history stays a valid path.
                    let from = row.state;
                    if from.next(p.state).is_err()
                        && let Some(path) = from.path_to(p.state)
                    {
                        for between in &path[..path.len() - 1] {
                            if let Err(e) = self.apply(&row.id, Step::bare(*between, None)).await {
                                tracing::warn!(deployment = %row.id, error = %e, "catching up");
                            }
                        }
                    }
                    Step {
                        to: p.state,
                        commit: p.commit.as_deref(),
                        reason: p.reason.as_deref(),
                        log_tail: &p.log_tail,
                        plan: &p.plan,
                    }
                }
                None => Step::bare(
                    DeployState::Failed,
                    Some(
                        "dployrd restarted mid-deploy and lost it; the previous release kept serving",
                    ),
                ),
            };
            if let Err(e) = self.apply(&row.id, step).await {
                tracing::warn!(deployment = %row.id, error = %e, "reconciling a deployment");
            }
        }
        // Deployments that ended here while the agent was away (cancelled, timed out) but that
        // it still runs: stop them there.
        for p in state.deployments.iter().filter(|p| p.state.in_progress()) {
            let ended = sql::by_id(self.store.pool(), &p.deployment_id)
                .await?
                .is_none_or(|r| !r.state.in_progress());
            if ended {
                let cancel = Command::CancelDeploy {
                    deployment_id: p.deployment_id.clone(),
                };
                let (base, instance) = (self.clone(), instance_id.to_string());
                tokio::spawn(async move {
                    let _ = base
                        .registry
                        .send_command(&instance, cancel, COMMAND_TIMEOUT)
                        .await;
                });
            }
        }
        for report in &state.services {
            self.record_service(instance_id, report).await?;
        }
        Ok(())
    }

    /// The agent's word on how a service's process is doing.
    pub async fn record_service(
        &self,
        instance_id: &str,
        report: &proto::wire::ServiceReport,
    ) -> Result<(), DomainError> {
        let Some(mut svc) = services_sql::by_id(self.store.pool(), &report.service_id).await?
        else {
            return Ok(());
        };
        if svc.instance_id != instance_id || svc.live_deployment_id.is_none() {
            return Ok(());
        }
        let status = match report.run {
            RunState::Running => ServiceStatus::Running,
            RunState::Stopped => ServiceStatus::Stopped,
            RunState::Crashed => ServiceStatus::Crashed,
            RunState::Unhealthy => ServiceStatus::Unhealthy,
        };
        if svc.status != status {
            let was = std::mem::replace(&mut svc.status, status);
            svc.updated_at = clock::now_ms();
            let mut tx = self.store.pool().begin().await?;
            services_sql::update(&mut *tx, &svc).await?;
            // Health changes are events: a crash or a failing check, and the recovery after one.
            let action = match status {
                ServiceStatus::Crashed => Some(AuditAction::ServiceCrashed),
                ServiceStatus::Unhealthy => Some(AuditAction::ServiceUnhealthy),
                ServiceStatus::Running
                    if matches!(was, ServiceStatus::Crashed | ServiceStatus::Unhealthy) =>
                {
                    Some(AuditAction::ServiceRecovered)
                }
                _ => None,
            };
            if let Some(action) = action {
                let client = crate::ClientInfo::default();
                crate::events::record(
                    &mut *tx,
                    crate::events::NewEvent {
                        cluster_id: Some(&svc.cluster_id),
                        actor_user_id: None,
                        actor_token_id: None,
                        client: &client,
                        action,
                        target: Some(&svc.id),
                        details: serde_json::json!({
                            "service": svc.name,
                            "deployment": svc.live_deployment_id,
                            "reason": report.reason,
                            "restarts": report.restarts,
                        }),
                    },
                )
                .await?;
            }
            tx.commit().await?;
            self.activity.changed();
        }
        Ok(())
    }

    /// Ends deployments that can no longer finish: their instance has been offline too long, or
    /// they outlived the build limit plus slack. Run periodically ([`Base::run_sweeper`]).
    pub async fn sweep(&self) -> Result<usize, DomainError> {
        let open: Vec<&str> = DeployState::ALL
            .iter()
            .filter(|s| s.in_progress())
            .map(|s| s.as_str())
            .collect();
        let now = clock::now_ms();
        let mut ended = 0;
        for (row, instance_id) in sql::in_states(self.store.pool(), &open).await? {
            let limit = spec_of(&row.spec)
                .ok()
                .and_then(|s| s.build_timeout_secs)
                .unwrap_or(BUILD_TIMEOUT_SECS);
            let reason = if now - row.created_at > i64::from(limit) * 1000 + SLACK_MS {
                Some("no result within the build limit plus 10 minutes".to_string())
            } else if !self.registry.is_online(&instance_id) {
                let inst = crate::store::instances::by_id(self.store.pool(), &instance_id).await?;
                let since = inst
                    .as_ref()
                    .and_then(|i| i.last_seen_at)
                    .unwrap_or(0)
                    .max(row.created_at);
                (now - since > OFFLINE_LIMIT_MS).then(|| {
                    let name = inst.map(|i| i.name).unwrap_or_else(|| instance_id.clone());
                    format!(
                        "instance {name} has been offline for over {} minutes",
                        OFFLINE_LIMIT_MS / 60_000
                    )
                })
            } else {
                None
            };
            if let Some(reason) = reason
                && self
                    .apply(&row.id, Step::bare(DeployState::TimedOut, Some(&reason)))
                    .await?
            {
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Sweeps every `every` until `shutdown` resolves.
    pub async fn run_sweeper(
        &self,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tick.tick() => {
                    if let Err(e) = self.sweep().await {
                        tracing::warn!(error = %e, "sweeping deployments");
                    }
                }
            }
        }
    }
}
