//! `Upgrade` pass-through (WebSocket and anything else that switches protocols): `Connection`
//! and `Upgrade` are hop-by-hop, so the proxy strips them like the others and puts exactly these
//! two back when the client asked; once the upstream answers `101`, both connections are taken
//! over from hyper and their bytes copied both ways until either side closes.

use http::HeaderMap;
use http::header::{self, HeaderValue};
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
}
