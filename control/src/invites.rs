//! Invitations: an Admin or Owner invites an email address with a role and gets a link with a
//! single-use token (stored hashed, valid 7 days). Whoever holds the link signs in as that
//! address and joins, or signs up with it and joins, even when open sign-up is off. The link
//! is shown to copy, or mailed when SMTP is set up. An invitation made through an API token
//! expires no later than the token; one whose inviter has since left, or no longer has a role
//! that may invite to its role, is refused when accepted (audit finding M5).

use proto::api::{
    AcceptInviteRequest, AuditAction, ClusterSummary, CreateInviteRequest, CreatedInvite, Invite,
    InviteInfo, InviteList, Role, SignupRequest,
};
use serde_json::json;

use crate::auth::SignedUp;
use crate::auth::token::{hash_token, random_token};
use crate::events::{NewEvent, commit_with, record};
use crate::members::may_manage;
use crate::rbac::{ManageMembers, authorize};
use crate::store::invites::{self as sql, InviteRow};
use crate::store::{clusters, memberships, users};
use crate::{Actor, Base, ClientInfo, DomainError, clock, ids, validate};

const TTL_MS: i64 = 7 * 24 * 3600 * 1000;
const GONE: &str = "invitation";

fn view(r: &InviteRow) -> Invite {
    Invite {
        id: r.id.clone(),
        email: r.email.clone(),
        role: r.role,
        invited_by: r.invited_by_name.clone(),
        created_at: clock::rfc3339(r.created_at),
        expires_at: clock::rfc3339(r.expires_at),
    }
}

impl Base {
    pub async fn create_invite(
        &self,
        actor: &Actor,
        cluster_id: &str,
        req: CreateInviteRequest,
    ) -> Result<CreatedInvite, DomainError> {
        let may = authorize::<ManageMembers>(&self.store, actor, cluster_id).await?;
        if !may_manage(may.role(), req.role) {
            return Err(DomainError::Forbidden);
        }
        let email = validate::email(&req.email)?;
        if let Some(u) = users::by_email(self.store.pool(), &email).await?
            && memberships::role_of(self.store.pool(), may.cluster_id(), &u.id)
                .await?
                .is_some()
        {
            return Err(DomainError::Conflict(format!(
                "{email} is already a member of this cluster"
            )));
        }
        let token = random_token();
        let now = clock::now_ms();
        // Made through an API token: the invitation dies with it (audit finding M5).
        let expires_at = match self.parent_token_expiry(actor).await? {
            Some(parent) => (now + TTL_MS).min(parent),
            None => now + TTL_MS,
        };
        let row = InviteRow {
            id: ids::new_id(ids::INVITE),
            cluster_id: may.cluster_id().to_string(),
            email,
            role: req.role,
            invited_by: Some(actor.user.id.clone()),
            created_at: now,
            expires_at,
            invited_by_name: Some(actor.user.name.clone()),
        };
        let mut tx = self.store.begin().await?;
        sql::insert(&mut *tx, &row, &hash_token(&token)).await?;
        let details = json!({ "email": row.email, "role": row.role });
        let event = may.event(actor, AuditAction::MemberInvite, &row.id, details);
        commit_with(tx, event).await?;
        let mut url = self.config.public_url.clone();
        url.set_path(&format!("/invite/{token}"));
        let emailed = self.email_invite(actor, &row, url.as_str()).await;
        Ok(CreatedInvite {
            invite: view(&row),
            invite_url: url.to_string(),
            emailed,
        })
    }

    /// Sends the link when SMTP is configured; true when the relay took it.
    async fn email_invite(&self, actor: &Actor, row: &InviteRow, url: &str) -> bool {
        let Some(mailer) = &self.mailer else {
            return false;
        };
        let cluster = crate::store::clusters::by_id(self.store.pool(), &row.cluster_id)
            .await
            .ok()
            .flatten()
            .map(|c| c.name)
            .unwrap_or_default();
        let mail = crate::mail::Mail {
            to: row.email.clone(),
            subject: format!("{} invited you to {cluster} on dployr", actor.user.name),
            body: format!(
                "{} ({}) invited you to join {cluster} as {} on dployr.\n\n\
                 Accept the invitation here:\n{url}\n\n\
                 The link works once and expires in 7 days. If you did not expect it, ignore \
                 this email.\n",
                actor.user.name, actor.user.email, row.role
            ),
        };
        match mailer.send(mail).await {
            Ok(()) => true,
            Err(e) => {
                // Not the link: it is a credential.
                tracing::warn!(invite = %row.id, error = %e, "emailing the invitation failed");
                false
            }
        }
    }

    pub async fn list_invites(
        &self,
        actor: &Actor,
        cluster_id: &str,
    ) -> Result<InviteList, DomainError> {
        let may = authorize::<ManageMembers>(&self.store, actor, cluster_id).await?;
        let rows = sql::pending_in(self.store.pool(), may.cluster_id(), clock::now_ms()).await?;
        Ok(InviteList {
            invites: rows.iter().map(view).collect(),
            next_cursor: None,
        })
    }

