//! Making a deployment, one way for everyone who may ask: a person in the dashboard, an API
//! token (a CI job, the CLI), either under an `Idempotency-Key`, and a service's webhook.
//! [`Base::create_deployment`] is the entry for people and tokens: it authorizes, answers a
//! known key from memory, and makes the deployment. A webhook proves itself with the hook's
//! secret instead of a role, and makes it through the same [`Base::queue_deployment`] inside
//! its delivery's transaction. Either way the row, its first transition, the service's status
//! and the `deployment.create` event are written together, and the order goes out to the
//! instance once they are committed.

use proto::api::{AuditAction, CreateDeploymentRequest, ServiceStatus};
use proto::deploy::DeployState;
use proto::service::Source;
use serde_json::json;

use super::view;
use crate::events::{NewEvent, record};
use crate::idempotency::{Key, Queued, check_key};
use crate::rbac::{Deploy, May};
use crate::services::spec_of;
use crate::store::Tx;
use crate::store::deployments::{self as sql, DeploymentRow};
use crate::store::services::{self as services_sql, ServiceRow};
use crate::webhooks::providers::Provider;
use crate::{Actor, Base, ClientInfo, DomainError, ids};

/// Who asks for a deployment, as its row and its audit event record it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Requester<'a> {
    /// A person, or an API token acting for one, with the proof that they may deploy, and the
    /// `Idempotency-Key` their request carried.
    Person {
        actor: &'a Actor,
        may: &'a May<Deploy>,
        key: Option<&'a str>,
    },
    /// A service's webhook whose delivery proved it knows the hook's secret. No person asked:
    /// the row has no `created_by`, and the event names the hook and the delivery.
    Hook {
        provider: Provider,
        delivery: Option<&'a str>,
        client: &'a ClientInfo,
    },
}

/// Namespaces under `refs/` that hold no branch or tag. A bare `pull/1/head` would reach
/// `refs/pull/1/head`, since git looks a name up under `refs/` before `refs/heads/`.
const NOT_BRANCHES: &[&str] = &[
    "pull",
    "merge-requests",
    "changes",
    "remotes",
    "notes",
    "keep-around",
    "pipelines",
    "environments",
    "replace",
    "stash",
    "original",
    "prefetch",
    "bisect",
    "rewritten",
    "worktree",
];

/// A ref a deployment may name (audit findings H1 and L10): a branch or tag (`main`, `v1.2`,
/// `feature/x`, `refs/heads/main`, `refs/tags/v1.2`) or a commit hash. Not `refs/pull/*` (a
/// fork's unreviewed pull request) or any other ref, and none of git's revision syntax
/// (`main~1`, `:/text`, `main@{1}`), which could reach commits of other refs.
fn check_ref(git_ref: &str) -> Result<(), DomainError> {
    let syntax_ok = !git_ref.is_empty()
        && git_ref.len() <= 200
        && !git_ref.starts_with(['-', '/', '.'])
        && !git_ref.ends_with(['/', '.'])
        && !git_ref.ends_with(".lock")
        && git_ref != "@"
        && !git_ref.contains("..")
        && !git_ref.contains("//")
        && !git_ref.contains("@{")
        && !git_ref.contains("/.")
        && !git_ref.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        });
    if !syntax_ok {
        return Err(DomainError::invalid(
            "ref",
            format!("{git_ref:?} is not a branch, tag or commit"),
        ));
    }
    let other_ref = match git_ref.strip_prefix("refs/") {
        Some(rest) => !(rest.starts_with("heads/") || rest.starts_with("tags/")),
        None => git_ref
            .split_once('/')
            .is_some_and(|(first, _)| NOT_BRANCHES.contains(&first)),
    };
    if other_ref {
        return Err(DomainError::invalid(
            "ref",
            format!(
                "{git_ref:?} is not a branch or tag: deploy a branch, a tag (refs/heads/… or \
                 refs/tags/…) or a commit, not refs such as refs/pull/…"
            ),
        ));
    }
    Ok(())
}

