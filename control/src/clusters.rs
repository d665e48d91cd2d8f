//! Clusters: a team's workspace. Create (the creator becomes Owner), rename, list, overview.

use proto::api::{AuditAction, ClusterOverview, ClusterSummary, Role};
use serde_json::json;

use crate::events::{NewEvent, commit_with, record, to_api_as};
use crate::rbac::{self, DeleteCluster, ManageCluster, ViewCluster, ViewEvents, authorize};
use crate::store::{clusters, events, memberships};
use crate::{Actor, Base, DomainError, clock, ids, validate};

/// How many events the overview shows.
const OVERVIEW_EVENTS: i64 = 8;

impl Base {
    pub async fn list_clusters(&self, actor: &Actor) -> Result<Vec<ClusterSummary>, DomainError> {
        let mut all = memberships::clusters_of(self.store.pool(), &actor.user.id).await?;
        // An API token sees its own cluster only, with its own (capped) role.
        if let Some(t) = &actor.token {
            all.retain(|c| c.id == t.cluster_id);
            for c in &mut all {
                c.role = c.role.max(t.role);
            }
        }
        Ok(all)
    }

    /// Any signed-in user may start a new cluster; they become its Owner.
    pub async fn create_cluster(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<ClusterSummary, DomainError> {
        actor.require_session()?;
        let name = validate::display_name("name", name)?;
        let now = clock::now_ms();
        let row = clusters::ClusterRow {
            id: ids::new_id(ids::CLUSTER),
            name,
            created_at: now,
        };
        let mut tx = self.store.begin().await?;
        clusters::insert(&mut *tx, &row, &actor.user.id).await?;
        memberships::insert(&mut *tx, &row.id, &actor.user.id, Role::Owner, now).await?;
        record(
            &mut *tx,
            NewEvent::by(
                actor,
                &row.id,
                AuditAction::ClusterCreate,
                &row.id,
                json!({ "name": row.name }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(ClusterSummary {
            id: row.id,
            name: row.name,
            role: Role::Owner,
        })
    }

    pub async fn rename_cluster(
        &self,
        actor: &Actor,
        cluster_id: &str,
        name: &str,
    ) -> Result<ClusterSummary, DomainError> {
        let may = authorize::<ManageCluster>(&self.store, actor, cluster_id).await?;
        let name = validate::display_name("name", name)?;
        let mut tx = self.store.begin().await?;
        let old = clusters::by_id(&mut *tx, may.cluster_id())
            .await?
            .ok_or(DomainError::NotFound("cluster"))?;
        clusters::rename(&mut *tx, may.cluster_id(), &name).await?;
        let details = json!({ "from": old.name, "to": name });
        let event = may.event(actor, AuditAction::ClusterRename, may.cluster_id(), details);
        commit_with(tx, event).await?;
        Ok(ClusterSummary {
            id: old.id,
            name,
            role: may.role(),
        })
    }

    pub async fn cluster_overview(
        &self,
        actor: &Actor,
        cluster_id: &str,
    ) -> Result<ClusterOverview, DomainError> {
        let may = authorize::<ViewCluster>(&self.store, actor, cluster_id).await?;
        let pool = self.store.pool();
        let row = clusters::by_id(pool, may.cluster_id())
            .await?
            .ok_or(DomainError::NotFound("cluster"))?;
        let member_count = memberships::count_in(pool, may.cluster_id()).await?;
        let instance_count = crate::store::instances::count_in(pool, may.cluster_id()).await?;
        let service_count = crate::store::services::count_in(pool, may.cluster_id()).await?;
        let recent_events = if rbac::allows::<ViewEvents>(may.role()) {
            events::recent(pool, may.cluster_id(), OVERVIEW_EVENTS)
                .await?
                .into_iter()
                .map(|r| to_api_as(r, may.role()))
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        Ok(ClusterOverview {
            cluster: ClusterSummary {
                id: row.id,
                name: row.name,
                role: may.role(),
            },
            created_at: clock::rfc3339(row.created_at),
            member_count,
            instance_count,
            service_count,
            recent_events,
        })
    }

    /// Deletes a cluster with its services, instances, members, invitations, tokens and events.
    /// `confirm` must repeat the cluster's name. Each service is removed from its instance (now,
    /// or when its agent comes back: [`crate::removals`]), then the instances' agents are
    /// disconnected: their certificates are no longer pinned, so they come back only to remove
    /// what is left. The `cluster.delete`
    /// event outlives the cluster (it belongs to no cluster).
    pub async fn delete_cluster(
        &self,
        actor: &Actor,
        cluster_id: &str,
        confirm: &str,
    ) -> Result<(), DomainError> {
        let may = authorize::<DeleteCluster>(&self.store, actor, cluster_id).await?;
        self.require_step_up(actor).await?;
        let pool = self.store.pool();
        let row = clusters::by_id(pool, may.cluster_id())
            .await?
            .ok_or(DomainError::NotFound("cluster"))?;
        if confirm != row.name {
            return Err(DomainError::Invalid {
                field: "confirm",
                message: format!(
                    "type the cluster's name ({}) to confirm: this deletes its services, \
                     instances, members and events",
                    row.name
                ),
            });
        }
        let services = crate::store::services::in_cluster(pool, &row.id).await?;
        let instances = crate::store::instances::in_cluster(pool, &row.id).await?;
        let mut tx = self.store.begin().await?;
        for s in &services {
            Base::note_removal(&mut tx, &s.instance_id, &s.id).await?;
        }
        clusters::delete_with_contents(&mut tx, &row.id).await?;
        record(
            &mut *tx,
            // In no cluster: the cluster's own events go with it.
            NewEvent {
                cluster_id: None,
                ..NewEvent::by(
                    actor,
                    &row.id,
                    AuditAction::ClusterDelete,
                    &row.id,
                    json!({
                        "name": row.name,
                        "services": services.len(),
                        "instances": instances.len(),
                    }),
                )
            },
        )
        .await?;
        tx.commit().await?;
        self.access_changed();
        tracing::info!(cluster = %row.id, name = %row.name, by = %actor.user.id, "cluster deleted");
        // An offline instance's agent is told when it comes back ([`crate::removals`]).
        let removals = instances.iter().map(|i| self.send_removals(&i.id));
        let _ = futures_util::future::join_all(removals).await;
        for i in &instances {
            self.disconnect_everywhere(&i.id);
        }
        self.registry.changed(&row.id);
        self.activity.changed(&row.id);
        Ok(())
    }
}
