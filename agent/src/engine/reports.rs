//! What the engine tells Base: each deployment step and each change in how a service runs, as
//! they happen, and the whole picture (`state`) for the `Hello` of every reconnect.

use proto::deploy::DeployState;
use proto::wire::{AgentMsg, AgentState, DeployProgress, RunState, ServiceReport};

use super::{Engine, REMEMBERED, Slot};

impl Engine {
    /// What runs here and what became of every deployment remembered, for `Hello`.
    pub fn state(&self) -> AgentState {
        let st = self.lock();
        let mut services: Vec<ServiceReport> = st
            .services
            .iter()
            .filter_map(|(id, slot)| report_of(id, slot))
            .collect();
        services.sort_by(|a, b| a.service_id.cmp(&b.service_id));
        let deployments = st
            .order
            .iter()
            .filter_map(|id| st.deployments.get(id).cloned())
            .collect();
        drop(st);
        AgentState {
            services,
            deployments,
            certificates: self.certificate_reports(),
        }
    }

    pub(super) fn report(&self, msg: AgentMsg) {
        let _ = self.inner.reports.send(msg);
    }

    /// Records and reports a deployment's new state.
    pub(super) fn progress(&self, p: DeployProgress) {
        {
            let mut st = self.lock();
            if !st.deployments.contains_key(&p.deployment_id) {
                st.order.push_back(p.deployment_id.clone());
                while st.order.len() > REMEMBERED {
                    if let Some(old) = st.order.pop_front() {
                        st.deployments.remove(&old);
                    }
                }
            }
            st.deployments.insert(p.deployment_id.clone(), p.clone());
        }
        tracing::info!(deployment = %p.deployment_id, state = %p.state, reason = ?p.reason, "deployment");
        self.report(AgentMsg::Deploy(p));
    }

    pub(super) fn step(&self, deployment_id: &str, state: DeployState) {
        self.progress(DeployProgress {
            deployment_id: deployment_id.into(),
            state,
            commit: None,
            reason: None,
            log_tail: Vec::new(),
            plan: Vec::new(),
        });
    }

    pub(super) fn service_report(&self, service_id: &str) {
        let report = {
            let st = self.lock();
            st.services
                .get(service_id)
                .and_then(|slot| report_of(service_id, slot))
        };
        if let Some(r) = report {
            self.report(AgentMsg::Service(r));
        }
    }

    /// Records how the live release `deployment_id` runs (ignored if it is no longer the live
    /// one) and reports it.
    pub(super) fn set_run(
        &self,
        service_id: &str,
        deployment_id: &str,
        run: RunState,
        crashed: bool,
        reason: Option<String>,
    ) {
        {
            let mut st = self.lock();
            let Some(slot) = st.services.get_mut(service_id) else {
                return;
            };
            if slot.live.as_ref().map(|l| l.deployment_id.as_str()) != Some(deployment_id) {
                return;
            }
            slot.run = Some(run);
            slot.run_reason = reason;
            if crashed {
                slot.restarts += 1;
            }
        }
        self.service_report(service_id);
    }
}

/// How the service runs, once it has run at all.
fn report_of(service_id: &str, slot: &Slot) -> Option<ServiceReport> {
    Some(ServiceReport {
        service_id: service_id.into(),
        run: slot.run?,
        restarts: slot.restarts,
        reason: slot.run_reason.clone(),
    })
}
