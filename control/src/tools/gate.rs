//! Who may hold a console, in one place: checked when it opens ([`Base::open_console`]) and
//! again while it stays open ([`crate::revocation`]), so the two cannot drift apart.

use proto::wire::ConsoleTarget;

use crate::rbac::{May, UseConsole, authorize};
use crate::store::instances::{self as instances_sql, InstanceRow};
use crate::{Actor, Base, DomainError};

/// What a console is opened on.
#[derive(Debug, Clone)]
pub enum ConsoleScope {
    Service(String),
    Instance(String),
}

/// What passing [`Base::console_gate`] proves, and what opening the console needs next.
pub(crate) struct ConsoleGate {
    pub(super) instance: InstanceRow,
    pub(super) target: String,
    pub(super) agent_target: ConsoleTarget,
    pub(super) may: May<UseConsole>,
}

impl Base {
    /// Who may have a console on `scope` now: Admin+ in the instance's cluster, with the
    /// instance's console switched on. Checked at open and again while it is open
    /// ([`crate::revocation`]).
    pub(crate) async fn console_gate(
        &self,
        actor: &Actor,
        scope: &ConsoleScope,
    ) -> Result<ConsoleGate, DomainError> {
        let (instance_id, target, agent_target) = match scope {
            ConsoleScope::Service(id) => {
                let s = self.visible_service(actor, id).await?;
                let target = ConsoleTarget::Service {
                    service_id: s.id.clone().into(),
                };
                (s.instance_id, s.id, target)
            }
            ConsoleScope::Instance(id) => (id.clone(), id.clone(), ConsoleTarget::Instance),
        };
        let instance = instances_sql::by_id(self.store.pool(), &instance_id)
            .await?
            .ok_or(DomainError::NotFound("instance"))?;
        let may = authorize::<UseConsole>(&self.store, actor, &instance.cluster_id).await?;
        if instance.console_enabled == 0 {
            return Err(DomainError::Disabled(format!(
                "the console is switched off on {}: an Admin can switch it on in the instance's settings",
                instance.name
            )));
        }
        Ok(ConsoleGate {
            instance,
            target,
            agent_target,
            may,
        })
    }
}
