//! Change counters live views wait on, so each WebSocket that shows services, deployments or
//! instances re-reads and pushes instead of polling. [`ClusterChanges`] counts per cluster:
//! a deploy in one cluster wakes only that cluster's views (audit L5: another tenant's activity
//! must not reach a view even as a wake-up, and a busy cluster must not make every other
//! cluster's views re-read). [`Changes`] is one counter for what concerns every open stream
//! (access taken away). With several replicas ([`crate::replicas::fanout`]) a change here is
//! also relayed to the others, and theirs bump the counters here through `changed_here`.
//! [`Change`] names what changed, as sent between replicas.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use tokio::sync::{mpsc, watch};

/// One counter for every subscriber.
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
    /// Something changed on this replica: subscribers here wake, and the other replicas hear.
    pub fn changed(&self) {
        self.changed_here();
        if let Some((tx, change)) = self.relay.get() {
            let _ = tx.send(change.clone());
        }
    }

    /// Something changed on another replica: subscribers here wake.
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

/// A counter per cluster, made when a view of it first subscribes and dropped once nobody
/// watches it; and one for whoever watches every cluster (Base-wide observers, tests).
#[derive(Debug)]
pub struct ClusterChanges {
    watches: Mutex<HashMap<String, watch::Sender<u64>>>,
    any: watch::Sender<u64>,
    relay: OnceLock<(mpsc::UnboundedSender<Change>, OfCluster)>,
}

/// The [`Change`] a cluster's change is sent to the other replicas as.
pub type OfCluster = fn(String) -> Change;

impl Default for ClusterChanges {
    fn default() -> Self {
        ClusterChanges {
            watches: Mutex::default(),
            any: watch::channel(0).0,
            relay: OnceLock::new(),
        }
    }
}

impl ClusterChanges {
    /// Something in `cluster_id` changed on this replica: its views here wake, and the other
    /// replicas hear.
    pub fn changed(&self, cluster_id: &str) {
        self.changed_here(cluster_id);
        if let Some((tx, change)) = self.relay.get() {
            let _ = tx.send(change(cluster_id.to_string()));
        }
    }

    /// Something in `cluster_id` changed on another replica: its views here wake.
    pub fn changed_here(&self, cluster_id: &str) {
        self.any.send_modify(|n| *n = n.wrapping_add(1));
        let mut watches = self.watches.lock().expect("changes lock");
        if let Some(tx) = watches.get(cluster_id) {
            if tx.receiver_count() == 0 {
                watches.remove(cluster_id);
            } else {
                tx.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }

    /// Something changed whose clusters are not known here (another replica's lease ran out):
    /// every view here wakes and re-reads.
    pub fn changed_everywhere_here(&self) {
        self.any.send_modify(|n| *n = n.wrapping_add(1));
        let mut watches = self.watches.lock().expect("changes lock");
        watches.retain(|_, tx| tx.receiver_count() > 0);
        for tx in watches.values() {
            tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// From now on every [`ClusterChanges::changed`] also sends `change(cluster)` on `tx`
    /// (once per Base).
    pub(crate) fn relay_to(&self, tx: mpsc::UnboundedSender<Change>, change: OfCluster) {
        let _ = self.relay.set((tx, change));
    }

    /// A receiver that wakes on every change in any cluster.
    pub fn subscribe_any(&self) -> watch::Receiver<u64> {
        self.any.subscribe()
    }

    /// A receiver that wakes on every change in `cluster_id`.
    pub fn subscribe(&self, cluster_id: &str) -> watch::Receiver<u64> {
        let mut watches = self.watches.lock().expect("changes lock");
        watches
            .entry(cluster_id.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }
}

/// What changed on a replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The cluster's instances (added, removed, renamed): its instance views re-read.
    Instances(String),
    /// An agent connected to or left the replica that sent it: the others read who holds that
    /// one instance now, and its cluster's views re-read.
    Held { cluster: String, instance: String },
    /// The cluster's services and deployments: its service views re-read.
    Activity(String),
    /// Something that can take access away: open streams re-authorize.
    Access,
    /// The instance was deleted or revoked: whoever holds its agent drops it.
    Disconnect(String),
    /// A command waits in `agent_commands` for the instance's agent: its holder takes it.
    Command(String),
    /// New log lines of the service are stored: followers on other replicas read them.
    Logs(String),
    /// The forwarded command's outcome is written: the replica waiting for it reads it.
    Answered(String),
}

impl Change {
    pub(crate) fn payload(&self) -> String {
        match self {
            Change::Instances(cluster) => format!("instances {cluster}"),
            Change::Held { cluster, instance } => format!("held {cluster} {instance}"),
            Change::Activity(cluster) => format!("activity {cluster}"),
            Change::Access => "access".into(),
            Change::Disconnect(id) => format!("disconnect {id}"),
            Change::Command(id) => format!("command {id}"),
            Change::Logs(id) => format!("logs {id}"),
            Change::Answered(id) => format!("answered {id}"),
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Change> {
        Some(match text {
            "access" => Change::Access,
            other => match other.split_once(' ')? {
                ("instances", cluster) => Change::Instances(cluster.to_string()),
                ("held", rest) => {
                    let (cluster, instance) = rest.split_once(' ')?;
                    Change::Held {
                        cluster: cluster.to_string(),
                        instance: instance.to_string(),
                    }
                }
                ("activity", cluster) => Change::Activity(cluster.to_string()),
                ("disconnect", id) => Change::Disconnect(id.to_string()),
                ("command", id) => Change::Command(id.to_string()),
                ("logs", id) => Change::Logs(id.to_string()),
                ("answered", id) => Change::Answered(id.to_string()),
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
            Change::Instances("cls_01abc".into()),
            Change::Held {
                cluster: "cls_01abc".into(),
                instance: "ins_01abc".into(),
            },
            Change::Activity("cls_01abc".into()),
            Change::Access,
            Change::Disconnect("ins_01abc".into()),
            Change::Command("ins_01abc".into()),
            Change::Logs("svc_01abc".into()),
            Change::Answered("cmd_01abc".into()),
        ] {
            assert_eq!(Change::parse(&c.payload()), Some(c));
        }
        assert_eq!(Change::parse("nonsense"), None);
        assert_eq!(Change::parse("reboot ins_01abc"), None);
        assert_eq!(Change::parse("held cls_01abc"), None);
    }

    #[test]
    fn a_change_wakes_only_its_own_clusters_views() {
        let changes = ClusterChanges::default();
        let (tx, mut relayed) = mpsc::unbounded_channel();
        changes.relay_to(tx, Change::Activity);
        let mut a = changes.subscribe("cls_a");
        let mut b = changes.subscribe("cls_b");
        let all = changes.subscribe_any();
        changes.changed("cls_a");
        assert!(a.has_changed().unwrap());
        assert!(all.has_changed().unwrap());
        assert!(
            !b.has_changed().unwrap(),
            "another cluster's change is not seen"
        );
        assert_eq!(
            relayed.try_recv().unwrap(),
            Change::Activity("cls_a".into())
        );
        a.mark_unchanged();
        changes.changed_here("cls_b");
        assert!(b.has_changed().unwrap());
        assert!(!a.has_changed().unwrap());
        assert!(
            relayed.try_recv().is_err(),
            "a change from elsewhere is not sent back"
        );
        b.mark_unchanged();
        changes.changed_everywhere_here();
        assert!(a.has_changed().unwrap() && b.has_changed().unwrap());
        drop(a);
        changes.changed_here("cls_a");
        assert_eq!(
            changes.watches.lock().unwrap().len(),
            1,
            "a cluster nobody watches is forgotten"
        );
    }
}
