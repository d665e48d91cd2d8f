//! A change counter live views wait on: every mutation of services or deployments bumps it, and
//! each WebSocket that shows them re-reads and pushes instead of polling. With several replicas
//! ([`crate::replicas::fanout`]) a change here is also relayed to the others, and theirs bump
//! the counter here through [`Changes::changed_here`]. [`Change`] names what changed, as sent
//! between replicas.

use std::sync::OnceLock;

use tokio::sync::{mpsc, watch};

#[derive(Debug)]
pub struct Changes {
    tx: watch::Sender<u64>,
    relay: OnceLock<(mpsc::UnboundedSender<Change>, Change)>,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            tx: watch::channel(0).0,
            relay: OnceLock::new(),
        }
    }
}

impl Changes {
    /// Something changed on this replica: live views here move, and the other replicas hear.
    pub fn changed(&self) {
        self.changed_here();
        if let Some((tx, change)) = self.relay.get() {
            let _ = tx.send(change.clone());
        }
    }

    /// Something changed on another replica: live views here move.
    pub fn changed_here(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// From now on every [`Changes::changed`] also sends `change` on `tx` (once per Base).
    pub(crate) fn relay_to(&self, tx: mpsc::UnboundedSender<Change>, change: Change) {
        let _ = self.relay.set((tx, change));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

/// What changed on a replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Instances (online, offline, added, removed): live instance views re-read.
    Instances,
    /// Services and deployments: live service views re-read.
    Activity,
    /// Something that can take access away: open streams re-authorize.
    Access,
    /// The instance was deleted or revoked: whoever holds its agent drops it.
    Disconnect(String),
    /// A command waits in `agent_commands` for the instance's agent: its holder takes it.
    Command(String),
    /// New log lines of the service are stored: followers on other replicas read them.
    Logs(String),
}

impl Change {
    pub(crate) fn payload(&self) -> String {
        match self {
            Change::Instances => "instances".into(),
            Change::Activity => "activity".into(),
            Change::Access => "access".into(),
            Change::Disconnect(id) => format!("disconnect {id}"),
            Change::Command(id) => format!("command {id}"),
            Change::Logs(id) => format!("logs {id}"),
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Change> {
        Some(match text {
            "instances" => Change::Instances,
            "activity" => Change::Activity,
            "access" => Change::Access,
            other => match other.split_once(' ')? {
                ("disconnect", id) => Change::Disconnect(id.to_string()),
                ("command", id) => Change::Command(id.to_string()),
                ("logs", id) => Change::Logs(id.to_string()),
                _ => return None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_back_as_sent() {
        for c in [
            Change::Instances,
            Change::Activity,
            Change::Access,
            Change::Disconnect("ins_01abc".into()),
            Change::Command("ins_01abc".into()),
            Change::Logs("svc_01abc".into()),
        ] {
            assert_eq!(Change::parse(&c.payload()), Some(c));
        }
        assert_eq!(Change::parse("nonsense"), None);
        assert_eq!(Change::parse("reboot ins_01abc"), None);
    }
}
