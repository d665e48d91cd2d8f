//! Deployments: Members and up start, cancel and roll back; dployrd does the work and reports each
//! step, which Base checks against [`DeployState::next`] and persists before anyone sees it.
//!
//! - [`create`]: the one way a deployment is made, for people, API tokens and webhooks.
//! - This file: listing and showing them, cancelling one, and every step of their life
//!   through [`Base::apply`] (the agent's reports, a cancel, a rollback, the sweeper).
//!
//! Delivering orders, reconciling after reconnects and timing out deployments whose agent is
//! gone live in [`crate::dispatch`].

pub(crate) mod create;

use proto::api::{AuditAction, Deployment, ServiceStatus, Transition};
use proto::deploy::DeployState;
use proto::wire::{Command, DeployProgress, Outcome};
use serde_json::json;

use crate::events::{NewEvent, record};
use crate::rbac::{Deploy, May, ViewCluster};
use crate::store::Tx;
use crate::store::deployments::{self as sql, DeploymentRow};
use crate::store::services::{self as services_sql, ServiceRow};
use crate::{Actor, Base, ClientInfo, DomainError, clock};

/// Deployments listed per service, newest first.
const LISTED: i64 = 50;

pub(crate) fn view(row: &DeploymentRow, transitions: &[sql::TransitionRow]) -> Deployment {
    let mut steps: Vec<_> = transitions
        .iter()
        .filter(|t| t.deployment_id == row.id)
        .map(|t| (t.at, t.state))
        .collect();
    // Same-millisecond steps sort by their place in the life of a deployment.
    steps.sort_by_key(|(at, s)| (*at, DeployState::ALL.iter().position(|x| x == s)));
    Deployment {
        id: row.id.clone(),
        service_id: row.service_id.clone(),
        state: row.state,
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
        plan: row
            .plan
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default(),
    }
}

/// A step the agent or Base wants to record.
pub(crate) struct Step<'a> {
    pub(crate) to: DeployState,
    pub(crate) commit: Option<&'a str>,
    pub(crate) reason: Option<&'a str>,
    pub(crate) log_tail: &'a [String],
    /// The build plan's lines, when this report carries them (once per deployment).
    pub(crate) plan: &'a [String],
}

impl<'a> From<&'a DeployProgress> for Step<'a> {
    fn from(p: &'a DeployProgress) -> Self {
        Step {
            to: p.state,
            commit: p.commit.as_deref(),
            reason: p.reason.as_deref(),
            log_tail: &p.log_tail,
            plan: &p.plan,
        }
    }
}

/// What one step came to inside its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    /// The deployment moved (and its service with it).
    Moved,
    /// A repeated step that brought the build plan: stored, nothing moved.
    PlanOnly,
    /// Nothing to do: already there, or another step won the race.
    Unchanged,
}

impl<'a> Step<'a> {
    pub(crate) fn bare(to: DeployState, reason: Option<&'a str>) -> Self {
        Step {
            to,
            commit: None,
            reason,
            log_tail: &[],
            plan: &[],
        }
    }
}

