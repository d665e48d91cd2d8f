//! A change counter live views wait on: every mutation of services or deployments bumps it, and
//! each WebSocket that shows them re-reads and pushes instead of polling.

use tokio::sync::watch;

#[derive(Debug)]
pub struct Changes {
    tx: watch::Sender<u64>,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            tx: watch::channel(0).0,
        }
    }
}

impl Changes {
    pub fn changed(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}
