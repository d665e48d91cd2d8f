//! Deployments: Members and up start, cancel and roll back; dployrd does the work and reports each
//! step, which Base checks against [`DeployState::next`] and persists before anyone sees it.
//!
//! Delivering orders, reconciling after reconnects and timing out deployments whose agent is
//! gone live in [`crate::agent_reports`]; both move deployments only through [`Base::apply`].
//!
//! Slightly over the ~400-line budget since deploy creation was split for webhooks
//! ([`Base::queue_deployment`] in the caller's transaction): creation stays in one place.

use std::time::Duration;

use proto::api::{AuditAction, CreateDeploymentRequest, Deployment, ServiceStatus, Transition};
use proto::deploy::DeployState;
use proto::service::Source;
use proto::wire::{Command, DeployProgress, Outcome};
use serde_json::json;

use crate::events::{NewEvent, record};
use crate::rbac::{Deploy, authorize};
use crate::services::spec_of;
use crate::store::Tx;
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
pub(crate) const SLACK_MS: i64 = 10 * 60 * 1000;
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
pub(crate) struct Step<'a> {
    pub(crate) to: DeployState,
    pub(crate) commit: Option<&'a str>,
    pub(crate) reason: Option<&'a str>,
    pub(crate) log_tail: &'a [String],
    /// The build plan's lines, when this report carries them (once per deployment).
    pub(crate) plan: &'a [String],
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
        let mut tx = self.store.begin().await?;
        let row =
            Base::queue_deployment(&mut tx, &mut svc, req.git_ref, Some(&actor.user.id)).await?;
        record(
            &mut *tx,
            NewEvent::by(
                actor,
                may.cluster_id(),
                AuditAction::DeploymentCreate,
                &row.id,
                json!({ "service": svc.name, "ref": row.git_ref }),
            ),
        )
        .await?;
        tx.commit().await?;
        self.deployment_queued(&svc.instance_id);
        self.one_view(&row).await
    }

    /// Makes a `queued` deployment of `svc` at `git_ref` (`None`: its branch, or its image),
    /// with its first transition and the service's status, in the caller's transaction. The
    /// caller records who asked (a person, or a webhook with `created_by` `None`), commits,
    /// then calls [`Base::deployment_queued`].
    pub(crate) async fn queue_deployment(
        tx: &mut Tx<'_>,
        svc: &mut ServiceRow,
        git_ref: Option<String>,
        created_by: Option<&str>,
    ) -> Result<DeploymentRow, DomainError> {
        let spec = spec_of(&svc.spec)?;
        if let Some(r) = &git_ref {
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
            state: DeployState::Queued,
            git_ref,
            commit_sha: None,
            reason: None,
            log_tail: None,
            plan: None,
            spec: svc.spec.clone(),
            created_by: created_by.map(str::to_owned),
            created_at: now,
            updated_at: now,
            accepted_at: None,
        };
        sql::insert(&mut **tx, &row).await?;
        sql::record_transition(&mut **tx, &row.id, row.state.as_str(), now).await?;
        Base::env_applied(tx, &svc.id).await?;
        if svc.live_deployment_id.is_none() {
            svc.status = ServiceStatus::Deploying;
            svc.updated_at = now;
            services_sql::update(&mut **tx, svc).await?;
        }
        Ok(row)
    }

    /// After the transaction that queued a deployment committed: wake live views and send the
    /// order to the instance.
    pub(crate) fn deployment_queued(&self, instance_id: &str) {
        self.activity.changed();
        let (base, instance) = (self.clone(), instance_id.to_string());
        tokio::spawn(async move { base.deliver(&instance).await });
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
        let state = row.state;
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
            NewEvent::by(
                actor,
                may.cluster_id(),
                AuditAction::DeploymentCancel,
                &row.id,
                json!({ "service": svc.name, "state": state.as_str() }),
            ),
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
        let step = Step {
            to: p.state,
            commit: p.commit.as_deref(),
            reason: p.reason.as_deref(),
            log_tail: &p.log_tail,
            plan: &p.plan,
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
    pub(crate) async fn apply(&self, id: &str, step: Step<'_>) -> Result<bool, DomainError> {
        let mut tx = self.store.begin().await?;
        let row = sql::by_id(&mut *tx, id)
            .await?
            .ok_or(DomainError::NotFound("deployment"))?;
        let from = row.state;
        let to = from
            .next(step.to)
            .map_err(|e| DomainError::Conflict(e.to_string()))?;
        let plan = (!step.plan.is_empty())
            .then(|| serde_json::to_string(step.plan).unwrap_or_default())
            .filter(|p| row.plan.as_ref() != Some(p));
        if from == to {
            // A repeated step (a resent report) may still be the one that brings the plan.
            if let Some(plan) = &plan {
                sql::set_plan(&mut *tx, id, plan).await?;
                tx.commit().await?;
                self.activity.changed();
            }
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
        if let Some(plan) = &plan {
            sql::set_plan(&mut *tx, id, plan).await?;
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
        services_sql::update(&mut *tx, &svc).await?;
        // A cancellation is recorded by the person's `deployment.cancel`, not again here.
        if to == DeployState::Live || (to.is_failure() && to != DeployState::Cancelled) {
            record(
                &mut *tx,
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
        tx.commit().await?;
        self.activity.changed();
        Ok(true)
    }
}
