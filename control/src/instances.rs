//! Instances: servers running dployrd. Admins add one (getting a single-use join token and the
//! install command), everyone in the cluster sees them with live status, admins remove them
//! (which revokes the certificate and drops the connection at once). Enrollment burns the token
//! and pins the agent's certificate.

use proto::api::{AuditAction, Instance, InstanceStatus};
use proto::wire::HostFacts;
use serde_json::json;

use crate::auth::token;
use crate::events::{NewEvent, commit_with, record};
use crate::rbac::{ManageInstances, ViewCluster, authorize};
use crate::store::clusters;
use crate::store::instances::{self as sql, InstanceRow};
use crate::store::is_unique_violation;
use crate::{Actor, Base, ClientInfo, DomainError, clock, ids, validate};

/// Join tokens are short-lived: long enough to paste a command into a fresh server.
pub const JOIN_TOKEN_TTL_MS: i64 = 3600 * 1000;

#[derive(Debug)]
pub struct NewInstance {
    pub instance: Instance,
    pub join_token: String,
    pub install_command: String,
}

/// What a successful enrollment tells the agent.
#[derive(Debug)]
pub struct Enrolled {
    pub instance_id: String,
    pub cluster_id: String,
}

impl Base {
    pub(crate) fn instance_view(&self, r: &InstanceRow) -> Instance {
        let status = if r.cert_fingerprint.is_none() {
            InstanceStatus::Pending
        } else if self.instance_online(&r.id) {
            InstanceStatus::Online
        } else {
            InstanceStatus::Offline
        };
        Instance {
            id: r.id.clone(),
            name: r.name.clone(),
            status,
            created_at: clock::rfc3339(r.created_at),
            last_seen_at: r.last_seen_at.map(clock::rfc3339),
            agent_version: r.agent_version.clone(),
            host: r
                .host_facts
                .as_deref()
                .and_then(|h| serde_json::from_str::<HostFacts>(h).ok()),
            console_enabled: r.console_enabled != 0,
        }
    }

    /// Changes an instance's settings (Admin+): today, whether consoles may be opened on it.
    pub async fn update_instance(
        &self,
        actor: &Actor,
        instance_id: &str,
        req: proto::api::UpdateInstanceRequest,
    ) -> Result<Instance, DomainError> {
        let row = sql::by_id(self.store.pool(), instance_id)
            .await?
            .ok_or(DomainError::NotFound("instance"))?;
        let may = authorize::<ManageInstances>(&self.store, actor, &row.cluster_id).await?;
        let Some(enabled) = req.console_enabled else {
            return Err(DomainError::Invalid {
                field: "console_enabled",
                message: "nothing to change: send console_enabled".into(),
            });
        };
        let mut tx = self.store.begin().await?;
        sql::set_console_enabled(&mut *tx, &row.id, enabled).await?;
        let details = json!({ "name": row.name, "console_enabled": enabled });
        let event = may.event(actor, AuditAction::InstanceUpdate, &row.id, details);
        commit_with(tx, event).await?;
        self.access_changed();
        self.registry.changed(&row.cluster_id);
        let row = sql::by_id(self.store.pool(), &row.id)
            .await?
            .ok_or(DomainError::NotFound("instance"))?;
        Ok(self.instance_view(&row))
    }

    fn install_command(&self, token: &str) -> String {
        let base = self.config.public_url.as_str().trim_end_matches('/');
        let gw = &self.config.gateway;
        let mut cmd = format!(
            "curl -fsSL {base}/install.sh | sh -s -- --url {} --token {token} --pin sha256:{}",
            gw.url, gw.pin
        );
        // The script checks the binary it downloads against this before running it as root:
        // the command comes from the dashboard, the download may cross any network.
        if let Some(sha) = &gw.agent_sha256 {
            cmd.push_str(&format!(" --sha256 {sha}"));
        }
        cmd
    }

    pub async fn create_instance(
        &self,
        actor: &Actor,
        cluster_id: &str,
        name: &str,
    ) -> Result<NewInstance, DomainError> {
        let may = authorize::<ManageInstances>(&self.store, actor, cluster_id).await?;
        self.insert_instance(may.cluster_id(), name, Some(actor), &actor.client, true)
            .await
    }

    /// Adds the instance for the dployrd that Base itself supervises on its own machine
    /// (`--local-agent`), in the oldest cluster; `None` while no cluster exists. No person asks,
    /// so there is no actor and no RBAC check: only Base's own start-up code calls this. Its
    /// console is off unless the operator allowed it (`--local-agent-console`): a shell there
    /// runs on Base's own machine.
    pub async fn create_local_instance(
        &self,
        console: bool,
    ) -> Result<Option<NewInstance>, DomainError> {
        let Some(cluster_id) = clusters::oldest(self.store.pool()).await? else {
            return Ok(None);
        };
        let cluster_id = cluster_id.as_str();
        let system = ClientInfo {
            ip: None,
            user_agent: Some("dployr-server (local agent)".into()),
        };
        match self
            .insert_instance(cluster_id, "local", None, &system, console)
            .await
        {
            Err(DomainError::Conflict(_)) => {
                let suffix = &ids::new_id("x")[24..];
                self.insert_instance(
                    cluster_id,
                    &format!("local-{suffix}"),
                    None,
                    &system,
                    console,
                )
                .await
                .map(Some)
            }
            other => other.map(Some),
        }
    }

