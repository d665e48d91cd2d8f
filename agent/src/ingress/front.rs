//! What the plain-HTTP listener answers itself, before routing: the ACME HTTP-01 challenge
//! (`/.well-known/acme-challenge/<token>`, for any host, so a certificate can be ordered for a
//! domain before it serves anything), and a `308` to HTTPS for every host that has a
//! certificate, so a domain with TLS is never served in the clear.

use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};

use super::certs::Certificates;
use super::covered::Covered;
use super::message::{Body, request_host, text_response};
use super::routes::normalized;

const CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// The HTTP listener's own answers, one per worker. Without an HTTPS listener nothing is
/// redirected.
pub(crate) struct HttpFront {
    certs: Certificates,
    covered: Covered,
    https_port: Option<u16>,
}

impl HttpFront {
    pub(crate) fn new(certs: Certificates, https_port: Option<u16>) -> Self {
        Self {
            covered: Covered::new(certs.clone()),
            certs,
            https_port,
        }
    }

    /// Whether a request for `host` and `path` is one [`HttpFront::answer`] answers.
    pub(crate) fn takes(&self, host: &str, path: &str) -> bool {
        path.starts_with(CHALLENGE_PREFIX)
            || (self.https_port.is_some()
                && normalized(host).is_some_and(|host| self.covered.covers(&host)))
    }

    /// The answer to `req` if it is not one for a service.
    pub(crate) fn answer<B>(&self, req: &Request<B>) -> Option<Response<Body>> {
        if let Some(token) = req.uri().path().strip_prefix(CHALLENGE_PREFIX) {
            return Some(match self.certs.http01(token) {
                Some(key_authorization) => text_response(StatusCode::OK, key_authorization),
                None => text_response(StatusCode::NOT_FOUND, "no such ACME challenge\n".into()),
            });
        }
        let port = self.https_port?;
        let host = normalized(request_host(req)?)?;
        if !self.covered.covers(&host) {
            return None;
        }
        let path = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let location = if port == 443 {
            format!("https://{host}{path}")
        } else {
            format!("https://{host}:{port}{path}")
        };
        let mut response = text_response(StatusCode::PERMANENT_REDIRECT, format!("{location}\n"));
        let location = HeaderValue::from_str(&location).ok()?;
        response.headers_mut().insert(header::LOCATION, location);
        Some(response)
    }
}
