//! What the metrics sampler (`crate::metrics`) measures a service by: the supervisor registers
//! each process it starts (its cgroup, or its process group where there are no cgroups) for as
//! long as it runs, so a release that drains beside its successor still counts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use proto::ids::ServiceId;

use super::Engine;
use super::launch::Proc;
use crate::deploy::process::Cgroup;
use crate::ingress::meter::Counts;

/// Where one of a service's processes can be measured.
#[derive(Debug, Clone)]
pub enum Meter {
    /// Every process in the cgroup, and its own counters.
    Cgroup(Cgroup),
    /// Every process in the process group (no cgroups on this machine).
    Group(i32),
}

/// A service's running processes and its restart count, as the sampler reads them.
#[derive(Debug, Clone)]
pub struct ServiceMeters {
    pub service_id: ServiceId,
    pub meters: Vec<Meter>,
    pub restarts: u32,
}

/// Keeps a process registered until dropped (when the supervisor lets it go).
pub(super) struct MeterGuard {
    engine: Engine,
    service_id: ServiceId,
    seq: u64,
}

impl Drop for MeterGuard {
    fn drop(&mut self) {
        let mut st = self.engine.lock();
        if let Some(list) = st.meters.get_mut(&self.service_id) {
            list.retain(|(seq, _)| *seq != self.seq);
            if list.is_empty() {
                st.meters.remove(&self.service_id);
            }
        }
    }
}

impl Engine {
    /// Registers `proc` of `service_id`; `None` for what dployrd cannot measure (its own static
    /// file server, a container).
    pub(super) fn metered(&self, service_id: &ServiceId, proc: &Proc) -> Option<MeterGuard> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let Proc::Shell(running) = proc else {
            return None;
        };
        let meter = match running.cgroup() {
            Some(cgroup) => Meter::Cgroup(cgroup.clone()),
            None => Meter::Group(i32::try_from(running.pgid()).ok()?),
        };
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let mut st = self.lock();
        st.meters
            .entry(service_id.clone())
            .or_default()
            .push((seq, meter));
        Some(MeterGuard {
            engine: self.clone(),
            service_id: service_id.clone(),
            seq,
        })
    }

    /// Every service with a live release: its measurable processes and its restarts.
    pub fn service_meters(&self) -> Vec<ServiceMeters> {
        let st = self.lock();
        st.services
            .iter()
            .filter(|(_, slot)| slot.live.is_some())
            .map(|(id, slot)| ServiceMeters {
                service_id: id.clone(),
                meters: st
                    .meters
                    .get(id)
                    .map(|list| list.iter().map(|(_, m)| m.clone()).collect())
                    .unwrap_or_default(),
                restarts: slot.restarts,
            })
            .collect()
    }

    /// The ingress's request counts since the last call, by service id, for every service the
    /// ingress has routed (zero counts for one that had no request); a service without a route
    /// (a worker) is absent.
    pub async fn request_counts(&self) -> HashMap<String, Counts> {
        let routes = &self.inner.routes;
        let counts = routes.meters().collect().await;
        (routes.meter_slots().into_iter())
            .map(|(service, slot)| {
                let c = counts.get(slot as usize).cloned().unwrap_or_default();
                (service, c)
            })
            .collect()
    }
}
