//! Request plumbing shared by every route: who is calling from where ([`client_info`]), the CSRF
//! guard on state-changing requests ([`check_origin`]), the headers that keep the dashboard out
//! of other sites' frames and on HTTPS ([`security_headers`], L8), and the tracing span per
//! request, with invitation tokens left out of its path (L12).

use std::borrow::Cow;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use control::ClientInfo;
use http::header::{
    CONNECTION, CONTENT_SECURITY_POLICY, ORIGIN, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    UPGRADE, USER_AGENT, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderName, HeaderValue, Method, StatusCode};

use crate::rest::error::error_response;
use crate::state::ServerState;

/// Puts a [`ClientInfo`] in the request extensions for handlers and server functions.
pub async fn client_info(
    State(state): State<ServerState>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let hops = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    let ip = state.proxies.client_ip(peer, hops);
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    req.extensions_mut().insert(ClientInfo { ip, user_agent });
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
    // A CI job's OIDC exchange carries its own proof (the signed identity token) and no
    // cookie, so a forged cross-site request has nothing to borrow either.
    let oidc_exchange = req.uri().path() == "/api/v1/auth/oidc/exchange"
        && !req.headers().contains_key(http::header::COOKIE);
    if (!safe || is_websocket_upgrade(&req)) && !bearer_only && !webhook && !oidc_exchange {
        let origin = req.headers().get(ORIGIN).and_then(|v| v.to_str().ok());
        if origin != Some(&*state.origin) {
            tracing::warn!(?origin, expected = %state.origin, path = %loggable_path(req.uri().path()), "refused: bad Origin");
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
    tracing::info_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()))
}

/// `path` with the segment after `invite`/`invites` (an invitation's secret token in
/// `/invite/<token>` and `/api/v1/invites/<token>/accept`) replaced, for logs.
pub fn loggable_path(path: &str) -> Cow<'_, str> {
    let segments: Vec<&str> = path.split('/').collect();
    let secret = |i: usize| {
        i > 0 && matches!(segments[i - 1], "invite" | "invites") && !segments[i].is_empty()
    };
    if !(0..segments.len()).any(secret) {
        return Cow::Borrowed(path);
    }
    let parts: Vec<&str> = (0..segments.len())
        .map(|i| if secret(i) { "…" } else { segments[i] })
        .collect();
    Cow::Owned(parts.join("/"))
}

/// Whether responses carry `Strict-Transport-Security`: when Base is reached over HTTPS (its
/// public URL is https, whether Base or a proxy in front terminates TLS). Browsers ignore the
/// header on plain HTTP, so it never pins a development Base.
#[derive(Debug, Clone, Copy)]
pub struct Hsts(pub bool);

/// One year, the common minimum for HSTS preload lists. No `includeSubDomains`: services may
/// live on subdomains of Base's host and serve plain HTTP.
const HSTS: &str = "max-age=31536000";

/// Powerful browser features the dashboard never uses, refused for it and anything it embeds.
const PERMISSIONS: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";

/// Every response refuses to be framed (`X-Frame-Options` and CSP `frame-ancestors`, added to
/// any policy the response has), to be sniffed as another type, to send Base's URLs (with ids
/// and invitation tokens in them) as a referrer to other sites, and to use device features
/// (`Permissions-Policy`); over HTTPS it also tells browsers to use nothing else (HSTS).
pub async fn security_headers(State(hsts): State<Hsts>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS),
    );
    if hsts.0 {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    let policy = match headers.get(CONTENT_SECURITY_POLICY).map(|v| v.to_str()) {
        None => Some("frame-ancestors 'none'".to_string()),
        Some(Ok(p)) if p.contains("frame-ancestors") => None,
        Some(Ok(p)) => Some(format!(
            "{}; frame-ancestors 'none'",
            p.trim_end_matches([';', ' '])
        )),
        Some(Err(_)) => Some("frame-ancestors 'none'".to_string()),
    };
    if let Some(v) = policy.and_then(|p| HeaderValue::from_str(&p).ok()) {
        headers.insert(CONTENT_SECURITY_POLICY, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn invitation_tokens_are_left_out_of_logged_paths() {
        assert_eq!(loggable_path("/invite/abc123"), "/invite/…");
        assert_eq!(
            loggable_path("/api/v1/invites/abc123/accept"),
            "/api/v1/invites/…/accept"
        );
        assert_eq!(
            loggable_path("/api/v1/clusters/c1/invites"),
            "/api/v1/clusters/c1/invites"
        );
        assert_eq!(loggable_path("/api/v1/services/s1"), "/api/v1/services/s1");
    }
}
