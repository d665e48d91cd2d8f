//! `POST /api/v1/auth/oidc/exchange`: a CI job's identity token in, a `dp_` API token out, for
//! the one cluster whose binding the token matches, with the binding's role (capped by its
//! creator's), expiring within [`super::TOKEN_TTL_MS`]. Failed exchanges count against the
//! client's IP like failed sign-ins; each success is an `oidc.exchange` event in the cluster.

use std::time::Instant;

use proto::api::{AuditAction, OidcExchangeRequest, OidcExchangeResponse};
use serde_json::json;

use super::jwt::Jwt;
use super::{Refusal, TOKEN_TTL_MS, claims};
use crate::auth::token::{hash_token, random_token};
use crate::events::{NewEvent, commit_with};
use crate::store::memberships;
use crate::store::oidc::{self as bindings, BindingRow};
use crate::store::tokens::{self, TokenRow};
use crate::{Base, ClientInfo, DomainError, clock, ids};

impl Base {
    pub async fn oidc_exchange(
        &self,
        req: OidcExchangeRequest,
        client: &ClientInfo,
    ) -> Result<OidcExchangeResponse, DomainError> {
        let ip = client.ip.as_deref();
        let key = format!("oidc:{}", ip.unwrap_or("?"));
        let slot = self
            .oidc
            .limiter
            .reserve(&key, ip, Instant::now())
            .map_err(|retry_after| DomainError::RateLimited { retry_after })?;
        match self.verify_and_issue(req, client).await {
            Ok(done) => Ok(done),
            Err(e) => {
                if !matches!(e, DomainError::Internal(_)) {
                    slot.failed(Instant::now());
                }
                tracing::info!(ip, error = %e, "OIDC exchange refused");
                Err(e)
            }
        }
    }

    async fn verify_and_issue(
        &self,
        req: OidcExchangeRequest,
        client: &ClientInfo,
    ) -> Result<OidcExchangeResponse, DomainError> {
        let jwt = Jwt::parse(&req.token)?;
        let issuer = jwt
            .text("iss")
            .ok_or(Refusal::Malformed("the token has no issuer (iss)"))?;
        // Only issuers a binding names are ever fetched from.
        let mut candidates = bindings::of_issuer(self.store.pool(), &issuer).await?;
        if let Some(c) = &req.cluster {
            candidates.retain(|b| &b.cluster_id == c);
        }
        if candidates.is_empty() {
            return Err(Refusal::UnknownIssuer(issuer).into());
        }
        let key = self.oidc.keys.key(&issuer, &jwt.kid).await?;
        jwt.verify(&key)?;
        claims::check_times(&jwt, clock::now_ms() / 1000)?;
        let binding = claims::pick(&jwt, candidates)?;
        self.issue(&jwt, binding, client).await
    }

    /// The token for `binding`, recorded with its event in one transaction.
    async fn issue(
        &self,
        jwt: &Jwt,
        binding: BindingRow,
        client: &ClientInfo,
    ) -> Result<OidcExchangeResponse, DomainError> {
        let creator_role =
            memberships::role_of(self.store.pool(), &binding.cluster_id, &binding.created_by)
                .await?
                .ok_or(Refusal::CreatorGone)?;
        // Roles order most powerful first: the lesser of the binding's and the creator's.
        let role = binding.role.max(creator_role);
        let now = clock::now_ms();
        let run = jwt.text("run_id").or_else(|| jwt.text("pipeline_id"));
        let git_ref = jwt.text("ref");
        let token = format!("{}{}", crate::tokens::PREFIX, random_token());
        let row = TokenRow {
            id: ids::new_id(ids::TOKEN),
            cluster_id: binding.cluster_id.clone(),
            user_id: binding.created_by.clone(),
            name: format!(
                "OIDC {} {} run {}",
                binding.repository,
                git_ref.as_deref().unwrap_or("-"),
                run.as_deref().unwrap_or("-")
            )
            .chars()
            .take(200)
            .collect(),
            role,
            created_at: now,
            expires_at: Some(now + TOKEN_TTL_MS),
            last_used_at: None,
            revoked_at: None,
            user_name: None,
        };
        let mut tx = self.store.begin().await?;
        tokens::insert(&mut *tx, &row, &hash_token(&token)).await?;
        let details = json!({
            "binding": binding.id, "provider": binding.provider, "issuer": binding.issuer,
            "repository": binding.repository, "ref": git_ref, "run_id": run,
            "environment": jwt.text("environment"), "sub": jwt.text("sub"),
            "role": role, "token": row.id,
            "expires_at": clock::rfc3339(now + TOKEN_TTL_MS),
        });
        let event = NewEvent {
            cluster_id: Some(&binding.cluster_id),
            actor_user_id: Some(&binding.created_by),
            actor_token_id: Some(&row.id),
            client,
            action: AuditAction::OidcExchange,
            target: Some(&binding.id),
            details,
        };
        commit_with(tx, event).await?;
        Ok(OidcExchangeResponse {
            token,
            token_id: row.id,
            cluster_id: binding.cluster_id,
            role,
            expires_at: clock::rfc3339(now + TOKEN_TTL_MS),
            binding_id: binding.id,
        })
    }
}
