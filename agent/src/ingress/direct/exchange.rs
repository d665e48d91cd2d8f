//! One request of the direct path sent to its release and the answer passed back: on a pooled
//! plain socket when one is idle (a pooled socket found closed before any answer is replaced by
//! a new one, for requests safe to send again), the answer's head rewritten, its body copied
//! through as it arrives, and the socket pooled again once the body has passed whole.

use std::io;
use std::time::Instant;

use bytes::{Buf, BytesMut};
use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::super::meter;
use super::super::proxy::bad_gateway_text;
use super::super::upstream::{UpstreamError, Upstreams, dial};
use super::chunked::Chunked;
use super::request::{Plan, put_header};
use super::response::{self, Answer, Framing, Head};

/// A release's response head longer than this is a bad gateway (hyper's client allows ~400 KiB
/// of buffered head; a head this long is a broken release).
const MAX_ANSWER_HEAD: usize = 64 * 1024;
/// Bytes read from a release at a time.
const READ_SIZE: usize = 16 * 1024;

/// Buffers a client connection keeps between requests.
pub(super) struct Buffers {
    /// The head the release gets (kept until the answer's head is in: it may be sent again).
    pub(super) upstream_head: Vec<u8>,
    answer: Vec<u8>,
    read: BytesMut,
}

impl Buffers {
    pub(super) fn new() -> Self {
        Self {
            upstream_head: Vec::with_capacity(1024),
            answer: Vec::with_capacity(1024),
            read: BytesMut::with_capacity(READ_SIZE),
        }
    }
}

