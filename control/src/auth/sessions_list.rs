//! Sessions a person can see and end: the list of their signed-in sessions (device, address,
//! when made, when last used), "sign out" of one by its opaque id and "sign out everywhere
//! else". Ending a session tells every open stream to re-authorize ([`crate::revocation`]), so
//! that session's live views, log follows and consoles close within moments, and its next
//! request is refused. Also the last-use stamp [`Base::authenticate`] keeps, written at most
//! once a minute per session so reading pages does not turn into a write per request.

use proto::api::{AuditAction, RevokedSessions, SessionInfo, SessionList};
use serde_json::json;

use super::user_agent;
use crate::events::{NewEvent, commit_with};
use crate::store::sessions::{self, SessionRow};
use crate::store::users::UserRow;
use crate::{Actor, Base, DomainError, clock};

/// A session's last use is written again only when the stored one is older than this.
pub const LAST_USE_EVERY_MS: i64 = 60_000;

impl SessionRow {
    fn to_api(&self, current_hash: &str) -> SessionInfo {
        SessionInfo {
            id: self.id.clone(),
            device: user_agent::summarize(self.user_agent.as_deref()),
            ip: self.ip.clone(),
            created_at: clock::rfc3339(self.created_at),
            last_used_at: self.last_used_at.map(clock::rfc3339),
            current: self.token_hash == current_hash,
        }
    }
}

impl Base {
    /// The user of the live session `token_hash`, recording its use when the last recorded one
    /// is a minute old or more.
    pub(crate) async fn live_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<UserRow>, DomainError> {
        let now = clock::now_ms();
        let Some(live) = sessions::live(self.store.pool(), token_hash, now).await? else {
            return Ok(None);
        };
        let since = now - LAST_USE_EVERY_MS;
        if live.last_used_at.is_none_or(|t| t < since) {
            sessions::touch(self.store.pool(), token_hash, now, since).await?;
        }
        Ok(Some(live.user))
    }

    /// The actor's live sessions, most recently used first, the current one marked. A session
    /// of one's own only: API tokens are refused.
    pub async fn list_sessions(&self, actor: &Actor) -> Result<SessionList, DomainError> {
        actor.require_session()?;
        let rows = sessions::live_of(self.store.pool(), &actor.user.id, clock::now_ms()).await?;
        Ok(SessionList {
            sessions: rows.iter().map(|r| r.to_api(&actor.session_hash)).collect(),
        })
    }

    /// Signs out the actor's session `id` (the current one too, if asked); another person's
    /// id, an ended session or an unknown id is `NotFound`.
    pub async fn revoke_session(&self, actor: &Actor, id: &str) -> Result<(), DomainError> {
        actor.require_session()?;
        let mut tx = self.store.begin().await?;
        let row = sessions::revoke_by_id(&mut *tx, &actor.user.id, id, clock::now_ms())
            .await?
            .ok_or(DomainError::NotFound("session"))?;
        let details = json!({
            "device": user_agent::summarize(row.user_agent.as_deref()),
            "ip": row.ip,
            "current": row.token_hash == actor.session_hash,
        });
        let event = NewEvent {
            target: Some(&row.id),
            ..NewEvent::account(
                &actor.user.id,
                &actor.client,
                AuditAction::SessionRevoke,
                details,
            )
        };
        commit_with(tx, event).await?;
        self.access_changed();
        Ok(())
    }

    /// Signs out every session of the actor's but the one making the request.
    pub async fn revoke_other_sessions(
        &self,
        actor: &Actor,
    ) -> Result<RevokedSessions, DomainError> {
        actor.require_session()?;
        let mut tx = self.store.begin().await?;
        let revoked = sessions::revoke_others(
            &mut *tx,
            &actor.user.id,
            &actor.session_hash,
            clock::now_ms(),
        )
        .await?;
        let event = NewEvent::account(
            &actor.user.id,
            &actor.client,
            AuditAction::SessionRevokeOthers,
            json!({ "revoked": revoked }),
        );
        commit_with(tx, event).await?;
        self.access_changed();
        Ok(RevokedSessions { revoked })
    }
}
