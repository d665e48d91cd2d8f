//! Changes fanned out between replicas through PostgreSQL's `LISTEN`/`NOTIFY`: a live view on
//! one replica must move when an agent connects to another, a revoked session must lose its
//! streams wherever they run, and a deleted instance's agent must be dropped by whichever
//! replica holds it. Each replica sends its own changes on [`CHANNEL`] as `<replica> <change>`
//! and applies the others'. A notification is only a wake-up: what it points at is read from
//! the database, so one lost while a listener reconnects costs a refresh at the next lease
//! renewal (or the next batch of log lines), never state. On SQLite (one replica) nothing is
//! sent.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::mpsc;

use crate::Base;
use crate::changes::Change;

/// The notification channel all replicas listen on.
pub const CHANNEL: &str = "dployr_changes";

/// Where a replica's changes go to be sent: set once [`Base::run_fanout`] listens.
#[derive(Debug, Default)]
pub struct Outbound(OnceLock<mpsc::UnboundedSender<Change>>);

impl Outbound {
    pub(crate) fn send(&self, change: Change) {
        if let Some(tx) = self.0.get() {
            let _ = tx.send(change);
        }
    }
}

impl Base {
    /// Tells the other replicas about `change` (nothing on SQLite).
    pub(crate) fn fanout(&self, change: Change) {
        self.outbound.send(change);
    }

    /// Drops the instance's agent connection, on whichever replica holds it.
    pub(crate) fn disconnect_everywhere(&self, instance_id: &str) {
        self.registry.disconnect(instance_id);
        self.fanout(Change::Disconnect(instance_id.to_string()));
    }

    /// On PostgreSQL: sends this replica's changes and applies the other replicas' until
    /// `shutdown`. Returns at once on SQLite.
    pub async fn run_fanout(&self, shutdown: impl Future<Output = ()>) {
        let Some(url) = self.store.postgres_url() else {
            return;
        };
        tokio::pin!(shutdown);
        let mut listener = loop {
            match listen(url).await {
                Ok(l) => break l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other replicas' changes; retrying");
                    tokio::select! {
                        _ = &mut shutdown => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        if self.outbound.0.set(tx.clone()).is_err() {
            tracing::warn!("the fan-out runs once per Base");
            return;
        }
        self.activity.relay_to(tx.clone(), Change::Activity);
        self.access.relay_to(tx.clone(), Change::Access);
        self.registry.relay_to(tx, Change::Instances);
        // Commands whose notification this replica missed are found here.
        let mut poll = tokio::time::interval(super::commands::WAITING_POLL);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = poll.tick() => self.take_commands().await,
                Some(first) = rx.recv() => {
                    // What piled up meanwhile goes in the same breath, once each.
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        if !batch.contains(&more) {
                            batch.push(more);
                        }
                    }
                    for change in batch {
                        self.notify_others(&change).await;
                    }
                }
                received = listener.recv() => match received {
                    Ok(n) => self.apply_remote(n.payload()).await,
                    // PgListener reconnects on the next recv; what was missed meanwhile is
                    // read again at the next lease renewal.
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for other replicas' changes");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
            }
        }
    }

    async fn take_commands(&self) {
        if let Err(e) = self.take_waiting_commands().await {
            tracing::warn!(error = %e, "taking commands for this replica's agents");
        }
    }

    async fn notify_others(&self, change: &Change) {
        let payload = format!("{} {}", self.replica_id(), change.payload());
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(self.store.pool())
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, ?change, "change not fanned out");
        }
    }

    async fn apply_remote(&self, payload: &str) {
        let Some((from, what)) = payload.split_once(' ') else {
            return;
        };
        if from == self.replica_id() {
            return;
        }
        match Change::parse(what) {
            Some(Change::Instances(cluster)) => self.registry.changed_here(&cluster),
            Some(Change::Held { cluster, instance }) => {
                if let Err(e) = self.refresh_held(&instance).await {
                    tracing::warn!(error = %e, "reading who holds a connection");
                }
                self.registry.changed_here(&cluster);
            }
            Some(Change::Activity(cluster)) => self.activity.changed_here(&cluster),
            Some(Change::Access) => self.access.changed_here(),
            Some(Change::Disconnect(id)) => {
                self.registry.disconnect(&id);
            }
            Some(Change::Command(id)) => {
                if self.registry.is_online(&id) {
                    self.take_commands().await;
                }
            }
            Some(Change::Answered(id)) => self.answered(&id),
            Some(Change::Logs(id)) => {
                if let Err(e) = self.relay_stored_logs(&id).await {
                    tracing::warn!(error = %e, "relaying another replica's log lines");
                }
            }
            None => tracing::debug!(payload, "unknown change from another replica"),
        }
    }
}

async fn listen(url: &str) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
