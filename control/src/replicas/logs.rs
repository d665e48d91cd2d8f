//! Service logs across replicas. The replica holding an agent stores its services' lines and
//! announces each stored batch ([`Change::Logs`]); a replica where someone follows that
//! service reads the lines after the last it relayed from the database, oldest first and page
//! after page, and hands them to its followers, so a log follow through any replica streams
//! everything an agent on another prints.
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
        let Some(mut after) = self.logs.relayed(service_id) else {
            return Ok(());
        };
        // Oldest first, page after page: a burst larger than a page is relayed whole, and a
        // follower that cannot keep up is told how many it missed, as it is on the holder.
        loop {
            let rows = sql::oldest_after(self.store.pool(), service_id, after, MAX_READ).await?;
            for row in &rows {
                let _ = live.send(Arc::new(crate::logs::view(row)));
            }
            let Some(last) = rows.last() else { break };
            after = last.seq;
            self.logs.relayed_up_to(service_id, after);
            if rows.len() < MAX_READ as usize {
                break;
            }
        }
        Ok(())
    }
}
