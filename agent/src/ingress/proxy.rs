//! Forwarding one request: pick the upstream by `Host` (once, at the start: a route switch never
//! moves a request that has begun), rewrite the headers a proxy must rewrite, and stream both
//! bodies through without buffering them. Errors become short plain-text answers in one place,
//! [`ProxyError::into_response`]; the upstream's address and error are logged, never sent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;

use super::front::HttpFront;
use super::message::{Body, request_host, text_response};
use super::meter;
use super::request_body::RequestBody;
use super::routes::{Routes, Target, WorkerRoutes};
use super::upgrade;
use super::upstream::{UpstreamError, Upstreams};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
/// The headers the ingress writes itself, replacing (or, `-For`, extending) any a client sent.
pub(crate) const X_FORWARDED: [HeaderName; 3] =
    [X_FORWARDED_FOR, X_FORWARDED_PROTO, X_FORWARDED_HOST];

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), so a proxy must
/// not pass them on. Headers named in `Connection` are dropped too.
const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Why a request got no answer from an upstream.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProxyError {
    #[error("request has no Host")]
    NoHost,
    #[error("no service for host {0}")]
    UnknownHost(String),
    #[error("upstream {upstream} for host {host} failed")]
    Upstream {
        host: String,
        upstream: SocketAddr,
        #[source]
        source: UpstreamError,
    },
    #[error("CONNECT other than RFC 8441's WebSocket")]
    Connect,
    #[error("upstream {upstream} for host {host} switched protocols unasked")]
    UnaskedUpgrade { host: String, upstream: SocketAddr },
}

impl ProxyError {
    fn into_response(self) -> Response<Body> {
        let (status, text) = match &self {
            ProxyError::NoHost => (StatusCode::BAD_REQUEST, "missing or invalid Host\n".into()),
            ProxyError::Connect => (
                StatusCode::METHOD_NOT_ALLOWED,
                "CONNECT is only for WebSockets (RFC 8441) here\n".into(),
            ),
            ProxyError::UnknownHost(host) => (
                StatusCode::NOT_FOUND,
                format!("no service for host {host}\n"),
            ),
            ProxyError::Upstream { host, .. } | ProxyError::UnaskedUpgrade { host, .. } => {
                tracing::warn!(error = ?self, "bad gateway");
                (StatusCode::BAD_GATEWAY, bad_gateway_text(host))
            }
        };
        text_response(status, text)
    }
}

/// What a client is told when the release for `host` gives no usable answer.
pub(crate) fn bad_gateway_text(host: &str) -> String {
    format!("bad gateway: the service for host {host} is not answering\n")
}

/// `Strict-Transport-Security` for services that ask for it: a year, as browsers' preload
/// lists expect; no `includeSubDomains` (other services may live under the same name).
pub(crate) const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

/// The client a connection serves, as `X-Forwarded-For` names it: its IP, formatted once per
/// connection, not per request.
#[derive(Clone)]
pub(crate) struct Peer {
    ip: HeaderValue,
}

impl Peer {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        let ip = HeaderValue::try_from(addr.ip().to_string())
            .expect("an IP address is a valid header value");
        Self { ip }
    }

    /// The client's IP as `X-Forwarded-For` names it.
    pub(crate) fn ip(&self) -> &[u8] {
        self.ip.as_bytes()
    }
}

/// The forwarding half of the ingress; one per listener and worker, shared by the worker's
/// connections.
pub(crate) struct Proxy {
    routes: WorkerRoutes,
    upstreams: Arc<Upstreams>,
    scheme: Scheme,
    /// The plain-HTTP listener's own answers (challenges, redirects to HTTPS).
    front: Option<HttpFront>,
}

impl Proxy {
    pub(crate) fn new(routes: Routes, scheme: Scheme, front: Option<HttpFront>) -> Self {
        Self {
            routes: WorkerRoutes::new(routes),
            upstreams: Upstreams::new(),
            scheme,
            front,
        }
    }

    /// Where the direct path (`direct`) sends a request for `host` and `path`: `None` if the
    /// plain-HTTP front answers it itself or no service has the host (hyper answers those).
    pub(crate) fn direct_target(&self, host: &str, path: &str) -> Option<Target> {
        if (self.front.as_ref()).is_some_and(|front| front.takes(host, path)) {
            return None;
        }
        self.routes.target_for(host)
    }

    /// Which listener this proxy serves.
    pub(crate) fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// This worker's upstream connections.
    pub(crate) fn upstreams(&self) -> &Upstreams {
        &self.upstreams
    }

    /// Answers one request; never fails (errors are answers too). A request routed to a
    /// service is counted for it (`meter`): its status and the time to the response's head.
    pub(crate) async fn handle(&self, req: Request<Incoming>, peer: &Peer) -> Response<Body> {
        if let Some(answer) = self.front.as_ref().and_then(|f| f.answer(&req)) {
            return answer;
        }
        let (target, host) = match self.route(&req) {
            Ok(routed) => routed,
            Err(e) => return e.into_response(),
        };
        let started = Instant::now();
        let response = self
            .forward(req, peer, target, host)
            .await
            .unwrap_or_else(ProxyError::into_response);
        meter::record(target.meter, response.status(), started.elapsed());
        response
    }

