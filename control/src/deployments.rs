//! Deployments: Members and up start, cancel and roll back; dployrd does the work and reports each
//! step, which Base checks against [`DeployState::next`] and persists before anyone sees it.
//!
//! Delivery is at least once and idempotent: an order stays "not accepted" until the agent acks
//! it, and is sent again on every reconnect (the agent runs a deployment id once). After a
//! reconnect the agent's `Hello` carries what became of every deployment it knows, and Base
//! reconciles: a deployment the agent no longer knows failed with it. A deployment whose
//! instance stays offline, or that outlives its build limit, times out here with a reason, so
//! nothing stays in progress forever.

use std::time::Duration;

use proto::api::{CreateDeploymentRequest, Deployment, ServiceStatus, Transition};
use proto::deploy::DeployState;
use proto::service::Source;
use proto::wire::{AgentState, Command, DeployOrder, DeployProgress, Outcome, RunState};
use serde_json::json;

use crate::events::{NewEvent, record};
use crate::rbac::{Deploy, authorize};
use crate::services::{spec_of, status_str};
use crate::store::deployments::{self as sql, DeploymentRow};
use crate::store::services::{self as services_sql, ServiceRow};
use crate::{Actor, Base, ClientInfo, DomainError, clock, ids};

/// How long Base waits for an agent to acknowledge a command.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
pub const BUILD_TIMEOUT_SECS: u32 = 15 * 60;
pub const DRAIN_SECS: u32 = 10;
/// A deployment in progress whose instance has been offline this long ends `timed_out`.
pub const OFFLINE_LIMIT_MS: i64 = 5 * 60 * 1000;
/// Fetching, starting and health checking, on top of the build limit.
const SLACK_MS: i64 = 10 * 60 * 1000;
/// Deployments listed per service, newest first.
const LISTED: i64 = 50;

fn state_of(row: &DeploymentRow) -> DeployState {
    DeployState::parse(&row.state).unwrap_or(DeployState::Failed)
}

fn view(row: &DeploymentRow, transitions: &[sql::TransitionRow]) -> Deployment {
    let mut steps: Vec<_> = transitions
        .iter()
        .filter(|t| t.deployment_id == row.id)
        .filter_map(|t| DeployState::parse(&t.state).map(|s| (t.at, s)))
        .collect();
    // Same-millisecond steps sort by their place in the life of a deployment.
    steps.sort_by_key(|(at, s)| (*at, DeployState::ALL.iter().position(|x| x == s)));
    Deployment {
        id: row.id.clone(),
        service_id: row.service_id.clone(),
        state: state_of(row),
        git_ref: row.git_ref.clone(),
        commit: row.commit_sha.clone(),
        reason: row.reason.clone(),
        created_by: row.created_by.clone(),
        created_at: clock::rfc3339(row.created_at),
        transitions: steps
            .into_iter()
            .map(|(at, state)| Transition {
                state,
                at: clock::rfc3339(at),
            })
            .collect(),
    }
}

fn check_ref(git_ref: &str) -> Result<(), DomainError> {
    let bad = git_ref.is_empty()
        || git_ref.len() > 200
        || git_ref.starts_with('-')
        || git_ref.contains("..")
        || git_ref.chars().any(|c| c.is_whitespace() || c.is_control());
    if bad {
        return Err(DomainError::invalid(
            "ref",
            "a branch, tag or commit: no spaces, not starting with -",
        ));
    }
    Ok(())
}

/// A step the agent or Base wants to record.
struct Step<'a> {
    to: DeployState,
    commit: Option<&'a str>,
    reason: Option<&'a str>,
    log_tail: &'a [String],
}

impl<'a> Step<'a> {
    fn bare(to: DeployState, reason: Option<&'a str>) -> Self {
        Step {
            to,
            commit: None,
            reason,
            log_tail: &[],
        }
    }
}

