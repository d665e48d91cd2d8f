//! What every answer of the ingress is made of, shared by the proxy and the plain-HTTP front
//! (ACME challenges, redirects): the body type, the ingress's own short texts, and the host a
//! request is for.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};

/// What the ingress answers with: the upstream's streamed body or one of our short texts.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// A short plain-text answer of the ingress's own.
pub(crate) fn text_response(status: StatusCode, text: String) -> Response<Body> {
    let body = Full::new(Bytes::from(text)).map_err(|never| match never {});
    let mut response = Response::new(body.boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The host a request is for: the authority of an absolute-form target, else `Host`
/// (RFC 9112 §3.2.2).
pub(crate) fn request_host<B>(req: &Request<B>) -> Option<String> {
    if let Some(authority) = req.uri().authority() {
        return Some(authority.as_str().to_owned());
    }
    let host = req.headers().get(header::HOST)?.to_str().ok()?;
    Some(host.to_owned())
}
