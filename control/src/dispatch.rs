//! Between Base and the agents that run its deployments. Delivery is at least once and
//! idempotent: an order stays "not accepted" until the agent acks it, and is sent again on every
//! reconnect (the agent runs a deployment id once). The agent's progress reports are recorded in
//! the order they came, off the connection's loop. After a reconnect the agent's `Hello` carries
//! what became of every deployment it knows, and Base reconciles: a deployment the agent no
//! longer knows failed with it. A deployment whose instance stays offline, or that outlives its
//! build limit, times out here with a reason, so nothing stays in progress forever.
//!
//! Every limit comes from [`crate::Limits`] and every time from the [`crate::clock::Clock`] Base
//! holds, so tests shorten the one and move the other.

use std::time::Duration;

use proto::api::{AuditAction, ServiceStatus};
use proto::deploy::DeployState;
use proto::wire::{AgentState, Command, DeployOrder, DeployProgress, Outcome, RunState};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::deployments::Step;
use crate::services::spec_of;
use crate::store::deployments::{self as sql, Scope};
use crate::store::services as services_sql;
use crate::{Base, DomainError};

/// How often a progress report the store refused with an internal error is tried, in all.
const PROGRESS_TRIES: u32 = 5;

/// The states a deployment can still leave by itself.
fn open_states() -> Vec<DeployState> {
    DeployState::ALL
        .into_iter()
        .filter(|s| s.in_progress())
        .collect()
}

