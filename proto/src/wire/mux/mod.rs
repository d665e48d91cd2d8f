//! The async multiplexer: the control stream and many credit-paced byte streams over one
//! transport of binary messages (the agent WebSocket, or in-memory channels in tests).
//!
//! Two tasks own the transport. The writer task serialises every outgoing frame; the reader
//! task dispatches incoming frames and never awaits anything but the transport: data is
//! buffered per stream (at most that stream's credit window, so the buffer is bounded), control
//! messages go to a bounded queue, new streams to another. So a stream whose application never
//! reads cannot block the others, and no two parties can wait on each other through the reader.
//! Any protocol violation by the peer closes the whole connection with a [`MuxError`] that
//! [`Mux::closed`] reports, and the peer is told the reason in a `Reset` on stream 0.
//!
//! [`over_websocket`] (feature `ws`) runs it over a tokio-tungstenite WebSocket, as Base's
//! gateway and dployrd do.

mod conn;
mod io;
mod stream;
#[cfg(feature = "ws")]
mod ws;

use std::fmt::Display;
use std::sync::Arc;

use futures_util::{Sink, Stream};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::frame::{Frame, FrameError, FrameKind, Side};
use super::msg::{ControlError, StreamOpen, decode_control, encode_control};
use super::window::WindowError;
use conn::Conn;
pub use stream::{MuxStream, StreamReader, StreamWriter};
#[cfg(feature = "ws")]
pub use ws::{WsTransportError, over_websocket};

/// Most streams each side may have open at once. With [`INITIAL_WINDOW`](super::INITIAL_WINDOW)
/// per stream this caps what a peer can make us buffer at 32 MiB.
pub const MAX_STREAMS: usize = 128;
/// Control messages received but not yet read by the owner. The reader never waits for the
/// owner (that could deadlock against credit the owner is waiting for), so a peer that gets
/// this far ahead of the owner closes the connection instead.
pub const CONTROL_BACKLOG: usize = 256;

/// Why a connection closed. The first reason wins; every later operation reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MuxError {
    #[error("malformed frame from peer: {0}")]
    Frame(#[from] FrameError),
    #[error("peer sent a {kind} frame for stream {stream_id}, which was never opened")]
    UnknownStream { stream_id: u32, kind: FrameKind },
    #[error("peer opened stream {stream_id}, which is not a new id on its side")]
    BadOpen { stream_id: u32 },
    #[error("peer overran the credit window of stream {stream_id}: {window}")]
    Overrun { stream_id: u32, window: WindowError },
    #[error("peer's credit for stream {stream_id} is invalid: {window}")]
    CreditOverflow { stream_id: u32, window: WindowError },
    #[error("peer sent a {kind} frame on stream {stream_id} after closing it")]
    AfterClose { stream_id: u32, kind: FrameKind },
    #[error("peer sent more than {CONTROL_BACKLOG} control messages the owner has not read")]
    ControlBacklog,
    #[error("peer dropped the connection: {0}")]
    PeerAborted(String),
    #[error("peer closed the connection")]
    TransportEnded,
    #[error("transport failed: {0}")]
    Transport(String),
    #[error("connection closed locally")]
    Closed,
}

impl MuxError {
    /// Whether we detected the peer breaking the protocol, and so owe it the reason.
    fn tells_peer(&self) -> bool {
        !matches!(
            self,
            MuxError::PeerAborted(_)
                | MuxError::TransportEnded
                | MuxError::Transport(_)
                | MuxError::Closed
        )
    }
}

/// Why a stream or control operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("stream reset by peer: {0}")]
    Reset(String),
    #[error("stream was reset locally: {0}")]
    ResetLocally(String),
    #[error("stream already closed for sending")]
    SendClosed,
    #[error("connection closed: {0}")]
    Connection(MuxError),
    #[error("{MAX_STREAMS} streams already open on this side")]
    TooManyStreams,
    #[error("no stream ids left on this connection")]
    IdsExhausted,
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// Handle on one multiplexed connection; cheap to clone. When the last clone is dropped the
/// connection is closed as by [`Mux::close`].
#[derive(Clone)]
pub struct Mux {
    conn: Arc<Conn>,
    _owner: Arc<Owner>,
}

