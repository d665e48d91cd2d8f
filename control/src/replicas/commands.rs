//! Commands for agents another replica holds. [`Base::send_command`] is how the rest of Base
//! sends a command: to an agent connected here, through this replica's registry; to one a live
//! replica elsewhere holds, through `agent_commands`. The deciding replica writes the row and
//! announces it ([`Change::Command`]); the holder takes it once (an `UPDATE … WHERE taken_by IS
//! NULL`), sends it over its connection, writes the outcome back and announces that
//! ([`Change::Answered`]), which wakes the deciding replica to read it; it also reads every
//! [`OUTCOME_POLL`] until its deadline, in case that announcement is lost. The notification
//! only wakes the holder: each replica also looks for commands waiting for its agents every
//! [`WAITING_POLL`], so one lost notification delays a command, never loses it. A command
//! taken by a replica that dies before answering ends as `ConnectionLost` for its caller, as a
//! connection that drops does. A deploy's order is durable before any of this: its `queued`
//! deployment row, committed with the decision, is delivered again by the holder if the
//! decider dies before forwarding it ([`crate::redelivery`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proto::wire::{Command, Outcome};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::changes::Change;
use crate::gateway::registry::{CommandError, done};
use crate::store::agent_commands::{self as sql, NewCommand};
use crate::{Base, DomainError};

/// How often the deciding replica reads whether the outcome came back, when no announcement
/// woke it first.
pub const OUTCOME_POLL: Duration = Duration::from_millis(250);
/// How often each replica looks for commands waiting for its agents (besides notifications).
pub const WAITING_POLL: Duration = Duration::from_secs(1);
/// Rows older than this are deleted.
const KEEP: Duration = Duration::from_secs(3600);

/// What the holder writes back.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Outcome(Outcome),
    Offline,
    Timeout,
    ConnectionLost,
}

impl Answer {
    fn of(result: Result<Outcome, CommandError>) -> Answer {
        match result {
            Ok(o) => Answer::Outcome(o),
            Err(CommandError::Offline) => Answer::Offline,
            Err(CommandError::Timeout(_)) => Answer::Timeout,
            Err(CommandError::ConnectionLost) => Answer::ConnectionLost,
        }
    }

    fn into_result(self, timeout: Duration) -> Result<Outcome, CommandError> {
        match self {
            Answer::Outcome(o) => Ok(o),
            Answer::Offline => Err(CommandError::Offline),
            Answer::Timeout => Err(CommandError::Timeout(timeout)),
            Answer::ConnectionLost => Err(CommandError::ConnectionLost),
        }
    }
}

/// The forwarded commands this replica waits for, each woken when its answer is announced.
#[derive(Debug, Default)]
pub struct Awaiting(Mutex<HashMap<String, Arc<Notify>>>);

impl Awaiting {
    fn wait_for(&self, id: &str) -> Arc<Notify> {
        let mut waiting = self.0.lock().expect("awaiting lock");
        waiting.entry(id.to_string()).or_default().clone()
    }

    fn done(&self, id: &str) {
        self.0.lock().expect("awaiting lock").remove(id);
    }
}

impl Base {
    /// Another replica answered forwarded command `id`: its waiter here reads the outcome now.
    pub(crate) fn answered(&self, id: &str) {
        let waiting = self.awaiting.0.lock().expect("awaiting lock");
        if let Some(wake) = waiting.get(id) {
            wake.notify_one();
        }
    }

    /// Sends `command` to the instance's agent, wherever it is connected, and waits for its
    /// outcome within `timeout`. `Offline` when no live replica holds it.
    pub async fn send_command(
        &self,
        instance_id: &str,
        command: Command,
        timeout: Duration,
    ) -> Result<Outcome, CommandError> {
        let here = self.registry.is_online(instance_id);
        let elsewhere = !here
            && self
                .held_elsewhere
                .read()
                .expect("held lock is never poisoned")
                .contains(instance_id);
        if !elsewhere {
            return self
                .registry
                .send_command(instance_id, command, timeout)
                .await;
        }
        self.forward_command(instance_id, command, timeout).await
    }

