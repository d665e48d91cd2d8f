//! Which instances hold a live tunnel right now, in this Base process. The gateway registers a
//! connection when its TLS handshake and `Hello` succeed and removes it when it ends; the rest of
//! Base asks it for status, uses it to drop a revoked instance's connection at once, and sends
//! commands through it ([`Registry::send_command`]): each live connection owns a queue of
//! [`Pending`] commands that its session task writes to the agent and resolves on `Ack`, and
//! opens byte streams to the agent over it ([`Registry::open_stream`]) for logs, consoles and
//! file transfers.
//!
//! This path is in memory and sends each command once: if the connection ends before the ack,
//! the caller gets [`CommandError::ConnectionLost`] and decides whether to retry. Deploy orders
//! survive reconnects because they are stored: an order not accepted yet is sent again on the
//! next `Hello`, under a new id, and dployrd runs a deployment id once. Lifecycle commands are not
//! sent again. [`done`] is how the rest of Base turns an agent's answer into its own errors, in
//! one place. The rest of Base sends through [`crate::Base::send_command`], which comes here
//! for an agent this replica holds and goes through the database for one another replica holds
//! ([`crate::replicas::commands`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proto::wire::{Command, CommandErrorKind, Mux, MuxStream, Outcome, StreamError, StreamOpen};
use tokio::sync::{mpsc, oneshot, watch};

use crate::DomainError;

/// Commands waiting for a connection's session task to pick them up. Small on purpose: a
/// caller that finds it full waits (within its timeout) instead of piling work on an agent that
/// is not keeping up.
pub const COMMAND_QUEUE: usize = 16;

/// Why a command got no outcome from the agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("the instance is offline (no live agent connection)")]
    Offline,
    #[error("the agent did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the agent's connection ended before it answered")]
    ConnectionLost,
}

impl From<CommandError> for DomainError {
    fn from(e: CommandError) -> Self {
        DomainError::Conflict(match e {
            CommandError::Offline => "the service's instance is offline".into(),
            other => other.to_string(),
        })
    }
}

/// The agent's refusal as Base's error, with its message for the person who asked. A release
/// the agent no longer keeps, a state that does not allow it, or an attempt that failed all
/// conflict with what the instance has now; only a command the agent cannot accept is invalid.
pub fn refused(kind: CommandErrorKind, message: String) -> DomainError {
    match kind {
        CommandErrorKind::Invalid => DomainError::invalid("command", message),
        CommandErrorKind::NotFound | CommandErrorKind::Conflict | CommandErrorKind::Failed => {
            DomainError::Conflict(message)
        }
    }
}

/// A command's result as Base's: `Ok` for the agent's `Ok`, else its refusal or why no answer
/// came, as a [`DomainError`].
pub fn done(result: Result<Outcome, CommandError>) -> Result<(), DomainError> {
    match result? {
        Outcome::Ok => Ok(()),
        Outcome::Err { kind, message } => Err(refused(kind, message)),
    }
}

/// Why no stream to an agent could be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the instance is offline (no live agent connection)")]
    Offline,
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// Held by another replica, which could not be reached to relay it.
    #[error("{0}")]
    Peer(String),
}

/// A command on its way to an agent and the caller waiting for its outcome.
#[derive(Debug)]
pub struct Pending {
    pub id: u64,
    pub command: Command,
    /// Dropping it unanswered tells the caller [`CommandError::ConnectionLost`].
    pub reply: oneshot::Sender<Outcome>,
}

/// A live connection as the registry sees it.
struct Live {
    /// Distinguishes a reconnect from the connection it replaced.
    epoch: u64,
    /// The instance's cluster, whose views move when it connects or goes.
    cluster_id: String,
    /// Flipping it to `true` tells the connection task to close.
    kill: watch::Sender<bool>,
    commands: mpsc::Sender<Pending>,
    /// The connection itself, to open streams on. Removing the entry drops this clone; the
    /// session task holds another until it ends.
    mux: Mux,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct Registry {
    live: Mutex<HashMap<String, Live>>,
    next_epoch: Mutex<u64>,
    /// Command ids. An agent remembers the ids it has done and answers a repeat without doing
    /// it again, so ids must not restart at 1 when Base does: they start at the Unix time in ms
    /// shifted left 20 bits, which stays ahead of any earlier run unless it issued over a million
    /// commands per millisecond it was up (and fits u64 until the year 2527), plus a random
    /// offset below 2^19, so two replicas started in the same millisecond (an agent moves
    /// between them) almost never hand out ids the agent still remembers.
    next_command: AtomicU64,
    /// Bumped on every change to a cluster's instances (online, offline, added, removed), so
    /// live views can push fresh state instead of polling.
    changes: crate::changes::ClusterChanges,
}

impl Default for Registry {
    fn default() -> Self {
        let now_ms = u64::try_from(crate::clock::now_ms()).unwrap_or(0);
        Registry {
            live: Mutex::default(),
            next_epoch: Mutex::default(),
            next_command: AtomicU64::new(
                (now_ms << 20) + rand::Rng::gen_range(&mut rand::thread_rng(), 0..1u64 << 19),
            ),
            changes: crate::changes::ClusterChanges::default(),
        }
    }
}

/// Held by a connection task: tells it when Base wants it closed, and hands it the commands
/// to send.
#[derive(Debug)]
pub struct Registration {
    pub instance_id: String,
    pub cluster_id: String,
    pub epoch: u64,
    pub kill: watch::Receiver<bool>,
    pub commands: mpsc::Receiver<Pending>,
}

impl Registry {
    /// Records a new connection for `instance_id` of `cluster_id`, closing any older one (an
    /// agent that reconnects before Base noticed the old connection die must not be shown
    /// twice).
    pub fn register(&self, instance_id: &str, cluster_id: &str, mux: Mux) -> Registration {
        let epoch = {
            let mut n = self.next_epoch.lock().expect("registry lock");
            *n += 1;
            *n
        };
        let (tx, rx) = watch::channel(false);
        let (commands_tx, commands_rx) = mpsc::channel(COMMAND_QUEUE);
        let live = Live {
            epoch,
            cluster_id: cluster_id.to_string(),
            kill: tx,
            commands: commands_tx,
            mux,
        };
        let old = self
            .live
            .lock()
            .expect("registry lock")
            .insert(instance_id.to_string(), live);
        if let Some(old) = old {
            let _ = old.kill.send(true);
        }
        // The other replicas hear of it from the recorded claim ([`crate::Base::claim_connection`]).
        self.changed_here(cluster_id);
        Registration {
            instance_id: instance_id.to_string(),
            cluster_id: cluster_id.to_string(),
            epoch,
            kill: rx,
            commands: commands_rx,
        }
    }

