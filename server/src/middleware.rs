//! Request plumbing shared by every route: who is calling from where ([`client_info`]), the CSRF
//! guard on state-changing requests ([`check_origin`]), and the tracing span per request.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use control::ClientInfo;
use http::header::{CONNECTION, ORIGIN, UPGRADE, USER_AGENT};
use http::{Method, StatusCode};

use crate::rest::error::error_response;
use crate::state::ServerState;

/// Puts a [`ClientInfo`] in the request extensions for handlers and server functions.
pub async fn client_info(
    State(state): State<ServerState>,
    mut req: Request,
    next: Next,
) -> Response {
    let forwarded = state
        .trust_proxy
        .then(|| {
            req.headers()
                .get("x-forwarded-for")?
                .to_str()
                .ok()?
                .split(',')
                .next()
                .map(|s| s.trim().to_string())
        })
        .flatten();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    req.extensions_mut().insert(ClientInfo {
        ip: forwarded.or(peer),
        user_agent,
    });
    next.run(req).await
}

fn is_websocket_upgrade(req: &Request) -> bool {
    let has = |name, token: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case(token)))
    };
    has(CONNECTION, "upgrade") && has(UPGRADE, "websocket")
}

/// Refuses state-changing requests (anything but GET/HEAD/OPTIONS, and WebSocket upgrades) whose
/// `Origin` is missing or is not Base's public origin. Browsers always send `Origin` on such
/// requests, so a page on another site cannot act with a signed-in user's cookie; the CLI sends
/// Base's own origin.
pub async fn check_origin(State(state): State<ServerState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // A bearer token without a cookie cannot be sent by another site's page (browsers add
    // neither on their own), so CI and the CLI need no Origin.
    let bearer_only = crate::rest::extract::bearer_token(req.headers()).is_some()
        && !req.headers().contains_key(http::header::COOKIE);
    // Push-to-deploy deliveries come from Git hosts, with no Origin; they never act with a
    // cookie (the delivery's own signature or token is checked), so there is nothing to forge.
    let webhook = req.uri().path().starts_with("/hooks/");
    if (!safe || is_websocket_upgrade(&req)) && !bearer_only && !webhook {
        let origin = req.headers().get(ORIGIN).and_then(|v| v.to_str().ok());
        if origin != Some(&*state.origin) {
            tracing::warn!(?origin, expected = %state.origin, path = %req.uri().path(), "refused: bad Origin");
            let message = match origin {
                None => "missing Origin header on a state-changing request".to_string(),
                Some(o) => format!("requests from {o} are not allowed"),
            };
            return error_response(StatusCode::FORBIDDEN, "bad_origin", message, None)
                .into_response();
        }
    }
    next.run(req).await
}

/// One span per request, with the fields we search logs by.
pub fn request_span(req: &http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
}
