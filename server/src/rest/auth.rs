//! `/api/v1/auth/*` and `/api/v1/me`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use control::auth::{LoginOutcome, NewSessionToken, cookie};
use http::header::SET_COOKIE;
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use proto::api::{
    ChangePasswordRequest, LoginChallenge, LoginRequest, LoginResponse, MeResponse, SignupRequest,
    SignupResponse,
};
use serde::Serialize;

use super::error::ApiResult;
use super::extract::{ApiJson, Caller, client};
use crate::state::ServerState;

pub(crate) fn with_cookie(mut res: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

pub(crate) fn session_cookie(state: &ServerState, s: &NewSessionToken) -> String {
    cookie::set(
        &s.token,
        s.max_age_secs,
        state.base.config().secure_cookies(),
    )
}

/// The answer to a sign-up, log-in or sign-up by invitation: `body` with `status`, setting the
/// new session's cookie.
pub(crate) fn signed_in(
    state: &ServerState,
    session: &NewSessionToken,
    status: StatusCode,
    body: impl Serialize,
) -> Response {
    let cookie = session_cookie(state, session);
    with_cookie((status, Json(body)).into_response(), &cookie)
}

#[utoipa::path(
    post, path = "/auth/signup", tag = "auth", security(()), request_body = SignupRequest,
    responses((status = 201, description = "Signed up; sets the session cookie", body = SignupResponse), (status = 429, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn signup(
    State(state): State<ServerState>,
    parts: Parts,
    ApiJson(req): ApiJson<SignupRequest>,
) -> ApiResult<Response> {
    let done = state.base.signup(req, &client(&parts)).await?;
    let body = SignupResponse {
        user: done.user,
        cluster: done.cluster,
    };
    Ok(signed_in(&state, &done.session, StatusCode::CREATED, body))
}

#[utoipa::path(
    post, path = "/auth/login", tag = "auth", security(()), request_body = LoginRequest,
    responses((status = 200, description = "Signed in; sets the session cookie", body = LoginResponse), (status = 202, description = "Two-factor is on: no session yet; send the challenge with a code to `/auth/login/2fa`", body = LoginChallenge), (status = 429, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn login(
    State(state): State<ServerState>,
    parts: Parts,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let done = match state
        .base
        .login(&req.email, &req.password, &client(&parts))
        .await?
    {
        LoginOutcome::SignedIn(done) => done,
        LoginOutcome::NeedsCode(c) => {
            let body = LoginChallenge {
                challenge: c.token,
                expires_in_secs: c.expires_in_secs,
            };
            return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
        }
    };
    let body = LoginResponse { user: done.user };
    Ok(signed_in(&state, &done.session, StatusCode::OK, body))
}

#[utoipa::path(
    post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "The session (or the token's own session) ends; clears the cookie"))
)]
pub async fn logout(Caller(base, actor): Caller) -> ApiResult<Response> {
    base.logout(&actor).await?;
    let cleared = cookie::clear(base.config().secure_cookies());
    Ok(with_cookie(
        StatusCode::NO_CONTENT.into_response(),
        &cleared,
    ))
}

#[utoipa::path(
    post, path = "/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed; other sessions end"))
)]
pub async fn change_password(
    Caller(base, actor): Caller,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    base.change_password(&actor, &req.current_password, &req.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get, path = "/me", tag = "auth",
    responses((status = 200, body = MeResponse))
)]
pub async fn me(Caller(base, actor): Caller) -> ApiResult<Json<MeResponse>> {
    let clusters = base.list_clusters(&actor).await?;
    Ok(Json(MeResponse {
        user: actor.user,
        clusters,
    }))
}