fn minutes(d: Duration) -> u64 {
    d.as_secs() / 60
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// In-progress deployments one agent report may name that Base looks up and cancels.
const MAX_REPORTED_IN_PROGRESS: usize = 256;
/// Certificates one agent report may name that Base records.
const MAX_REPORTED_CERTIFICATES: usize = 4_096;

impl Base {
    /// Sends every order the instance's agent has not accepted yet, oldest first. Stops at the
    /// first one that cannot be delivered; the next reconnect, or
    /// [`Base::redeliver_stale_orders`], tries again.
    pub async fn deliver(&self, instance_id: &str) {
        let pending = match sql::queued_for(self.store.pool(), instance_id).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "listing deployments to deliver");
                return;
            }
        };
        let limits = self.limits();
        for placed in pending {
            let row = placed.row;
            let Ok(mut spec) = spec_of(&row.spec) else {
                continue;
            };
            // Only verified domains are routed: an unverified one serves nothing.
            spec.domains = match self.routable_domains(&row.service_id).await {
                Ok(verified) => verified,
                Err(e) => {
                    tracing::info!(error = %e, "reading verified domains; order not sent yet");
                    return;
                }
            };
            let build_timeout_secs = spec.build_timeout_secs.unwrap_or(limits.build_timeout_secs);
            // Opened here, for this order to the service's own instance, and nowhere else.
            let secrets = match self.secrets_for_order(&row.service_id).await {
                Ok(s) => s,
                Err(e) => {
                    self.fail_quietly(&row.id, &e.to_string()).await;
                    continue;
                }
            };
            let order = DeployOrder {
                deployment_id: row.id.clone().into(),
                service_id: row.service_id.clone().into(),
                instance_name: placed.instance_name,
                spec,
                git_ref: row.git_ref.clone(),
                build_timeout_secs,
                drain_secs: limits.drain_secs,
                secrets,
            };
            let sent = self
                .send_command(
                    instance_id,
                    Command::Deploy(Box::new(order)),
                    limits.command_timeout,
                )
                .await;
            match sent {
                Ok(Outcome::Ok) => {
                    let now = self.clock.now_ms();
                    if let Err(e) = sql::set_accepted(self.store.pool(), &row.id, now).await {
                        tracing::warn!(deployment = %row.id, error = %e, "recording a delivered order");
                    }
                }
                Ok(Outcome::Err { message, .. }) => self.fail_quietly(&row.id, &message).await,
                Err(e) => {
                    tracing::info!(deployment = %row.id, error = %e, "deploy order not delivered yet");
                    return;
                }
            }
        }
    }

    /// Fails a deployment that cannot start; a failure to record that is logged, not returned:
    /// the sweeper ends it later.
    async fn fail_quietly(&self, id: &str, reason: &str) {
        if let Err(e) = self
            .apply(id, Step::bare(DeployState::Failed, Some(reason)))
            .await
        {
            tracing::warn!(deployment = %id, error = %e, "failing a deployment");
        }
    }

    /// An agent (re)connected and said what it runs: settle every deployment it was given
    /// against its report, update service states, then deliver what it has not accepted yet.
    pub async fn agent_connected(&self, instance_id: &str, state: &AgentState) {
        if let Err(e) = self.reconcile(instance_id, state).await {
            tracing::warn!(error = %e, "reconciling agent state");
        }
        if let Err(e) = self.remove_strays(instance_id, state).await {
            tracing::warn!(error = %e, "removing deleted services");
        }
        // The certificates the agent holds (one issued while it was offline is not missed);
        // a repeated one changes nothing. An instance serves far fewer than the cap (L2).
        for report in state.certificates.iter().take(MAX_REPORTED_CERTIFICATES) {
            if let Err(e) = self.record_certificate(instance_id, report).await {
                tracing::warn!(domain = %report.domain, error = %e, "recording a certificate");
            }
        }
        self.deliver(instance_id).await;
        self.send_all_domains(instance_id).await;
    }

    async fn reconcile(&self, instance_id: &str, state: &AgentState) -> Result<(), DomainError> {
        let given = Scope {
            instance_id: Some(instance_id),
            accepted: Some(true),
            created_before: None,
        };
        for placed in sql::in_states(self.store.pool(), &open_states(), given).await? {
            let row = placed.row;
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
                    Step::from(p)
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
        // it still runs: stop them there, one after the other in one task. An agent runs a
        // few at a time; past [`MAX_REPORTED_IN_PROGRESS`] the report is not believed (L2).
        let mut cancels = Vec::new();
        let running = state.deployments.iter().filter(|p| p.state.in_progress());
        for p in running.take(MAX_REPORTED_IN_PROGRESS) {
            let ended = sql::by_id(self.store.pool(), &p.deployment_id)
                .await?
                .is_none_or(|r| !r.state.in_progress());
            if ended {
                cancels.push(Command::CancelDeploy {
                    deployment_id: p.deployment_id.clone(),
                });
            }
        }
        if !cancels.is_empty() {
            let (base, instance) = (self.clone(), instance_id.to_string());
            tokio::spawn(async move {
                let timeout = base.limits().command_timeout;
                for cancel in cancels {
                    let _ = base.send_command(&instance, cancel, timeout).await;
                }
            });
        }
        for report in &state.services {
            self.record_service(instance_id, report).await?;
        }
        Ok(())
    }

    /// A queue for one agent connection's progress reports. They are recorded in the order
    /// they came, a store hiccup retried with backoff, in a task of their own, so the
    /// connection's loop never waits for the database (a retry there held heartbeats and acks
    /// back for up to a second). The task ends once the connection drops the sender and the
    /// queue is empty. Unbounded: an agent sends a handful of reports per deployment.
    pub fn progress_queue(&self, instance_id: &str) -> mpsc::UnboundedSender<DeployProgress> {
        let (tx, mut rx) = mpsc::unbounded_channel::<DeployProgress>();
        let (base, instance) = (self.clone(), instance_id.to_string());
        let record = async move {
            while let Some(progress) = rx.recv().await {
                base.record_progress_retrying(&instance, &progress).await;
            }
        };
        tokio::spawn(record.instrument(tracing::Span::current()));
        tx
    }

    /// A step lost here would leave the deployment in progress until the next reconnect, so a
    /// store failure is tried again; a refusal (an illegal step, another instance's deployment)
    /// is not.
    async fn record_progress_retrying(&self, instance_id: &str, progress: &DeployProgress) {
        let mut tries = 0;
        while let Err(e) = self.record_progress(instance_id, progress).await {
            tries += 1;
            if !matches!(e, DomainError::Internal(_)) || tries == PROGRESS_TRIES {
                tracing::warn!(deployment = %progress.deployment_id, error = %e, "deploy progress refused");
                return;
            }
            tokio::time::sleep(Duration::from_millis(100 * u64::from(tries))).await;
        }
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
            svc.updated_at = self.clock.now_ms();
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
                // With what it alerts (unhealthy, recovered, crash-looping).
                self.record_alerting(
                    &mut tx,
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
            self.activity.changed(&svc.cluster_id);
        }
        Ok(())
    }

    /// Ends deployments that can no longer finish: their instance has been offline longer than
    /// the offline limit, or they outlived the build limit plus slack. Run periodically
    /// ([`Base::run_sweeper`]); returns how many it ended.
    pub async fn sweep(&self) -> Result<usize, DomainError> {
        let limits = self.limits();
        let now = self.clock.now_ms();
        let (offline, slack) = (millis(limits.offline_limit), millis(limits.slack));
        // Neither limit can be reached by a deployment younger than the shorter of the two (a
        // build limit is at least zero, and the offline time counts from creation at the
        // earliest), so SQL leaves those out.
        let old = Scope {
            created_before: Some(now - offline.min(slack)),
            ..Scope::default()
        };
        let mut ended = 0;
        for placed in sql::in_states(self.store.pool(), &open_states(), old).await? {
            let row = &placed.row;
            let limit = spec_of(&row.spec)
                .ok()
                .and_then(|s| s.build_timeout_secs)
                .unwrap_or(limits.build_timeout_secs);
            let reason = if now - row.created_at > i64::from(limit) * 1000 + slack {
                Some(format!(
                    "no result within the build limit plus {} minutes",
                    minutes(limits.slack)
                ))
            } else if !self.instance_online(&placed.instance_id) {
                let since = placed.last_seen_at.unwrap_or(0).max(row.created_at);
                (now - since > offline).then(|| {
                    format!(
                        "instance {} has been offline for over {} minutes",
                        placed.instance_name,
                        minutes(limits.offline_limit)
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
        crate::periodic::every(every, shutdown, "retrying removals", || async {
            // A failed sweep does not hold up the removals. The sweep runs on one replica;
            // each replica delivers again and retries the removals for the agents it holds.
            if self.leads_jobs().await
                && let Err(e) = self.sweep().await
            {
                tracing::warn!(error = %e, "sweeping deployments");
            }
            if let Err(e) = self.redeliver_stale_orders().await {
                tracing::warn!(error = %e, "delivering unaccepted orders again");
            }
            self.retry_removals().await
        })
        .await;
    }
}
