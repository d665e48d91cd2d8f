//! A cluster's OIDC bindings: list, add, remove (Owner and Admin, `oidc.manage`). A binding
//! grants at most `admin`, never more than its creator's role, and the tokens it yields act
//! for its creator, so they end when the creator leaves.

use proto::api::{AuditAction, CreateOidcBindingRequest, OidcBinding, OidcBindingList, Role};
use serde_json::json;

use crate::events::commit_with;
use crate::rbac::{ManageOidc, authorize};
use crate::store::oidc::{self as sql, BindingRow};
use crate::store::tokens;
use crate::{Actor, Base, DomainError, clock, ids};

/// The prefix of a binding's id.
const ID_PREFIX: &str = "oib";
/// The longest repository, ref, environment, issuer or audience.
const MAX_LEN: usize = 300;

pub(crate) fn view(r: BindingRow) -> OidcBinding {
    OidcBinding {
        id: r.id,
        provider: r.provider,
        issuer: r.issuer,
        audience: r.audience,
        repository: r.repository,
        git_ref: r.git_ref,
        environment: r.environment,
        role: r.role,
        created_by: r.creator_name,
        created_at: clock::rfc3339(r.created_at),
    }
}

/// `raw` trimmed, refused when empty (unless optional), too long or holding spaces.
fn claim_value(field: &'static str, raw: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(v) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.len() > MAX_LEN || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::invalid(
            field,
            format!("at most {MAX_LEN} characters, no spaces"),
        ));
    }
    Ok(Some(v.to_string()))
}

impl Base {
    /// The audience a binding expects when it names none: Base's public URL, without the
    /// trailing slash (what `dployr login --oidc` asks for by default).
    pub fn default_oidc_audience(&self) -> String {
        self.config
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_string()
    }

    pub async fn oidc_bindings(
        &self,
        actor: &Actor,
        cluster_id: &str,
    ) -> Result<OidcBindingList, DomainError> {
        let may = authorize::<ManageOidc>(&self.store, actor, cluster_id).await?;
        let rows = sql::in_cluster(self.store.pool(), may.cluster_id()).await?;
        Ok(OidcBindingList {
            bindings: rows.into_iter().map(view).collect(),
            next_cursor: None,
        })
    }

    pub async fn add_oidc_binding(
        &self,
        actor: &Actor,
        cluster_id: &str,
        req: CreateOidcBindingRequest,
    ) -> Result<OidcBinding, DomainError> {
        let may = authorize::<ManageOidc>(&self.store, actor, cluster_id).await?;
        if req.role == Role::Owner {
            return Err(DomainError::invalid(
                "role",
                "a CI token may be admin at most, never owner",
            ));
        }
        // Roles order most powerful first.
        if req.role < may.role() {
            return Err(DomainError::invalid(
                "role",
                format!("at most your own role, {}", may.role().as_str()),
            ));
        }
        let repository =
            claim_value("repository", Some(req.repository.as_str()))?.ok_or_else(|| {
                DomainError::invalid("repository", "the repository's path, e.g. acme/shop")
            })?;
        let issuer = match claim_value("issuer", req.issuer.as_deref())? {
            Some(i) => i.trim_end_matches('/').to_string(),
            None => req.provider.default_issuer().to_string(),
        };
        if !self.oidc.keys.allowed_url(&issuer) {
            return Err(DomainError::invalid("issuer", "an https:// URL"));
        }
        let audience = claim_value("audience", req.audience.as_deref())?
            .unwrap_or_else(|| self.default_oidc_audience());
        let row = BindingRow {
            id: ids::new_id(ID_PREFIX),
            cluster_id: may.cluster_id().to_string(),
            provider: req.provider,
            issuer,
            audience,
            repository,
            git_ref: claim_value("ref", req.git_ref.as_deref())?,
            environment: claim_value("environment", req.environment.as_deref())?,
            role: req.role,
            created_by: actor.user.id.clone(),
            created_at: clock::now_ms(),
            creator_name: Some(actor.user.name.clone()),
        };
        let mut tx = self.store.begin().await?;
        sql::insert(&mut *tx, &row).await?;
        let details = json!({
            "provider": row.provider, "issuer": row.issuer, "audience": row.audience,
            "repository": row.repository, "ref": row.git_ref, "environment": row.environment,
            "role": row.role,
        });
        let event = may.event(actor, AuditAction::OidcBindingAdd, &row.id, details);
        commit_with(tx, event).await?;
        Ok(view(row))
    }

    pub async fn remove_oidc_binding(
        &self,
        actor: &Actor,
        cluster_id: &str,
        binding_id: &str,
    ) -> Result<(), DomainError> {
        let may = authorize::<ManageOidc>(&self.store, actor, cluster_id).await?;
        let row = sql::by_id(self.store.pool(), may.cluster_id(), binding_id)
            .await?
            .ok_or(DomainError::NotFound("OIDC binding"))?;
        let mut tx = self.store.begin().await?;
        if !sql::delete(&mut *tx, may.cluster_id(), &row.id).await? {
            return Err(DomainError::NotFound("OIDC binding"));
        }
        // The tokens it issued (an hour long at most) stop now too: removing a binding is how
        // a leaked CI identity is cut off.
        let revoked =
            tokens::revoke_issued_by(&mut *tx, may.cluster_id(), &row.id, clock::now_ms()).await?;
        let details = json!({
            "provider": row.provider, "repository": row.repository, "tokens_revoked": revoked,
        });
        let event = may.event(actor, AuditAction::OidcBindingRemove, &row.id, details);
        commit_with(tx, event).await?;
        if revoked > 0 {
            self.access_changed();
        }
        Ok(())
    }
}