impl Base {
    /// Deploys `service_id` at `req.git_ref` (none: its branch, or its image) for `actor`, who
    /// must be allowed to deploy in its cluster. With a `key`, the deployment, its event and the
    /// key are written in one transaction, and a retry gets the first answer back
    /// ([`crate::idempotency`]).
    pub async fn create_deployment(
        &self,
        actor: &Actor,
        service_id: &str,
        req: CreateDeploymentRequest,
        key: Option<&str>,
    ) -> Result<Queued, DomainError> {
        if let Some(k) = key {
            check_key(k)?;
        }
        let (mut svc, may) = self.service_in_view(actor, service_id).await?;
        let may = may.also::<Deploy>()?;
        let remembered = key.map(|k| Key::new(actor, &svc.id, k, &req, self.clock.now_ms()));
        if let Some(r) = &remembered
            && let Some(earlier) = r.earlier(self.store.pool()).await?
        {
            return Ok(earlier);
        }
        let mut tx = self.store.begin().await?;
        let by = Requester::Person {
            actor,
            may: &may,
            key,
        };
        let row = self
            .queue_deployment(&mut tx, &mut svc, req.git_ref, by)
            .await?;
        let steps = sql::transitions_of(&mut *tx, std::slice::from_ref(&row.id)).await?;
        let made = view(&row, &steps);
        if let Some(r) = &remembered
            && !r.remember(&mut tx, &made).await?
        {
            // Another request with this key committed first: undo ours, answer with theirs.
            tx.rollback().await?;
            return r
                .earlier(self.store.pool())
                .await?
                .ok_or_else(|| DomainError::Conflict("retry the request".into()));
        }
        tx.commit().await?;
        self.deployment_queued(&svc.cluster_id, &svc.instance_id);
        Ok(Queued::Created(made))
    }

    /// Makes a `queued` deployment of `svc` at `git_ref` (`None`: its branch, or its image),
    /// with its first transition, the service's status and the `deployment.create` event of
    /// `by`, in the caller's transaction. The caller commits, then calls
    /// [`Base::deployment_queued`].
    pub(crate) async fn queue_deployment(
        &self,
        tx: &mut Tx<'_>,
        svc: &mut ServiceRow,
        git_ref: Option<String>,
        by: Requester<'_>,
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
        let now = self.clock.now_ms();
        let created_by = match by {
            Requester::Person { actor, .. } => Some(actor.user.id.clone()),
            Requester::Hook { .. } => None,
        };
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
            created_by,
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
        record(&mut **tx, created_event(svc, &row, by)).await?;
        Ok(row)
    }

    /// After the transaction that queued a deployment committed: wake live views and send the
    /// order to the instance.
    pub(crate) fn deployment_queued(&self, cluster_id: &str, instance_id: &str) {
        self.activity.changed(cluster_id);
        let (base, instance) = (self.clone(), instance_id.to_string());
        tokio::spawn(async move { base.deliver(&instance).await });
    }
}

/// `deployment.create`: who asked, from where, and (for a hook) which delivery.
fn created_event<'a>(
    svc: &'a ServiceRow,
    row: &'a DeploymentRow,
    by: Requester<'a>,
) -> NewEvent<'a> {
    let mut details = json!({ "service": svc.name, "ref": row.git_ref });
    let (cluster_id, actor_user_id, actor_token_id, client) = match by {
        Requester::Person { actor, may, key } => {
            if let Some(key) = key {
                details["idempotency_key"] = key.into();
            }
            let user = Some(actor.user.id.as_str());
            (may.cluster_id(), user, actor.token_id(), &actor.client)
        }
        Requester::Hook {
            provider,
            delivery,
            client,
        } => {
            details["webhook"] = json!({ "provider": provider.as_str(), "delivery": delivery });
            (svc.cluster_id.as_str(), None, None, client)
        }
    };
    NewEvent {
        cluster_id: Some(cluster_id),
        actor_user_id,
        actor_token_id,
        client,
        action: AuditAction::DeploymentCreate,
        target: Some(&row.id),
        details,
    }
}
