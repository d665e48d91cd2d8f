//! Managing a service's hook: enable, rotate, show, switch off (all `services.manage`, Admin+,
//! like the rest of a service's settings), and resealing secrets when the master key rotates.

use proto::api::{
    AuditAction, CreatedWebhook, EnableWebhookRequest, WebhookDelivery, WebhookInfo, WebhookUrls,
};
use serde_json::json;

use super::{context, deploys_branch};
use crate::events::{NewEvent, record};
use crate::rbac::ManageServices;
use crate::secrets::Sealed;
use crate::store::Tx;
use crate::store::services::ServiceRow;
use crate::store::webhooks::{self as sql, WebhookRow};
use crate::{Actor, Base, DomainError, clock};

fn new_secret() -> String {
    format!("whsec_{}", crate::auth::token::random_token())
}

fn check_branch(branch: &str) -> Result<(), DomainError> {
    let bad = branch.len() > 200
        || branch.starts_with('-')
        || branch.contains("..")
        || branch.chars().any(|c| c.is_whitespace() || c.is_control());
    if bad {
        return Err(DomainError::invalid("branch", "branch name is not valid"));
    }
    Ok(())
}

impl Base {
    fn hook_urls(&self, service_id: &str) -> WebhookUrls {
        let base = self.config.public_url.as_str().trim_end_matches('/');
        let url = |p: &str| format!("{base}/hooks/{p}/{service_id}");
        WebhookUrls {
            github: url("github"),
            gitlab: url("gitlab"),
            generic: url("generic"),
        }
    }

    fn hook_info(
        &self,
        svc: &ServiceRow,
        hook: Option<&WebhookRow>,
    ) -> Result<WebhookInfo, DomainError> {
        Ok(WebhookInfo {
            enabled: hook.is_some(),
            branch: hook.and_then(|h| h.branch.clone()),
            deploys_branch: deploys_branch(hook, svc)?,
            urls: self.hook_urls(&svc.id),
            created_at: hook.map(|h| clock::rfc3339(h.created_at)),
            created_by: hook.and_then(|h| h.created_by_name.clone()),
            last_delivery: hook.and_then(|h| {
                Some(WebhookDelivery {
                    at: clock::rfc3339(h.last_delivery_at?),
                    provider: h.last_provider.clone()?,
                    outcome: h.last_outcome.clone()?,
                })
            }),
        })
    }

    /// Whether the service has a hook, where to point Git hosts, and its last delivery. Admin+
    /// (`services.manage`), like the rest of a service's settings; never the secret.
    pub async fn webhook(
        &self,
        actor: &Actor,
        service_id: &str,
    ) -> Result<WebhookInfo, DomainError> {
        let (svc, _) = self
            .service_for::<ManageServices>(actor, service_id)
            .await?;
        let hook = sql::of_service(self.store.pool(), &svc.id).await?;
        self.hook_info(&svc, hook.as_ref())
    }

    /// Enables the service's hook, or rotates its secret (the old one stops working at once).
    /// The secret is in the answer and nowhere else in clear.
    pub async fn enable_webhook(
        &self,
        actor: &Actor,
        service_id: &str,
        req: EnableWebhookRequest,
    ) -> Result<CreatedWebhook, DomainError> {
        let (svc, may) = self
            .service_for::<ManageServices>(actor, service_id)
            .await?;
        let mut tx = self.store.begin().await?;
        let old = sql::of_service(&mut *tx, &svc.id).await?;
        let branch = match req.branch.map(|b| b.trim().to_string()) {
            None => old.as_ref().and_then(|o| o.branch.clone()),
            Some(b) if b.is_empty() => None,
            Some(b) => {
                check_branch(&b)?;
                Some(b)
            }
        };
        let secret = new_secret();
        let Sealed { key_id, data } = self.keyring.seal(&context(&svc.id), &secret);
        let row = WebhookRow {
            service_id: svc.id.clone(),
            sealed: data,
            key_id,
            branch,
            created_at: clock::now_ms(),
            created_by: Some(actor.user.id.clone()),
            last_delivery_at: None,
            last_provider: None,
            last_outcome: None,
            created_by_name: Some(actor.user.name.clone()),
        };
        sql::upsert(&mut *tx, &row).await?;
        let action = if old.is_some() {
            AuditAction::WebhookRotate
        } else {
            AuditAction::WebhookEnable
        };
        let details = json!({ "service": svc.name, "branch": row.branch });
        record(
            &mut *tx,
            NewEvent::by(actor, may.cluster_id(), action, &svc.id, details),
        )
        .await?;
        tx.commit().await?;
        let webhook = self.hook_info(&svc, Some(&row))?;
        Ok(CreatedWebhook {
            secret,
            urls: webhook.urls.clone(),
            webhook,
        })
    }

    /// Switches the service's hook off; deliveries are refused from then on.
    pub async fn disable_webhook(
        &self,
        actor: &Actor,
        service_id: &str,
    ) -> Result<(), DomainError> {
        let (svc, may) = self
            .service_for::<ManageServices>(actor, service_id)
            .await?;
        let mut tx = self.store.begin().await?;
        if sql::delete(&mut *tx, &svc.id).await? {
            let details = json!({ "service": svc.name });
            let e = may.event(actor, AuditAction::WebhookDisable, &svc.id, details);
            record(&mut *tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Seals every hook secret again under the current master key, in the rotation's
    /// transaction (see [`Base::reseal_secrets`]).
    pub(crate) async fn reseal_webhooks(&self, tx: &mut Tx<'_>) -> Result<usize, DomainError> {
        let rows = sql::all(&mut **tx).await?;
        for r in &rows {
            let ctx = context(&r.service_id);
            let sealed = Sealed {
                key_id: r.key_id.clone(),
                data: r.sealed.clone(),
            };
            let secret = self.keyring.open(&ctx, &sealed).map_err(|e| {
                DomainError::Conflict(format!(
                    "the webhook secret of service {} cannot be opened: {e}",
                    r.service_id
                ))
            })?;
            let fresh = self.keyring.seal(&ctx, &secret);
            sql::reseal(&mut **tx, &r.service_id, &fresh.data, &fresh.key_id).await?;
        }
        Ok(rows.len())
    }
}