    pub async fn revoke_invite(
        &self,
        actor: &Actor,
        cluster_id: &str,
        invite_id: &str,
    ) -> Result<(), DomainError> {
        let may = authorize::<ManageMembers>(&self.store, actor, cluster_id).await?;
        let now = clock::now_ms();
        let invite = sql::pending_in(self.store.pool(), may.cluster_id(), now)
            .await?
            .into_iter()
            .find(|i| i.id == invite_id)
            .ok_or(DomainError::NotFound(GONE))?;
        // Only an Owner withdraws an invitation to become Admin or Owner, as only an Owner
        // makes one.
        if !may_manage(may.role(), invite.role) {
            return Err(DomainError::Forbidden);
        }
        let mut tx = self.store.begin().await?;
        if !sql::revoke(&mut *tx, may.cluster_id(), invite_id, now).await? {
            return Err(DomainError::NotFound(GONE));
        }
        let event = may.event(actor, AuditAction::MemberInviteRevoke, invite_id, json!({}));
        commit_with(tx, event).await?;
        Ok(())
    }

    async fn pending_invite(&self, token: &str) -> Result<(InviteRow, String), DomainError> {
        let row = sql::pending_by_hash(self.store.pool(), &hash_token(token), clock::now_ms())
            .await?
            .ok_or(DomainError::NotFound(GONE))?;
        let cluster = clusters::by_id(self.store.pool(), &row.cluster_id)
            .await?
            .ok_or(DomainError::NotFound(GONE))?;
        Ok((row, cluster.name))
    }

    /// What a pending invitation link is for (anyone holding the link may ask).
    pub async fn invite_info(&self, token: &str) -> Result<InviteInfo, DomainError> {
        let (row, cluster_name) = self.pending_invite(token).await?;
        Ok(InviteInfo {
            cluster_name,
            email: row.email,
            role: row.role,
            invited_by: row.invited_by_name,
            expires_at: clock::rfc3339(row.expires_at),
        })
    }

    /// Joins the invited cluster as the signed-in user (who must be the invited address).
    pub async fn accept_invite(
        &self,
        actor: &Actor,
        token: &str,
    ) -> Result<ClusterSummary, DomainError> {
        actor.require_session()?;
        let (row, cluster_name) = self.pending_invite(token).await?;
        if actor.user.email != row.email {
            return Err(DomainError::invalid(
                "email",
                format!(
                    "this invitation is for {}: sign in with that address",
                    row.email
                ),
            ));
        }
        let role = row.role;
        let mut tx = self.store.begin().await?;
        if memberships::role_of(&mut *tx, &row.cluster_id, &actor.user.id)
            .await?
            .is_some()
        {
            return Err(DomainError::Conflict(
                "you are already a member of this cluster".into(),
            ));
        }
        self.join_by_invite(&mut tx, &row, &actor.user.id, &actor.client, role)
            .await?;
        tx.commit().await?;
        Ok(ClusterSummary {
            id: row.cluster_id,
            name: cluster_name,
            role,
        })
    }

    /// Signs up with the invited address and joins, whether or not open sign-up is on.
    pub async fn accept_invite_signup(
        &self,
        token: &str,
        req: AcceptInviteRequest,
        client: &ClientInfo,
    ) -> Result<SignedUp, DomainError> {
        let (row, cluster_name) = self.pending_invite(token).await?;
        let missing =
            |f: &'static str| DomainError::invalid(f, format!("{f} is required to sign up"));
        let req = SignupRequest {
            email: req.email.ok_or_else(|| missing("email"))?,
            password: req.password.ok_or_else(|| missing("password"))?,
            name: req.name.ok_or_else(|| missing("name"))?,
        };
        let email = validate::email(&req.email)?;
        if email != row.email {
            return Err(DomainError::invalid(
                "email",
                format!("this invitation is for {}", row.email),
            ));
        }
        let name = validate::display_name("name", &req.name)?;
        validate::password(&req.password, &email)?;
        let user = self.new_user(email, name, &req.password).await?;
        let role = row.role;
        let mut tx = self.store.begin().await?;
        let details = json!({ "email": user.email, "invite": row.id });
        let taken = "an account with this email already exists: sign in, then open the link again";
        crate::auth::insert_user(&mut tx, &user, client, details, taken).await?;
        self.join_by_invite(&mut tx, &row, &user.id, client, role)
            .await?;
        let session = self.start_session(&mut tx, &user.id, client).await?;
        tx.commit().await?;
        Ok(SignedUp {
            user: user.to_api(),
            cluster: ClusterSummary {
                id: row.cluster_id,
                name: cluster_name,
                role,
            },
            session,
        })
    }

    async fn join_by_invite(
        &self,
        tx: &mut crate::store::Tx<'_>,
        row: &InviteRow,
        user_id: &str,
        client: &ClientInfo,
        role: Role,
    ) -> Result<(), DomainError> {
        let now = clock::now_ms();
        let inviter = match &row.invited_by {
            Some(by) => memberships::role_of(&mut **tx, &row.cluster_id, by).await?,
            None => None,
        };
        if !inviter.is_some_and(|r| crate::rbac::allows::<ManageMembers>(r) && may_manage(r, role))
        {
            return Err(DomainError::Conflict(
                "this invitation is no longer valid: whoever sent it can no longer invite to \
                 this role; ask for a new one"
                    .into(),
            ));
        }
        if !sql::accept(&mut **tx, &row.id, user_id, now).await? {
            return Err(DomainError::NotFound(GONE));
        }
        memberships::insert(&mut **tx, &row.cluster_id, user_id, role, now).await?;
        record(
            &mut **tx,
            NewEvent {
                cluster_id: Some(&row.cluster_id),
                ..NewEvent::account(
                    user_id,
                    client,
                    AuditAction::MemberJoin,
                    json!({ "role": role.as_str(), "invite": row.id }),
                )
            },
        )
        .await?;
        Ok(())
    }
}
