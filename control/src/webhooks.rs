//! Push-to-deploy: a service's webhook lets GitHub, GitLab or any CI deploy it on a push,
//! without a person's session or API token. Admins enable it (the secret is shown once and
//! stored sealed: GitHub's HMAC needs it raw), rotate it, or switch it off; a delivery that
//! proves it knows the secret deploys the pushed commit once, however often it is retried or
//! replayed: deliveries are remembered for a week by id and, when signed, by their body.
//!
//! - [`providers`]: each host's proof and payload, as pure functions.
//! - [`manage`]: enable, rotate, show, switch off; resealing on a master key rotation.
//!
//! This file receives deliveries.

pub mod manage;
pub mod providers;

use std::time::{Duration, Instant};

use proto::api::{AuditAction, HookReply};
use proto::service::Source;
use serde_json::json;

use crate::auth::limiter::LoginLimiter;
use crate::deployments::create::Requester;
use crate::events::{NewEvent, record};
use crate::secrets::Sealed;
use crate::services::spec_of;
use crate::store::services::{self as services_sql, ServiceRow};
use crate::store::webhooks::{self as sql, WebhookRow};
use crate::{Base, ClientInfo, DomainError};
use providers::{Ask, Delivery};
pub use providers::{HookHeaders, Provider};

/// The largest delivery accepted: GitHub's push payloads list every commit and can be large.
pub const MAX_HOOK_BODY: usize = 1 << 20;
/// How long a delivery id is remembered (providers retry within hours).
const DEDUP_MS: i64 = 7 * 24 * 3600 * 1000;
/// The one answer to a delivery that fails to prove itself, whether the service exists, has no
/// hook, or the signature is wrong: ids cannot be probed.
const REJECTED: &str = "invalid webhook signature or token";
/// Rejected deliveries of a service that exists are audit events, at most this many per
/// service (and per client IP) a minute, so a flood cannot fill the log.
const REJECTIONS_PER_MINUTE: usize = 10;

pub(crate) fn rejection_limiter() -> LoginLimiter {
    let n = REJECTIONS_PER_MINUTE;
    LoginLimiter::new(Duration::from_secs(60), n, 3 * n)
}

/// Where a sealed hook secret belongs (its associated data).
fn context(service_id: &str) -> String {
    format!("webhook/{service_id}")
}

/// The branch whose pushes deploy: the filter, else a git service's own branch.
fn deploys_branch(
    hook: Option<&WebhookRow>,
    svc: &ServiceRow,
) -> Result<Option<String>, DomainError> {
    if let Some(b) = hook.and_then(|h| h.branch.clone()) {
        return Ok(Some(b));
    }
    Ok(match spec_of(&svc.spec)?.source {
        Source::Git(g) => Some(g.branch),
        Source::Image(_) => None,
    })
}

/// What to do with a verified delivery (before deduplication).
enum Plan {
    Pong,
    Ignore(String),
    /// Deploy `git_ref`: the pushed commit, else the branch's head; `None` for an image.
    Deploy {
        git_ref: Option<String>,
    },
}

fn plan(ask: &Ask, filter: Option<&str>, image: bool) -> Plan {
    match ask {
        Ask::Ping => Plan::Pong,
        Ask::Other(why) => Plan::Ignore(why.clone()),
        Ask::Push {
            deleted: true,
            branch,
            ..
        } => Plan::Ignore(format!(
            "branch {} was deleted",
            branch.as_deref().unwrap_or("?")
        )),
        Ask::Push { branch, commit, .. } => match (branch.as_deref(), filter) {
            (Some(b), Some(f)) if b != f => {
                Plan::Ignore(format!("branch {b} is not deployed (filter: {f})"))
            }
            // A commit alone could be any commit of the repository (audit finding L10): it
            // deploys only with the branch it was pushed to.
            (None, Some(f)) if commit.is_some() && !image => Plan::Ignore(format!(
                "a commit without its branch is not deployed: send \"ref\": \"{f}\" with it"
            )),
            _ if image => Plan::Deploy { git_ref: None },
            _ => Plan::Deploy {
                git_ref: commit
                    .clone()
                    .or_else(|| branch.clone())
                    .or_else(|| filter.map(str::to_owned)),
            },
        },
    }
}

