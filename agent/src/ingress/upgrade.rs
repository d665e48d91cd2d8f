//! `Upgrade` pass-through (WebSocket and anything else that switches protocols): `Connection`
//! and `Upgrade` are hop-by-hop, so the proxy strips them like the others and puts exactly these
//! two back when the client asked; once the upstream answers `101`, both connections are taken
//! over from hyper and their bytes copied both ways until either side closes.
//!
//! Over HTTP/2 a WebSocket opens with an extended CONNECT (RFC 8441: `:protocol websocket`,
//! which the HTTPS listener allows). Releases speak HTTP/1.1, so such a request goes up as the
//! HTTP/1.1 handshake ([`as_http1_handshake`]: `GET` with `Upgrade` and a fresh
//! `Sec-WebSocket-Key`), and the release's `101` comes back as the `200` that opens the
//! HTTP/2 stream ([`as_h2_answer`]); the frames inside are the same on both.

use base64::Engine;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use hyper::ext::Protocol;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

/// The protocol a message asks to switch to: its `Upgrade` value if `Connection` lists
/// `upgrade`.
pub(crate) fn requested(headers: &HeaderMap) -> Option<HeaderValue> {
    let asks = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    asks.then(|| headers.get(header::UPGRADE).cloned())
        .flatten()
}

/// What an HTTP/2 `CONNECT` asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Connect {
    /// Not a `CONNECT`.
    No,
    /// RFC 8441's WebSocket.
    WebSocket,
    /// A plain `CONNECT` (a forward proxy's tunnel) or another protocol: not ours to serve.
    Other,
}

pub(crate) fn connect_of<B>(req: &Request<B>) -> Connect {
    if req.method() != Method::CONNECT {
        return Connect::No;
    }
    match req.extensions().get::<Protocol>() {
        Some(p) if p.as_str().eq_ignore_ascii_case("websocket") => Connect::WebSocket,
        _ => Connect::Other,
    }
}

/// Turns an RFC 8441 request's head into the HTTP/1.1 handshake (RFC 6455 §4.1) for the
/// release. `Sec-WebSocket-Version`, `-Protocol` and `-Extensions` pass as they came.
pub(crate) fn as_http1_handshake(parts: &mut http::request::Parts) {
    parts.method = Method::GET;
    restore_headers(&mut parts.headers, HeaderValue::from_static("websocket"));
    let nonce: [u8; 16] = rand::random();
    let key = base64::engine::general_purpose::STANDARD.encode(nonce);
    let key = HeaderValue::try_from(key).expect("base64 is a valid header value");
    parts.headers.insert(header::SEC_WEBSOCKET_KEY, key);
}

/// Turns the release's `101` into RFC 8441's `200`: `Upgrade`, `Connection` (already
/// stripped as hop-by-hop) and `Sec-WebSocket-Accept` belong to HTTP/1.1's handshake only.
pub(crate) fn as_h2_answer<B>(response: &mut Response<B>) {
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().remove(header::SEC_WEBSOCKET_ACCEPT);
}

pub(crate) fn restore_headers(headers: &mut HeaderMap, protocol: HeaderValue) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, protocol);
}

/// Joins the two upgraded connections. Runs in its own task: it outlives the request that
/// started it, and it is not waited for when the ingress shuts down (a WebSocket may stay open
/// for hours; the process ending closes it).
pub(crate) async fn tunnel(client: OnUpgrade, upstream: OnUpgrade) {
    let (client, upstream) = match tokio::try_join!(client, upstream) {
        Ok(both) => both,
        Err(e) => {
            tracing::debug!(error = %e, "upgrade did not complete");
            return;
        }
    };
    let mut client = TokioIo::new(client);
    let mut upstream = TokioIo::new(upstream);
    match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
        Ok((up, down)) => tracing::debug!(up, down, "upgraded connection closed"),
        Err(e) => tracing::debug!(error = %e, "upgraded connection failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingress::test_headers;

    #[test]
    fn upgrade_needs_the_connection_token() {
        let mut headers = test_headers(&[("upgrade", "websocket")]);
        assert_eq!(requested(&headers), None);
        headers.insert(header::CONNECTION, "keep-alive, Upgrade".parse().unwrap());
        assert_eq!(requested(&headers).unwrap(), "websocket");
    }

    #[test]
    fn an_h2_websocket_goes_up_as_the_http1_handshake() {
        let mut req = Request::connect("https://chat.test/socket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-protocol", "chat")
            .body(())
            .unwrap();
        assert_eq!(connect_of(&req), Connect::Other);
        req.extensions_mut()
            .insert(Protocol::from_static("websocket"));
        assert_eq!(connect_of(&req), Connect::WebSocket);
        assert_eq!(
            connect_of(&Request::get("/").body(()).unwrap()),
            Connect::No
        );

        let (mut parts, ()) = req.into_parts();
        as_http1_handshake(&mut parts);
        assert_eq!(parts.method, Method::GET);
        assert_eq!(requested(&parts.headers).unwrap(), "websocket");
        assert_eq!(parts.headers["sec-websocket-version"], "13");
        assert_eq!(parts.headers["sec-websocket-protocol"], "chat");
        let key = parts.headers[header::SEC_WEBSOCKET_KEY].to_str().unwrap();
        let nonce = base64::engine::general_purpose::STANDARD
            .decode(key)
            .unwrap();
        assert_eq!(nonce.len(), 16, "RFC 6455: a 16-byte nonce, base64");
    }
}
