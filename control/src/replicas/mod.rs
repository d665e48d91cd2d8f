//! Several Base replicas on one PostgreSQL (issue 20). Each `dployr-server` is a replica with an
//! id (`DPLOYR_REPLICA_ID`) and a lease in `replicas` that it renews every third of
//! [`ReplicaConfig::lease`]; one whose lease ran out is dead. The agent connections each holds
//! are recorded in `agent_connections` with an epoch counted across replicas, so:
//!
//! - any replica tells whether an instance is online (its own registry, else a live replica
//!   holding the connection): the dashboard on one replica shows agents held by the others;
//! - a replica killed mid-connection stops counting as holding anything when its lease runs
//!   out, and the agents that reconnect elsewhere are claimed there with a higher epoch, which
//!   the dead replica's late `release` cannot remove.
//!
//! On SQLite there is one replica (the server refuses a second on the same file), so the
//! registry alone answers and none of this reaches past it.
//!
//! - [`commands`]: commands for an agent another replica holds, through `agent_commands`.
//! - [`fanout`]: changes (live views, revocations, a deleted instance's disconnect) fanned out
//!   to the other replicas through `NOTIFY`.
//! - [`leader`]: background jobs run on one replica at a time (an advisory lock).
//! - [`logs`]: log lines an agent on another replica prints, relayed to followers here.
//! - [`peers`]: consoles and file transfers relayed to the replica holding the agent.

pub mod commands;
pub mod fanout;
pub mod leader;
pub mod logs;
pub mod peers;
mod relay;

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use crate::store::Backend;
use crate::store::replicas as sql;
use crate::{Base, DomainError};

/// What a replica announces when an agent connects to it or leaves it.
fn held(cluster_id: &str, instance_id: &str) -> crate::changes::Change {
    crate::changes::Change::Held {
        cluster: cluster_id.to_string(),
        instance: instance_id.to_string(),
    }
}

/// Replicas dead this long are forgotten (their rows deleted).
const FORGET_AFTER: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct ReplicaConfig {
    /// Unique among the replicas on the database; random unless `DPLOYR_REPLICA_ID` says.
    pub id: String,
    /// How long after its last renewal a replica counts as alive.
    pub lease: Duration,
    /// Where the other replicas reach this one's peer link (`host:port`), if it serves one
    /// ([`peers`]).
    pub peer_addr: Option<String>,
}

impl Default for ReplicaConfig {
    fn default() -> Self {
        ReplicaConfig {
            id: format!("r-{}", ulid::Ulid::new().to_string().to_lowercase()),
            lease: Duration::from_secs(15),
            peer_addr: None,
        }
    }
}

impl Base {
    /// This replica's id.
    pub fn replica_id(&self) -> &str {
        &self.config.replica.id
    }

    /// Only on PostgreSQL; SQLite refuses a second Base on its file.
    pub(crate) fn several_replicas_possible(&self) -> bool {
        self.store.backend() == Backend::Postgres
    }

    /// Joins the replicas: forgets what an earlier run under the same id held (its agents
    /// reconnect and are claimed again) and takes the lease. Nothing to join on SQLite.
    pub async fn join_replicas(&self) -> Result<(), DomainError> {
        if !self.several_replicas_possible() {
            return Ok(());
        }
        let pool = self.store.pool();
        sql::leave(pool, self.replica_id()).await?;
        self.renew_lease().await
    }

    async fn renew_lease(&self) -> Result<(), DomainError> {
        let now = self.clock.now_ms();
        let until = now + self.config.replica.lease.as_millis() as i64;
        let peer = self.config.replica.peer_addr.as_deref();
        sql::renew(self.store.pool(), self.replica_id(), now, until, peer).await?;
        Ok(())
    }