impl Base {
    /// The deployment and its service, if the actor may see them, with the proof of it.
    async fn visible_deployment(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(DeploymentRow, ServiceRow, May<ViewCluster>), DomainError> {
        let row = sql::by_id(self.store.pool(), id)
            .await?
            .ok_or(DomainError::NotFound("deployment"))?;
        let (svc, may) =
            self.service_in_view(actor, &row.service_id)
                .await
                .map_err(|e| match e {
                    DomainError::NotFound(_) => DomainError::NotFound("deployment"),
                    other => other,
                })?;
        Ok((row, svc, may))
    }

    async fn one_view(&self, row: &DeploymentRow) -> Result<Deployment, DomainError> {
        let t = sql::transitions_of(self.store.pool(), std::slice::from_ref(&row.id)).await?;
        Ok(view(row, &t))
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

    /// One page of a service's deployments, newest first, strictly older than `before`
    /// (`created_at` in ms, id); with the key of the last one when more follow.
    pub async fn deployment_page(
        &self,
        actor: &Actor,
        service_id: &str,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<(Vec<Deployment>, Option<(i64, String)>), DomainError> {
        let svc = self.visible_service(actor, service_id).await?;
        let want = i64::try_from(limit).unwrap_or(i64::MAX - 1);
        let mut rows = sql::page_of_service(self.store.pool(), &svc.id, before, want + 1).await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = more
            .then(|| rows.last().map(|r| (r.created_at, r.id.clone())))
            .flatten();
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let t = sql::transitions_of(self.store.pool(), &ids).await?;
        Ok((rows.iter().map(|r| view(r, &t)).collect(), next))
    }

    pub async fn get_deployment(&self, actor: &Actor, id: &str) -> Result<Deployment, DomainError> {
        let (row, ..) = self.visible_deployment(actor, id).await?;
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
        let (row, svc, may) = self.visible_deployment(actor, id).await?;
        let may = may.also::<Deploy>()?;
        let state = row.state;
        if !state.in_progress() {
            return Err(DomainError::Conflict(format!(
                "this deployment is already {state}"
            )));
        }
        if row.accepted_at.is_some() {
            let cancel = Command::CancelDeploy {
                deployment_id: row.id.clone().into(),
            };
            if let Ok(Outcome::Err { kind, message }) = self
                .send_command(&svc.instance_id, cancel, self.limits().command_timeout)
                .await
            {
                return Err(crate::gateway::registry::refused(kind, message));
            }
        }
        let reason = format!("cancelled by {}", actor.user.email);
        let details = json!({ "service": svc.name, "state": state.as_str() });
        let event = may.event(actor, AuditAction::DeploymentCancel, &row.id, details);
        self.apply_with_event(
            &row.id,
            Step::bare(DeployState::Cancelled, Some(&reason)),
            event,
        )
        .await?;
        let row = sql::by_id(self.store.pool(), id)
            .await?
            .ok_or(DomainError::NotFound("deployment"))?;
        self.one_view(&row).await
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
        self.apply(&row.id, Step::from(p)).await.map(|_| ())
    }

    /// Moves a deployment one step, with its service's status and live release, in one
    /// transaction. `Ok(false)`: nothing to do (already there, or lost a race to another step).
    pub(crate) async fn apply(&self, id: &str, step: Step<'_>) -> Result<bool, DomainError> {
        let mut tx = self.store.begin().await?;
        let (applied, cluster_id) = self.apply_in(&mut tx, id, step).await?;
        if applied != Applied::Unchanged {
            tx.commit().await?;
            self.activity.changed(&cluster_id);
        }
        Ok(applied == Applied::Moved)
    }

    /// [`Base::apply`] and the audit event of the person who asked for the step (a cancel, a
    /// rollback), in one transaction: the event is written exactly when the step is.
    pub(crate) async fn apply_with_event(
        &self,
        id: &str,
        step: Step<'_>,
        event: NewEvent<'_>,
    ) -> Result<bool, DomainError> {
        let mut tx = self.store.begin().await?;
        let (applied, cluster_id) = self.apply_in(&mut tx, id, step).await?;
        record(&mut *tx, event).await?;
        tx.commit().await?;
        if applied != Applied::Unchanged {
            self.activity.changed(&cluster_id);
        }
        Ok(applied == Applied::Moved)
    }

    /// One step inside the caller's transaction, and the service's cluster; the caller commits
    /// unless it is `Unchanged`.
    async fn apply_in(
        &self,
        tx: &mut Tx<'_>,
        id: &str,
        step: Step<'_>,
    ) -> Result<(Applied, String), DomainError> {
        let row = sql::by_id(&mut **tx, id)
            .await?
            .ok_or(DomainError::NotFound("deployment"))?;
        let mut svc = services_sql::by_id(&mut **tx, &row.service_id)
            .await?
            .ok_or(DomainError::NotFound("service"))?;
        let cluster_id = svc.cluster_id.clone();
        let from = row.state;
        let to = from
            .next(step.to)
            .map_err(|e| DomainError::Conflict(e.to_string()))?;
        let plan = (!step.plan.is_empty())
            .then(|| serde_json::to_string(step.plan).unwrap_or_default())
            .filter(|p| row.plan.as_ref() != Some(p));
        if from == to {
            // A repeated step (a resent report) may still be the one that brings the plan.
            let Some(plan) = &plan else {
                return Ok((Applied::Unchanged, cluster_id));
            };
            sql::set_plan(&mut **tx, id, plan).await?;
            return Ok((Applied::PlanOnly, cluster_id));
        }
        let now = self.clock.now_ms();
        let tail = (!step.log_tail.is_empty())
            .then(|| serde_json::to_string(step.log_tail).unwrap_or_default());
        let moved = sql::transition(
            tx,
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
            return Ok((Applied::Unchanged, cluster_id));
        }
        if let Some(plan) = &plan {
            sql::set_plan(&mut **tx, id, plan).await?;
        }
        if to == DeployState::Live {
            if let Some(old) = svc.live_deployment_id.clone().filter(|o| *o != row.id) {
                let next = if from.in_progress() {
                    DeployState::Superseded
                } else {
                    DeployState::RolledBack
                };
                sql::transition(
                    tx,
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
            svc.status = ServiceStatus::Running;
        } else if to.is_failure() {
            let status = if svc.live_deployment_id.is_some() {
                ServiceStatus::Running
            } else {
                ServiceStatus::New
            };
            svc.status = status;
        }
        svc.updated_at = now;
        services_sql::update(&mut **tx, &svc).await?;
        // A cancellation is recorded by the person's `deployment.cancel`, not again here.
        if to == DeployState::Live || (to.is_failure() && to != DeployState::Cancelled) {
            // With what it alerts (deploy succeeded or failed).
            self.record_alerting(
                tx,
                NewEvent {
                    cluster_id: Some(&svc.cluster_id),
                    actor_user_id: None,
                    actor_token_id: None,
                    client: &ClientInfo::default(),
                    action: if to == DeployState::Live {
                        AuditAction::DeploymentLive
                    } else {
                        AuditAction::DeploymentEnd
                    },
                    target: Some(&row.id),
                    details: json!({ "service": svc.name, "state": to.as_str(), "reason": step.reason }),
                },
            )
            .await?;
        }
        Ok((Applied::Moved, cluster_id))
    }
}
