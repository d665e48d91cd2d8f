//! Accounts and sessions: sign up, log in, log out, authenticate a session token, change password.
//!
//! - [`password`]: argon2id hashing off the async workers.
//! - [`token`]: random bearer tokens and their stored hashes.
//! - [`cookie`]: the session cookie's attributes, written and parsed.
//! - [`limiter`]: failed-login throttling per IP and per account.
//! - [`sign_ins`]: sign-ins and failed attempts in the account's and its clusters' events.
//! - [`sessions_list`]: the person's sessions, listed and ended; their last use.
//! - [`user_agent`]: "Firefox 128 on Linux" from a `User-Agent`.

pub mod cookie;
pub mod limiter;
pub mod password;
pub mod sessions_list;
pub(crate) mod sign_ins;
pub mod token;
pub mod user_agent;

use std::time::Instant;

use proto::api::{AuditAction, ClusterSummary, Role, SignupRequest, User};
use serde_json::json;

use crate::events::{NewEvent, record};
use crate::store::sessions::NewSession;
use crate::store::users::UserRow;
use crate::store::{clusters, flags, is_unique_violation, memberships, sessions, users};
use crate::{Actor, Base, ClientInfo, DomainError, clock, ids, validate};

/// The one message for every failed login, so nobody can probe which emails have accounts.
pub const LOGIN_FAILED: &str = "invalid email or password";
pub const NOT_SIGNED_IN: &str = "sign in to continue";

/// A new session: the plaintext token goes to the client once and is never stored.
#[derive(Debug)]
pub struct NewSessionToken {
    pub token: String,
    pub max_age_secs: u64,
}

#[derive(Debug)]
pub struct SignedUp {
    pub user: User,
    pub cluster: ClusterSummary,
    pub session: NewSessionToken,
}

#[derive(Debug)]
pub struct LoggedIn {
    pub user: User,
    pub session: NewSessionToken,
}

/// A correct password on an account with two-factor: no session yet. `token` goes to the client
/// once; [`Base::login_with_code`] takes it back with the code.
#[derive(Debug)]
pub struct LoginChallenge {
    pub token: String,
    pub expires_in_secs: u64,
}

/// What a correct password leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn(LoggedIn),
    /// Two-factor is on: ask for the code.
    NeedsCode(LoginChallenge),
}

impl LoginOutcome {
    /// The session, when the password alone opened one.
    pub fn signed_in(self) -> Option<LoggedIn> {
        match self {
            LoginOutcome::SignedIn(done) => Some(done),
            LoginOutcome::NeedsCode(_) => None,
        }
    }
}

/// The name of the cluster a new account starts with: "Ana's cluster".
/// The conflict when a sign-up's email already has an account.
const TAKEN: &str = "an account with this email already exists";

/// Stores a new account in `tx` with its `user.signup` event (`details`); `taken` is the
/// conflict's message when its email already has an account.
pub(crate) async fn insert_user(
    tx: &mut crate::store::Tx<'_>,
    user: &UserRow,
    client: &ClientInfo,
    details: serde_json::Value,
    taken: &str,
) -> Result<(), DomainError> {
    users::insert(&mut **tx, user).await.map_err(|e| {
        if is_unique_violation(&e) {
            DomainError::Conflict(taken.into())
        } else {
            e.into()
        }
    })?;
    let event = NewEvent::account(&user.id, client, AuditAction::UserSignup, details);
    record(&mut **tx, event).await
}

fn first_cluster_name(person: &str) -> String {
    let first = person.split_whitespace().next().unwrap_or(person);
    format!("{first}'s cluster")
}

impl Base {
    pub(crate) async fn start_session(
        &self,
        tx: &mut crate::store::Tx<'_>,
        user_id: &str,
        client: &ClientInfo,
    ) -> Result<NewSessionToken, DomainError> {
        let (token, hash) = token::new_token();
        let now = clock::now_ms();
        let ttl = self.config.session_ttl;
        sessions::insert(
            &mut **tx,
            &NewSession {
                token_hash: &hash,
                user_id,
                created_at: now,
                expires_at: now + ttl.as_millis() as i64,
                ip: client.ip.as_deref(),
                user_agent: client.user_agent.as_deref(),
            },
        )
        .await?;
        Ok(NewSessionToken {
            token,
            max_age_secs: ttl.as_secs(),
        })
    }