    /// Renews the lease until `shutdown`, forgetting long-dead replicas and old forwarded
    /// commands on the way, then leaves (the replica's connections stop counting at once).
    /// Returns at once on SQLite.
    pub async fn run_replica_lease(&self, shutdown: impl Future<Output = ()>) {
        if !self.several_replicas_possible() {
            return;
        }
        let every = self.config.replica.lease / 3;
        crate::periodic::every(every, shutdown, "renewing the replica's lease", || async {
            self.renew_lease().await?;
            // Another replica's lease may have run out since: its agents are offline now.
            if self.refresh_held_elsewhere().await? {
                self.registry.changed_everywhere_here();
            }
            let now = self.clock.now_ms();
            sql::forget_dead(self.store.pool(), now - FORGET_AFTER.as_millis() as i64).await?;
            self.forget_old_commands(now).await?;
            Ok(())
        })
        .await;
        if let Err(e) = sql::leave(self.store.pool(), self.replica_id()).await {
            tracing::warn!(error = %e, "leaving the replicas");
        }
    }

    /// Records that this replica holds the instance's connection and tells the others; its
    /// epoch, or `None` when it could not be recorded (logged: the connection still works from
    /// this replica) or there are no others (SQLite).
    pub async fn claim_connection(&self, instance_id: &str, cluster_id: &str) -> Option<i64> {
        if !self.several_replicas_possible() {
            return None;
        }
        let now = self.clock.now_ms();
        match sql::claim(self.store.pool(), instance_id, self.replica_id(), now).await {
            Ok(epoch) => {
                self.fanout(held(cluster_id, instance_id));
                Some(epoch)
            }
            Err(e) => {
                tracing::warn!(instance.id = %instance_id, error = %e, "connection not recorded");
                None
            }
        }
    }

    /// Records that the connection of `epoch` ended, unless a newer one replaced it.
    pub async fn release_connection(&self, instance_id: &str, cluster_id: &str, epoch: i64) {
        match sql::release(self.store.pool(), instance_id, epoch).await {
            Ok(true) => self.fanout(held(cluster_id, instance_id)),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(instance.id = %instance_id, error = %e, "connection end not recorded")
            }
        }
    }

    /// Whether the instance's agent is connected: to this replica, or to another live one (as
    /// last read: on every change another replica fans out, and every lease renewal).
    pub fn instance_online(&self, instance_id: &str) -> bool {
        self.registry.is_online(instance_id)
            || self
                .held_elsewhere
                .read()
                .expect("held lock is never poisoned")
                .contains(instance_id)
    }

    /// Reads again who holds one instance, after another replica said its agent connected or
    /// left: one row, where [`Base::refresh_held_elsewhere`] reads them all.
    pub(crate) async fn refresh_held(&self, instance_id: &str) -> Result<(), DomainError> {
        let now = self.clock.now_ms();
        let holder = sql::holder(self.store.pool(), instance_id, now).await?;
        let elsewhere = holder.is_some_and(|(replica, _)| replica != self.replica_id());
        let mut known = self
            .held_elsewhere
            .write()
            .expect("held lock is never poisoned");
        if elsewhere {
            known.insert(instance_id.to_string());
        } else {
            known.remove(instance_id);
        }
        Ok(())
    }

    /// Reads again which instances the other live replicas hold; whether that changed (the
    /// caller wakes the live views).
    pub async fn refresh_held_elsewhere(&self) -> Result<bool, DomainError> {
        if !self.several_replicas_possible() {
            return Ok(false);
        }
        let held = sql::held(self.store.pool(), self.clock.now_ms()).await?;
        let me = self.replica_id();
        let elsewhere: HashSet<String> = held
            .into_iter()
            .filter(|(_, replica)| replica != me)
            .map(|(id, _)| id)
            .collect();
        let changed = {
            let mut known = self
                .held_elsewhere
                .write()
                .expect("held lock is never poisoned");
            let changed = *known != elsewhere;
            *known = elsewhere;
            changed
        };
        Ok(changed)
    }

    /// The live replicas' ids.
    pub async fn live_replicas(&self) -> Result<Vec<String>, DomainError> {
        Ok(sql::alive(self.store.pool(), self.clock.now_ms()).await?)
    }
}