    async fn forward(
        &self,
        mut req: Request<Incoming>,
        peer: &Peer,
        target: Target,
        host: HeaderValue,
    ) -> Result<Response<Body>, ProxyError> {
        let upstream = target.upstream;
        let host_text = || host.to_str().unwrap_or_default().to_owned();

        let h2_websocket = match upgrade::connect_of(&req) {
            upgrade::Connect::No => false,
            upgrade::Connect::WebSocket => true,
            upgrade::Connect::Other => return Err(ProxyError::Connect),
        };
        let protocol = upgrade::requested(req.headers());
        let client_side =
            (h2_websocket || protocol.is_some()).then(|| hyper::upgrade::on(&mut req));

        let (mut parts, body) = req.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        if h2_websocket {
            upgrade::as_http1_handshake(&mut parts);
        } else if let Some(protocol) = protocol {
            upgrade::restore_headers(&mut parts.headers, protocol);
        }
        add_forwarded(&mut parts.headers, peer, host.clone(), self.scheme);
        parts.uri = origin_form(parts.uri);
        parts.version = Version::HTTP_11;
        // Our server's extensions (the upgrade handle among them) mean nothing to the client.
        parts.extensions = http::Extensions::new();

        let (mut response, release) = self
            .upstreams
            .send(
                upstream,
                Request::from_parts(parts, RequestBody::new(body, target.meter)),
            )
            .await
            .map_err(|source| ProxyError::Upstream {
                host: host_text(),
                upstream,
                source,
            })?;

        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            let Some(client_side) = client_side else {
                let host = host_text();
                return Err(ProxyError::UnaskedUpgrade { host, upstream });
            };
            let upstream_side = hyper::upgrade::on(&mut response);
            tokio::spawn(upgrade::tunnel(client_side, upstream_side));
            let protocol = upgrade::requested(response.headers());
            strip_hop_by_hop(response.headers_mut());
            if h2_websocket {
                upgrade::as_h2_answer(&mut response);
            } else if let Some(protocol) = protocol {
                upgrade::restore_headers(response.headers_mut(), protocol);
            }
        } else {
            strip_hop_by_hop(response.headers_mut());
            if self.scheme == Scheme::Https && target.hsts {
                response
                    .headers_mut()
                    .insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
            }
        }
        Ok(response.map(|body| Body::upstream(body, release, target.meter)))
    }

    /// Where `req` goes, and the host it named as a header value (for `Host` and
    /// `X-Forwarded-Host`: the client's own `Host` is passed on as it came).
    fn route<B>(&self, req: &Request<B>) -> Result<(Target, HeaderValue), ProxyError> {
        let host = request_host(req).ok_or(ProxyError::NoHost)?;
        let target = self
            .routes
            .target_for(host)
            .ok_or_else(|| ProxyError::UnknownHost(host.to_owned()))?;
        let value = match req.uri().authority() {
            None => req.headers().get(header::HOST).cloned(),
            Some(_) => HeaderValue::from_str(host).ok(),
        };
        Ok((target, value.ok_or(ProxyError::NoHost)?))
    }
}

/// Whether `name` (any case) is one of [`HOP_BY_HOP`], for the direct path's raw heads.
pub(crate) fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h.as_str()))
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages have none: one pass over their few names instead of nine hashed removals.
    if !headers.keys().any(|name| HOP_BY_HOP.contains(name)) {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(name);
    }
}

/// `X-Forwarded-For` gains the peer (earlier proxies' entries are kept: which to trust is the
/// application's call); `-Proto` and `-Host` are ours to say, so they replace any sent.
fn add_forwarded(headers: &mut HeaderMap, peer: &Peer, host: HeaderValue, scheme: Scheme) {
    let earlier: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if earlier.is_empty() {
        headers.insert(X_FORWARDED_FOR, peer.ip.clone());
    } else {
        let ip = peer.ip.to_str().unwrap_or_default();
        let chain = format!("{}, {ip}", earlier.join(", "));
        if let Ok(chain) = HeaderValue::from_str(&chain) {
            headers.insert(X_FORWARDED_FOR, chain);
        }
    }
    let proto = match scheme {
        Scheme::Http => "http",
        Scheme::Https => "https",
    };
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    headers.insert(X_FORWARDED_HOST, host.clone());
    // An absolute-form request may come without `Host`; the release must still see it.
    headers.entry(header::HOST).or_insert(host);
}

/// The request target as the release gets it: origin-form (`/path?query`). An absolute-form
/// target (HTTP/2's, or a client's that sent one) loses its scheme and authority, which `Host`
/// carries.
fn origin_form(target: Uri) -> Uri {
    if target.scheme().is_none() && target.authority().is_none() {
        return target;
    }
    let path = target
        .into_parts()
        .path_and_query
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Uri::from(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingress::test_headers;

    #[test]
    fn hop_by_hop_headers_and_those_named_in_connection_are_dropped() {
        let mut headers = test_headers(&[
            ("connection", "keep-alive, X-Secret"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("transfer-encoding", "chunked"),
            ("content-type", "text/plain"),
        ]);
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1, "{headers:?}");
        assert!(headers.contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn forwarded_for_appends_to_an_existing_chain() {
        let mut headers = test_headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-for", "198.51.100.2"),
            ("x-forwarded-proto", "https"),
        ]);
        add_forwarded(
            &mut headers,
            &Peer::new("10.0.0.9:5000".parse().unwrap()),
            HeaderValue::from_static("a.test"),
            Scheme::Http,
        );
        assert_eq!(
            headers[&X_FORWARDED_FOR],
            "203.0.113.7, 198.51.100.2, 10.0.0.9"
        );
        assert_eq!(headers[&X_FORWARDED_PROTO], "http");
        assert_eq!(headers[&X_FORWARDED_HOST], "a.test");
        assert_eq!(headers[header::HOST], "a.test");
    }

    #[test]
    fn the_target_goes_upstream_in_origin_form_with_path_and_query() {
        for (target, expected) in [
            ("/a/b?c=d", "/a/b?c=d"),
            ("http://app.test/a/b?c=d", "/a/b?c=d"),
            ("https://app.test:8443", "/"),
        ] {
            let uri = origin_form(target.parse().unwrap());
            assert_eq!(uri.to_string(), expected, "{target}");
        }
    }
}