    /// Whether the sign-up form is offered: `(first_user, open)`. On a Base with no account the
    /// first person to sign up owns it; later people may sign up only with open sign-up on.
    pub async fn signup_offer(&self) -> Result<(bool, bool), DomainError> {
        let first_user = users::count(self.store.pool()).await? == 0;
        Ok((first_user, first_user || self.config.open_signup))
    }

    /// A new account's row with its password hashed, as signing up and accepting an invitation
    /// with a new account both store it (checked by the caller).
    pub(crate) async fn new_user(
        &self,
        email: String,
        name: String,
        password: &str,
    ) -> Result<UserRow, DomainError> {
        let password_hash = self.hasher.hash(password).await?;
        Ok(UserRow {
            id: ids::new_id(ids::USER),
            email,
            name,
            password_hash,
            created_at: clock::now_ms(),
        })
    }

    /// Creates an account, its first cluster (with the new user as Owner) and a session. Only the
    /// first person on a Base may sign up unless open sign-up is on.
    pub async fn signup(
        &self,
        req: SignupRequest,
        client: &ClientInfo,
    ) -> Result<SignedUp, DomainError> {
        let email = validate::email(&req.email)?;
        let name = validate::display_name("name", &req.name)?;
        validate::password(&req.password, &email)?;
        if !self.config.open_signup && users::count(self.store.pool()).await? > 0 {
            return Err(DomainError::SignupClosed);
        }
        let user = self.new_user(email, name, &req.password).await?;
        let now = user.created_at;
        let cluster = clusters::ClusterRow {
            id: ids::new_id(ids::CLUSTER),
            name: first_cluster_name(&user.name),
            created_at: now,
        };

        let mut tx = self.store.begin().await?;
        if !self.config.open_signup {
            flags::claim(&mut *tx, flags::OWNER_CLAIMED, now)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        DomainError::SignupClosed
                    } else {
                        e.into()
                    }
                })?;
        }
        let details = json!({ "email": user.email });
        insert_user(&mut tx, &user, client, details, TAKEN).await?;
        clusters::insert(&mut *tx, &cluster, &user.id).await?;
        memberships::insert(&mut *tx, &cluster.id, &user.id, Role::Owner, now).await?;
        let session = self.start_session(&mut tx, &user.id, client).await?;
        record(
            &mut *tx,
            NewEvent {
                cluster_id: Some(&cluster.id),
                target: Some(&cluster.id),
                ..NewEvent::account(
                    &user.id,
                    client,
                    AuditAction::ClusterCreate,
                    json!({ "name": cluster.name }),
                )
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user.id = %user.id, cluster.id = %cluster.id, "signed up");

        let summary = ClusterSummary {
            id: cluster.id,
            name: cluster.name,
            role: Role::Owner,
        };
        Ok(SignedUp {
            user: user.to_api(),
            cluster: summary,
            session,
        })
    }

    /// Checks credentials and opens a session, or, on an account with two-factor on, answers a
    /// challenge for [`Base::login_with_code`]. Unknown email and wrong password are one error.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<LoginOutcome, DomainError> {
        let email = email.trim().to_lowercase();
        let ip = client.ip.as_deref();
        // Taken before the hash, so attempts in flight count (M2).
        let slot = self
            .limiter
            .reserve(&email, ip, Instant::now())
            .map_err(|retry_after| DomainError::RateLimited { retry_after })?;
        let user = users::by_email(self.store.pool(), &email).await?;
        let ok = self
            .hasher
            .verify(user.as_ref().map(|u| u.password_hash.as_str()), password)
            .await;
        let Some(user) = user.filter(|_| ok) else {
            slot.failed(Instant::now());
            tracing::info!(ip, "failed login");
            // Recorded against the account when there is one (never the password tried).
            let target = users::by_email(self.store.pool(), &email)
                .await?
                .map(|u| u.id);
            sign_ins::failed(&self.store, target.as_deref(), &email, client, false).await?;
            return Err(DomainError::Unauthorized(LOGIN_FAILED));
        };
        if let Some(challenge) = self.challenge_for(&user.id).await? {
            return Ok(LoginOutcome::NeedsCode(challenge));
        }
        let mut tx = self.store.begin().await?;
        let session = self.start_session(&mut tx, &user.id, client).await?;
        sign_ins::signed_in(&mut tx, &user.id, client, None).await?;
        tx.commit().await?;
        Ok(LoginOutcome::SignedIn(LoggedIn {
            user: user.to_api(),
            session,
        }))
    }

    /// The signed-in user behind a session token, if the session is live.
    pub async fn authenticate(
        &self,
        token: &str,
        client: ClientInfo,
    ) -> Result<Actor, DomainError> {
        let session_hash = token::hash_token(token);
        let user = self
            .live_session(&session_hash)
            .await?
            .ok_or(DomainError::Unauthorized(NOT_SIGNED_IN))?;
        Ok(Actor {
            user: user.to_api(),
            session_hash,
            client,
            token: None,
        })
    }

    /// Revokes the actor's session on the server; the cookie is worthless from now on.
    pub async fn logout(&self, actor: &Actor) -> Result<(), DomainError> {
        actor.require_session()?;
        let mut tx = self.store.begin().await?;
        sessions::revoke(&mut *tx, &actor.session_hash, clock::now_ms()).await?;
        record(
            &mut *tx,
            NewEvent {
                actor_token_id: actor.token_id(),
                ..NewEvent::account(
                    &actor.user.id,
                    &actor.client,
                    AuditAction::UserLogout,
                    json!({}),
                )
            },
        )
        .await?;
        tx.commit().await?;
        self.access_changed();
        Ok(())
    }

    /// Changes the password after checking the current one, signs out every other session and
    /// revokes every API token of the user.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<(), DomainError> {
        actor.require_session()?;
        let email = actor.user.email.as_str();
        let ip = actor.client.ip.as_deref();
        let slot = self
            .limiter
            .reserve(email, ip, Instant::now())
            .map_err(|retry_after| DomainError::RateLimited { retry_after })?;
        let user = users::by_id(self.store.pool(), &actor.user.id)
            .await?
            .ok_or(DomainError::Unauthorized(NOT_SIGNED_IN))?;
        if !self.hasher.verify(Some(&user.password_hash), current).await {
            slot.failed(Instant::now());
            return Err(DomainError::invalid(
                "current_password",
                "current password is wrong",
            ));
        }
        validate::password(new, email).map_err(|e| match e {
            DomainError::Invalid { message, .. } => DomainError::invalid("new_password", message),
            other => other,
        })?;
        if new == current {
            return Err(DomainError::invalid(
                "new_password",
                "choose a password you have not used here",
            ));
        }
        let hash = self.hasher.hash(new).await?;
        let now = clock::now_ms();
        let mut tx = self.store.begin().await?;
        users::set_password_hash(&mut *tx, &user.id, &hash, now).await?;
        let revoked = sessions::revoke_others(&mut *tx, &user.id, &actor.session_hash, now).await?;
        // Whoever knew the old password may have made tokens with it (audit finding M5).
        let tokens = crate::store::tokens::revoke_all_of(&mut *tx, &user.id, now).await?;
        record(
            &mut *tx,
            NewEvent::account(
                &user.id,
                &actor.client,
                AuditAction::UserPasswordChange,
                json!({ "other_sessions_revoked": revoked, "api_tokens_revoked": tokens }),
            ),
        )
        .await?;
        tx.commit().await?;
        self.access_changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_cluster_is_named_after_the_first_name() {
        assert_eq!(super::first_cluster_name("Ana Lopez"), "Ana's cluster");
        assert_eq!(super::first_cluster_name("Bo"), "Bo's cluster");
    }
}
