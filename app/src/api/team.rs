//! Server functions for a cluster's people and access: members, invitations (and the page an
//! invitation link opens), API tokens, and the events log. Authorization is `control`'s.

use leptos::prelude::*;
use proto::api::{
    ClusterSummary, CreatedInvite, CreatedToken, EventPage, InviteInfo, InviteList, MemberList,
    TokenList,
};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::{
    as_actor, base, client_info, fail, maybe_actor, redirect_to_cluster, set_session_cookie,
};

/// The role a form names. Read inside the `control` call, so a refused role is answered like
/// any refused input (after the session is checked, with status 400).
#[cfg(feature = "ssr")]
pub(crate) fn role_of(text: &str) -> Result<proto::api::Role, control::DomainError> {
    proto::api::Role::parse(text.trim()).ok_or_else(|| {
        control::DomainError::invalid("role", "choose owner, admin, member or guest")
    })
}

#[server(prefix = "/rpc")]
pub async fn list_members(cluster_id: String) -> Result<MemberList, AppError> {
    as_actor(async |base, actor| base.list_members(actor, &cluster_id).await).await
}

#[server(prefix = "/rpc")]
pub async fn change_member_role(
    cluster_id: String,
    user_id: String,
    role: String,
) -> Result<(), AppError> {
    as_actor(async |base, actor| {
        base.change_role(actor, &cluster_id, &user_id, role_of(&role)?)
            .await
    })
    .await
}

#[server(prefix = "/rpc")]
pub async fn remove_member(cluster_id: String, user_id: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.remove_member(actor, &cluster_id, &user_id).await).await
}

#[server(prefix = "/rpc")]
pub async fn create_invite(
    cluster_id: String,
    email: String,
    role: String,
) -> Result<CreatedInvite, AppError> {
    as_actor(async |base, actor| {
        let req = proto::api::CreateInviteRequest {
            email,
            role: role_of(&role)?,
        };
        base.create_invite(actor, &cluster_id, req).await
    })
    .await
}

#[server(prefix = "/rpc")]
pub async fn list_invites(cluster_id: String) -> Result<InviteList, AppError> {
    as_actor(async |base, actor| base.list_invites(actor, &cluster_id).await).await
}

#[server(prefix = "/rpc")]
pub async fn revoke_invite(cluster_id: String, invite_id: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.revoke_invite(actor, &cluster_id, &invite_id).await).await
}

/// What an invitation link is for, and whether someone is signed in (to offer "Join").
#[server(prefix = "/rpc")]
pub async fn get_invite(token: String) -> Result<(InviteInfo, Option<String>), AppError> {
    let info = base()?.invite_info(&token).await.map_err(fail)?;
    let me = maybe_actor().await?.map(|a| a.user.email);
    Ok((info, me))
}

/// Joins as the signed-in person.
#[server(prefix = "/rpc")]
pub async fn join_by_invite(token: String) -> Result<ClusterSummary, AppError> {
    as_actor(async |base, actor| base.accept_invite(actor, &token).await)
        .await
        .inspect(|cluster| redirect_to_cluster(&cluster.id))
}

/// Signs up with the invited address and joins (sign-up need not be open).
#[server(prefix = "/rpc")]
pub async fn signup_by_invite(
    token: String,
    email: String,
    name: String,
    password: String,
) -> Result<(), AppError> {
    let base = base()?;
    let req = proto::api::AcceptInviteRequest {
        email: Some(email),
        password: Some(password),
        name: Some(name),
    };
    let done = base
        .accept_invite_signup(&token, req, &client_info())
        .await
        .map_err(fail)?;
    set_session_cookie(&base, &done.session);
    redirect_to_cluster(&done.cluster.id);
    Ok(())
}

#[server(prefix = "/rpc")]
pub async fn list_tokens(cluster_id: String) -> Result<TokenList, AppError> {
    as_actor(async |base, actor| base.list_tokens(actor, &cluster_id).await).await
}

/// `expires_in_days`: empty for no expiry.
#[server(prefix = "/rpc")]
pub async fn create_token(
    cluster_id: String,
    name: String,
    role: String,
    expires_in_days: String,
) -> Result<CreatedToken, AppError> {
    as_actor(async |base, actor| {
        let days = expires_in_days.trim();
        let expires_in_days = if days.is_empty() {
            None
        } else {
            Some(days.parse::<u32>().map_err(|_| {
                control::DomainError::invalid(
                    "expires_in_days",
                    "a number of days, or empty for no expiry",
                )
            })?)
        };
        let req = proto::api::CreateTokenRequest {
            name,
            role: role_of(&role)?,
            expires_in_days,
        };
        base.create_token(actor, &cluster_id, req).await
    })
    .await
}

#[server(prefix = "/rpc")]
pub async fn revoke_token(cluster_id: String, token_id: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.revoke_token(actor, &cluster_id, &token_id).await).await
}

/// A page of the cluster's events (filters empty: all), newest first.
#[server(prefix = "/rpc")]
pub async fn list_events(
    cluster_id: String,
    actor_id: String,
    action: String,
    target: String,
    cursor: String,
) -> Result<EventPage, AppError> {
    let filter =
        proto::api::EventFilter::new(Some(actor_id), Some(action), Some(target), Some(cursor));
    as_actor(async |base, actor| base.event_page(actor, &cluster_id, &filter, 50).await).await
}

/// The permission matrix (`control::rbac::TABLE`): each action's name and the roles allowed.
#[server(prefix = "/rpc")]
pub async fn permission_matrix() -> Result<Vec<(String, Vec<proto::api::Role>)>, AppError> {
    Ok(control::rbac::TABLE
        .iter()
        .map(|(name, roles)| (name.to_string(), roles.to_vec()))
        .collect())
}
