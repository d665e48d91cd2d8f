//! `/api/v1/account/2fa/*`: a person's two-factor sign-in (status, setup, confirm, step-up, new
//! backup codes, turn off), `/api/v1/auth/login/2fa` (a sign-in's second step) and a cluster's
//! requirement of it.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use http::request::Parts;
use proto::api::{
    BackupCodes, LoginCodeRequest, LoginResponse, RequireTwoFactorRequest, TwoFactorCodeRequest,
    TwoFactorSetup, TwoFactorStatus,
};

use super::auth::signed_in;
use super::error::ApiResult;
use super::extract::{ApiJson, Caller, On, client};
use crate::state::ServerState;

#[utoipa::path(
    post, path = "/auth/login/2fa", tag = "auth", security(()), request_body = LoginCodeRequest,
    responses((status = 200, description = "Signed in; sets the session cookie", body = LoginResponse), (status = 429, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn login_code(
    State(state): State<ServerState>,
    parts: Parts,
    ApiJson(req): ApiJson<LoginCodeRequest>,
) -> ApiResult<Response> {
    let done = state
        .base
        .login_with_code(&req.challenge, &req.code, &client(&parts))
        .await?;
    let body = LoginResponse { user: done.user };
    Ok(signed_in(&state, &done.session, StatusCode::OK, body))
}

#[utoipa::path(
    get, path = "/account/2fa", tag = "account",
    responses((status = 200, body = TwoFactorStatus))
)]
pub async fn status(Caller(base, actor): Caller) -> ApiResult<Json<TwoFactorStatus>> {
    Ok(Json(base.two_factor_status(&actor).await?))
}

/// Starts an enrolment; the secret is shown this once.
#[utoipa::path(
    post, path = "/account/2fa/setup", tag = "account",
    responses((status = 200, body = TwoFactorSetup))
)]
pub async fn setup(Caller(base, actor): Caller) -> ApiResult<Json<TwoFactorSetup>> {
    Ok(Json(base.start_two_factor(&actor).await?))
}

/// Confirms the enrolment with a code; the backup codes are shown this once.
#[utoipa::path(
    post, path = "/account/2fa/confirm", tag = "account", request_body = TwoFactorCodeRequest,
    responses((status = 200, body = BackupCodes))
)]
pub async fn confirm(
    Caller(base, actor): Caller,
    ApiJson(req): ApiJson<TwoFactorCodeRequest>,
) -> ApiResult<Json<BackupCodes>> {
    Ok(Json(base.confirm_two_factor(&actor, &req.code).await?))
}

/// Enters a code: sensitive actions are allowed on this session for 5 minutes.
#[utoipa::path(
    post, path = "/account/2fa/step-up", tag = "account", request_body = TwoFactorCodeRequest,
    responses((status = 204, description = "Stepped up for 5 minutes"))
)]
pub async fn step_up(
    Caller(base, actor): Caller,
    ApiJson(req): ApiJson<TwoFactorCodeRequest>,
) -> ApiResult<StatusCode> {
    base.step_up(&actor, &req.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ten new backup codes replacing the old ones, shown this once (needs a step-up).
#[utoipa::path(
    post, path = "/account/2fa/backup-codes", tag = "account",
    responses((status = 200, body = BackupCodes))
)]
pub async fn backup_codes(Caller(base, actor): Caller) -> ApiResult<Json<BackupCodes>> {
    Ok(Json(base.regenerate_backup_codes(&actor).await?))
}

/// Turns two-factor off (needs a step-up in the last 5 minutes).
#[utoipa::path(
    delete, path = "/account/2fa", tag = "account",
    responses((status = 204, description = "Two-factor is off"))
)]
pub async fn disable(Caller(base, actor): Caller) -> ApiResult<StatusCode> {
    base.disable_two_factor(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the cluster requires two-factor sign-in of its members (Owner to change).
#[utoipa::path(
    put, path = "/clusters/{id}/require-2fa", tag = "clusters", params(("id" = String, Path, description = "The cluster's id")), request_body = RequireTwoFactorRequest,
    responses((status = 204, description = "Changed"))
)]
pub async fn require(
    On(base, actor, id): On,
    ApiJson(req): ApiJson<RequireTwoFactorRequest>,
) -> ApiResult<StatusCode> {
    base.set_cluster_two_factor(&actor, &id, req.required)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
