//! The direct path: ordinary HTTP/1.1 requests (no body, for a host with a route), in the clear
//! or inside TLS, forwarded without hyper, the connection read into one buffer, each head parsed
//! in place (`httparse`) and written to the release's pooled plain socket with the proxy's
//! headers added, the answer passed back as it comes. It does per request what nginx does;
//! hyper's general machinery was what kept the ingress below nginx's requests/s (BENCHMARKS.md,
//! "Ingress vs nginx").
//!
//! Anything else (a body, an upgrade, `Expect`, a head that did not arrive whole, an unknown
//! host, an ACME challenge or a redirect to HTTPS) hands the connection to hyper from that
//! request on (HTTP/2 connections are hyper's from the start), with the bytes already read put back in front ([`Rewound`]), so the direct path
//! never has to answer what it does not fully handle.
//!
//! - `request`: which requests it takes, and the head the release gets.
//! - `response`: the head the client gets, and where the body ends.
//! - `chunked`: where a chunked body ends, its bytes passed through unchanged.
//! - `exchange`: one request to the release and its answer back.
//! - `rewind`: the connection handed to hyper.

use std::time::Duration;

use bytes::{Buf, BytesMut};
use hyper::rt::Timer;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

mod chunked;
mod exchange;
mod request;
mod response;
mod rewind;

pub(crate) use rewind::Rewound;

use super::HEADER_READ_TIMEOUT;
use super::coarse_timer::CoarseTimer;
use super::proxy::{Peer, Proxy};
use exchange::Buffers;

/// Bytes read from a client at a time; a head that does not fit goes to hyper.
const READ_SIZE: usize = 8 * 1024;
/// How long closing a connection (TLS's `close_notify`) may wait for the client to take it.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `client` until it closes, sends no request for [`HEADER_READ_TIMEOUT`] (hyper's
/// header read timeout, on the worker's `timer`), `stopping` fires while it is idle, or
/// a request comes that hyper must serve: then the connection is returned for hyper, rewound
/// to that request. Otherwise it is shut down (for TLS: `close_notify`, so a body that runs to
/// the end of the connection is known to be whole).
pub(crate) async fn serve<C: AsyncRead + AsyncWrite + Unpin>(
    mut client: C,
    peer: &Peer,
    proxy: &Proxy,
    timer: Option<&CoarseTimer>,
    stopping: &mut watch::Receiver<()>,
) -> Option<Rewound<C>> {
    // Without a timer the direct path is off: hyper serves it all.
    let Some(timer) = timer else {
        return Some(Rewound::new(BytesMut::new(), client));
    };
    let idle_timeout = HEADER_READ_TIMEOUT;
    let mut read = BytesMut::with_capacity(READ_SIZE);
    let mut buffers = Buffers::new();
    let mut idle = timer.sleep(idle_timeout);
    loop {
        if read.is_empty() {
            timer.reset(&mut idle, timer.now() + idle_timeout);
            read.reserve(READ_SIZE);
            let got = tokio::select! {
                got = client.read_buf(&mut read) => matches!(got, Ok(n) if n > 0),
                _ = stopping.changed() => false,
                _ = idle.as_mut() => false,
            };
            if !got {
                break;
            }
        }
        let Some(plan) = request::plan(&read, peer, proxy, &mut buffers.upstream_head) else {
            return Some(Rewound::new(read, client));
        };
        let host = &read[plan.host.clone()];
        let upstreams = proxy.upstreams();
        let carry_on = exchange::exchange(&mut client, &plan, host, upstreams, &mut buffers).await;
        if !carry_on || stopping.has_changed().unwrap_or(true) {
            break;
        }
        read.advance(plan.head_len);
    }
    // Bounded: a client that reads nothing more must not keep the worker's shutdown waiting.
    let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT, client.shutdown()).await;
    None
}
