//! Clusters: a team's workspace. Create (the creator becomes Owner), rename, list, overview.

use proto::api::{ClusterOverview, ClusterSummary, Role};
use serde_json::json;

use crate::events::{NewEvent, record, to_api};
use crate::rbac::{self, ManageCluster, ViewCluster, ViewEvents, authorize};
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
                "cluster.create",
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
        record(
            &mut *tx,
            NewEvent {
                cluster_id: Some(may.cluster_id()),
                actor_user_id: Some(&actor.user.id),
                actor_token_id: actor.token_id(),
                client: &actor.client,
                action: "cluster.rename",
                target: Some(may.cluster_id()),
                details: json!({ "from": old.name, "to": name }),
            },
        )
        .await?;
        tx.commit().await?;
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
                .map(to_api)
                .collect()
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
}