impl Base {
    /// A delivery to `/hooks/{provider}/{service_id}`. Unknown services, services without a
    /// hook and bad proofs all get the same `Unauthorized`; a verified one deploys at most
    /// once per delivery id, and each is an audit event in the service's cluster.
    pub async fn receive_hook(
        &self,
        provider: Provider,
        service_id: &str,
        headers: &HookHeaders,
        body: &[u8],
        client: ClientInfo,
    ) -> Result<HookReply, DomainError> {
        if body.len() > MAX_HOOK_BODY {
            return Err(DomainError::TooLarge(format!(
                "webhook bodies are limited to {} KiB",
                MAX_HOOK_BODY / 1024
            )));
        }
        let Some(mut svc) = services_sql::by_id(self.store.pool(), service_id).await? else {
            return Err(DomainError::Unauthorized(REJECTED));
        };
        let hook = sql::of_service(self.store.pool(), &svc.id).await?;
        let secret = hook.as_ref().and_then(|h| {
            let sealed = Sealed {
                key_id: h.key_id.clone(),
                data: h.sealed.clone(),
            };
            self.keyring
                .open(&context(&svc.id), &sealed)
                .inspect_err(|e| tracing::error!(service.id = %svc.id, error = %e, "webhook secret cannot be opened"))
                .ok()
        });
        let (Some(hook), Some(secret)) = (hook, secret) else {
            self.note_rejection(&svc, provider, &client, "no webhook enabled")
                .await;
            return Err(DomainError::Unauthorized(REJECTED));
        };
        if !providers::verify(provider, &secret, headers, body) {
            self.note_rejection(&svc, provider, &client, "bad signature or token")
                .await;
            return Err(DomainError::Unauthorized(REJECTED));
        }
        let delivery = match providers::parse(provider, headers, body) {
            Ok(d) => d,
            Err(why) => {
                self.note_rejection(&svc, provider, &client, &why).await;
                return Err(DomainError::invalid("body", why));
            }
        };
        let image = matches!(spec_of(&svc.spec)?.source, Source::Image(_));
        let filter = deploys_branch(Some(&hook), &svc)?;
        let plan = plan(&delivery.ask, filter.as_deref(), image);
        self.handle_delivery(&mut svc, provider, (&delivery, body), plan, &client)
            .await
    }

    /// Deduplicates, deploys, and records the delivery, in one transaction.
    async fn handle_delivery(
        &self,
        svc: &mut ServiceRow,
        provider: Provider,
        (delivery, body): (&Delivery, &[u8]),
        plan: Plan,
        client: &ClientInfo,
    ) -> Result<HookReply, DomainError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        sql::prune_deliveries(&mut *tx, now - DEDUP_MS).await?;
        let by_id = match &delivery.id {
            Some(id) => sql::first_delivery(&mut *tx, &svc.id, provider.as_str(), id, now).await?,
            None => true,
        };
        // The delivery id is not signed: a captured GitHub delivery replayed with a new id (or
        // none) is caught by its body, which is (audit finding M6).
        let by_body = match signed_body_key(provider, body) {
            Some((kind, hash)) => sql::first_delivery(&mut *tx, &svc.id, kind, &hash, now).await?,
            None => true,
        };
        let fresh = by_id && by_body;
        let reply = match plan {
            _ if !fresh => HookReply::Duplicate,
            Plan::Pong => HookReply::Pong,
            Plan::Ignore(reason) => HookReply::Ignored { reason },
            Plan::Deploy { git_ref } => {
                let by = Requester::Hook {
                    provider,
                    delivery: delivery.id.as_deref(),
                    client,
                };
                let row = self.queue_deployment(&mut tx, svc, git_ref, by).await?;
                HookReply::Deployed {
                    deployment_id: row.id,
                }
            }
        };
        let outcome = match &reply {
            HookReply::Pong => "pong",
            HookReply::Deployed { .. } => "deployed",
            HookReply::Duplicate => "duplicate",
            HookReply::Ignored { .. } => "ignored",
        };
        let (branch, commit) = match &delivery.ask {
            Ask::Push { branch, commit, .. } => (branch.clone(), commit.clone()),
            _ => (None, None),
        };
        let details = json!({
            "service": svc.name,
            "provider": provider.as_str(),
            "delivery": delivery.id,
            "outcome": outcome,
            "branch": branch,
            "commit": commit,
            "reason": match &reply { HookReply::Ignored { reason } => Some(reason), _ => None },
            "deployment": match &reply { HookReply::Deployed { deployment_id } => Some(deployment_id), _ => None },
        });
        record(
            &mut *tx,
            hook_event(svc, client, AuditAction::WebhookDelivery, &svc.id, details),
        )
        .await?;
        sql::record_delivery(&mut *tx, &svc.id, now, provider.as_str(), outcome).await?;
        tx.commit().await?;
        if matches!(reply, HookReply::Deployed { .. }) {
            self.deployment_queued(&svc.cluster_id, &svc.instance_id);
        }
        Ok(reply)
    }

    /// An audit event for a refused delivery of an existing service, unless that service (or
    /// that client) already had [`REJECTIONS_PER_MINUTE`] of them this minute.
    async fn note_rejection(
        &self,
        svc: &ServiceRow,
        provider: Provider,
        client: &ClientInfo,
        why: &str,
    ) {
        let now = Instant::now();
        let ip = client.ip.as_deref();
        if self.hook_rejections.check(&svc.id, ip, now).is_err() {
            return;
        }
        self.hook_rejections.record_failure(&svc.id, ip, now);
        let details = json!({
            "service": svc.name,
            "provider": provider.as_str(),
            "outcome": "rejected",
            "reason": why,
        });
        let e = hook_event(svc, client, AuditAction::WebhookDelivery, &svc.id, details);
        if let Err(e) = record(self.store.pool(), e).await {
            tracing::warn!(error = %e, service.id = %svc.id, "recording a rejected webhook delivery");
        }
    }
}