/// Closes the connection when the last [`Mux`] clone goes; streams alone do not keep it open.
struct Owner(Arc<Conn>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

impl Mux {
    /// Starts the reader and writer tasks over `sink`/`stream` (one binary message per item)
    /// and returns the handle, the control messages from the peer, and the streams the peer
    /// opens. Must be called inside a tokio runtime.
    pub fn new<Si, St, E>(sink: Si, stream: St, side: Side) -> (Mux, ControlReceiver, Incoming)
    where
        Si: Sink<Vec<u8>> + Send + 'static,
        Si::Error: Display,
        St: Stream<Item = Result<Vec<u8>, E>> + Send + 'static,
        E: Display + 'static,
    {
        let (ordered_tx, ordered_rx) = mpsc::unbounded_channel();
        let (urgent_tx, urgent_rx) = mpsc::unbounded_channel();
        let (control_tx, control_rx) = mpsc::channel(CONTROL_BACKLOG);
        // Sized so that only streams the peer opened and then reset while unaccepted can fill
        // it; the reader refuses new streams rather than wait for room.
        let (incoming_tx, incoming_rx) = mpsc::channel(MAX_STREAMS);
        let conn = Arc::new(Conn::new(side, ordered_tx, urgent_tx));
        tokio::spawn(io::write_loop(conn.clone(), sink, ordered_rx, urgent_rx));
        tokio::spawn(io::read_loop(conn.clone(), stream, control_tx, incoming_tx));
        let mux = Mux {
            _owner: Arc::new(Owner(conn.clone())),
            conn,
        };
        (
            mux,
            ControlReceiver { rx: control_rx },
            Incoming { rx: incoming_rx },
        )
    }

    /// Which end we are.
    pub fn side(&self) -> Side {
        self.conn.side
    }

    /// Queues one control message (after everything queued before it).
    pub fn send_control<T: Serialize>(&self, msg: &T) -> Result<(), StreamError> {
        let frame = encode_control(msg)?;
        if let Some(reason) = self.conn.closed_reason() {
            return Err(StreamError::Connection(reason));
        }
        self.conn.send_ordered(frame.encode());
        Ok(())
    }

    /// Opens a stream for `open`. Data may be sent at once: every stream starts with a full
    /// credit window, and the peer buffers it until its application accepts the stream.
    pub fn open(&self, open: &StreamOpen) -> Result<MuxStream, StreamError> {
        let shared = self.conn.open_local(open)?;
        Ok(MuxStream::new(self.conn.clone(), shared, open.clone()))
    }

    /// Sends everything queued so far, then closes the transport. The peer sees the connection
    /// end; our own [`Mux::closed`] reports [`MuxError::Closed`].
    pub fn close(&self) {
        self.conn.shutdown();
    }

    /// Waits until the connection has closed and says why. Log it once.
    pub async fn closed(&self) -> MuxError {
        io::wait_closed(&mut self.conn.subscribe_closed()).await
    }
}

/// The peer's control messages, in order. Ends (`None`) once the connection has closed and
/// every message received before has been read.
pub struct ControlReceiver {
    rx: mpsc::Receiver<Frame>,
}

impl ControlReceiver {
    /// The next control message, decoded as `T` ([`AgentMsg`](super::AgentMsg) on Base,
    /// [`BaseMsg`](super::BaseMsg) on the agent). A message that does not decode is returned as
    /// an error and the connection stays up: whether to drop it is the owner's call.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Option<Result<T, ControlError>> {
        let frame = self.rx.recv().await?;
        Some(decode_control(&frame))
    }
}

/// Streams the peer opens, in order. Ends once the connection has closed.
pub struct Incoming {
    rx: mpsc::Receiver<MuxStream>,
}

impl Incoming {
    /// The next stream the peer opened; [`MuxStream::purpose`] says what it is for.
    pub async fn accept(&mut self) -> Option<MuxStream> {
        self.rx.recv().await
    }
}
