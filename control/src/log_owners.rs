//! Which services an agent's log stream may write lines for: those on its own instance, looked
//! up once per id and remembered. An agent naming more distinct ids than any instance runs is not
//! believed further (audit L2): past the cap, new ids are refused without a look-up or memory.

use std::collections::HashMap;
use std::future::Future;

use proto::ids::ServiceId;

/// The answers so far for one log stream.
pub(crate) struct Owners {
    known: HashMap<ServiceId, bool>,
    cap: usize,
}

impl Owners {
    pub(crate) fn new(cap: usize) -> Owners {
        Owners {
            known: HashMap::new(),
            cap,
        }
    }

    /// Whether lines for `id` are kept: the remembered answer, or `lookup`'s while under the cap.
    pub(crate) async fn allows<F, Fut>(&mut self, id: &ServiceId, lookup: F) -> bool
    where
        F: FnOnce(ServiceId) -> Fut,
        Fut: Future<Output = bool>,
    {
        if let Some(ok) = self.known.get(id) {
            return *ok;
        }
        if self.known.len() >= self.cap {
            return false;
        }
        let ok = lookup(id.clone()).await;
        self.known.insert(id.clone(), ok);
        ok
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test]
    async fn l2_a_stream_naming_more_services_than_the_cap_gets_no_more_lookups() {
        let lookups = Cell::new(0);
        let mut owners = Owners::new(100);
        let ours = ServiceId::new("svc_ours");
        let lookup = |id: ServiceId| {
            lookups.set(lookups.get() + 1);
            async move { id.as_str() == "svc_ours" }
        };
        assert!(owners.allows(&ours, lookup).await);
        for i in 0..1_000 {
            let made_up = ServiceId::new(format!("svc_madeup{i}"));
            assert!(!owners.allows(&made_up, lookup).await);
        }
        assert_eq!(lookups.get(), 100, "look-ups stop at the cap");
        assert_eq!(owners.known.len(), 100, "memory stops at the cap");
        assert!(
            owners.allows(&ours, lookup).await,
            "a known service still passes"
        );
        assert_eq!(lookups.get(), 100);
    }
}
