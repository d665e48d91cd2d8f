//! A client's request body on its way to the release, counting its bytes for the service's
//! meter (`meter::Counted`); the upstream connections send this type.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;

use super::meter::Counted;

/// A client's request body on its way to the release, counted for the service's meter.
pub struct RequestBody {
    body: Incoming,
    counted: Counted,
}

impl RequestBody {
    pub(crate) fn new(body: Incoming, slot: u32) -> Self {
        Self {
            body,
            counted: Counted::new(slot, true),
        }
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let frame = ready!(Pin::new(&mut this.body).poll_frame(cx));
        this.counted.add(&frame);
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
