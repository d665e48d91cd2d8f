//! Which instances hold a live tunnel right now, in this Base process. The gateway registers a
//! connection when its TLS handshake and `Hello` succeed and removes it when it ends; the rest of
//! Base asks it for status and uses it to drop a revoked instance's connection at once.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

/// A live connection as the registry sees it.
#[derive(Debug)]
struct Live {
    /// Distinguishes a reconnect from the connection it replaced.
    epoch: u64,
    /// Flipping it to `true` tells the connection task to close.
    kill: watch::Sender<bool>,
}

#[derive(Debug)]
pub struct Registry {
    live: Mutex<HashMap<String, Live>>,
    next_epoch: Mutex<u64>,
    /// Bumped on every change to any instance (online, offline, added, removed), so live views
    /// can push fresh state instead of polling.
    changes: watch::Sender<u64>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            live: Mutex::default(),
            next_epoch: Mutex::default(),
            changes: watch::channel(0).0,
        }
    }
}

/// Held by a connection task; tells it when Base wants it closed.
#[derive(Debug)]
pub struct Registration {
    pub instance_id: String,
    pub epoch: u64,
    pub kill: watch::Receiver<bool>,
}

impl Registry {
    /// Records a new connection for `instance_id`, closing any older one (an agent that
    /// reconnects before Base noticed the old connection die must not be shown twice).
    pub fn register(&self, instance_id: &str) -> Registration {
        let epoch = {
            let mut n = self.next_epoch.lock().expect("registry lock");
            *n += 1;
            *n
        };
        let (tx, rx) = watch::channel(false);
        let old = self
            .live
            .lock()
            .expect("registry lock")
            .insert(instance_id.to_string(), Live { epoch, kill: tx });
        if let Some(old) = old {
            let _ = old.kill.send(true);
        }
        self.changed();
        Registration {
            instance_id: instance_id.to_string(),
            epoch,
            kill: rx,
        }
    }

    /// Tells live views that something about instances changed.
    pub fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that wakes on every change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
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
            self.changed();
        }
    }

    pub fn is_online(&self, instance_id: &str) -> bool {
        self.live
            .lock()
            .expect("registry lock")
            .contains_key(instance_id)
    }

    pub fn online_count(&self) -> usize {
        self.live.lock().expect("registry lock").len()
    }

    /// Tells the instance's connection, if any, to close now.
    pub fn disconnect(&self, instance_id: &str) -> bool {
        match self.live.lock().expect("registry lock").remove(instance_id) {
            Some(l) => {
                let _ = l.kill.send(true);
                self.changed();
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconnect_replaces_and_closes_the_old_connection() {
        let r = Registry::default();
        let first = r.register("ins_1");
        let second = r.register("ins_1");
        assert!(*first.kill.borrow(), "old connection told to close");
        r.unregister(&first);
        assert!(
            r.is_online("ins_1"),
            "the stale unregister did not remove the new one"
        );
        r.unregister(&second);
        assert!(!r.is_online("ins_1"));
    }

    #[test]
    fn every_change_wakes_subscribers() {
        let r = Registry::default();
        let mut rx = r.subscribe();
        let reg = r.register("ins_1");
        assert!(rx.has_changed().unwrap());
        rx.mark_unchanged();
        r.unregister(&reg);
        assert!(rx.has_changed().unwrap());
    }

    #[test]
    fn disconnect_signals_the_connection() {
        let r = Registry::default();
        let reg = r.register("ins_1");
        assert!(r.disconnect("ins_1"));
        assert!(*reg.kill.borrow());
        assert!(!r.disconnect("ins_1"));
        assert_eq!(r.online_count(), 0);
    }
}
