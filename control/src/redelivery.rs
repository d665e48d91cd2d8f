//! Orders an agent connected here has not accepted long after they were made. A deploy's
//! durable order is its `queued` deployment row, committed with the decision; the replica that
//! decided then sends it (or, for an agent another replica holds, writes it to
//! `agent_commands`). If that replica dies in between, or the send fails while the agent stays
//! connected, no reconnect comes to deliver it again. So each replica, on its sweeper's tick,
//! delivers again what its own agents have not accepted after twice the command timeout (by
//! then the first send has given up): the agent runs a deployment id once, so a repeat costs
//! nothing, and each sender goes oldest first, so orders never overtake each other.

use proto::deploy::DeployState;

use crate::store::deployments::{self as sql, Scope};
use crate::{Base, DomainError};

impl Base {
    /// Delivers again every order older than twice the command timeout that an agent
    /// connected to this replica has not accepted; returns to how many instances.
    pub async fn redeliver_stale_orders(&self) -> Result<usize, DomainError> {
        let stale = self.limits().command_timeout * 2;
        let before = self.clock.now_ms() - i64::try_from(stale.as_millis()).unwrap_or(i64::MAX);
        let scope = Scope {
            accepted: Some(false),
            created_before: Some(before),
            ..Scope::default()
        };
        let waiting = sql::in_states(self.store.pool(), &[DeployState::Queued], scope).await?;
        let mut instances: Vec<String> = waiting
            .into_iter()
            .map(|p| p.instance_id)
            .filter(|i| self.registry.is_online(i))
            .collect();
        instances.sort();
        instances.dedup();
        for instance in &instances {
            tracing::info!(%instance, "delivering orders its agent has not accepted yet, again");
            self.deliver(instance).await;
        }
        Ok(instances.len())
    }
}
