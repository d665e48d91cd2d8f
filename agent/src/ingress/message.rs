//! What every answer of the ingress is made of, shared by the proxy and the plain-HTTP front
//! (ACME challenges, redirects): the body type, the ingress's own short texts, and the host a
//! request is for. The upstream's body counts the bytes it carries for the service's meter
//! (see `meter::Counted`).

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body::{Body as _, Frame, SizeHint};
use hyper::body::Incoming;

use super::meter::Counted;
use super::upstream::Release;

/// What the ingress answers with: the upstream's streamed body or one of our short texts. An
/// enum, not a boxed body: one allocation less per request. An upstream's body gives its
/// connection back at its end; dropped before that (the client went away), the connection is
/// closed with it.
pub struct Body(Kind);

enum Kind {
    Upstream {
        body: Incoming,
        release: Option<Release>,
        counted: Counted,
    },
    Text(Option<Bytes>),
}

impl Body {
    /// The upstream's response body for the service with meter `slot`.
    pub(crate) fn upstream(body: Incoming, release: Option<Release>, slot: u32) -> Self {
        let release = match release {
            Some(release) if body.is_end_stream() => {
                release.give_back();
                None
            }
            release => release,
        };
        let counted = Counted::new(slot, false);
        Self(Kind::Upstream {
            body,
            release,
            counted,
        })
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match &mut self.get_mut().0 {
            Kind::Upstream {
                body,
                release,
                counted,
            } => {
                let frame = ready!(Pin::new(&mut *body).poll_frame(cx));
                counted.add(&frame);
                // hyper stops polling a body whose length it knows once it has all of it, so
                // the end is noticed at the last frame, not only at `None`.
                let ended = match &frame {
                    None => true,
                    Some(Ok(_)) => body.is_end_stream(),
                    // A broken body leaves the connection in an unknown state: never reused.
                    Some(Err(_)) => {
                        *release = None;
                        false
                    }
                };
                if ended && let Some(release) = release.take() {
                    release.give_back();
                }
                Poll::Ready(frame)
            }
            Kind::Text(text) => Poll::Ready(text.take().map(|t| Ok(Frame::data(t)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Upstream { body, .. } => body.is_end_stream(),
            Kind::Text(text) => text.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Upstream { body, .. } => body.size_hint(),
            Kind::Text(text) => SizeHint::with_exact(text.as_ref().map_or(0, |t| t.len() as u64)),
        }
    }
}

/// A short plain-text answer of the ingress's own.
pub(crate) fn text_response(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body(Kind::Text(Some(Bytes::from(text)))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The host a request is for: the authority of an absolute-form target, else `Host`
/// (RFC 9112 §3.2.2).
pub(crate) fn request_host<B>(req: &Request<B>) -> Option<&str> {
    match req.uri().authority() {
        Some(authority) => Some(authority.as_str()),
        None => req.headers().get(header::HOST)?.to_str().ok(),
    }
}
