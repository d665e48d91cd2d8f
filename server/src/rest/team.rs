//! `/api/v1/clusters/{cluster}/members|invites|tokens` and `/api/v1/invites/{token}`: who is in a
//! cluster and with which role, invitation links, and API tokens for the CLI and CI.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use proto::api::{
    AcceptInviteRequest, ChangeRoleRequest, ClusterSummary, CreateInviteRequest,
    CreateTokenRequest, CreatedInvite, CreatedToken, InviteInfo, InviteList, MemberList,
    SignupResponse, TokenList,
};

use super::auth::{session_cookie, with_cookie};
use super::error::ApiError;
use super::extract::{ApiJson, Authed, client};
use crate::state::ServerState;

pub async fn members(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
) -> Result<Json<MemberList>, ApiError> {
    Ok(Json(state.base.list_members(&actor, &cluster).await?))
}

pub async fn change_role(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path((cluster, user)): Path<(String, String)>,
    ApiJson(req): ApiJson<ChangeRoleRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .base
        .change_role(&actor, &cluster, &user, req.role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_member(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path((cluster, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.base.remove_member(&actor, &cluster, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn invite(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
    ApiJson(req): ApiJson<CreateInviteRequest>,
) -> Result<(StatusCode, Json<CreatedInvite>), ApiError> {
    let made = state.base.create_invite(&actor, &cluster, req).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

pub async fn invites(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
) -> Result<Json<InviteList>, ApiError> {
    Ok(Json(state.base.list_invites(&actor, &cluster).await?))
}

pub async fn revoke_invite(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path((cluster, invite)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.base.revoke_invite(&actor, &cluster, &invite).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an invitation link is for; anyone holding the link may ask.
pub async fn invite_info(
    State(state): State<ServerState>,
    Path(token): Path<String>,
) -> Result<Json<InviteInfo>, ApiError> {
    Ok(Json(state.base.invite_info(&token).await?))
}

/// With a session and an empty body: join as yourself. With `{email, password, name}`: sign
/// up with the invited address and join (the answer sets the session cookie).
pub async fn accept_invite(
    State(state): State<ServerState>,
    Path(token): Path<String>,
    parts: Parts,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: AcceptInviteRequest = if body.iter().all(u8::is_ascii_whitespace) {
        AcceptInviteRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::Status(StatusCode::BAD_REQUEST, format!("invalid body: {e}")))?
    };
    if req.email.is_some() || req.password.is_some() {
        let done = state
            .base
            .accept_invite_signup(&token, req, &client(&parts))
            .await?;
        let cookie = session_cookie(&state, &done.session);
        let body = SignupResponse {
            user: done.user,
            cluster: done.cluster,
        };
        return Ok(with_cookie(
            (StatusCode::CREATED, Json(body)).into_response(),
            &cookie,
        ));
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

pub async fn create_token(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let made = state.base.create_token(&actor, &cluster, req).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

pub async fn tokens(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path(cluster): Path<String>,
) -> Result<Json<TokenList>, ApiError> {
    Ok(Json(state.base.list_tokens(&actor, &cluster).await?))
}

pub async fn revoke_token(
    State(state): State<ServerState>,
    Authed(actor): Authed,
    Path((cluster, token)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.base.revoke_token(&actor, &cluster, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}
