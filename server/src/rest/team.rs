//! `/api/v1/clusters/{cluster}/members|invites|tokens` and `/api/v1/invites/{token}`: who is in a
//! cluster and with which role, invitation links, and API tokens for the CLI and CI.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use proto::api::{
    AcceptInviteRequest, ChangeRoleRequest, ClusterSummary, CreateInviteRequest,
    CreateTokenRequest, CreatedInvite, CreatedToken, InviteInfo, InviteList, MemberList, Role,
    SignupResponse, TokenList,
};

use super::auth::signed_in;
use super::error::ApiResult;
use super::extract::{ApiJson, Authed, On, client, json_or_default};
use super::page::{Order, PageQuery, Paged, time_key};
use crate::state::ServerState;

#[utoipa::path(
    get, path = "/clusters/{id}/members", tag = "team", params(("id" = String, Path, description = "The cluster's id"), PageQuery),
    responses((status = 200, body = MemberList))
)]
pub async fn members(
    On(base, actor, cluster): On,
    Paged(page): Paged,
) -> ApiResult<Json<MemberList>> {
    let all = base.list_members(&actor, &cluster).await?;
    Ok(Json(page.of(all.members, Order::Asc, |m| {
        (format!("{}{}", rank(m.role), m.name), m.user_id.clone())
    })))
}

#[utoipa::path(
    patch, path = "/clusters/{id}/members/{user}", tag = "team", params(("id" = String, Path, description = "The cluster's id"), ("user" = String, Path, description = "The member's user id")), request_body = ChangeRoleRequest,
    responses((status = 204, description = "Changed"))
)]
pub async fn change_role(
    On(base, actor, (cluster, user)): On<(String, String)>,
    ApiJson(req): ApiJson<ChangeRoleRequest>,
) -> ApiResult<StatusCode> {
    base.change_role(&actor, &cluster, &user, req.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete, path = "/clusters/{id}/members/{user}", tag = "team", params(("id" = String, Path, description = "The cluster's id"), ("user" = String, Path, description = "The member's user id")),
    responses((status = 204, description = "Removed"))
)]
pub async fn remove_member(
    On(base, actor, (cluster, user)): On<(String, String)>,
) -> ApiResult<StatusCode> {
    base.remove_member(&actor, &cluster, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/clusters/{id}/invites", tag = "team", params(("id" = String, Path, description = "The cluster's id")), request_body = CreateInviteRequest,
    responses((status = 201, body = CreatedInvite))
)]
pub async fn invite(
    On(base, actor, cluster): On,
    ApiJson(req): ApiJson<CreateInviteRequest>,
) -> ApiResult<(StatusCode, Json<CreatedInvite>)> {
    let made = base.create_invite(&actor, &cluster, req).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(
    get, path = "/clusters/{id}/invites", tag = "team", params(("id" = String, Path, description = "The cluster's id"), PageQuery),
    responses((status = 200, body = InviteList))
)]
pub async fn invites(
    On(base, actor, cluster): On,
    Paged(page): Paged,
) -> ApiResult<Json<InviteList>> {
    let all = base.list_invites(&actor, &cluster).await?;
    Ok(Json(page.of(all.invites, Order::Desc, |i| {
        (time_key(&i.created_at), i.id.clone())
    })))
}

#[utoipa::path(
    delete, path = "/clusters/{id}/invites/{invite}", tag = "team", params(("id" = String, Path, description = "The cluster's id"), ("invite" = String, Path, description = "The invitation's id")),
    responses((status = 204, description = "Revoked"))
)]
pub async fn revoke_invite(
    On(base, actor, (cluster, invite)): On<(String, String)>,
) -> ApiResult<StatusCode> {
    base.revoke_invite(&actor, &cluster, &invite).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an invitation link is for; anyone holding the link may ask.
#[utoipa::path(
    get, path = "/invites/{token}", tag = "team", security(()), params(("token" = String, Path, description = "The invitation link's token")),
    responses((status = 200, body = InviteInfo))
)]
pub async fn invite_info(
    State(state): State<ServerState>,
    Path(token): Path<String>,
) -> ApiResult<Json<InviteInfo>> {
    Ok(Json(state.base.invite_info(&token).await?))
}

/// With a session and an empty body: join as yourself. With `{email, password, name}`: sign
/// up with the invited address and join (the answer sets the session cookie).
#[utoipa::path(
    post, path = "/invites/{token}/accept", tag = "team", security((), ("bearer" = []), ("session" = [])), params(("token" = String, Path, description = "The invitation link's token")),
    request_body(content = Option<AcceptInviteRequest>, description = "Empty to join as the signed-in user; the new account's details to sign up and join"),
    responses((status = 200, description = "Joined as the signed-in user", body = ClusterSummary), (status = 201, description = "Signed up and joined; sets the session cookie", body = SignupResponse), (status = 429, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn accept_invite(
    State(state): State<ServerState>,
    Path(token): Path<String>,
    parts: Parts,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: AcceptInviteRequest = json_or_default(&body, "invalid body")?;
    if req.email.is_some() || req.password.is_some() {
        let done = state
            .base
            .accept_invite_signup(&token, req, &client(&parts))
            .await?;
        let body = SignupResponse {
            user: done.user,
            cluster: done.cluster,
        };
        return Ok(signed_in(&state, &done.session, StatusCode::CREATED, body));
    }
    let mut parts = parts;
    let Authed(actor) =
        <Authed as axum::extract::FromRequestParts<ServerState>>::from_request_parts(
            &mut parts, &state,
        )
        .await?;
    let joined: ClusterSummary = state.base.accept_invite(&actor, &token).await?;
    Ok((StatusCode::OK, Json(joined)).into_response())
}

#[utoipa::path(
    post, path = "/clusters/{id}/tokens", tag = "team", params(("id" = String, Path, description = "The cluster's id")), request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken))
)]
pub async fn create_token(
    On(base, actor, cluster): On,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let made = base.create_token(&actor, &cluster, req).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(
    get, path = "/clusters/{id}/tokens", tag = "team", params(("id" = String, Path, description = "The cluster's id"), PageQuery),
    responses((status = 200, body = TokenList))
)]
pub async fn tokens(
    On(base, actor, cluster): On,
    Paged(page): Paged,
) -> ApiResult<Json<TokenList>> {
    let all = base.list_tokens(&actor, &cluster).await?;
    Ok(Json(page.of(all.tokens, Order::Desc, |t| {
        (time_key(&t.created_at), t.id.clone())
    })))
}

#[utoipa::path(
    delete, path = "/clusters/{id}/tokens/{token}", tag = "team", params(("id" = String, Path, description = "The cluster's id"), ("token" = String, Path, description = "The API token's id")),
    responses((status = 204, description = "Revoked"))
)]
pub async fn revoke_token(
    On(base, actor, (cluster, token)): On<(String, String)>,
) -> ApiResult<StatusCode> {
    base.revoke_token(&actor, &cluster, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Members are listed Owners first, then by name.
fn rank(role: Role) -> usize {
    Role::ALL
        .iter()
        .position(|r| *r == role)
        .unwrap_or(Role::ALL.len())
}
