//! Service logs across replicas. The replica holding an agent stores its services' lines and
//! announces each stored batch ([`Change::Logs`]); a replica where someone follows that
//! service reads the lines after the last it relayed from the database and hands them to its
//! followers, so a log follow through any replica streams what an agent on another prints.
//! Lines are numbered per replica from the highest stored number, read again whenever an
//! agent's log stream opens here: an agent that moves from a dead replica continues after the
//! lines that replica stored, so a follower's "after `seq`" never skips any.
//!
//! [`Change::Logs`]: crate::changes::Change::Logs

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::logs::MAX_READ;
use crate::store::logs as sql;
use crate::{Base, DomainError};

impl Base {
    /// Numbers the next lines after every line stored so far, by any replica.
    pub(crate) async fn catch_up_log_numbering(&self) -> Result<(), DomainError> {
        if !self.several_replicas_possible() {
            return Ok(());
        }
        let max = sql::max_seq(self.store.pool()).await?;
        self.logs.last_seq.fetch_max(max, Ordering::SeqCst);
        Ok(())
    }

    /// Another replica stored lines of `service_id`: relays them to the followers here.
    pub(crate) async fn relay_stored_logs(&self, service_id: &str) -> Result<(), DomainError> {
        let Some(live) = self.logs.followers(service_id) else {
            self.logs.forget_relayed(service_id);
            return Ok(());
        };
        let Some(after) = self.logs.relayed(service_id) else {
            return Ok(());
        };
        let rows = sql::after(self.store.pool(), service_id, None, after, MAX_READ).await?;
        for row in &rows {
            let _ = live.send(Arc::new(crate::logs::view(row)));
        }
        if let Some(last) = rows.last() {
            self.logs.relayed_up_to(service_id, last.seq);
        }
        Ok(())
    }
}
