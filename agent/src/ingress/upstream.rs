//! Connections to the releases, kept open between requests. Each ingress worker has its own
//! [`Upstreams`], so a request, its upstream connection and the task driving that connection
//! all live on one thread, and nothing here is contended. It is smaller than hyper's general
//! client on purpose: upstreams are socket addresses on loopback (no DNS, no TLS, no URI to
//! build), a connection goes back to the idle list the moment its response body has been read
//! to the end (see `message::Body`; not through an extra task waiting for it), and one that closed
//! while idle hands the request back unsent, so it is retried on another connection instead of
//! failing. The direct path (`direct`) keeps its own plain sockets here too.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::request_body::RequestBody;

/// Releases listen on loopback, so a connect either succeeds at once or the release is gone;
/// the bound only matters if the machine is badly overloaded.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle connections older than this are not reused; releases restart often, and a pooled
/// connection to a stopped release is only ever a wasted file descriptor.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the idle lists are swept of closed and expired connections.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// At most this many idle connections per upstream and worker; more are closed when freed.
const MAX_IDLE: usize = 256;

/// Why an upstream gave no response.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("connecting failed")]
    Connect(#[source] io::Error),
    #[error("connecting timed out after {CONNECT_TIMEOUT:?}")]
    ConnectTimeout,
    #[error("the HTTP/1.1 handshake failed")]
    Handshake(#[source] hyper::Error),
    #[error("the request failed")]
    Request(#[source] hyper::Error),
}

/// One worker's upstream connections: hyper's, and the direct path's plain sockets.
pub(crate) struct Upstreams {
    idle: Mutex<Idle<SendRequest<RequestBody>>>,
    direct: Mutex<Idle<TcpStream>>,
}

/// Idle connections by upstream, each with the time it was put back.
struct Idle<C> {
    by_upstream: HashMap<SocketAddr, Vec<(C, Instant)>>,
    swept: Instant,
}

/// A connection that may be kept idle.
trait Reusable {
    /// Known to be closed (a plain socket is not known to be until it is read).
    fn is_closed(&self) -> bool;
}

impl Reusable for SendRequest<RequestBody> {
    fn is_closed(&self) -> bool {
        SendRequest::is_closed(self)
    }
}

impl Reusable for TcpStream {
    fn is_closed(&self) -> bool {
        false
    }
}

impl Upstreams {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            idle: Mutex::new(Idle::new()),
            direct: Mutex::new(Idle::new()),
        })
    }

    /// An idle plain socket to `upstream` for the direct path, the most recently used first.
    pub(crate) fn take_direct(&self, upstream: SocketAddr) -> Option<TcpStream> {
        let mut direct = self.direct.lock().unwrap_or_else(PoisonError::into_inner);
        direct.take(upstream)
    }

    /// Gives back a plain socket whose last response has been read to its end.
    pub(crate) fn put_direct(&self, upstream: SocketAddr, socket: TcpStream) {
        let mut direct = self.direct.lock().unwrap_or_else(PoisonError::into_inner);
        direct.put(upstream, socket);
    }

    /// Sends `req` (origin-form target, `Host` set) to `upstream` on an idle connection if one
    /// takes it, else on a new one. The [`Release`] is to be given back once the response's
    /// body has been read to the end; there is none after a `101` (the connection becomes the
    /// upgraded tunnel).
    pub(crate) async fn send(
        self: &Arc<Self>,
        upstream: SocketAddr,
        mut req: Request<RequestBody>,
    ) -> Result<(Response<Incoming>, Option<Release>), UpstreamError> {
        while let Some(mut sender) = self.take(upstream) {
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(response) => return Ok(self.hand_back(upstream, sender, response)),
                Err(mut failed) => match failed.take_message() {
                    // Not written: the connection closed while idle; try the next one.
                    Some(unsent) => req = unsent,
                    None => return Err(UpstreamError::Request(failed.into_error())),
                },
            }
        }
        // Boxed: connecting is rare next to reusing, and its future would otherwise make every
        // request's future (copied into hyper's dispatcher per request) several times larger.
        let mut sender = Box::pin(connect(upstream)).await?;
        let response = sender
            .send_request(req)
            .await
            .map_err(UpstreamError::Request)?;
        Ok(self.hand_back(upstream, sender, response))
    }

    fn hand_back(
        self: &Arc<Self>,
        upstream: SocketAddr,
        sender: SendRequest<RequestBody>,
        response: Response<Incoming>,
    ) -> (Response<Incoming>, Option<Release>) {
        let upgraded = response.status() == StatusCode::SWITCHING_PROTOCOLS;
        let release = (!upgraded).then(|| Release {
            upstreams: self.clone(),
            upstream,
            sender,
        });
        (response, release)
    }

    fn take(&self, upstream: SocketAddr) -> Option<SendRequest<RequestBody>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.take(upstream)
    }

    fn put(&self, upstream: SocketAddr, sender: SendRequest<RequestBody>) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.put(upstream, sender);
    }
}

impl<C: Reusable> Idle<C> {
    fn new() -> Self {
        Self {
            by_upstream: HashMap::new(),
            swept: Instant::now(),
        }
    }

    fn take(&mut self, upstream: SocketAddr) -> Option<C> {
        let now = Instant::now();
        let usable = |(conn, since): &(C, Instant)| {
            !conn.is_closed() && now.duration_since(*since) < IDLE_TIMEOUT
        };
        if now.duration_since(self.swept) >= SWEEP_EVERY {
            self.swept = now;
            self.by_upstream.retain(|_, list| {
                list.retain(usable);
                !list.is_empty()
            });
        }
        let list = self.by_upstream.get_mut(&upstream)?;
        // The most recently used first: its socket is the warmest and the least likely closed.
        while let Some(pooled) = list.pop() {
            if usable(&pooled) {
                return Some(pooled.0);
            }
        }
        None
    }

    fn put(&mut self, upstream: SocketAddr, conn: C) {
        if conn.is_closed() {
            return;
        }
        let list = self.by_upstream.entry(upstream).or_default();
        if list.len() < MAX_IDLE {
            list.push((conn, Instant::now()));
        }
    }
}

/// A new plain socket to `upstream`, without Nagle's delay.
pub(crate) async fn dial(upstream: SocketAddr) -> Result<TcpStream, UpstreamError> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(upstream))
        .await
        .map_err(|_| UpstreamError::ConnectTimeout)?
        .map_err(UpstreamError::Connect)?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// A new connection, driven by its own task on this worker until the release closes it or the
/// last sender is dropped; upgrades are allowed, so a `101` hands the socket to the tunnel.
async fn connect(upstream: SocketAddr) -> Result<SendRequest<RequestBody>, UpstreamError> {
    let stream = dial(upstream).await?;
    let (sender, connection) = http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(UpstreamError::Handshake)?;
    tokio::spawn(async move {
        if let Err(e) = connection.with_upgrades().await {
            tracing::debug!(error = %e, "upstream connection ended with an error");
        }
    });
    Ok(sender)
}

/// A connection lent to one response: given back when its body has been read to the end
/// ([`Release::give_back`]), closed if dropped before.
pub(crate) struct Release {
    upstreams: Arc<Upstreams>,
    upstream: SocketAddr,
    sender: SendRequest<RequestBody>,
}

impl Release {
    pub(crate) fn give_back(self) {
        self.upstreams.put(self.upstream, self.sender);
    }
}
