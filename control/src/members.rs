//! A cluster's members: list (Members and up), change roles and remove (Admins for Members and
//! Guests; only Owners touch Admins and Owners), leave. A cluster always keeps at least one
//! Owner: the last one can neither leave nor be demoted.

use proto::api::{AuditAction, Member, MemberList, Role};
use serde_json::json;

use crate::events::{NewEvent, commit_with, record};
use crate::rbac::{ManageMembers, May, ViewCluster, ViewMembers, authorize};
use crate::store::memberships as sql;
use crate::{Actor, Base, DomainError, clock};

const LAST_OWNER: &str = "a cluster always keeps at least one owner: make someone else owner first";

/// Admins manage Members and Guests; Owners manage everyone.
pub(crate) fn may_manage(may: Role, role: Role) -> bool {
    may == Role::Owner || matches!(role, Role::Member | Role::Guest)
}

impl Base {
    pub async fn list_members(
        &self,
        actor: &Actor,
        cluster_id: &str,
    ) -> Result<MemberList, DomainError> {
        let may = authorize::<ViewMembers>(&self.store, actor, cluster_id).await?;
        let rows = sql::members_of(self.store.pool(), may.cluster_id()).await?;
        Ok(MemberList {
            members: rows
                .into_iter()
                .map(|r| Member {
                    user_id: r.user_id,
                    email: r.email,
                    name: r.name,
                    role: r.role,
                    joined_at: clock::rfc3339(r.created_at),
                })
                .collect(),
            next_cursor: None,
        })
    }

    async fn member_role(
        &self,
        may: &May<ManageMembers>,
        user_id: &str,
    ) -> Result<Role, DomainError> {
        sql::role_of(self.store.pool(), may.cluster_id(), user_id)
            .await?
            .ok_or(DomainError::NotFound("member"))
    }

    pub async fn change_role(
        &self,
        actor: &Actor,
        cluster_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<(), DomainError> {
        let may = authorize::<ManageMembers>(&self.store, actor, cluster_id).await?;
        let from = self.member_role(&may, user_id).await?;
        if !may_manage(may.role(), from) || !may_manage(may.role(), role) {
            return Err(DomainError::Forbidden);
        }
        if from == role {
            return Ok(());
        }
        if role == Role::Owner {
            // Transferring ownership.
            self.require_step_up(actor).await?;
        }
        let mut tx = self.store.begin().await?;
        if from == Role::Owner && sql::owners_in(&mut *tx, may.cluster_id()).await? <= 1 {
            return Err(DomainError::Conflict(LAST_OWNER.into()));
        }
        sql::set_role(&mut *tx, may.cluster_id(), user_id, role).await?;
        let details = json!({ "from": from.as_str(), "to": role.as_str() });
        let event = may.event(actor, AuditAction::MemberRole, user_id, details);
        commit_with(tx, event).await?;
        self.access_changed();
        Ok(())
    }

    /// Removes a member, or (for one's own id) leaves the cluster.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        cluster_id: &str,
        user_id: &str,
    ) -> Result<(), DomainError> {
        let leaving = user_id == actor.user.id;
        let (cluster, role) = if leaving {
            let may = authorize::<ViewCluster>(&self.store, actor, cluster_id).await?;
            (may.cluster_id().to_string(), may.role())
        } else {
            let may = authorize::<ManageMembers>(&self.store, actor, cluster_id).await?;
            let role = self.member_role(&may, user_id).await?;
            if !may_manage(may.role(), role) {
                return Err(DomainError::Forbidden);
            }
            self.require_step_up(actor).await?;
            (may.cluster_id().to_string(), role)
        };
        let mut tx = self.store.begin().await?;
        if role == Role::Owner && sql::owners_in(&mut *tx, &cluster).await? <= 1 {
            return Err(DomainError::Conflict(LAST_OWNER.into()));
        }
        sql::delete(&mut *tx, &cluster, user_id).await?;
        // Nothing they made here outlives their membership (audit finding M5): re-invited,
        // they start again without their old tokens.
        let now = clock::now_ms();
        let tokens =
            crate::store::tokens::revoke_in_cluster(&mut *tx, &cluster, user_id, now).await?;
        let invites =
            crate::store::invites::revoke_made_by(&mut *tx, &cluster, user_id, now).await?;
        let action = if leaving {
            AuditAction::MemberLeave
        } else {
            AuditAction::MemberRemove
        };
        record(
            &mut *tx,
            NewEvent::by(
                actor,
                &cluster,
                action,
                user_id,
                json!({
                    "role": role.as_str(),
                    "api_tokens_revoked": tokens,
                    "invites_revoked": invites,
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        self.access_changed();
        Ok(())
    }
}