    async fn insert_instance(
        &self,
        cluster_id: &str,
        name: &str,
        by: Option<&Actor>,
        client: &ClientInfo,
        console: bool,
    ) -> Result<NewInstance, DomainError> {
        let created_by = by.map(|a| a.user.id.as_str());
        let name = validate::display_name("name", name)?;
        let now = clock::now_ms();
        let row = InstanceRow {
            id: ids::new_id(ids::INSTANCE),
            cluster_id: cluster_id.to_string(),
            name,
            cert_fingerprint: None,
            created_at: now,
            enrolled_at: None,
            last_seen_at: None,
            agent_version: None,
            host_facts: None,
            console_enabled: i64::from(console),
        };
        let (join_token, hash) = token::new_token();
        let mut tx = self.store.begin().await?;
        sql::insert(&mut *tx, &row, created_by).await.map_err(|e| {
            if is_unique_violation(&e) {
                DomainError::Conflict(format!("an instance named {} already exists", row.name))
            } else {
                e.into()
            }
        })?;
        sql::insert_join_token(&mut *tx, &hash, &row.id, now, now + JOIN_TOKEN_TTL_MS).await?;
        record(
            &mut *tx,
            NewEvent {
                cluster_id: Some(cluster_id),
                actor_user_id: created_by,
                actor_token_id: by.and_then(Actor::token_id),
                client,
                action: AuditAction::InstanceCreate,
                target: Some(&row.id),
                details: json!({ "name": row.name }),
            },
        )
        .await?;
        tx.commit().await?;
        self.registry.changed(cluster_id);
        let install_command = self.install_command(&join_token);
        Ok(NewInstance {
            instance: self.instance_view(&row),
            join_token,
            install_command,
        })
    }

    pub async fn list_instances(
        &self,
        actor: &Actor,
        cluster_id: &str,
    ) -> Result<Vec<Instance>, DomainError> {
        let may = authorize::<ViewCluster>(&self.store, actor, cluster_id).await?;
        let rows = sql::in_cluster(self.store.pool(), may.cluster_id()).await?;
        Ok(rows.iter().map(|r| self.instance_view(r)).collect())
    }

    /// Removes the instance: its certificate is refused from now on and a live connection is
    /// dropped immediately.
    pub async fn delete_instance(
        &self,
        actor: &Actor,
        instance_id: &str,
    ) -> Result<(), DomainError> {
        let row = sql::by_id(self.store.pool(), instance_id)
            .await?
            .ok_or(DomainError::NotFound("instance"))?;
        let may = authorize::<ManageInstances>(&self.store, actor, &row.cluster_id).await?;
        let services = crate::store::services::on_instance(self.store.pool(), &row.id).await?;
        if !services.is_empty() {
            let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
            return Err(DomainError::Conflict(format!(
                "{} still runs {}: delete or move them first",
                row.name,
                names.join(", ")
            )));
        }
        let mut tx = self.store.begin().await?;
        sql::delete(&mut *tx, &row.id).await?;
        let details = json!({ "name": row.name });
        let event = may.event(actor, AuditAction::InstanceDelete, &row.id, details);
        commit_with(tx, event).await?;
        self.access_changed();
        self.disconnect_everywhere(&row.id);
        self.registry.changed(&row.cluster_id);
        Ok(())
    }

    /// Burns the join token and pins `fingerprint` as the instance's certificate.
    pub async fn enroll(
        &self,
        join_token: &str,
        fingerprint: &str,
        version: &str,
        host: &HostFacts,
        client: &ClientInfo,
    ) -> Result<Enrolled, DomainError> {
        const REFUSED: &str =
            "join token is unknown, used or expired: create a new one in the dashboard";
        let now = clock::now_ms();
        let facts = serde_json::to_string(host).map_err(|e| DomainError::Internal(Box::new(e)))?;
        let hash = token::hash_token(join_token);
        // Anyone can send Enroll: a bad token is refused by a read, before any write lock (L1).
        if !sql::join_token_usable(self.store.pool(), &hash, now).await? {
            return Err(DomainError::Unauthorized(REFUSED));
        }
        let mut tx = self.store.begin().await?;
        let instance_id = sql::burn_join_token(&mut *tx, &hash, now)
            .await?
            .ok_or(DomainError::Unauthorized(REFUSED))?;
        let row = sql::by_id(&mut *tx, &instance_id)
            .await?
            .ok_or(DomainError::Unauthorized(REFUSED))?;
        let pinned = sql::set_enrolled(&mut *tx, &row.id, fingerprint, version, &facts, now)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    DomainError::Conflict(
                        "this certificate is already enrolled as another instance".into(),
                    )
                } else {
                    e.into()
                }
            })?;
        if !pinned {
            return Err(DomainError::Conflict(
                "this instance is already enrolled".into(),
            ));
        }
        record(
            &mut *tx,
            NewEvent {
                cluster_id: Some(&row.cluster_id),
                actor_user_id: None,
                actor_token_id: None,
                client,
                action: AuditAction::InstanceEnroll,
                target: Some(&row.id),
                details: json!({ "name": row.name, "hostname": host.hostname, "version": version }),
            },
        )
        .await?;
        tx.commit().await?;
        self.registry.changed(&row.cluster_id);
        Ok(Enrolled {
            instance_id: row.id,
            cluster_id: row.cluster_id,
        })
    }

    /// The enrolled instance whose certificate has this SHA-256 fingerprint, if any.
    pub async fn instance_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<InstanceRow>, DomainError> {
        Ok(sql::by_fingerprint(self.store.pool(), fingerprint).await?)
    }

    /// Records what a connecting agent reported about itself.
    pub async fn instance_seen(
        &self,
        id: &str,
        version: &str,
        host: &HostFacts,
    ) -> Result<(), DomainError> {
        let facts = serde_json::to_string(host).map_err(|e| DomainError::Internal(Box::new(e)))?;
        sql::touch(self.store.pool(), id, version, &facts, clock::now_ms()).await?;
        Ok(())
    }

    pub fn registry(&self) -> &crate::gateway::registry::Registry {
        &self.registry
    }
}