    /// [`Base::send_command`], with a refusal or no answer as a [`DomainError`].
    pub async fn run_command(
        &self,
        instance_id: &str,
        command: Command,
        timeout: Duration,
    ) -> Result<(), DomainError> {
        done(self.send_command(instance_id, command, timeout).await)
    }

    async fn forward_command(
        &self,
        instance_id: &str,
        command: Command,
        timeout: Duration,
    ) -> Result<Outcome, CommandError> {
        let id = crate::ids::new_id(crate::ids::COMMAND);
        let now = self.clock.now_ms();
        let text = serde_json::to_string(&command).expect("commands serialize");
        let row = NewCommand {
            id: &id,
            instance_id,
            command: &text,
            requested_by: self.replica_id(),
            created_at: now,
            deadline: now + timeout.as_millis() as i64,
        };
        if let Err(e) = sql::insert(self.store.pool(), &row).await {
            tracing::warn!(error = %e, "command not written for the holding replica");
            return Err(CommandError::Offline);
        }
        let wake = self.awaiting.wait_for(&id);
        self.fanout(Change::Command(instance_id.to_string()));
        let waited = tokio::time::timeout(timeout, async {
            loop {
                let woken = wake.notified();
                match sql::outcome_of(self.store.pool(), &id).await {
                    Ok(Some(text)) => return serde_json::from_str::<Answer>(&text).ok(),
                    Ok(None) => {}
                    Err(e) => tracing::debug!(error = %e, "reading a forwarded command's outcome"),
                }
                tokio::select! {
                    _ = woken => {}
                    _ = tokio::time::sleep(OUTCOME_POLL) => {}
                }
            }
        })
        .await;
        self.awaiting.done(&id);
        match waited {
            Ok(Some(answer)) => answer.into_result(timeout),
            Ok(None) => Err(CommandError::ConnectionLost),
            Err(_) => Err(CommandError::Timeout(timeout)),
        }
    }

    /// The holder's side: takes every command waiting for an agent this replica holds and
    /// sends it, each in its own task.
    pub(crate) async fn take_waiting_commands(&self) -> Result<(), DomainError> {
        let now = self.clock.now_ms();
        let waiting = sql::waiting_for(self.store.pool(), self.replica_id(), now).await?;
        for id in waiting {
            let Some((instance_id, text, deadline)) =
                sql::take(self.store.pool(), &id, self.replica_id(), now).await?
            else {
                continue;
            };
            let base = self.clone();
            tokio::spawn(async move {
                let answer = match serde_json::from_str::<Command>(&text) {
                    Ok(command) => {
                        let left = (deadline - base.clock.now_ms()).max(0) as u64;
                        let left = Duration::from_millis(left);
                        let sent = base
                            .registry
                            .send_command(&instance_id, command, left)
                            .await;
                        Answer::of(sent)
                    }
                    Err(e) => Answer::Outcome(Outcome::Err {
                        kind: proto::wire::CommandErrorKind::Invalid,
                        message: format!("Base replicas disagree on this command: {e}"),
                    }),
                };
                let text = serde_json::to_string(&answer).expect("answers serialize");
                let now = base.clock.now_ms();
                match sql::finish(base.store.pool(), &id, &text, now).await {
                    Ok(()) => base.fanout(Change::Answered(id)),
                    Err(e) => {
                        tracing::warn!(error = %e, "a forwarded command's outcome not written")
                    }
                }
            });
        }
        Ok(())
    }

    /// Deletes forwarded commands older than [`KEEP`] (on the lease tick, not every poll).
    pub(crate) async fn forget_old_commands(&self, now: i64) -> Result<(), DomainError> {
        sql::forget_before(self.store.pool(), now - KEEP.as_millis() as i64).await?;
        Ok(())
    }
}
