//! The direct path: the plain-HTTP listener's ordinary requests (HTTP/1.1, no body, for a host
//! with a route) forwarded without hyper, the connection read into one buffer, each head parsed
//! in place (`httparse`) and written to the release's pooled plain socket with the proxy's
//! headers added, the answer passed back as it comes. It does per request what nginx does, and
//! takes about half of hyper's user time for it (BENCHMARKS.md, "The direct path").
//!
//! Anything else (a body, an upgrade, `Expect`, a head that did not arrive whole, an unknown
//! host, an ACME challenge or a redirect to HTTPS) hands the connection to hyper from that
//! request on, with the bytes already read put back in front ([`Rewound`]), so the direct path
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
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

mod chunked;
mod exchange;
mod request;
mod response;
mod rewind;

pub(crate) use rewind::Rewound;

use super::coarse_timer::CoarseTimer;
use super::proxy::{Peer, Proxy};
use exchange::Buffers;

/// Bytes read from a client at a time; a head that does not fit goes to hyper.
const READ_SIZE: usize = 8 * 1024;

/// Serves `client` until it closes, sends no request for `idle_timeout` (hyper's header read
/// timeout on the same worker's timer), `stopping` fires while it is idle, or
/// a request comes that hyper must serve: then the connection is returned for hyper, rewound
/// to that request.
pub(crate) async fn serve(
    mut client: TcpStream,
    peer: &Peer,
    proxy: &Proxy,
    timer: &CoarseTimer,
    idle_timeout: Duration,
    stopping: &mut watch::Receiver<()>,
) -> Option<Rewound> {
    let mut read = BytesMut::with_capacity(READ_SIZE);
    let mut buffers = Buffers::new();
    let mut idle = timer.sleep(idle_timeout);
    loop {
        if read.is_empty() {
            timer.reset(&mut idle, timer.now() + idle_timeout);
            read.reserve(READ_SIZE);
            let got = tokio::select! {
                got = client.read_buf(&mut read) => got,
                _ = stopping.changed() => return None,
                _ = idle.as_mut() => return None,
            };
            if !matches!(got, Ok(n) if n > 0) {
                return None;
            }
        }
        let Some(plan) = request::plan(&read, peer, proxy, &mut buffers.upstream_head) else {
            return Some(Rewound::new(read, client));
        };
        let host = &read[plan.host.clone()];
        let upstreams = proxy.upstreams();
        let carry_on = exchange::exchange(&mut client, &plan, host, upstreams, &mut buffers).await;
        if !carry_on || stopping.has_changed().unwrap_or(true) {
            return None;
        }
        read.advance(plan.head_len);
    }
}
