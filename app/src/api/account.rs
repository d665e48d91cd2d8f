//! Server functions for the account page's sessions: list the person's signed-in sessions, sign
//! out one, sign out everywhere else. Only the person's own: `control` refuses anything else.

use leptos::prelude::*;
use proto::api::{RevokedSessions, SessionList};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::as_actor;

#[server(prefix = "/rpc")]
pub async fn list_sessions() -> Result<SessionList, AppError> {
    as_actor(async |base, actor| base.list_sessions(actor).await).await
}

#[server(prefix = "/rpc")]
pub async fn revoke_session(session_id: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.revoke_session(actor, &session_id).await).await
}

#[server(prefix = "/rpc")]
pub async fn revoke_other_sessions() -> Result<RevokedSessions, AppError> {
    as_actor(async |base, actor| base.revoke_other_sessions(actor).await).await
}
