//! API tokens for the CLI and CI: `dp_` and 256 random bits, shown once, stored as SHA-256. A
//! token acts for its creator in one cluster with at most the role it was given, which cannot
//! exceed the creator's; [`crate::rbac::authorize`] caps every check by it. Revoked and expired
//! tokens are refused on their next request; last use is recorded (at most once a minute).
//! A token made through a token expires no later than its parent, and a user's tokens are
//! revoked when they change their password or leave (or are removed from) the cluster.

use proto::api::{ApiToken, AuditAction, CreateTokenRequest, CreatedToken, Role, TokenList};
use serde_json::json;

use crate::auth::token::{hash_token, random_token};
use crate::events::commit_with;
use crate::members::may_manage;
use crate::rbac::{ManageTokens, authorize};
use crate::store::tokens::{self as sql, TokenRow};
use crate::store::{memberships, users};
use crate::{Actor, Base, ClientInfo, DomainError, TokenGrant, clock, ids, validate};

/// Every API token starts with this, so it is recognisable (and greppable in leaked text).
pub const PREFIX: &str = "dp_";
const DAY_MS: i64 = 24 * 3600 * 1000;
const MAX_DAYS: u32 = 3650;
/// Last use is written at most this often per token.
const TOUCH_EVERY_MS: i64 = 60_000;
const BAD_TOKEN: &str = "invalid, expired or revoked API token";

fn view(r: TokenRow) -> ApiToken {
    ApiToken {
        id: r.id,
        name: r.name,
        role: r.role,
        created_by: r.user_name,
        created_at: clock::rfc3339(r.created_at),
        expires_at: r.expires_at.map(clock::rfc3339),
        last_used_at: r.last_used_at.map(clock::rfc3339),
        revoked: r.revoked_at.is_some(),
    }
}

impl Base {
    pub async fn create_token(
        &self,
        actor: &Actor,
        cluster_id: &str,
        req: CreateTokenRequest,
    ) -> Result<CreatedToken, DomainError> {
        let may = authorize::<ManageTokens>(&self.store, actor, cluster_id).await?;
        self.require_step_up(actor).await?;
        let name = validate::display_name("name", &req.name)?;
        // Roles order most powerful first: a token may have the creator's role or a lesser one.
        if req.role < may.role() {
            return Err(DomainError::invalid(
                "role",
                format!(
                    "a token cannot have more power than you: your role is {}",
                    may.role().as_str()
                ),
            ));
        }
        let now = clock::now_ms();
        let expires_at = match req.expires_in_days {
            None => None,
            Some(d) if (1..=MAX_DAYS).contains(&d) => Some(now + i64::from(d) * DAY_MS),
            Some(_) => {
                return Err(DomainError::invalid(
                    "expires_in_days",
                    format!("between 1 and {MAX_DAYS} days, or absent for no expiry"),
                ));
            }
        };
        // A token cannot outlive the token that made it (audit finding M5).
        let expires_at = match (expires_at, self.parent_token_expiry(actor).await?) {
            (Some(e), Some(parent)) => Some(e.min(parent)),
            (asked, parent) => asked.or(parent),
        };
        let token = format!("{PREFIX}{}", random_token());
        let row = TokenRow {
            id: ids::new_id(ids::TOKEN),
            cluster_id: may.cluster_id().to_string(),
            user_id: actor.user.id.clone(),
            name,
            role: req.role,
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
            user_name: Some(actor.user.name.clone()),
        };
        let mut tx = self.store.begin().await?;
        sql::insert(&mut *tx, &row, &hash_token(&token)).await?;
        let details = json!({ "name": row.name, "role": row.role, "expires_at": expires_at.map(clock::rfc3339) });
        let event = may.event(actor, AuditAction::TokenCreate, &row.id, details);
        commit_with(tx, event).await?;
        Ok(CreatedToken {
            token,
            api_token: view(row),
        })
    }

    pub async fn list_tokens(
        &self,
        actor: &Actor,
        cluster_id: &str,
    ) -> Result<TokenList, DomainError> {
        let may = authorize::<ManageTokens>(&self.store, actor, cluster_id).await?;
        let rows = sql::in_cluster(self.store.pool(), may.cluster_id()).await?;
        Ok(TokenList {
            tokens: rows.into_iter().map(view).collect(),
            next_cursor: None,
        })
    }

    pub async fn revoke_token(
        &self,
        actor: &Actor,
        cluster_id: &str,
        token_id: &str,
    ) -> Result<(), DomainError> {
        let may = authorize::<ManageTokens>(&self.store, actor, cluster_id).await?;
        let row = sql::by_id(self.store.pool(), token_id)
            .await?
            .filter(|t| t.cluster_id == may.cluster_id())
            .ok_or(DomainError::NotFound("token"))?;
        // Admins manage Members' and Guests' tokens (and their own), never an Owner's or
        // another Admin's: the same rule as for their roles. A former member's token is
        // anyone's to revoke.
        if row.user_id != actor.user.id {
            let holder = memberships::role_of(self.store.pool(), may.cluster_id(), &row.user_id)
                .await?
                .unwrap_or(Role::Guest);
            if !may_manage(may.role(), holder) {
                return Err(DomainError::Forbidden);
            }
        }
        let mut tx = self.store.begin().await?;
        if !sql::revoke(&mut *tx, &row.id, clock::now_ms()).await? {
            return Err(DomainError::Conflict("the token is already revoked".into()));
        }
        let details = json!({ "name": row.name });
        let event = may.event(actor, AuditAction::TokenRevoke, &row.id, details);
        commit_with(tx, event).await?;
        self.access_changed();
        Ok(())
    }

    /// When the API token the actor acts through expires (`None`: a session, or a token that
    /// never expires). What a token makes (a token, an invitation) expires by then too.
    pub(crate) async fn parent_token_expiry(
        &self,
        actor: &Actor,
    ) -> Result<Option<i64>, DomainError> {
        let Some(grant) = &actor.token else {
            return Ok(None);
        };
        let row = sql::by_id(self.store.pool(), &grant.id)
            .await?
            .ok_or(DomainError::Unauthorized(BAD_TOKEN))?;
        Ok(row.expires_at)
    }

    /// The actor behind an `Authorization: Bearer dp_…` token, if it is live.
    pub async fn authenticate_api_token(
        &self,
        token: &str,
        client: ClientInfo,
    ) -> Result<Actor, DomainError> {
        if !token.starts_with(PREFIX) {
            return Err(DomainError::Unauthorized(BAD_TOKEN));
        }
        let now = clock::now_ms();
        let row = sql::live(self.store.pool(), &hash_token(token), now)
            .await?
            .ok_or(DomainError::Unauthorized(BAD_TOKEN))?;
        let user = users::by_id(self.store.pool(), &row.user_id)
            .await?
            .ok_or(DomainError::Unauthorized(BAD_TOKEN))?;
        if row.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY_MS) {
            sql::touch(self.store.pool(), &row.id, now).await?;
        }
        Ok(Actor {
            user: user.to_api(),
            session_hash: String::new(),
            client,
            token: Some(TokenGrant {
                id: row.id,
                cluster_id: row.cluster_id,
                role: row.role,
            }),
        })
    }
}
