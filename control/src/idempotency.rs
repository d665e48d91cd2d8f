//! `Idempotency-Key` on deploy requests: a client that retries (a CI job after a timeout, the CLI
//! after a dropped connection) with the same key gets the deployment the first request made,
//! not a second one. Keys are per service and per caller (the API token when one acted, else the
//! user) and count for 24 hours; the same key with a different request is refused.

use proto::api::{AuditAction, CreateDeploymentRequest, Deployment};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::deployments::view;
use crate::events::{NewEvent, record};
use crate::rbac::{Deploy, authorize};
use crate::store::deployments as deploy_sql;
use crate::store::idempotency::{self as sql, KeyRow};
use crate::{Actor, Base, DomainError, clock};

/// How long a key is remembered.
pub const KEY_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// The longest key accepted (what Stripe and the IETF draft's examples allow).
pub const MAX_KEY_LEN: usize = 255;

/// What a keyed deploy request came to.
#[derive(Debug)]
pub enum Keyed {
    /// The key was new: this deployment was made.
    Created(Deployment),
    /// The key was seen with the same request: the deployment as it was first answered.
    Replayed(Deployment),
    /// The key was seen with a different request.
    Reused,
}

/// 1 to 255 printable ASCII characters.
pub fn check_key(key: &str) -> Result<(), DomainError> {
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.bytes().all(|b| (0x20..0x7f).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "Idempotency-Key",
            format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} printable ASCII characters"),
        ))
    }
}

fn request_hash(req: &CreateDeploymentRequest) -> String {
    let canonical = json!({ "ref": req.git_ref });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn replay(found: KeyRow, hash: &str) -> Result<Keyed, DomainError> {
    if found.request_hash != hash {
        return Ok(Keyed::Reused);
    }
    let first: Deployment =
        serde_json::from_str(&found.response).map_err(|e| DomainError::Internal(Box::new(e)))?;
    Ok(Keyed::Replayed(first))
}

impl Base {
    /// [`Base::create_deployment`] under an `Idempotency-Key`: the deployment, its audit event
    /// and the key are written in one transaction, so a key never names a deployment that was
    /// not made, and of two racing requests with one key only one deploys.
    pub async fn create_deployment_keyed(
        &self,
        actor: &Actor,
        service_id: &str,
        req: CreateDeploymentRequest,
        key: &str,
    ) -> Result<Keyed, DomainError> {
        check_key(key)?;
        let mut svc = self.visible_service(actor, service_id).await?;
        let may = authorize::<Deploy>(&self.store, actor, &svc.cluster_id).await?;
        let principal = actor.token_id().unwrap_or(&actor.user.id).to_string();
        let hash = request_hash(&req);
        let now = clock::now_ms();
        let since = now - KEY_TTL_MS;
        if let Some(found) = sql::find(self.store.pool(), &svc.id, &principal, key, since).await? {
            return replay(found, &hash);
        }
        let mut tx = self.store.begin().await?;
        sql::prune(&mut *tx, since).await?;
        let row =
            Base::queue_deployment(&mut tx, &mut svc, req.git_ref, Some(&actor.user.id)).await?;
        record(
            &mut *tx,
            NewEvent::by(
                actor,
                may.cluster_id(),
                AuditAction::DeploymentCreate,
                &row.id,
                json!({ "service": svc.name, "ref": row.git_ref, "idempotency_key": key }),
            ),
        )
        .await?;
        let steps = deploy_sql::transitions_of(&mut *tx, std::slice::from_ref(&row.id)).await?;
        let made = view(&row, &steps);
        let stored = KeyRow {
            service_id: svc.id.clone(),
            principal: principal.clone(),
            idem_key: key.to_string(),
            request_hash: hash.clone(),
            deployment_id: row.id.clone(),
            response: serde_json::to_string(&made)
                .map_err(|e| DomainError::Internal(Box::new(e)))?,
            created_at: now,
        };
        if !sql::insert(&mut *tx, &stored).await? {
            // Another request with this key committed first: undo ours, answer with theirs.
            tx.rollback().await?;
            let found = sql::find(self.store.pool(), &svc.id, &principal, key, since)
                .await?
                .ok_or_else(|| DomainError::Conflict("retry the request".into()))?;
            return replay(found, &hash);
        }
        tx.commit().await?;
        self.deployment_queued(&svc.instance_id);
        Ok(Keyed::Created(made))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_printable_ascii() {
        assert!(check_key("deploy-42").is_ok());
        assert!(check_key(&"k".repeat(255)).is_ok());
        for bad in ["", "a\u{7f}", "tab\there", "é", &"k".repeat(256)] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_request_hash_tells_refs_apart() {
        let a = CreateDeploymentRequest { git_ref: None };
        let b = CreateDeploymentRequest {
            git_ref: Some("v1".into()),
        };
        assert_eq!(request_hash(&a), request_hash(&a.clone()));
        assert_ne!(request_hash(&a), request_hash(&b));
    }
}