/// Why a release gave no usable answer.
#[derive(Debug, thiserror::Error)]
enum Failed {
    #[error(transparent)]
    Connect(UpstreamError),
    /// Nothing came back: on a pooled socket, the release closed it while it was idle.
    #[error("the connection failed before any answer")]
    Unanswered(#[source] io::Error),
    #[error("the connection failed during the answer's head")]
    Broken(#[source] io::Error),
    #[error("{0}")]
    Invalid(&'static str),
}

/// Sends `plan`'s request (its head in `buffers.upstream_head`) and passes the answer to
/// `client`. True if the client's connection can carry on.
pub(super) async fn exchange<C: AsyncWrite + Unpin>(
    client: &mut C,
    plan: &Plan,
    host: &[u8],
    upstreams: &Upstreams,
    buffers: &mut Buffers,
) -> bool {
    let started = Instant::now();
    let upstream = plan.target.upstream;
    let (mut socket, answer) = loop {
        let (mut socket, pooled) = match upstreams.take_direct(upstream) {
            Some(socket) if plan.idempotent || still_open(&socket) => (socket, true),
            _ => match dial(upstream).await {
                Ok(socket) => (socket, false),
                Err(e) => {
                    return bad_gateway(client, plan, host, Failed::Connect(e), started).await;
                }
            },
        };
        match send(&mut socket, plan, buffers).await {
            Ok(answer) => break (socket, answer),
            Err(Failed::Unanswered(_)) if pooled && plan.idempotent => continue,
            Err(e) => return bad_gateway(client, plan, host, e, started).await,
        }
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    meter::record(plan.target.meter, status, started.elapsed());
    let Some(passed) = pass_body(client, &mut socket, &answer, buffers).await else {
        return false;
    };
    meter::add_bytes(plan.target.meter, false, passed.body);
    if passed.reusable {
        upstreams.put_direct(upstream, socket);
    }
    !answer.close_client
}

/// A pooled socket the release has not closed: checked for requests not safe to send twice,
/// where finding out by a failed exchange would be too late.
fn still_open(socket: &TcpStream) -> bool {
    matches!(socket.try_read(&mut [0u8; 1]), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Writes the request and reads up to the end of the final answer's head, which is then in
/// `buffers.answer` (rewritten) and at the start of `buffers.read` (as the release sent it).
async fn send(
    socket: &mut TcpStream,
    plan: &Plan,
    buffers: &mut Buffers,
) -> Result<Answer, Failed> {
    socket
        .write_all(&buffers.upstream_head)
        .await
        .map_err(Failed::Unanswered)?;
    buffers.read.clear();
    let mut answered = false;
    loop {
        if buffers.read.len() > MAX_ANSWER_HEAD {
            return Err(Failed::Invalid("response head too long"));
        }
        buffers.read.reserve(READ_SIZE);
        let read = socket.read_buf(&mut buffers.read).await;
        let failed = match read {
            Ok(0) => Some(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => None,
            Err(e) => Some(e),
        };
        if let Some(e) = failed {
            return Err(if answered {
                Failed::Broken(e)
            } else {
                Failed::Unanswered(e)
            });
        }
        answered = true;
        loop {
            match response::parse(&buffers.read, &plan.asked, &mut buffers.answer) {
                Head::Partial => break,
                Head::Interim(len) => buffers.read.advance(len),
                Head::Final(answer) => return Ok(answer),
                Head::UnaskedUpgrade => return Err(Failed::Invalid("switched protocols unasked")),
                Head::Invalid(why) => return Err(Failed::Invalid(why)),
            }
            if buffers.read.is_empty() {
                break;
            }
        }
    }
}

/// A body that passed whole.
struct Passed {
    /// Its length.
    body: u64,
    /// The release's socket is at the start of its next answer.
    reusable: bool,
}

/// Writes the answer's head and its body to `client`, reading the rest of the body from
/// `socket` as it comes; the head and the body's first bytes go in one write. `None` if either
/// side failed or the body was malformed: both connections are then closed.
async fn pass_body<C: AsyncWrite + Unpin>(
    client: &mut C,
    socket: &mut TcpStream,
    answer: &Answer,
    buffers: &mut Buffers,
) -> Option<Passed> {
    let Buffers {
        answer: out, read, ..
    } = buffers;
    read.advance(answer.head_len);
    let mut reusable = answer.reusable;
    let mut chunked = Chunked::new();
    // How many of the bytes in `read` belong to the body, and whether the body ends with them.
    let mut take = |read: &[u8], total: u64| -> Option<(usize, bool)> {
        Some(match answer.framing {
            Framing::Empty => (0, true),
            Framing::Length(n) => {
                let take = (n - total).min(read.len() as u64) as usize;
                (take, total + take as u64 == n)
            }
            Framing::Chunked => match chunked.feed(read).ok()? {
                Some(end) => (end, true),
                None => (read.len(), false),
            },
            Framing::UntilClose => (read.len(), false),
        })
    };
    let (first, mut ended) = take(read, 0)?;
    out.extend_from_slice(&read[..first]);
    reusable &= read.len() == first;
    let mut total = first as u64;
    write(client, out).await?;
    while !ended {
        read.clear();
        read.reserve(READ_SIZE);
        match socket.read_buf(read).await {
            Ok(0) if answer.framing == Framing::UntilClose => break,
            Ok(n) if n > 0 => {}
            _ => return None,
        }
        let (part, end) = take(read, total)?;
        reusable &= read.len() == part;
        total += part as u64;
        ended = end;
        write(client, &read[..part]).await?;
    }
    Some(Passed {
        body: total,
        reusable,
    })
}

/// Answers `502` for a release that gave no usable answer, and logs why (the release's address
/// and error stay in the log). True if the client's connection can carry on.
async fn bad_gateway<C: AsyncWrite + Unpin>(
    client: &mut C,
    plan: &Plan,
    host: &[u8],
    failed: Failed,
    started: Instant,
) -> bool {
    let host = String::from_utf8_lossy(host);
    let upstream = plan.target.upstream;
    tracing::warn!(error = ?failed, %upstream, %host, "bad gateway");
    meter::record(
        plan.target.meter,
        StatusCode::BAD_GATEWAY,
        started.elapsed(),
    );
    let text = bad_gateway_text(&host);
    let mut out = b"HTTP/1.1 502 Bad Gateway\r\n".to_vec();
    put_header(&mut out, b"content-type", b"text/plain; charset=utf-8");
    put_header(
        &mut out,
        b"content-length",
        text.len().to_string().as_bytes(),
    );
    response::with_date(|date| put_header(&mut out, b"date", date));
    if plan.asked.close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(text.as_bytes());
    write(client, &out).await.is_some() && !plan.asked.close
}

/// Writes `bytes` to the client and flushes them (TLS may hold a record back otherwise; a plain
/// socket's flush does nothing).
async fn write<C: AsyncWrite + Unpin>(client: &mut C, bytes: &[u8]) -> Option<()> {
    client.write_all(bytes).await.ok()?;
    client.flush().await.ok()
}