impl Base {
    async fn visible_deployment(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(DeploymentRow, ServiceRow), DomainError> {
        let row = sql::by_id(self.store.pool(), id)
            .await?
            .ok_or(DomainError::NotFound("deployment"))?;
        let svc = self
            .visible_service(actor, &row.service_id)
            .await
            .map_err(|e| match e {
                DomainError::NotFound(_) => DomainError::NotFound("deployment"),
                other => other,
            })?;
        Ok((row, svc))
    }

    async fn one_view(&self, row: &DeploymentRow) -> Result<Deployment, DomainError> {
        let t = sql::transitions_of(self.store.pool(), std::slice::from_ref(&row.id)).await?;
        Ok(view(row, &t))
    }

    pub async fn create_deployment(
        &self,
        actor: &Actor,
        service_id: &str,
        req: CreateDeploymentRequest,
    ) -> Result<Deployment, DomainError> {
        let mut svc = self.visible_service(actor, service_id).await?;
        let may = authorize::<Deploy>(&self.store, actor, &svc.cluster_id).await?;
        let spec = spec_of(&svc.spec)?;
        if let Some(r) = &req.git_ref {
            if matches!(spec.source, Source::Image(_)) {
                return Err(DomainError::invalid(
                    "ref",
                    "image services deploy their image; change the tag in the settings",
                ));
            }
            check_ref(r)?;
        }
        let now = clock::now_ms();
        let row = DeploymentRow {
            id: ids::new_id(ids::DEPLOYMENT),
            service_id: svc.id.clone(),
            state: DeployState::Queued.as_str().into(),
            git_ref: req.git_ref,
            commit_sha: None,
            reason: None,
            log_tail: None,
            spec: svc.spec.clone(),
            created_by: Some(actor.user.id.clone()),
            created_at: now,
            updated_at: now,
            accepted_at: None,
        };
        let mut tx = self.store.begin().await?;
        sql::insert(&mut *tx, &row).await?;
        sql::record_transition(&mut *tx, &row.id, &row.state, now).await?;
        if svc.live_deployment_id.is_none() {
            svc.status = status_str(ServiceStatus::Deploying).into();
            svc.updated_at = now;
            services_sql::update(&mut *tx, &svc).await?;
        }
        record(
            &mut *tx,
            NewEvent {
                cluster_id: Some(may.cluster_id()),
                actor_user_id: Some(&actor.user.id),
                client: &actor.client,
                action: "deployment.create",
                target: Some(&row.id),
                details: json!({ "service": svc.name, "ref": row.git_ref }),
            },
        )
        .await?;
        tx.commit().await?;
        self.activity.changed();
        let (base, instance) = (self.clone(), svc.instance_id.clone());
        tokio::spawn(async move { base.deliver(&instance).await });
        self.one_view(&row).await
    }

    pub async fn list_deployments(
        &self,
        actor: &Actor,
        service_id: &str,
    ) -> Result<Vec<Deployment>, DomainError> {
        let svc = self.visible_service(actor, service_id).await?;
        let rows = sql::of_service(self.store.pool(), &svc.id, LISTED).await?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let t = sql::transitions_of(self.store.pool(), &ids).await?;
        Ok(rows.iter().map(|r| view(r, &t)).collect())
    }

    pub async fn get_deployment(&self, actor: &Actor, id: &str) -> Result<Deployment, DomainError> {
        let (row, _) = self.visible_deployment(actor, id).await?;
        self.one_view(&row).await
    }

    /// Cancels a deployment in progress. One the agent has not accepted yet ends at once; one
    /// it is running is stopped there (its whole process tree) first. If the instance is
    /// offline it ends here and the agent is told when it reconnects.
    pub async fn cancel_deployment(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<Deployment, DomainError> {
        let (row, svc) = self.visible_deployment(actor, id).await?;
        let may = authorize::<Deploy>(&self.store, actor, &svc.cluster_id).await?;
        let state = state_of(&row);
        if !state.in_progress() {
            return Err(DomainError::Conflict(format!(
                "this deployment is already {state}"
            )));
        }
        if row.accepted_at.is_some() {
            let cancel = Command::CancelDeploy {
                deployment_id: row.id.clone(),
            };
            if let Ok(Outcome::Err { message }) = self
                .registry
                .send_command(&svc.instance_id, cancel, COMMAND_TIMEOUT)
                .await
            {
                return Err(DomainError::Conflict(message));
            }
        }
        let reason = format!("cancelled by {}", actor.user.email);
        self.apply(&row.id, Step::bare(DeployState::Cancelled, Some(&reason)))
            .await?;
        record(
            self.store.pool(),
            NewEvent {
                cluster_id: Some(may.cluster_id()),
                actor_user_id: Some(&actor.user.id),
                client: &actor.client,
                action: "deployment.cancel",
                target: Some(&row.id),
                details: json!({ "service": svc.name, "state": state.as_str() }),
            },
        )
        .await?;
        let row = sql::by_id(self.store.pool(), id)
            .await?
            .ok_or(DomainError::NotFound("deployment"))?;
        self.one_view(&row).await
    }

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
            let order = DeployOrder {
                deployment_id: row.id.clone(),
                service_id: row.service_id.clone(),
                instance_name: instance_name.clone(),
                spec,
                git_ref: row.git_ref.clone(),
                build_timeout_secs,
                drain_secs: DRAIN_SECS,
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

    /// A progress report from the agent of `instance_id`.
    pub async fn record_progress(
        &self,
        instance_id: &str,
        p: &DeployProgress,
    ) -> Result<(), DomainError> {
        let row = sql::by_id(self.store.pool(), &p.deployment_id)
            .await?
            .ok_or(DomainError::NotFound("deployment"))?;
        let svc = services_sql::by_id(self.store.pool(), &row.service_id)
            .await?
            .ok_or(DomainError::NotFound("service"))?;
        if svc.instance_id != instance_id {
            return Err(DomainError::invalid(
                "deployment_id",
                "this deployment belongs to another instance",
            ));
        }
        let step = Step {
            to: p.state,
            commit: p.commit.as_deref(),
            reason: p.reason.as_deref(),
            log_tail: &p.log_tail,
        };
        self.apply(&row.id, step).await.map(|_| ())
    }

    /// Records that `deployment_id` serves again (after a rollback the agent confirmed).
    pub(crate) async fn record_live(&self, deployment_id: &str) -> Result<(), DomainError> {
        self.apply(deployment_id, Step::bare(DeployState::Live, None))
            .await
            .map(|_| ())
    }

    /// Moves a deployment one step, with its service's status and live release, in one
    /// transaction. `Ok(false)`: nothing to do (already there, or lost a race to another step).
    async fn apply(&self, id: &str, step: Step<'_>) -> Result<bool, DomainError> {
        let mut tx = self.store.begin().await?;
        let row = sql::by_id(&mut *tx, id)
            .await?
            .ok_or(DomainError::NotFound("deployment"))?;
        let from = state_of(&row);
        let to = from
            .next(step.to)
            .map_err(|e| DomainError::Conflict(e.to_string()))?;
        if from == to {
            return Ok(false);
        }
        let now = clock::now_ms();
        let tail = (!step.log_tail.is_empty())
            .then(|| serde_json::to_string(step.log_tail).unwrap_or_default());
        let moved = sql::transition(
            &mut tx,
            id,
            from.as_str(),
            to.as_str(),
            step.commit,
            step.reason,
            tail.as_deref(),
            now,
        )
        .await?;
        if !moved {
            return Ok(false);
        }
        let mut svc = services_sql::by_id(&mut *tx, &row.service_id)
            .await?
            .ok_or(DomainError::NotFound("service"))?;
        if to == DeployState::Live {
            if let Some(old) = svc.live_deployment_id.clone().filter(|o| *o != row.id) {
                let next = if from.in_progress() {
                    DeployState::Superseded
                } else {
                    DeployState::RolledBack
                };
                sql::transition(
                    &mut tx,
                    &old,
                    DeployState::Live.as_str(),
                    next.as_str(),
                    None,
                    None,
                    None,
                    now,
                )
                .await?;
            }
            svc.live_deployment_id = Some(row.id.clone());
            svc.status = status_str(ServiceStatus::Running).into();
        } else if to.is_failure() {
            let status = if svc.live_deployment_id.is_some() {
                ServiceStatus::Running
            } else {
                ServiceStatus::New
            };
            svc.status = status_str(status).into();
        }
        svc.updated_at = now;
        services_sql::update(&mut *tx, &svc).await?;
        if to == DeployState::Live || to.is_failure() {
            record(
                &mut *tx,
                NewEvent {
                    cluster_id: Some(&svc.cluster_id),
                    actor_user_id: None,
                    client: &ClientInfo::default(),
                    action: if to == DeployState::Live {
                        "deployment.live"
                    } else {
                        "deployment.end"
                    },
                    target: Some(&row.id),
                    details: json!({ "service": svc.name, "state": to.as_str(), "reason": step.reason }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.activity.changed();
        Ok(true)
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
                    let from = state_of(&row);
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
                .is_none_or(|r| !state_of(&r).in_progress());
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
        };
        if svc.status != status_str(status) {
            svc.status = status_str(status).into();
            svc.updated_at = clock::now_ms();
            services_sql::update(self.store.pool(), &svc).await?;
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
