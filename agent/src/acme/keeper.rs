//! The task that keeps one domain's certificate: it waits until the certificate is due (or
//! orders at once when there is none), orders one domain at a time per [`Acme`](super::Acme)
//! (a semaphore), reports each outcome, and backs off after failures.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use instant_acme::Account;
use proto::wire::domains::{CertReport, CertState};
use tokio::sync::{Notify, Semaphore, mpsc};

use super::options::AcmeOptions;
use super::order::Failure;
use super::schedule::{backoff, jitter, renew_at_ms};
use super::{account, order};
use crate::ingress::certs::{CertInfo, Certificates};

/// What every keeper of one [`Acme`](super::Acme) shares.
pub struct Core {
    pub options: AcmeOptions,
    pub certs: Certificates,
    pub reports: mpsc::UnboundedSender<CertReport>,
    /// One order at a time.
    pub orders: Semaphore,
    /// Loaded (or created) on the first order.
    pub account: tokio::sync::Mutex<Option<Account>>,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Keeps `domain`'s certificate until aborted; returns when the domain's certificate is an
/// uploaded one. `nudge` makes it look at the certificate again.
pub async fn keep(core: Arc<Core>, domain: String, nudge: Arc<Notify>) {
    let mut failures = 0u32;
    let mut draw = jitter();
    loop {
        if let Some(info) = core.certs.info(&domain) {
            if info.uploaded {
                tracing::debug!(%domain, "uploaded certificate: not ordered by ACME");
                return;
            }
            let timings = &core.options.timings;
            let due = renew_at_ms(info.not_before_ms, info.not_after_ms, timings, draw);
            let wait = due - now_ms();
            if wait > 0 {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
                    _ = nudge.notified() => continue,
                }
            }
        }
        match core.order(&domain).await {
            Ok(info) => {
                failures = 0;
                draw = jitter();
                tracing::info!(%domain, issuer = %info.issuer, not_after_ms = info.not_after_ms,
                    "ACME certificate installed");
                core.report(
                    &domain,
                    CertState::Issued {
                        expires_at_ms: info.not_after_ms,
                        issuer: info.issuer,
                    },
                );
            }
            Err(Failure::Uploaded) => return,
            Err(failure) => {
                failures = failures.saturating_add(1);
                let delay = backoff(failures, &core.options.timings, jitter());
                let retry_at_ms = now_ms() + delay.as_millis() as i64;
                let reason = failure.reason();
                tracing::warn!(%domain, %reason, retry_in_s = delay.as_secs(),
                    "ACME order failed; the old certificate (if any) keeps serving");
                core.report(
                    &domain,
                    CertState::Failed {
                        reason,
                        retry_at_ms,
                    },
                );
                // Nudges don't shorten a backoff: the engine may repeat its domains often.
                tokio::time::sleep(delay).await;
            }
        }
    }
}

impl Core {
    fn report(&self, domain: &str, state: CertState) {
        let _ = self.reports.send(CertReport {
            domain: domain.to_string(),
            state,
        });
    }

    /// One order, after the ones before it, within `order_timeout` (a CA that accepts
    /// connections and never answers must not hold up every other domain).
    async fn order(&self, domain: &str) -> Result<CertInfo, Failure> {
        let _permit = self
            .orders
            .acquire()
            .await
            .map_err(|_| Failure::Local("ACME is shutting down".into()))?;
        let limit = self.options.timings.order_timeout;
        tokio::time::timeout(limit, self.order_once(domain))
            .await
            .unwrap_or_else(|_| {
                Err(Failure::Local(format!(
                    "the ACME order did not finish within {}s",
                    limit.as_secs()
                )))
            })
    }

    /// With a new account if the CA forgot ours.
    async fn order_once(&self, domain: &str) -> Result<CertInfo, Failure> {
        let account = self.account(false).await?;
        match order::order(&account, &self.certs, &self.options, domain).await {
            Err(f) if f.account_gone() => {
                tracing::warn!("the ACME CA no longer knows our account: creating a new one");
                let account = self.account(true).await?;
                order::order(&account, &self.certs, &self.options, domain).await
            }
            result => result,
        }
    }

    async fn account(&self, renew: bool) -> Result<Account, Failure> {
        let mut cached = self.account.lock().await;
        if let Some(account) = cached.as_ref().filter(|_| !renew) {
            return Ok(account.clone());
        }
        let account = if renew {
            account::create(&self.options).await?
        } else {
            account::load_or_create(&self.options).await?
        };
        *cached = Some(account.clone());
        Ok(account)
    }
}
