//! A client's request head as the direct path reads it: whether the path takes the request (an
//! ordinary HTTP/1.1 request without a body, for a host with a route, that the plain-HTTP front
//! does not answer itself) and, if so, the head the release gets for it. Everything else goes to
//! hyper: bodies, upgrades, `Expect`, `Connection` options other than `keep-alive`/`close`,
//! absolute-form targets, HTTP/1.0, heads that did not arrive whole in one read.

use std::ops::Range;

use super::super::proxy::{Peer, Proxy, Scheme, X_FORWARDED, is_hop_by_hop};
use super::super::routes::Target;

/// More headers than this and the request goes to hyper (which takes up to 100).
const MAX_HEADERS: usize = 64;

/// What the request says about the answer's head.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Asked {
    /// A `HEAD` request: the answer has no body whatever its headers say.
    pub(super) head: bool,
    /// The client said `Connection: close`.
    pub(super) close: bool,
    /// Over HTTPS for a service that asked for `Strict-Transport-Security` (ours replaces the
    /// release's).
    pub(super) hsts: bool,
}

/// A request the direct path forwards.
pub(super) struct Plan {
    /// Its head's length in the client's buffer (it has no body).
    pub(super) head_len: usize,
    pub(super) target: Target,
    /// Where its `Host` value is in the client's buffer (for the bad-gateway text).
    pub(super) host: Range<usize>,
    /// Safe to send again on a fresh connection if a pooled one turns out closed.
    pub(super) idempotent: bool,
    /// What shapes the answer's head.
    pub(super) asked: Asked,
}

/// The plan for the request at the start of `buf`, with the head the release gets written to
/// `upstream_head`; `None` if hyper is to serve it (and the rest of the connection).
pub(super) fn plan(
    buf: &[u8],
    peer: &Peer,
    proxy: &Proxy,
    upstream_head: &mut Vec<u8>,
) -> Option<Plan> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        _ => return None,
    };
    let (method, path) = (req.method?, req.path?);
    if req.version != Some(1) || method == "CONNECT" || !path.starts_with('/') {
        return None;
    }
    let mut host = None;
    let mut close = false;
    for header in req.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("host") {
            if host.is_some() {
                return None;
            }
            host = Some(std::str::from_utf8(header.value).ok()?);
        } else if name.eq_ignore_ascii_case("content-length") {
            if header.value != b"0" {
                return None;
            }
        } else if ["transfer-encoding", "upgrade", "expect"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
        {
            return None;
        } else if name.eq_ignore_ascii_case("connection") {
            for option in header.value.split(|b| *b == b',') {
                let option = option.trim_ascii();
                if option.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if !option.is_empty() && !option.eq_ignore_ascii_case(b"keep-alive") {
                    return None;
                }
            }
        }
    }
    let host = host?;
    let target = proxy.direct_target(host, path)?;

    upstream_head.clear();
    for part in [method.as_bytes(), b" ", path.as_bytes(), b" HTTP/1.1\r\n"] {
        upstream_head.extend_from_slice(part);
    }
    for header in req.headers.iter() {
        // Hop-by-hop headers (RFC 9110 §7.6.1) stay here; `X-Forwarded-*` are written below.
        let name = header.name;
        if !is_hop_by_hop(name)
            && !X_FORWARDED
                .iter()
                .any(|x| name.eq_ignore_ascii_case(x.as_str()))
        {
            put_header(upstream_head, header.name.as_bytes(), header.value);
        }
    }
    // Earlier proxies' entries are kept (which to trust is the application's call).
    upstream_head.extend_from_slice(b"x-forwarded-for: ");
    for header in req.headers.iter() {
        if header.name.eq_ignore_ascii_case("x-forwarded-for") {
            upstream_head.extend_from_slice(header.value);
            upstream_head.extend_from_slice(b", ");
        }
    }
    upstream_head.extend_from_slice(peer.ip());
    upstream_head.extend_from_slice(match proxy.scheme() {
        Scheme::Http => b"\r\nx-forwarded-proto: http\r\n",
        Scheme::Https => b"\r\nx-forwarded-proto: https\r\n",
    });
    put_header(upstream_head, b"x-forwarded-host", host.as_bytes());
    upstream_head.extend_from_slice(b"\r\n");

    let host_at = host.as_ptr() as usize - buf.as_ptr() as usize;
    Some(Plan {
        head_len,
        target,
        host: host_at..host_at + host.len(),
        idempotent: ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].contains(&method),
        asked: Asked {
            head: method == "HEAD",
            close,
            hsts: proxy.scheme() == Scheme::Https && target.hsts,
        },
    })
}

pub(super) fn put_header(head: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    for part in [name, b": ", value, b"\r\n"] {
        head.extend_from_slice(part);
    }
}
