//! Extractors that fail with [`ApiError`]s: [`Authed`] (the signed-in actor, from the session
//! cookie), [`Caller`] (that actor with the domain to ask, what most handlers start from),
//! [`On`] (a caller and what the path names), [`ApiJson`] (a JSON body whose rejections keep our
//! error shape and status), [`ApiQuery`] (the same for query strings) and [`Upgrade`] (a
//! WebSocket handshake).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::response::{IntoResponse, Response};
use control::auth::cookie;
use control::{Actor, Base, ClientInfo, DomainError};
use http::header::{AUTHORIZATION, COOKIE};
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::state::ServerState;

/// The session cookie's token; `secure` (Base served over TLS) says which name it has.
pub fn session_token(parts: &Parts, secure: bool) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie::read(h, secure))
        .map(str::to_owned)
}

pub fn client(parts: &Parts) -> ClientInfo {
    parts
        .extensions
        .get::<ClientInfo>()
        .cloned()
        .unwrap_or_default()
}

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The user making this request: an API token (`Authorization: Bearer dp_…`) when one is
/// given, else the session cookie.
pub struct Authed(pub Actor);

impl FromRequestParts<ServerState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, ApiError> {
        if let Some(token) = bearer_token(&parts.headers) {
            return Ok(Authed(
                state
                    .base
                    .authenticate_api_token(token, client(parts))
                    .await?,
            ));
        }
        let secure = state.base.config().secure_cookies();
        let token = session_token(parts, secure)
            .ok_or(DomainError::Unauthorized(control::auth::NOT_SIGNED_IN))?;
        Ok(Authed(
            state.base.authenticate(&token, client(parts)).await?,
        ))
    }
}

/// The domain and the signed-in user asking it: `Caller(base, actor)` is how a handler that acts
/// for someone starts.
pub struct Caller(pub Base, pub Actor);

impl FromRequestParts<ServerState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, ApiError> {
        let Authed(actor) = Authed::from_request_parts(parts, state).await?;
        Ok(Caller(state.base.clone(), actor))
    }
}

/// A [`Caller`] and what the path names (`id`, or a tuple such as `(cluster, user)`):
/// `On(base, actor, id)` is how a handler about one thing starts. A path that does not parse
/// gets axum's own answer, as when `Path` is a handler's argument.
pub struct On<P = String>(pub Base, pub Actor, pub P);

impl<P: DeserializeOwned + Send> FromRequestParts<ServerState> for On<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, Response> {
        let Caller(base, actor) = Caller::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(named) = Path::<P>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(On(base, actor, named))
    }
}

/// Like `Json<T>`, but malformed, mistyped and oversize bodies answer in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let message = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => {
                        "send the body as JSON with Content-Type: application/json".to_string()
                    }
                    _ if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE => format!(
                        "the request body is too large (the limit is {} KiB)",
                        super::MAX_BODY_BYTES / 1024
                    ),
                    other => other.body_text(),
                };
                Err(ApiError::Status(rejection.status(), message))
            }
        }
    }
}

/// A JSON body that may be left out: none (or only white space) is `T::default()`; anything
/// else must parse, or it is a 400 whose message starts with `invalid` (`"invalid JSON body"`).
pub fn json_or_default<T: Default + DeserializeOwned>(
    body: &[u8],
    invalid: &str,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Status(http::StatusCode::BAD_REQUEST, format!("{invalid}: {e}")))
}

/// Like `Query<T>`, but a malformed query string (`limit=abc`, a number out of range) is a 400
/// in the API's error shape instead of axum's plain text.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => Err(ApiError::Status(
                http::StatusCode::BAD_REQUEST,
                rejection.body_text(),
            )),
        }
    }
}

/// Like `WebSocketUpgrade`, but a request that is not a WebSocket handshake gets its status
/// (400, 405, 426) with the API's error body.
pub struct Upgrade(pub WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map(Upgrade)
            .map_err(|r| ApiError::Status(r.status(), r.body_text()))
    }
}