/// How a delivery whose proof covers its body is remembered: under `<provider>:body`, the
/// SHA-256 of the body. Only GitHub signs the body; GitLab's and generic hooks' proof is the
/// secret itself, sent in a header, so whoever can replay one of those can also send a new one.
fn signed_body_key(provider: Provider, body: &[u8]) -> Option<(&'static str, String)> {
    use sha2::{Digest, Sha256};
    match provider {
        Provider::GitHub => Some(("github:body", hex::encode(Sha256::digest(body)))),
        Provider::GitLab | Provider::Generic => None,
    }
}

/// An event no person made: the hook acted, from the sender's address.
fn hook_event<'a>(
    svc: &'a ServiceRow,
    client: &'a ClientInfo,
    action: AuditAction,
    target: &'a str,
    details: serde_json::Value,
) -> NewEvent<'a> {
    NewEvent {
        cluster_id: Some(&svc.cluster_id),
        actor_user_id: None,
        actor_token_id: None,
        client,
        action,
        target: Some(target),
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(branch: Option<&str>, commit: Option<&str>) -> Ask {
        Ask::Push {
            branch: branch.map(str::to_owned),
            commit: commit.map(str::to_owned),
            deleted: false,
        }
    }

    fn deployed(p: Plan) -> Option<String> {
        match p {
            Plan::Deploy { git_ref } => git_ref,
            Plan::Ignore(why) => panic!("ignored: {why}"),
            Plan::Pong => panic!("pong"),
        }
    }

    #[test]
    fn the_branch_filter_decides_and_the_commit_is_what_deploys() {
        let main = Some("main");
        assert_eq!(
            deployed(plan(&push(main, Some("abc")), main, false)).as_deref(),
            Some("abc")
        );
        assert!(matches!(
            plan(&push(Some("dev"), Some("abc")), Some("release"), false),
            Plan::Ignore(why) if why == "branch dev is not deployed (filter: release)"
        ));
        // A generic hook that names nothing deploys the filtered branch's head.
        assert_eq!(
            deployed(plan(&push(None, None), main, false)).as_deref(),
            Some("main")
        );
        // A commit without its branch could be any commit: not deployed (audit finding L10).
        assert!(matches!(
            plan(&push(None, Some("abc")), main, false),
            Plan::Ignore(_)
        ));
        // An image service redeploys its image, whatever the push named.
        assert_eq!(deployed(plan(&push(main, Some("abc")), None, true)), None);
        let deleted = Ask::Push {
            branch: main.map(str::to_owned),
            commit: None,
            deleted: true,
        };
        assert!(matches!(plan(&deleted, main, false), Plan::Ignore(_)));
    }
}
