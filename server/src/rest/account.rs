//! `/api/v1/account/*`: the signed-in person's own security log and sessions (list, sign out
//! one, sign out everywhere else). A session's own business: API tokens are refused (403).

use axum::Json;
use axum::extract::Path;
use http::StatusCode;
use proto::api::{EventPage, RevokedSessions, SessionList};

use super::error::ApiResult;
use super::extract::Caller;

#[utoipa::path(
    get, path = "/account/events", tag = "account",
    responses((status = 200, description = "The person's security log, newest first (at most 200): sign-ins, failed attempts on the account, password changes, sessions signed out", body = EventPage))
)]
pub async fn events(Caller(base, actor): Caller) -> ApiResult<Json<EventPage>> {
    actor.require_session()?;
    let events = base.account_events(&actor, 200).await?;
    Ok(Json(EventPage {
        events,
        next_cursor: None,
    }))
}

#[utoipa::path(
    get, path = "/account/sessions", tag = "account",
    responses((status = 200, description = "The person's live sessions, most recently used first; `current` marks this request's", body = SessionList))
)]
pub async fn sessions(Caller(base, actor): Caller) -> ApiResult<Json<SessionList>> {
    Ok(Json(base.list_sessions(&actor).await?))
}

#[utoipa::path(
    delete, path = "/account/sessions/{id}", tag = "account",
    params(("id" = String, Path, description = "The session's id (`ses_…`)")),
    responses((status = 204, description = "Signed out: its requests get 401 and its open streams close"))
)]
pub async fn revoke(Caller(base, actor): Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    base.revoke_session(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/account/sessions/revoke-others", tag = "account",
    responses((status = 200, description = "Every other session signed out; how many", body = RevokedSessions))
)]
pub async fn revoke_others(Caller(base, actor): Caller) -> ApiResult<Json<RevokedSessions>> {
    Ok(Json(base.revoke_other_sessions(&actor).await?))
}