    /// Sends `command` to the instance's agent and waits for its `Ack`, all within `timeout`.
    /// Fails at once with `Offline` if the instance has no live connection.
    pub async fn send_command(
        &self,
        instance_id: &str,
        command: Command,
        timeout: Duration,
    ) -> Result<Outcome, CommandError> {
        let queue = self
            .with_live(instance_id, |l| l.commands.clone())
            .ok_or(CommandError::Offline)?;
        let id = self.next_command.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        let pending = Pending { id, command, reply };
        tokio::time::timeout(timeout, async {
            // A closed queue means the connection ended between the lookup and now.
            queue
                .send(pending)
                .await
                .map_err(|_| CommandError::Offline)?;
            answer.await.map_err(|_| CommandError::ConnectionLost)
        })
        .await
        .map_err(|_| CommandError::Timeout(timeout))?
    }

    /// Opens a stream for `purpose` to the instance's agent. Data may be sent at once (see
    /// [`Mux::open`]); the agent resets the stream if it cannot serve it.
    pub fn open_stream(
        &self,
        instance_id: &str,
        purpose: &StreamOpen,
    ) -> Result<MuxStream, OpenError> {
        let mux = self
            .with_live(instance_id, |l| l.mux.clone())
            .ok_or(OpenError::Offline)?;
        Ok(mux.open(purpose)?)
    }

    /// `f` of the instance's live connection, if it has one; the lock is not held after.
    fn with_live<T>(&self, instance_id: &str, f: impl FnOnce(&Live) -> T) -> Option<T> {
        self.live
            .lock()
            .expect("registry lock")
            .get(instance_id)
            .map(f)
    }

    /// Tells the cluster's live views that something about its instances changed (here and
    /// on the other replicas).
    pub fn changed(&self, cluster_id: &str) {
        self.changes.changed(cluster_id);
    }

    /// Tells the cluster's live views here that something about its instances changed on
    /// another replica.
    pub fn changed_here(&self, cluster_id: &str) {
        self.changes.changed_here(cluster_id);
    }

    /// Wakes every instance view here (what changed elsewhere is not known by cluster).
    pub fn changed_everywhere_here(&self) {
        self.changes.changed_everywhere_here();
    }

    pub(crate) fn relay_to(
        &self,
        tx: mpsc::UnboundedSender<crate::changes::Change>,
        change: crate::changes::OfCluster,
    ) {
        self.changes.relay_to(tx, change);
    }

    /// A receiver that wakes on every change to any cluster's instances.
    pub fn subscribe_any(&self) -> watch::Receiver<u64> {
        self.changes.subscribe_any()
    }

    /// A receiver that wakes on every change to the cluster's instances.
    pub fn subscribe(&self, cluster_id: &str) -> watch::Receiver<u64> {
        self.changes.subscribe(cluster_id)
    }

    /// Removes the connection, unless a newer one already replaced it.
    pub fn unregister(&self, reg: &Registration) {
        let mut live = self.live.lock().expect("registry lock");
        if live
            .get(&reg.instance_id)
            .is_some_and(|l| l.epoch == reg.epoch)
        {
            live.remove(&reg.instance_id);
            drop(live);
            self.changed_here(&reg.cluster_id);
        }
    }

    pub fn is_online(&self, instance_id: &str) -> bool {
        self.with_live(instance_id, |_| ()).is_some()
    }

    pub fn online_count(&self) -> usize {
        self.live.lock().expect("registry lock").len()
    }

    /// Tells the instance's connection, if any, to close now.
    pub fn disconnect(&self, instance_id: &str) -> bool {
        match self.live.lock().expect("registry lock").remove(instance_id) {
            Some(l) => {
                let _ = l.kill.send(true);
                self.changed_here(&l.cluster_id);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
