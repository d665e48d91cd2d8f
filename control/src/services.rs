//! Services: one app on one instance. Admins create, change and delete them; everyone in the
//! cluster sees them. The settings are a [`ServiceSpec`] checked by [`crate::service_spec`];
//! changes apply from the next deployment on.

use proto::api::Role;
use proto::api::{AuditAction, CreateServiceRequest, Service, ServiceStatus, UpdateServiceRequest};
use proto::redact::redact_git_url;
use proto::service::{ServiceSpec, Source};
use serde_json::json;

use crate::events::commit_with;
use crate::rbac::{self, Action, ManageEnv, ManageServices, May, ViewCluster, authorize};
use crate::store::is_unique_violation;
use crate::store::services::{self as sql, ServiceRow};
use crate::{Actor, Base, DomainError, clock, ids, service_spec};

pub(crate) fn spec_of(json: &str) -> Result<ServiceSpec, DomainError> {
    serde_json::from_str(json).map_err(|e| DomainError::Internal(Box::new(e)))
}

fn spec_json(spec: &ServiceSpec) -> Result<String, DomainError> {
    serde_json::to_string(spec).map_err(|e| DomainError::Internal(Box::new(e)))
}

fn name_taken(name: &str) -> impl Fn(sqlx::Error) -> DomainError + '_ {
    move |e| {
        if is_unique_violation(&e) {
            DomainError::Conflict(format!("a service named {name} already exists"))
        } else {
            e.into()
        }
    }
}

/// A service as `role` may see it. Plain env values only with `services.env` (Guests see no
/// values or names, as on the env page), and a git URL never with its credentials: dployrd gets
/// the stored URL in its deploy order, people and CI get [`redact_git_url`]'s.
fn view(r: &ServiceRow, role: Role) -> Result<Service, DomainError> {
    let mut spec = spec_of(&r.spec)?;
    if !rbac::allows::<ManageEnv>(role) {
        spec.env.clear();
    }
    if let Source::Git(git) = &mut spec.source {
        git.url = redact_git_url(&git.url);
    }
    Ok(Service {
        id: r.id.clone(),
        cluster_id: r.cluster_id.clone(),
        instance_id: r.instance_id.clone(),
        spec,
        status: r.status,
        live_deployment_id: r.live_deployment_id.clone(),
        created_at: clock::rfc3339(r.created_at),
        updated_at: clock::rfc3339(r.updated_at),
        env_changed: r.env_changed_at.is_some(),
    })
}

/// A change that sends back the redacted URL it was shown (the dashboard's form, say) keeps the
/// stored one with its credentials.
fn keep_stored_credentials(patch: &mut UpdateServiceRequest, stored: &ServiceSpec) {
    if let (Some(Source::Git(new)), Source::Git(old)) = (&mut patch.source, &stored.source)
        && new.url != old.url
        && new.url == redact_git_url(&old.url)
    {
        new.url = old.url.clone();
    }
}

impl Base {
    /// The service row, if the actor may see it (otherwise `NotFound`, revealing nothing).
    pub(crate) async fn visible_service(
        &self,
        actor: &Actor,
        service_id: &str,
    ) -> Result<ServiceRow, DomainError> {
        Ok(self.service_in_view(actor, service_id).await?.0)
    }

    /// [`Base::visible_service`] with the proof of it, whose role answers the next question
    /// ([`May::also`]) without a second membership query.
    pub(crate) async fn service_in_view(
        &self,
        actor: &Actor,
        service_id: &str,
    ) -> Result<(ServiceRow, May<ViewCluster>), DomainError> {
        let row = sql::by_id(self.store.pool(), service_id)
            .await?
            .ok_or(DomainError::NotFound("service"))?;
        match authorize::<ViewCluster>(&self.store, actor, &row.cluster_id).await {
            Ok(may) => Ok((row, may)),
            Err(DomainError::Forbidden) => Err(DomainError::NotFound("service")),
            Err(e) => Err(e),
        }
    }

    /// [`Base::visible_service`] and the permission for `A` on it, from one membership query.
    pub(crate) async fn service_for<A: Action>(
        &self,
        actor: &Actor,
        service_id: &str,
    ) -> Result<(ServiceRow, May<A>), DomainError> {
        let (row, may) = self.service_in_view(actor, service_id).await?;
        Ok((row, may.also::<A>()?))
    }

