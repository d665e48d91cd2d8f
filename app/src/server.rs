//! What server functions need from the request they run in: the [`Base`] handle, the client's
//! address, the signed-in [`Actor`] from the session cookie, and a way to set or clear that
//! cookie. The HTTP server puts `Base` in context and [`ClientInfo`] in request extensions, and,
//! for a page, [`SignedInAtRender`]: who is signed in, looked up before the page renders.

use control::auth::cookie;
use control::{Actor, Base, ClientInfo};
use http::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use proto::api::MeResponse;

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

pub fn session_token() -> Option<String> {
    let secure = use_context::<Base>().is_some_and(|b| b.config().secure_cookies());
    session_token_in(&parts()?.headers, secure)
}

/// The session cookie's token in a request's headers; `secure` (Base served over TLS) says
/// which name the cookie has.
pub fn session_token_in(headers: &HeaderMap, secure: bool) -> Option<String> {
    let header = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    header
        .filter_map(|h| cookie::read(h, secure))
        .next()
        .map(str::to_owned)
}

/// The signed-in user and their clusters, `None` when signed out.
pub async fn me(
    base: &Base,
    token: Option<&str>,
    client: ClientInfo,
) -> Result<Option<MeResponse>, AppError> {
    let Some(token) = token else {
        return Ok(None);
    };
    let actor = match base.authenticate(token, client).await {
        Ok(actor) => actor,
        Err(control::DomainError::Unauthorized(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let clusters = base.list_clusters(&actor).await?;
    Ok(Some(MeResponse {
        user: actor.user,
        clusters,
    }))
}

/// Who is signed in, as the server found them before rendering a page. The signed-in layout
/// reads it synchronously (and hands it to the browser with the page), so the layout and the page
/// render once, outside any `Suspense`: a page created inside a `Suspense` body is created again
/// on every pass the server makes over it, each time with new resources, and the browser would
/// hydrate the server's last pass with the data of its first (leptos re-runs those bodies).
#[derive(Debug, Clone)]
pub struct SignedInAtRender(pub Result<Option<MeResponse>, AppError>);

/// [`SignedInAtRender`] of the request being rendered, if the server looked it up.
pub fn signed_in_at_render() -> Option<Result<Option<MeResponse>, AppError>> {
    parts()?
        .extensions
        .get::<SignedInAtRender>()
        .map(|s| s.0.clone())
}

/// The signed-in user, or `Unauthorized`.
pub async fn actor() -> Result<Actor, AppError> {
    let base = base()?;
    let token =
        session_token().ok_or(AppError::Unauthorized(control::auth::NOT_SIGNED_IN.into()))?;
    Ok(base.authenticate(&token, client_info()).await?)
}

/// Makes one `control` call as the signed-in user and maps its error with [`fail`]: the body of
/// most server functions, which only say which call and with what.
pub async fn as_actor<T>(
    call: impl AsyncFnOnce(&Base, &Actor) -> Result<T, control::DomainError>,
) -> Result<T, AppError> {
    let actor = actor().await?;
    call(&base()?, &actor).await.map_err(fail)
}

/// The signed-in user, or `None` when there is no live session.
pub async fn maybe_actor() -> Result<Option<Actor>, AppError> {
    match actor().await {
        Ok(a) => Ok(Some(a)),
        Err(AppError::Unauthorized(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Signs the browser in: sets the cookie of a session just made (sign-up, log-in, joining by
/// invitation), secure when the Base serves HTTPS.
pub fn set_session_cookie(base: &Base, session: &control::auth::NewSessionToken) {
    set_cookie(&cookie::set(
        &session.token,
        session.max_age_secs,
        base.config().secure_cookies(),
    ));
}

/// Sends the browser to a cluster's overview once a call has made it or let the user in.
pub fn redirect_to_cluster(cluster_id: &str) {
    leptos_axum::redirect(&format!("/c/{cluster_id}"));
}

pub fn set_cookie(value: &str) {
    if let (Some(res), Ok(v)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        res.append_header(SET_COOKIE, v);
    }
}

/// Maps a domain error and, when answering a server-function call (not rendering a page), sets
/// the response's status to what it is (a refused form is a 400, not a server error): 400, 401,
/// 403, 404, 409, or 429 with `Retry-After`.
pub fn fail(e: control::DomainError) -> AppError {
    let e = AppError::from(e);
    let rpc = parts().is_some_and(|p| p.uri.path().starts_with("/rpc/"));
    if let (true, Some(res)) = (rpc, use_context::<ResponseOptions>()) {
        let status = match &e {
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::StepUpRequired | AppError::TwoFactorRequired => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) | AppError::SignupClosed => StatusCode::CONFLICT,
            AppError::RateLimited { retry_after_secs } => {
                res.insert_header(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        res.set_status(status);
    }
    e
}
