//! Deletes are never lost (audit finding M7). Deleting a service (or its cluster) notes, in
//! the same transaction, that its instance must remove it; the `Remove` goes out at once, and
//! again on the agent's every `Hello` and every sweep while it is online, until the agent acks
//! it. On every `Hello` Base also removes any service the agent reports that Base does not know
//! on that instance. An agent whose instance went with its cluster is let in once more, by its
//! certificate, only to be told what to remove.

use proto::wire::{AgentState, Command, Lifecycle, Outcome};

use crate::store::removals as sql;
use crate::store::services as services_sql;
use crate::store::{Tx, instances};
use crate::{Base, DomainError, clock};

fn remove(service_id: &str) -> Command {
    Command::Service {
        service_id: service_id.to_string().into(),
        action: Lifecycle::Remove,
    }
}

impl Base {
    /// In the transaction that deletes it: `service_id` must go from `instance_id`.
    pub(crate) async fn note_removal(
        tx: &mut Tx<'_>,
        instance_id: &str,
        service_id: &str,
    ) -> Result<(), DomainError> {
        let fingerprint = instances::by_id(&mut **tx, instance_id)
            .await?
            .and_then(|i| i.cert_fingerprint);
        let now = clock::now_ms();
        sql::insert(
            &mut **tx,
            instance_id,
            service_id,
            fingerprint.as_deref(),
            now,
        )
        .await?;
        Ok(())
    }

    /// How many deleted services the instance has not confirmed removing yet.
    pub async fn pending_removals(&self, instance_id: &str) -> Result<usize, DomainError> {
        Ok(sql::of_instance(self.store.pool(), instance_id)
            .await?
            .len())
    }

    /// Sends the instance's pending removals; each one the agent acks is forgotten. Returns how
    /// many are left.
    pub async fn send_removals(&self, instance_id: &str) -> Result<usize, DomainError> {
        let pending = sql::of_instance(self.store.pool(), instance_id).await?;
        let timeout = self.limits().command_timeout;
        let mut left = 0;
        for row in pending {
            let sent = self
                .registry
                .send_command(instance_id, remove(&row.service_id), timeout)
                .await;
            match sent {
                Ok(Outcome::Ok) => {
                    sql::done(self.store.pool(), &row.instance_id, &row.service_id).await?;
                    tracing::info!(instance.id = %instance_id, service.id = %row.service_id, "deleted service removed from its instance");
                }
                other => {
                    tracing::info!(instance.id = %instance_id, service.id = %row.service_id, result = ?other, "removal not confirmed yet");
                    left += 1;
                }
            }
        }
        Ok(left)
    }

    /// After a `Hello`: removes what the agent runs that Base does not know on this instance,
    /// then sends the removals still pending.
    pub(crate) async fn remove_strays(
        &self,
        instance_id: &str,
        state: &AgentState,
    ) -> Result<usize, DomainError> {
        let timeout = self.limits().command_timeout;
        for report in &state.services {
            let known = services_sql::by_id(self.store.pool(), &report.service_id)
                .await?
                .is_some_and(|s| s.instance_id == instance_id);
            if !known {
                tracing::info!(instance.id = %instance_id, service.id = %report.service_id, "the agent runs a service Base does not know here: removing it");
                let _ = self
                    .registry
                    .send_command(instance_id, remove(&report.service_id), timeout)
                    .await;
            }
        }
        self.send_removals(instance_id).await
    }

    /// The instance an unknown certificate belonged to, when that instance was deleted with
    /// removals still pending on it: its agent may come back once to be told them.
    pub async fn retired_instance(&self, fingerprint: &str) -> Result<Option<String>, DomainError> {
        let rows = sql::of_fingerprint(self.store.pool(), fingerprint).await?;
        for row in rows {
            if instances::by_id(self.store.pool(), &row.instance_id)
                .await?
                .is_none()
            {
                return Ok(Some(row.instance_id));
            }
        }
        Ok(None)
    }

    /// Sends the pending removals of every online instance (from the sweeper).
    pub async fn retry_removals(&self) -> Result<(), DomainError> {
        for instance_id in sql::instances(self.store.pool()).await? {
            if self.registry.is_online(&instance_id) {
                self.send_removals(&instance_id).await?;
            }
        }
        Ok(())
    }
}
