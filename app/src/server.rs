//! What server functions need from the request they run in: the [`Base`] handle, the client's
//! address, the signed-in [`Actor`] from the session cookie, and a way to set or clear that
//! cookie. The HTTP server puts `Base` in context and [`ClientInfo`] in request extensions.

use control::auth::cookie;
use control::{Actor, Base, ClientInfo};
use http::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::error::AppError;

pub fn base() -> Result<Base, AppError> {
    use_context::<Base>().ok_or_else(|| {
        tracing::error!("Base missing from the server-function context");
        AppError::Internal
    })
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

pub fn client_info() -> ClientInfo {
    parts()
        .and_then(|p| p.extensions.get::<ClientInfo>().cloned())
        .unwrap_or_default()
}

fn session_token() -> Option<String> {
    let parts = parts()?;
    let header = parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    header.filter_map(cookie::read).next().map(str::to_owned)
}

/// The signed-in user, or `Unauthorized`.
pub async fn actor() -> Result<Actor, AppError> {
    let base = base()?;
    let token =
        session_token().ok_or(AppError::Unauthorized(control::auth::NOT_SIGNED_IN.into()))?;
    Ok(base.authenticate(&token, client_info()).await?)
}

/// The signed-in user, or `None` when there is no live session.
pub async fn maybe_actor() -> Result<Option<Actor>, AppError> {
    match actor().await {
        Ok(a) => Ok(Some(a)),
        Err(AppError::Unauthorized(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn set_cookie(value: &str) {
    if let (Some(res), Ok(v)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        res.append_header(SET_COOKIE, v);
    }
}

/// Maps a domain error and, for rate limits, sets 429 with `Retry-After` on the response.
pub fn fail(e: control::DomainError) -> AppError {
    let e = AppError::from(e);
    if let (AppError::RateLimited { retry_after_secs }, Some(res)) =
        (&e, use_context::<ResponseOptions>())
    {
        res.set_status(StatusCode::TOO_MANY_REQUESTS);
        res.insert_header(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
    e
}
