//! The second step of signing in to an account with two-factor on, and step-up: a session
//! remembers when a code was last entered on it, and sensitive actions (deleting a cluster,
//! transferring ownership, removing members, creating API tokens, turning two-factor off) want
//! one from the last 5 minutes.

use proto::api::AuditAction;
use serde_json::json;

use super::codes::Used;
use crate::auth::{LoggedIn, LoginChallenge, sign_ins, token};
use crate::events::{NewEvent, record};
use crate::store::Tx;
use crate::store::two_factor as sql;
use crate::store::users::{self, UserRow};
use crate::{Actor, Base, ClientInfo, DomainError};

/// How long the second step of a sign-in may wait for its code.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;
/// How recent a code must be for a sensitive action.
pub const STEP_UP_WINDOW_MS: i64 = 5 * 60 * 1000;
/// A challenge unknown, used or expired: the person starts again with the password.
pub const CHALLENGE_GONE: &str = "this sign-in has expired: enter your email and password again";

/// Writes what using `used` says beyond the action's own event: a spent backup code.
async fn record_backup_use(
    tx: &mut Tx<'_>,
    user_id: &str,
    client: &ClientInfo,
    used: Used,
) -> Result<(), DomainError> {
    if let Used::Backup { left } = used {
        let e = NewEvent::account(
            user_id,
            client,
            AuditAction::UserTwoFactorBackupUsed,
            json!({ "left": left }),
        );
        record(&mut **tx, e).await?;
    }
    Ok(())
}

impl Base {
    /// A challenge for `user_id` when their account has two-factor on.
    pub(crate) async fn challenge_for(
        &self,
        user_id: &str,
    ) -> Result<Option<LoginChallenge>, DomainError> {
        let pool = self.store.pool();
        if !sql::enabled(pool, user_id).await? {
            return Ok(None);
        }
        let now = self.clock.now_ms();
        let (token, hash) = token::new_token();
        sql::prune_challenges(pool, now - 24 * 3600 * 1000).await?;
        sql::insert_challenge(pool, &hash, user_id, now, now + CHALLENGE_TTL_MS).await?;
        Ok(Some(LoginChallenge {
            token,
            expires_in_secs: (CHALLENGE_TTL_MS / 1000) as u64,
        }))
    }

    /// The second step of a sign-in: the challenge from [`Base::login`] and a code (TOTP or a
    /// backup code, which is then spent) open a session, counted as a step-up.
    pub async fn login_with_code(
        &self,
        challenge: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<LoggedIn, DomainError> {
        let hash = token::hash_token(challenge);
        let now = self.clock.now_ms();
        let user_id = sql::challenge_user(self.store.pool(), &hash, now)
            .await?
            .ok_or(DomainError::Unauthorized(CHALLENGE_GONE))?;
        let user = users::by_id(self.store.pool(), &user_id)
            .await?
            .ok_or(DomainError::Unauthorized(CHALLENGE_GONE))?;
        let mut tx = self.store.begin().await?;
        let used = match self.check_code(&mut tx, &user, code, client).await {
            Ok(used) => used,
            Err(e) => {
                drop(tx);
                self.record_code_failure(&user, client).await?;
                return Err(e);
            }
        };
        if !sql::use_challenge(&mut *tx, &hash, now).await? {
            return Err(DomainError::Unauthorized(CHALLENGE_GONE));
        }
        let session = self.start_session(&mut tx, &user.id, client).await?;
        sql::set_step_up(&mut *tx, &token::hash_token(&session.token), now).await?;
        sign_ins::signed_in(&mut tx, &user.id, client, Some(used.as_str())).await?;
        record_backup_use(&mut tx, &user.id, client, used).await?;
        tx.commit().await?;
        Ok(LoggedIn {
            user: user.to_api(),
            session,
        })
    }

    /// A wrong second factor at sign-in, recorded like a wrong password.
    async fn record_code_failure(
        &self,
        user: &UserRow,
        client: &ClientInfo,
    ) -> Result<(), DomainError> {
        sign_ins::failed(&self.store, Some(&user.id), &user.email, client, true).await
    }

    /// Enters a code on the actor's session: sensitive actions are allowed for 5 minutes.
    pub async fn step_up(&self, actor: &Actor, code: &str) -> Result<(), DomainError> {
        actor.require_session()?;
        let user = users::by_id(self.store.pool(), &actor.user.id)
            .await?
            .ok_or(DomainError::Unauthorized(crate::auth::NOT_SIGNED_IN))?;
        let mut tx = self.store.begin().await?;
        let used = self.check_code(&mut tx, &user, code, &actor.client).await?;
        sql::set_step_up(&mut *tx, &actor.session_hash, self.clock.now_ms()).await?;
        let details = json!({ "with": used.as_str() });
        record(
            &mut *tx,
            NewEvent::account(&user.id, &actor.client, AuditAction::UserStepUp, details),
        )
        .await?;
        record_backup_use(&mut tx, &user.id, &actor.client, used).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refuses a sensitive action with [`DomainError::StepUpRequired`] when the actor's account
    /// has two-factor on and no code was entered on this session in the last 5 minutes. API
    /// tokens pass: they cannot enter a code, and making one took a step-up.
    pub(crate) async fn require_step_up(&self, actor: &Actor) -> Result<(), DomainError> {
        if actor.token.is_some() {
            return Ok(());
        }
        let pool = self.store.pool();
        if !sql::enabled(pool, &actor.user.id).await? {
            return Ok(());
        }
        let now = self.clock.now_ms();
        match sql::step_up_at(pool, &actor.session_hash).await? {
            Some(at) if now - at <= STEP_UP_WINDOW_MS => Ok(()),
            _ => Err(DomainError::StepUpRequired),
        }
    }
}
