//! A change counter live views wait on: every mutation of services or deployments bumps it, and
//! each WebSocket that shows them re-reads and pushes instead of polling. With several replicas
//! ([`crate::replicas::fanout`]) a change here is also relayed to the others, and theirs bump
//! the counter here through [`Changes::changed_here`].

use std::sync::OnceLock;

use tokio::sync::{mpsc, watch};

use crate::replicas::fanout::Change;

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
