//! `Idempotency-Key` on deploy requests: a client that retries (a CI job after a timeout, the CLI
//! after a dropped connection) with the same key gets the deployment the first request made,
//! not a second one. Keys are per service and per caller (the API token when one acted, else the
//! user) and count for 24 hours; the same key with a different request is refused.
//!
//! [`Base::create_deployment`](crate::Base::create_deployment) asks [`Key::earlier`] before it
//! makes anything and [`Key::remember`]s the key in the transaction that makes the deployment,
//! so a key never names a deployment that was not made, and of two racing requests with one key
//! only one deploys.

use proto::api::{CreateDeploymentRequest, Deployment};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::store::idempotency::{self as sql, KeyRow};
use crate::store::{Db, Tx};
use crate::{Actor, DomainError};

/// How long a key is remembered.
pub const KEY_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// The longest key accepted (what Stripe and the IETF draft's examples allow).
pub const MAX_KEY_LEN: usize = 255;

/// What a deploy request came to.
#[derive(Debug)]
pub enum Queued {
    /// This deployment was made now (always, for a request without a key).
    Created(Deployment),
    /// The key was seen with the same request: the deployment as it was first answered.
    Replayed(Deployment),
    /// The key was seen with a different request: nothing was made.
    KeyReused,
}

impl Queued {
    /// The deployment, made now or earlier. A reused key is a conflict here; the REST API
    /// answers it with its own code instead.
    pub fn into_deployment(self) -> Result<Deployment, DomainError> {
        match self {
            Queued::Created(d) | Queued::Replayed(d) => Ok(d),
            Queued::KeyReused => Err(DomainError::Conflict(
                "this Idempotency-Key was used for a different request: use a new key".into(),
            )),
        }
    }
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

/// A checked key on one request: whose it is, for which service, and what was asked.
pub(crate) struct Key<'a> {
    service_id: String,
    principal: &'a str,
    key: &'a str,
    request_hash: String,
    now: i64,
}

impl<'a> Key<'a> {
    pub(crate) fn new(
        actor: &'a Actor,
        service_id: &str,
        key: &'a str,
        req: &CreateDeploymentRequest,
        now: i64,
    ) -> Key<'a> {
        Key {
            service_id: service_id.to_string(),
            principal: actor.token_id().unwrap_or(&actor.user.id),
            key,
            request_hash: request_hash(req),
            now,
        }
    }

    /// Keys older than this are forgotten.
    fn since(&self) -> i64 {
        self.now - KEY_TTL_MS
    }

    /// The answer a request with this key already got, if one did.
    pub(crate) async fn earlier<'e>(
        &self,
        db: impl sqlx::Executor<'e, Database = Db>,
    ) -> Result<Option<Queued>, DomainError> {
        let found = sql::find(db, &self.service_id, self.principal, self.key, self.since()).await?;
        let Some(found) = found else {
            return Ok(None);
        };
        if found.request_hash != self.request_hash {
            return Ok(Some(Queued::KeyReused));
        }
        let first: Deployment = serde_json::from_str(&found.response)
            .map_err(|e| DomainError::Internal(Box::new(e)))?;
        Ok(Some(Queued::Replayed(first)))
    }

    /// Forgets expired keys, then stores this one with the deployment it made, in that
    /// deployment's transaction. `false`: another request with this key stored it first, and
    /// the caller rolls back.
    pub(crate) async fn remember(
        &self,
        tx: &mut Tx<'_>,
        made: &Deployment,
    ) -> Result<bool, DomainError> {
        sql::prune(&mut **tx, self.since()).await?;
        let row = KeyRow {
            service_id: self.service_id.clone(),
            principal: self.principal.to_string(),
            idem_key: self.key.to_string(),
            request_hash: self.request_hash.clone(),
            deployment_id: made.id.clone(),
            response: serde_json::to_string(made)
                .map_err(|e| DomainError::Internal(Box::new(e)))?,
            created_at: self.now,
        };
        Ok(sql::insert(&mut **tx, &row).await?)
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
