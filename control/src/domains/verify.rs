//! Verification: a domain becomes routable once a DNS TXT lookup of `_dployr.<name>` finds
//! `dployr-verify=<token>`. The lookup uses the system's resolvers, or the one server in
//! `BaseConfig::dns_server` (`DPLOYR_DNS_SERVER`; tests run their own). Someone presses Verify,
//! or the background task re-checks pending domains every [`CHECK_EVERY`], a capped number per
//! tick, each backing off on its own as its failures add up.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use proto::api::{AuditAction, Domain, DomainStatus};
use serde_json::json;

use super::{names, verification_value, view};
use crate::events::{NewEvent, record};
use crate::rbac::ManageServices;
use crate::store::domains::{self as sql, DomainRow};
use crate::{Actor, Base, ClientInfo, DomainError};

/// How often the background task looks for pending domains due a check.
pub const CHECK_EVERY: Duration = Duration::from_secs(30);
/// At most this many lookups per tick, so a flood of pending domains cannot hog the resolver.
pub const CHECKS_PER_TICK: i64 = 20;
/// A pending domain's checks back off from 30 s, doubling, up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(30 * 60);

/// When to look at a domain again after `failures` checks that did not verify it.
pub fn backoff(failures: i64) -> Duration {
    let doublings = u32::try_from(failures.clamp(0, 16)).unwrap_or(16);
    CHECK_EVERY.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// A resolver that asks `server`, or the system's resolvers, and keeps no answer: a record
/// created a minute ago must be seen now.
pub(crate) fn resolver(server: Option<SocketAddr>) -> Result<TokioResolver, String> {
    let mut opts = ResolverOpts::default();
    opts.timeout = Duration::from_secs(3);
    opts.attempts = 2;
    opts.cache_size = 0;
    let builder = match server {
        Some(addr) => {
            let mut cfg = ResolverConfig::new();
            cfg.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
            TokioResolver::builder_with_config(cfg, TokioConnectionProvider::default())
        }
        None => TokioResolver::builder_tokio()
            .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?,
    };
    Ok(builder.with_options(opts).build())
}

/// The TXT strings at `name`, or why there are none, in words for the team.
async fn txt_strings(server: Option<SocketAddr>, name: &str) -> Result<Vec<String>, String> {
    let resolver = resolver(server)?;
    let fqdn = format!("{name}.");
    match resolver.txt_lookup(fqdn).await {
        Ok(found) => Ok(found
            .iter()
            .map(|txt| {
                txt.txt_data()
                    .iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect::<String>()
            })
            .collect()),
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => {
            Err(format!("no TXT record at {name} yet"))
        }
        Err(e) => Err(format!("looking up {name} failed: {e}")),
    }
}

/// Whether the domain's TXT record holds its token; `Err` says what was found instead.
pub async fn check(server: Option<SocketAddr>, row: &DomainRow) -> Result<(), String> {
    let at = names::txt_name(&row.name);
    let want = verification_value(&row.token);
    let found = txt_strings(server, &at).await?;
    if found.iter().any(|t| t.trim() == want) {
        Ok(())
    } else {
        Err(format!(
            "the TXT record at {at} does not hold {want} (found {})",
            if found.is_empty() {
                "nothing".to_string()
            } else {
                found.join(", ")
            }
        ))
    }
}

impl Base {
    /// Looks the TXT record up now. Verified: the domain is routed from now on. Not yet: it
    /// stays pending, with the reason in `last_error`.
    pub async fn verify_domain(
        &self,
        actor: &Actor,
        service_id: &str,
        name: &str,
    ) -> Result<Domain, DomainError> {
        let (svc, _) = self
            .service_for::<ManageServices>(actor, service_id)
            .await?;
        let row = self.domain_of(&svc, name).await?;
        let row = match row.status {
            DomainStatus::Verified => row,
            DomainStatus::Pending => {
                self.check_one(&row, Some(actor)).await?;
                self.domain_of(&svc, &row.name).await?
            }
        };
        Ok(view(&row, &self.pointers(&svc).await))
    }

    /// Checks one pending domain and records the outcome; on success the event (by `actor`,
    /// or by Base itself for the background task) and the instance told.
    async fn check_one(&self, row: &DomainRow, actor: Option<&Actor>) -> Result<bool, DomainError> {
        let now = self.clock.now_ms();
        match check(self.config.dns_server, row).await {
            Err(reason) => {
                if let Some(a) = actor {
                    // Someone pressed Verify: the attempt and its outcome are on record.
                    let details = json!({ "domain": row.name, "outcome": reason });
                    let e = NewEvent::by(
                        a,
                        &row.cluster_id,
                        AuditAction::DomainCheck,
                        &row.service_id,
                        details,
                    );
                    record(self.store.pool(), e).await?;
                }
                let next = now
                    + i64::try_from(backoff(row.check_failures + 1).as_millis())
                        .unwrap_or(i64::MAX);
                sql::check_failed(self.store.pool(), &row.id, now, &reason, next).await?;
                Ok(false)
            }
            Ok(()) => {
                let mut tx = self.store.begin().await?;
                if !sql::set_verified(&mut *tx, &row.id, now).await? {
                    return Ok(false);
                }
                let details = json!({ "domain": row.name, "by": if actor.is_some() { "verify" } else { "background check" } });
                let system = ClientInfo::default();
                let event = match actor {
                    Some(a) => NewEvent::by(
                        a,
                        &row.cluster_id,
                        AuditAction::DomainVerify,
                        &row.service_id,
                        details,
                    ),
                    None => NewEvent {
                        cluster_id: Some(&row.cluster_id),
                        actor_user_id: None,
                        actor_token_id: None,
                        client: &system,
                        action: AuditAction::DomainVerify,
                        target: Some(&row.service_id),
                        details,
                    },
                };
                record(&mut *tx, event).await?;
                tx.commit().await?;
                tracing::info!(domain = %row.name, service.id = %row.service_id, "domain verified");
                self.activity.changed(&row.cluster_id);
                self.send_domains(&row.service_id).await;
                Ok(true)
            }
        }
    }

    /// One tick of the background check: the pending domains due, at most
    /// [`CHECKS_PER_TICK`]; returns how many became verified.
    pub async fn check_pending_domains(&self) -> Result<usize, DomainError> {
        let due = sql::due(self.store.pool(), self.clock.now_ms(), CHECKS_PER_TICK).await?;
        let mut verified = 0;
        for row in &due {
            if self.check_one(row, None).await? {
                verified += 1;
            }
        }
        Ok(verified)
    }

    /// Re-checks pending domains every `every` until `stop` resolves.
    pub async fn run_domain_checks(
        &self,
        every: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        crate::periodic::every(every, stop, "checking pending domains", || async {
            // Each replica keeps its own wildcard answers; one checks the pending domains.
            self.recheck_wildcards().await;
            if !self.leads_jobs().await {
                return Ok(());
            }
            self.check_pending_domains().await.map(drop)
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_back_off_to_a_cap() {
        assert_eq!(backoff(0), Duration::from_secs(30));
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(240));
        assert_eq!(backoff(50), MAX_BACKOFF);
    }
}