    pub async fn create_service(
        &self,
        actor: &Actor,
        cluster_id: &str,
        req: CreateServiceRequest,
    ) -> Result<Service, DomainError> {
        let may = authorize::<ManageServices>(&self.store, actor, cluster_id).await?;
        let instance_id = req.instance_id.clone();
        let instance = crate::store::instances::by_id(self.store.pool(), &instance_id)
            .await?
            .filter(|i| i.cluster_id == may.cluster_id())
            .ok_or_else(|| {
                DomainError::invalid("instance_id", "no such instance in this cluster")
            })?;
        let spec = service_spec::from_create(req)?;
        let now = clock::now_ms();
        let row = ServiceRow {
            id: ids::new_id(ids::SERVICE),
            cluster_id: may.cluster_id().to_string(),
            instance_id: instance.id,
            name: spec.name.clone(),
            spec: spec_json(&spec)?,
            status: ServiceStatus::New,
            live_deployment_id: None,
            created_at: now,
            updated_at: now,
            env_changed_at: None,
        };
        let mut tx = self.store.begin().await?;
        sql::insert(&mut *tx, &row, Some(&actor.user.id))
            .await
            .map_err(name_taken(&row.name))?;
        // Who set the first variables, and when; nothing is deployed yet, so nothing to redeploy.
        Base::env_replaced(
            &mut tx,
            &row.id,
            &Default::default(),
            &spec.env,
            &actor.user.id,
        )
        .await?;
        crate::store::env::set_changed(&mut *tx, &row.id, None).await?;
        // Each domain of the settings becomes a pending domain (409 when another holds it).
        Base::sync_spec_domains(&mut tx, actor, &row, &spec.domains).await?;
        let details = json!({ "name": row.name, "instance_id": row.instance_id });
        let event = may.event(actor, AuditAction::ServiceCreate, &row.id, details);
        commit_with(tx, event).await?;
        self.activity.changed(&row.cluster_id);
        if self.has_public_default_host(&row).await {
            // Its default host may get a certificate: the instance hears of it now, without
            // the person waiting on a DNS lookup.
            let (base, id) = (self.clone(), row.id.clone());
            tokio::spawn(async move { base.send_domains(&id).await });
        }
        view(&row, may.role())
    }

    pub async fn list_services(
        &self,
        actor: &Actor,
        cluster_id: &str,
    ) -> Result<Vec<Service>, DomainError> {
        let may = authorize::<ViewCluster>(&self.store, actor, cluster_id).await?;
        sql::in_cluster(self.store.pool(), may.cluster_id())
            .await?
            .iter()
            .map(|row| view(row, may.role()))
            .collect()
    }

    pub async fn get_service(
        &self,
        actor: &Actor,
        service_id: &str,
    ) -> Result<Service, DomainError> {
        let (row, may) = self.service_in_view(actor, service_id).await?;
        view(&row, may.role())
    }

    pub async fn update_service(
        &self,
        actor: &Actor,
        service_id: &str,
        mut patch: UpdateServiceRequest,
    ) -> Result<Service, DomainError> {
        let (mut row, may) = self.service_in_view(actor, service_id).await?;
        let may = may.also::<ManageServices>()?;
        let stored = spec_of(&row.spec)?;
        keep_stored_credentials(&mut patch, &stored);
        let changed = changed_fields(&patch);
        let old_env = stored.env.clone();
        let spec = service_spec::apply(stored, patch)?;
        row.name = spec.name.clone();
        row.spec = spec_json(&spec)?;
        row.updated_at = clock::now_ms();
        let mut tx = self.store.begin().await?;
        sql::update(&mut *tx, &row)
            .await
            .map_err(name_taken(&row.name))?;
        if Base::env_replaced(&mut tx, &row.id, &old_env, &spec.env, &actor.user.id).await? {
            row.env_changed_at = Some(row.updated_at);
        }
        let domains_given = changed.contains(&"domains");
        let verified_gone =
            domains_given && Base::sync_spec_domains(&mut tx, actor, &row, &spec.domains).await?;
        // Names of what changed, never values: env values may be sensitive.
        let details = json!({ "name": row.name, "changed": changed });
        let event = may.event(actor, AuditAction::ServiceUpdate, &row.id, details);
        commit_with(tx, event).await?;
        self.activity.changed(&row.cluster_id);
        if verified_gone {
            self.send_domains(&row.id).await;
        }
        view(&row, may.role())
    }

    /// Deletes the service and its deployments; its agent is told to stop it and remove its
    /// releases, now and again until it confirms ([`crate::removals`]).
    pub async fn delete_service(&self, actor: &Actor, service_id: &str) -> Result<(), DomainError> {
        let (row, may) = self.service_in_view(actor, service_id).await?;
        let may = may.also::<ManageServices>()?;
        let mut tx = self.store.begin().await?;
        sql::delete(&mut *tx, &row.id).await?;
        Base::note_removal(&mut tx, &row.instance_id, &row.id).await?;
        let details = json!({ "name": row.name });
        let event = may.event(actor, AuditAction::ServiceDelete, &row.id, details);
        commit_with(tx, event).await?;
        self.activity.changed(&row.cluster_id);
        if let Err(e) = self.send_removals(&row.instance_id).await {
            tracing::warn!(service.id = %row.id, error = %e, "sending a removal");
        }
        Ok(())
    }
}

/// Names of the settings a PATCH changes, for the audit log (never their values).
fn changed_fields(p: &UpdateServiceRequest) -> Vec<&'static str> {
    [
        ("name", p.name.is_some()),
        ("source", p.source.is_some()),
        ("runtime", p.runtime.is_some()),
        ("build_command", p.build_command.is_some()),
        ("start_command", p.start_command.is_some()),
        ("port", p.port.is_some()),
        ("env", p.env.is_some()),
        ("health_check", p.health_check.is_some()),
        ("restart", p.restart.is_some()),
        ("domains", p.domains.is_some()),
        ("build_timeout_secs", p.build_timeout_secs.is_some()),
        ("root_dir", p.root_dir.is_some()),
        ("kind", p.kind.is_some()),
        ("runtime_version", p.runtime_version.is_some()),
        ("resources", p.resources.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect()
}
